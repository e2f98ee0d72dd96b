#include "internal/json_codec.h"

#include <cmath>
#include <limits>

namespace hues::internal {
namespace {

std::string join(const std::string& path, const char* name) {
  return path.empty() ? std::string(name) : path + "." + name;
}

}  // namespace

void write_json(boost::json::value& out, const std::string& v) { out = boost::json::string(v); }
void write_json(boost::json::value& out, double v) { out = v; }
void write_json(boost::json::value& out, std::int64_t v) { out = v; }
void write_json(boost::json::value& out, bool v) { out = v; }

void read_json(const boost::json::value& in, std::string& v, const std::string& path) {
  const auto* s = in.if_string();
  if (!s) throw FieldError(path, "expected a string");
  v.assign(s->data(), s->size());
}

void read_json(const boost::json::value& in, double& v, const std::string& path) {
  if (in.is_double()) {
    v = in.get_double();
  } else if (in.is_int64()) {
    v = static_cast<double>(in.get_int64());
  } else if (in.is_uint64()) {
    v = static_cast<double>(in.get_uint64());
  } else {
    throw FieldError(path, "expected a number");
  }
  if (!std::isfinite(v)) throw FieldError(path, "expected a finite number");
}

void read_json(const boost::json::value& in, std::int64_t& v, const std::string& path) {
  if (in.is_int64()) {
    v = in.get_int64();
  } else if (in.is_uint64() &&
             in.get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    v = static_cast<std::int64_t>(in.get_uint64());
  } else if (in.is_double() && std::trunc(in.get_double()) == in.get_double() &&
             std::fabs(in.get_double()) < 9.0e15) {
    v = static_cast<std::int64_t>(in.get_double());
  } else {
    throw FieldError(path, "expected an integer");
  }
}

void read_json(const boost::json::value& in, bool& v, const std::string& path) {
  if (!in.is_bool()) throw FieldError(path, "expected true or false");
  v = in.get_bool();
}

boost::json::value parse_json(std::string_view text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec) throw FieldError("", "malformed JSON: " + ec.message());
  return v;
}

// Unknown members are ignored (forward compatibility); null or absent members keep defaults.
#define HUES_WRITE_FIELD(type, name, json_name)            \
  {                                                   \
    boost::json::value fv;                            \
    write_json(fv, m.name);                           \
    obj.emplace(json_name, std::move(fv));                 \
  }
#define HUES_READ_FIELD(type, name, json_name)                                  \
  if (const auto* fv = obj->if_contains(json_name); fv && !fv->is_null()) {     \
    read_json(*fv, m.name, join(path, json_name));                              \
  }
#define HUES_DEFINE_CODEC(Model, FIELDS)                                     \
  void write_json(boost::json::value& out, const Model& m) {                 \
    auto& obj = out.emplace_object();                                        \
    FIELDS(HUES_WRITE_FIELD)                                                 \
  }                                                                          \
  void read_json(const boost::json::value& in, Model& m, const std::string& path) { \
    const auto* obj = in.if_object();                                        \
    if (!obj) throw FieldError(path, "expected an object");                  \
    FIELDS(HUES_READ_FIELD)                                                  \
  }
HUES_FOR_EACH_MODEL(HUES_DEFINE_CODEC)

}  // namespace hues::internal
