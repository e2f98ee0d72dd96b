// Helpers over the generated call table (internal/calls.h), shared by the SDK, the C ABI
// and the sandbox.
#include <boost/url/encode.hpp>
#include <boost/url/rfc/pchars.hpp>
#include <boost/url/url.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "internal/calls.h"
#include "internal/json_codec.h"

namespace hues::internal {

std::string query_number(double v) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, v);  // ignores the locale, unlike printf
  return std::string(buf, res.ptr);
}

bool json_number(const boost::json::value& v, double& out) {
  if (v.is_double()) out = v.get_double();
  else if (v.is_int64()) out = static_cast<double>(v.get_int64());
  else if (v.is_uint64()) out = static_cast<double>(v.get_uint64());
  else return false;
  return true;
}

bool json_integer(const boost::json::value& v, std::int64_t& out) {
  if (v.is_int64()) {
    out = v.get_int64();
  } else if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    out = static_cast<std::int64_t>(v.get_uint64());
  } else if (v.is_double() && std::trunc(v.get_double()) == v.get_double() && std::fabs(v.get_double()) < 9.0e15) {
    out = static_cast<std::int64_t>(v.get_double());  // 5.0 from a language without integers
  } else {
    return false;
  }
  return true;
}

namespace {

std::string text_of(const boost::json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_bool()) return v.get_bool() ? "true" : "false";
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  if (v.is_double()) {
    std::int64_t n = 0;
    return json_integer(v, n) ? std::to_string(n) : query_number(v.get_double());
  }
  return serialize_json(v);
}

}  // namespace

PreparedCall prepare_call(const CallDescriptor& call, const boost::json::object& args) {
  PreparedCall out;
  out.method = call.http_method;
  std::string_view tmpl = call.path;
  std::string path;
  path.reserve(tmpl.size() + 32);
  for (std::size_t i = 0; i < tmpl.size();) {
    if (tmpl[i] == '{') {
      std::size_t end = tmpl.find('}', i);
      std::string_view name = tmpl.substr(i + 1, end - i - 1);
      const auto* v = args.if_contains(name);
      path += boost::urls::encode(v ? text_of(*v) : std::string(), boost::urls::pchars);
      i = end + 1;
    } else {
      std::size_t next = std::min(tmpl.find('{', i), tmpl.size());
      path.append(tmpl.data() + i, next - i);
      i = next;
    }
  }
  // The path is the template with its parameters pct-encoded: a URL object (a parse and its
  // allocations) is only needed to append query parameters, which most calls do not have.
  bool any_query = false;
  for (std::size_t i = 0; i < call.query_param_count && !any_query; ++i) {
    const auto* v = args.if_contains(call.query_params[i].name);
    any_query = v && !v->is_null();
  }
  if (!any_query) {
    out.target = std::move(path);
  } else {
    boost::urls::url url(path);
    auto params = url.params();
    for (std::size_t i = 0; i < call.query_param_count; ++i) {
      const auto* v = args.if_contains(call.query_params[i].name);
      if (v && !v->is_null()) params.append({call.query_params[i].name, text_of(*v)});
    }
    out.target = std::string(url.buffer());
  }
  for (std::size_t i = 0; i < call.header_param_count; ++i) {
    const auto* v = args.if_contains(call.header_params[i].name);
    if (v && !v->is_null()) out.headers.emplace_back(call.header_params[i].name, text_of(*v));
  }
  if (call.body_model) {
    if (const auto* body = args.if_contains("body")) out.body = serialize_json(*body);
  }
  return out;
}

std::optional<ArgProblem> query_to_args(const CallDescriptor& call,
                                        const std::vector<std::pair<std::string, std::string>>& query,
                                        boost::json::object& args) {
  for (const auto& [name, value] : query) {
    if (value.empty()) continue;  // "status=" means no filter
    const ParamDescriptor* p = nullptr;
    for (std::size_t i = 0; i < call.query_param_count; ++i)
      if (name == call.query_params[i].name) p = &call.query_params[i];
    if (!p) continue;
    std::string_view type = p->type;
    const char* first = value.data();
    const char* last = value.data() + value.size();
    if (type == "int32" || type == "int64") {
      std::int64_t n = 0;
      auto res = std::from_chars(first, last, n);
      if (res.ec != std::errc() || res.ptr != last) return ArgProblem{name, name + " must be an integer"};
      args[name] = n;
    } else if (type == "double") {
      double d = 0;
      auto res = std::from_chars(first, last, d);
      if (res.ec != std::errc() || res.ptr != last || !std::isfinite(d))
        return ArgProblem{name, name + " must be a number"};
      args[name] = d;
    } else if (type == "bool") {
      if (value != "true" && value != "false") return ArgProblem{name, name + " must be true or false"};
      args[name] = value == "true";
    } else {
      args[name] = value;
    }
  }
  return std::nullopt;
}

}  // namespace hues::internal
