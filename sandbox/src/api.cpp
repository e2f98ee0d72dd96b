#include "api.h"

#include <boost/beast/http/field.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <optional>
#include <sstream>

#include "internal/calls.h"
#include "internal/crypto.h"
#include "internal/json_codec.h"
#include "media.h"
#include "oidc.h"
#include "open311.h"
#include "routes.h"
#include "store.h"
#include "events.h"
#include "uploads.h"
#include "webhooks.h"
#include "util.h"

namespace hues::sandbox {
namespace {

namespace http = boost::beast::http;
using internal::FieldError;

// A request the API answers with an error status; turned into the contract's error JSON.
struct HttpError {
  http::status status;
  std::string code;
  std::string message;
  std::string field;
  const char* allow = nullptr;  // the Allow header of a 405
  std::string www_authenticate = {};  // RFC 6750 §3 on Bearer failures
};

HttpError invalid(std::string field, std::string message) {
  return {http::status::bad_request, "validation_error", std::move(message), std::move(field)};
}

bool sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) return false;
  return true;
}

std::string request_id_of(const Request& req) {
  auto it = req.find("X-Request-Id");
  if (it != req.end() && sane_request_id(it->value())) return std::string(it->value());
  return request_id();
}

std::string error_json(const HttpError& e, const std::string& request_id) {
  // Messages may quote what the client sent: never echo bytes that are not UTF-8.
  ErrorBody err{e.code, valid_utf8(e.message), request_id, std::nullopt};
  if (!e.field.empty()) err.field = valid_utf8(e.field);  // the contract sends field only when there is one
  boost::json::object body;
  body["error"] = internal::to_json(err);
  return internal::serialize_json(body);
}

void set_body(Response& res, http::status status, std::string body) {
  res.result(status);
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
}

void method_allowed(const Request& req, std::initializer_list<http::verb> allowed, const char* allow) {
  for (auto v : allowed)
    if (req.method() == v || (v == http::verb::get && req.method() == http::verb::head)) return;
  throw HttpError{http::status::method_not_allowed, "method_not_allowed",
                  std::string(req.method_string()) + " is not allowed here; allowed: " + allow, "", allow};
}

bool is_json_media_type(std::string_view ct) {
  ct = ct.substr(0, ct.find(';'));
  while (!ct.empty() && (ct.back() == ' ' || ct.back() == '\t')) ct.remove_suffix(1);
  constexpr std::string_view kJson = "application/json";
  if (ct.size() != kJson.size()) return false;
  for (std::size_t i = 0; i < ct.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(ct[i])) != kJson[i]) return false;
  return true;
}

// A request whose body must be JSON: 415 unless its Content-Type says so.
void require_json_content(const Request& req) {
  if (!is_json_media_type(req[http::field::content_type]))
    throw HttpError{http::status::unsupported_media_type, "unsupported_media_type",
                    "Content-Type must be application/json", ""};
}

HttpError invalid(const internal::ArgProblem& p) { return invalid(p.field, p.message); }

// Query parameters -> typed args, checked by the call's generated validator (the SDK's),
// with the path parameters already matched.
boost::json::object checked_query(int call_id, const boost::urls::url_view& url, boost::json::object args = {}) {
  std::vector<std::pair<std::string, std::string>> params;
  for (auto p : url.params()) params.emplace_back(p.key, p.value);
  const auto& call = internal::kCalls[call_id];
  if (auto problem = internal::query_to_args(call, params, args)) throw invalid(*problem);
  if (auto problem = call.validate_args(args)) throw invalid(*problem);
  return args;
}

// The JSON with each \\u escape of an unpaired UTF-16 surrogate turned into a byte that is
// not UTF-8 (0xFF), so the field holding it is refused by name like raw invalid UTF-8;
// nullopt when there is none. Only runs on JSON the parser already refused.
std::optional<std::string> unpaired_surrogates_as_invalid_utf8(std::string_view json) {
  auto unit = [&](std::size_t i) -> int {  // the code unit of "\\uXXXX" at i, else -1
    if (i + 6 > json.size() || json[i] != '\\' || json[i + 1] != 'u') return -1;
    int u = 0;
    for (std::size_t k = i + 2; k < i + 6; ++k) {
      const char c = json[k];
      const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) return -1;
      u = u * 16 + d;
    }
    return u;
  };
  std::string out;
  bool in_string = false, changed = false;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (!in_string) {
      in_string = c == '"';
      out.push_back(c);
      continue;
    }
    if (c == '"') in_string = false;
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    const int u = unit(i);
    if (u >= 0xD800 && u <= 0xDBFF) {
      const int next = unit(i + 6);
      if (next >= 0xDC00 && next <= 0xDFFF) {  // a proper pair
        out.append(json.substr(i, 12));
        i += 11;
        continue;
      }
    }
    if (u >= 0xD800 && u <= 0xDFFF) {
      out.push_back('\xFF');
      changed = true;
      i += 5;
      continue;
    }
    out.push_back(c);  // any other escape: copy its two characters
    if (i + 1 < json.size()) out.push_back(json[++i]);
  }
  if (!changed) return std::nullopt;
  return out;
}

NewReport parse_new_report(std::string_view body, const Store& store) {
  boost::json::value v;
  try {
    v = internal::parse_json(body);
  } catch (const FieldError& e) {
    // An unpaired surrogate escape is text that is not Unicode: a validation_error naming
    // its field, like invalid UTF-8, rather than malformed JSON.
    auto repaired = unpaired_surrogates_as_invalid_utf8(body);
    try {
      if (!repaired) throw;
      v = internal::parse_json(*repaired);
    } catch (const FieldError&) {
      throw HttpError{http::status::bad_request, "malformed_json", e.what(), ""};
    }
  }
  boost::json::object args;
  args["body"] = v;
  if (auto problem = internal::validate_args(internal::call_id::kReportsCreate, args)) throw invalid(*problem);
  NewReport r;
  try {
    r = internal::from_json<NewReport>(v);
  } catch (const FieldError& e) {
    throw invalid(e.field(), e.what());  // the validator accepted it; kept as a safety net
  }
  if (!store.category(r.category)) throw invalid("category", "unknown category '" + r.category + "'");
  return r;
}

template <typename T>
bool parse_number(const std::string& s, T& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);  // locale-independent
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

// An RFC 3339 time the Timestamp pattern accepted, as (unix seconds, nanoseconds); nullopt
// when it names no real time (month 13, February 30).
std::optional<std::pair<std::time_t, long>> parse_timestamp(const std::string& s) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &year, &month, &day, &hour, &minute, &second) != 6)
    return std::nullopt;
  const auto utc = utc_time(year, month, day, hour, minute, second);
  if (!utc) return std::nullopt;
  const std::time_t t = *utc;
  long nanos = 0;
  if (s.size() > 20 && s[19] == '.') {
    long scale = 100000000;
    for (std::size_t i = 20; i < s.size() && s[i] != 'Z' && scale > 0; ++i, scale /= 10) nanos += (s[i] - '0') * scale;
  }
  return std::make_pair(t, nanos);
}

// Stored times are whole seconds, so created_at >= 10.5 s is created_at >= 11 s, and
// created_at < 10.5 s is created_at < 11 s: both bounds round up.
std::string whole_second_bound(const std::pair<std::time_t, long>& t) { return rfc3339(t.first + (t.second ? 1 : 0)); }

// Cursors carry the sort, the position in it and a digest of the filters, so that a cursor
// cannot be replayed with another sort or other filters (which would skip or repeat rows).
std::string encode_cursor(const ListQuery& q, const std::string& filters, std::int64_t seq, const std::string& due) {
  return base64url_encode("v2." + std::string(q.sort_due ? "d." : "n.") + filters + "." + std::to_string(seq) +
                          (q.sort_due ? "." + due : std::string()));
}

void decode_cursor(std::string_view cursor, const std::string& filters, ListQuery& q) {
  auto raw = base64url_decode(cursor);
  std::vector<std::string> parts;
  if (raw) {
    std::string_view rest = *raw;
    for (int i = 0; i < 4 && !rest.empty(); ++i) {
      const auto dot = rest.find('.');
      parts.emplace_back(rest.substr(0, dot));
      rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    }
    if (!rest.empty()) parts.emplace_back(rest);
  }
  std::int64_t seq = 0;
  if (parts.size() < 4 || parts[0] != "v2" || (parts[1] != "n" && parts[1] != "d") || !parse_number(parts[3], seq) ||
      seq <= 0 || parts.size() != (parts[1] == "d" ? 5u : 4u))
    throw invalid("cursor", "cursor is not one this server returned");
  const bool due = parts[1] == "d";
  if (due != q.sort_due)
    throw invalid("cursor", std::string("cursor was returned for sort=") + (due ? "due" : "newest") +
                                ", not sort=" + (q.sort_due ? "due" : "newest"));
  if (parts[2] != filters) throw invalid("cursor", "cursor was returned for other filters; start again without it");
  if (due) {
    q.after_due = parts[4];
    q.after_seq = seq;
  } else {
    q.before_seq = seq;
  }
}

ListQuery parse_list_query(const boost::urls::url_view& url, const Store& store, std::string& filters) {
  const boost::json::object args = checked_query(internal::call_id::kReportsList, url);
  auto text = [&](const char* name) -> std::string {
    const auto* v = args.if_contains(name);
    return v ? std::string(v->get_string()) : std::string();
  };
  auto number = [&](const char* name) -> std::optional<double> {
    double d = 0;
    if (const auto* v = args.if_contains(name); v && internal::json_number(*v, d)) return d;
    return std::nullopt;
  };
  ListQuery q;
  q.status = text("status");
  q.category = text("category");
  if (!q.category.empty() && !store.category(q.category))
    throw invalid("category", "unknown category '" + q.category + "'");
  q.agency = text("agency");
  if (!q.agency.empty()) {
    bool known = false;
    for (const auto& a : store.agencies()) known = known || a.code == q.agency;
    if (!known) throw invalid("agency", "unknown agency '" + q.agency + "'");
  }
  q.ward = text("ward");
  std::optional<std::pair<std::time_t, long>> from, to;
  if (auto v = text("created_from"); !v.empty()) {
    from = parse_timestamp(v);
    if (!from) throw invalid("created_from", "created_from is not a real time: " + v);
    q.created_from = whole_second_bound(*from);
  }
  if (auto v = text("created_to"); !v.empty()) {
    to = parse_timestamp(v);
    if (!to) throw invalid("created_to", "created_to is not a real time: " + v);
    if (from && *to <= *from) throw invalid("created_to", "created_to must be after created_from");
    q.created_to = whole_second_bound(*to);
  }
  if (const auto* v = args.if_contains("overdue")) q.overdue = v->as_bool();
  if (auto v = text("q"); !v.empty()) {
    auto match = fts_match(v);
    if (!match) throw invalid("q", "q needs at least one letter or digit");
    q.fts = std::move(*match);
  }
  q.sort_due = text("sort") == "due";
  if (const auto* v = args.if_contains("limit")) q.limit = v->to_number<std::int64_t>();
  auto lat = number("near_lat"), lon = number("near_lon"), radius = number("radius_m");
  if (radius && *radius > 0) {
    if (!lat) throw invalid("near_lat", "near_lat is required with radius_m");
    if (!lon) throw invalid("near_lon", "near_lon is required with radius_m");
    q.near = true;
    q.lat = *lat;
    q.lon = *lon;
    q.radius_m = *radius;
  }
  // The filters as the statement applies them (after normalisation), digested for the cursor.
  std::string canon = q.status + '\x1f' + q.category + '\x1f' + q.agency + '\x1f' + q.ward + '\x1f' +
                      q.created_from + '\x1f' + q.created_to + '\x1f' +
                      (q.overdue ? (*q.overdue ? "1" : "0") : "") + '\x1f' + q.fts + '\x1f';
  if (q.near)
    canon += internal::query_number(q.lat) + "," + internal::query_number(q.lon) + "," + internal::query_number(q.radius_m);
  filters = internal::to_hex(internal::sha256(canon)).substr(0, 16);
  if (auto cursor = text("cursor"); !cursor.empty()) decode_cursor(cursor, filters, q);
  return q;
}

std::string encode_agency_cursor(const std::string& code) { return base64url_encode("a1." + code); }

AgencyQuery parse_agency_query(const boost::urls::url_view& url, std::string& after_code) {
  const boost::json::object args = checked_query(internal::call_id::kAgenciesList, url);
  AgencyQuery q;
  if (const auto* v = args.if_contains("kind")) q.kind = AgencyKind(std::string(v->get_string()));
  if (const auto* v = args.if_contains("limit")) q.limit = v->to_number<std::int64_t>();
  if (const auto* v = args.if_contains("cursor")) {
    auto raw = base64url_decode(v->get_string());
    if (!raw || raw->compare(0, 3, "a1.") != 0 || raw->size() == 3)
      throw invalid("cursor", "cursor is not one this server returned");
    after_code = raw->substr(3);
  }
  return q;
}

// If-Match (RFC 9110 §13.1.1): "*" or a list of entity tags. Only strong tags whose opaque
// part is a version can match (strong comparison); nullopt when the value is not that syntax.
std::optional<Transition> parse_if_match(std::string_view v) {
  Transition t{};
  auto trim = [](std::string_view x) {
    while (!x.empty() && (x.front() == ' ' || x.front() == '\t')) x.remove_prefix(1);
    while (!x.empty() && (x.back() == ' ' || x.back() == '\t')) x.remove_suffix(1);
    return x;
  };
  v = trim(v);
  if (v == "*") {
    t.any_version = true;
    return t;
  }
  bool any = false;
  while (!v.empty()) {
    const auto comma = v.find(',');
    std::string_view tag = trim(v.substr(0, comma));
    v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    if (tag.empty()) continue;  // RFC 9110 §5.6.1: empty list elements are ignored
    const bool weak = tag.size() >= 2 && tag.substr(0, 2) == "W/";
    if (weak) tag.remove_prefix(2);
    if (tag.size() < 2 || tag.front() != '"' || tag.back() != '"') return std::nullopt;
    const std::string_view opaque = tag.substr(1, tag.size() - 2);
    for (char c : opaque)
      if (!(c == 0x21 || (c >= 0x23 && c <= 0x7e))) return std::nullopt;
    any = true;
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(opaque.data(), opaque.data() + opaque.size(), n);
    if (!weak && ec == std::errc() && end == opaque.data() + opaque.size() && !opaque.empty()) t.if_match.push_back(n);
  }
  if (!any) return std::nullopt;
  return t;
}

std::string encode_inbox_cursor(const std::string& due, std::int64_t seq) {
  return base64url_encode("i1." + due + "." + std::to_string(seq));
}

InboxFilter parse_inbox_query(const boost::urls::url_view& url, std::string code) {
  const boost::json::object args = checked_query(internal::call_id::kAgenciesInbox, url, {{"code", code}});
  InboxFilter q;
  q.agency_code = std::move(code);
  if (const auto* v = args.if_contains("overdue")) q.overdue = v->as_bool();
  if (const auto* v = args.if_contains("limit")) q.limit = v->to_number<std::int64_t>();
  if (const auto* v = args.if_contains("cursor")) {
    auto raw = base64url_decode(v->get_string());
    const auto dot = raw ? raw->rfind('.') : std::string::npos;
    std::int64_t seq = 0;
    if (!raw || raw->compare(0, 3, "i1.") != 0 || dot == std::string::npos || dot < 3 ||
        !parse_number(raw->substr(dot + 1), seq) || seq <= 0)
      throw invalid("cursor", "cursor is not one this server returned");
    q.after_due = raw->substr(3, dot - 3);
    q.after_seq = seq;
  }
  return q;
}

constexpr std::int64_t kMaxStatisticsPeriodS = 366 * 24 * 3600;

StatisticsQuery parse_statistics_query(const boost::urls::url_view& url, const Store& store) {
  const boost::json::object args = checked_query(internal::call_id::kStatisticsReportStatistics, url);
  StatisticsQuery q;
  auto time_of = [&](const char* name) {
    const auto* v = args.if_contains(name);
    if (!v) throw invalid(name, std::string(name) + " is required (an RFC 3339 time such as 2026-12-01T00:00:00Z)");
    auto t = parse_timestamp(std::string(v->get_string()));
    if (!t) throw invalid(name, std::string(name) + " is not a valid RFC 3339 time");
    // Stored times are whole seconds: a bound with a fraction rounds up (whole_second_bound).
    return static_cast<std::int64_t>(t->first) + (t->second ? 1 : 0);
  };
  q.from = time_of("from");
  q.to = time_of("to");
  if (q.from >= q.to) throw invalid("from", "from must be before to");
  if (q.to - q.from > kMaxStatisticsPeriodS) throw invalid("to", "the period is at most 366 days");
  if (const auto* v = args.if_contains("agency")) {
    q.agency = std::string(v->get_string());
    bool known = false;
    for (const auto& a : store.agencies()) known = known || a.code == q.agency;
    if (!known) throw invalid("agency", "unknown agency '" + q.agency + "'");
  }
  return q;
}

std::string etag_of(const Report& r) { return "\"" + std::to_string(r.version) + "\""; }

// The JSON of a report as the caller sees it now.
std::string report_json(const StoredReport& s, const Caller& caller) {
  Report r = s.report;
  present(r, s.reporter, caller, rfc3339(now()));
  return internal::to_json_string(r);
}

// A JSON body, parsed and checked by its call's generated validator. args holds the path and
// header parameters already (the generated validator checks them too).
boost::json::value checked_json(std::string_view body, int call_id, boost::json::object args) {
  boost::json::value v;
  try {
    v = internal::parse_json(body);
  } catch (const FieldError& e) {
    throw HttpError{http::status::bad_request, "malformed_json", e.what(), ""};
  }
  args["body"] = v;
  if (auto problem = internal::validate_args(call_id, args)) throw invalid(*problem);
  return v;
}

// The same for a request that must say Content-Type: application/json, decoded as T.
template <typename T>
T checked_body(const Request& req, int call_id, boost::json::object args) {
  require_json_content(req);
  return internal::from_json<T>(checked_json(req.body(), call_id, std::move(args)));
}

// A transition's body, checked by its call's generated validator, as the store's Transition.
Transition parse_transition(int call_id, std::string_view body, boost::json::object args, Transition t) {
  const boost::json::value v = checked_json(body, call_id, std::move(args));
  const auto& o = v.as_object();
  auto text = [&](const char* name) {
    const auto* f = o.if_contains(name);
    return f && f->is_string() ? std::string(f->get_string()) : std::string();
  };
  t.note = text("note");
  if (t.note.empty()) t.note = text("reason");
  if (t.note.empty()) t.note = text("answer");
  if (t.note.empty()) t.note = text("comment");
  t.agency_code = text("agency_code");
  t.original_id = text("original_id");
  if (const auto* a = o.if_contains("attachments"); a && a->is_array())
    for (const auto& m : a->get_array()) t.attachments.emplace_back(m.get_string());
  if (const auto* b = o.if_contains("satisfied"); b && b->is_bool()) t.satisfied = b->get_bool();
  return t;
}

}  // namespace

template <class Fill>
void Api::answer(const Request& req, Response& res, Fill&& fill) {
  res = {};
  res.version(req.version());
  const std::string request_id = request_id_of(req);
  res.set("X-Request-Id", request_id);  // handlers may quote it in a body (the 412's error)
  try {
    try {
      fill();
    } catch (const ApiError& e) {
      throw HttpError{static_cast<http::status>(e.status), e.code, e.message, e.field, e.allow};
    }
  } catch (const HttpError& e) {
    res = {};
    res.version(req.version());
    if (e.allow) res.set(http::field::allow, e.allow);
    if (!e.www_authenticate.empty()) res.set(http::field::www_authenticate, e.www_authenticate);
    set_body(res, e.status, error_json(e, request_id));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hues-sandbox: internal error on %s: %s\n", request_id.c_str(), e.what());
    res = {};
    res.version(req.version());
    set_body(res, http::status::internal_server_error,
             error_json({http::status::internal_server_error, "internal_error", "internal server error", ""},
                        request_id));
  }
  res.set("X-Request-Id", request_id);
  res.set(http::field::server, "hues-sandbox");
  if (is_upload_target(req.target())) {  // tus 1.0.0: on every response but OPTIONS
    if (req.method() != http::verb::options) res.set("Tus-Resumable", "1.0.0");
    if (res.result_int() == 412) res.set("Tus-Version", "1.0.0");
    if (res.result_int() == 460) res.reason("Checksum Mismatch");
  }
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  if (res.file) res.content_length(res.file->length);  // the server streams it (server.cpp)
  if (req.method() == http::verb::head) res.body().clear(), res.file.reset();  // keeps the GET's Content-Length
  if (res.result() == http::status::no_content && is_upload_target(req.target()))
    res.erase(http::field::content_length);  // RFC 9110 §8.6: none on a 204
}

void Api::handle(const Request& req, Response& res, const std::string& issuer, const std::string& client) {
  answer(req, res, [&] { route(req, res, issuer, client); });
}

void Api::reject(int status, std::string_view reason, const Request* headers, Response& res) {
  res = {};
  const std::string rid = headers ? request_id_of(*headers) : request_id();
  const char* code = status == 413   ? "payload_too_large"
                     : status == 414 ? "uri_too_long"
                     : status == 431 ? "header_too_large"
                     : status == 501 ? "not_implemented"
                                     : "validation_error";
  HttpError e{static_cast<http::status>(status), code,
              status == 400 ? "malformed HTTP request: " + std::string(reason) : std::string(reason), ""};
  set_body(res, e.status, error_json(e, rid));
  res.set("X-Request-Id", rid);
  res.set(http::field::server, "hues-sandbox");
  if (headers && is_upload_target(headers->target()) && headers->method() != http::verb::options)
    res.set("Tus-Resumable", "1.0.0");
  res.keep_alive(false);  // the rest of the stream cannot be trusted
  res.prepare_payload();
}

namespace {
std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
}  // namespace

int Api::framing_error(const Request& req, std::string& reason) {
  // RFC 9112 §6.1, §6.3: only a final "chunked" frames a request body besides Content-Length;
  // anything else would leave the body to be read as the next request (smuggling).
  if (auto range = req.equal_range(http::field::transfer_encoding); range.first != range.second) {
    if (req.version() < 11) return reason = "Transfer-Encoding in an HTTP/1.0 request", 400;
    if (req.find(http::field::content_length) != req.end())
      return reason = "Transfer-Encoding together with Content-Length", 400;
    std::vector<std::string_view> codings;
    for (auto it = range.first; it != range.second; ++it) {
      std::string_view list = it->value();
      while (!list.empty()) {
        const auto comma = list.find(',');
        auto coding = trim_ows(list.substr(0, comma));
        coding = trim_ows(coding.substr(0, coding.find(';')));  // transfer-parameters
        if (!coding.empty()) codings.push_back(coding);
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      }
    }
    if (codings.empty() || !boost::beast::iequals(codings.back(), "chunked"))
      return reason = "the final Transfer-Encoding must be chunked", 400;
    for (std::size_t i = 0; i + 1 < codings.size(); ++i) {
      if (boost::beast::iequals(codings[i], "chunked")) return reason = "chunked may be applied only once", 400;
    }
    if (codings.size() > 1) return reason = "transfer codings other than chunked are not implemented", 501;
  }
  // RFC 9112 §3.2: exactly one Host in HTTP/1.1 (at most one in 1.0), and a valid one.
  auto hosts = req.equal_range(http::field::host);
  const auto n = std::distance(hosts.first, hosts.second);
  if (n > 1) return reason = "more than one Host header", 400;
  if (n == 0 && req.version() >= 11) return reason = "an HTTP/1.1 request needs a Host header", 400;
  if (n == 1) {
    const std::string_view host = hosts.first->value();
    auto authority = boost::urls::parse_authority(host);
    if (!host.empty() && (!authority || authority->has_userinfo())) return reason = "the Host header is not a valid host[:port]", 400;
  }
  if (req.target().size() > kTargetLimit)
    return reason = "the request target exceeds " + std::to_string(kTargetLimit) + " bytes", 414;
  return 0;
}

// A Bearer token (RFC 6750) or a partner API key; scope is what a token must carry.
Caller Api::authenticate(const Request& req, const char* scope, const std::string& issuer) {
  Caller caller;
  auto auth = req[http::field::authorization];
  if (!auth.empty()) {
    std::optional<Caller> who;
    if (auth.size() > 7 && boost::beast::iequals(auth.substr(0, 7), "Bearer ")) who = oidc_.caller_of(auth.substr(7), issuer);
    if (!who)
      throw HttpError{http::status::unauthorized, "invalid_token", "the access token is invalid, expired or revoked", "",
                      nullptr, R"(Bearer error="invalid_token")"};
    std::istringstream scopes(who->scope);
    bool granted = scope == nullptr;
    for (std::string s; !granted && scopes >> s;) granted = s == scope;
    if (!granted)
      throw HttpError{http::status::forbidden, "insufficient_scope",
                      std::string("the access token lacks the ") + scope + " scope", "", nullptr,
                      std::string(R"(Bearer error="insufficient_scope", scope=")") + scope + "\""};
    return std::move(*who);
  }
  auto key = req["X-Api-Key"];
  if (key.empty())
    throw HttpError{http::status::unauthorized, "missing_api_key",
                    "an X-Api-Key header or an Authorization: Bearer token is required", "", nullptr,
                    R"(Bearer realm="hues")"};
  caller.api_key_id = store_.authenticate(key);
  if (!caller.api_key_id) throw HttpError{http::status::unauthorized, "invalid_api_key", "the API key is not valid", ""};
  return caller;
}

void Api::set_uploads(Uploads* uploads) {
  uploads_ = uploads;
  media_ = uploads ? std::make_shared<Media>(store_, uploads->dir()) : nullptr;
  if (uploads) uploads->set_media(media_.get());
}

bool Api::admits_body(const Request& header, Response& res, const std::string& issuer, const std::string& client) {
  if (!is_upload_target(header.target()) || header.method() == http::verb::options) return true;
  try {
    authenticate(header, "reports:write", issuer);
    return true;
  } catch (const HttpError&) {
  }
  handle(header, res, issuer, client);  // the answer the whole request would get (401, 403...)
  res.keep_alive(false);                // its unread body follows on the connection
  return false;
}

void Api::route(const Request& req, Response& res, const std::string& issuer, const std::string& client) {
  auto parsed = boost::urls::parse_origin_form(req.target());
  if (!parsed) throw invalid("", "malformed request target");
  const auto& url = *parsed;
  if (oidc_.handle(req, res, url.path(), issuer, client)) return;
  if (Open311(store_).handle(req, res, url)) return;  // GeoReport v2 under /open311/v2/
  auto segs = url.segments();
  std::array<std::string, 4> seg;  // the longest route: /v1/reports/{id}/timeline
  std::size_t n = 0;
  for (auto s : segs) {
    if (n == seg.size()) throw HttpError{http::status::not_found, "not_found", "no such endpoint", ""};
    seg[n++] = s;
  }
  auto authenticate = [&](const char* scope) { return Api::authenticate(req, scope, issuer); };

  if (uploads_ && n >= 2 && n <= 3 && seg[0] == "v1" && seg[1] == "uploads") {  // tus (uploads.h)
    const std::vector<std::string> rest(seg.begin() + 2, seg.begin() + static_cast<std::ptrdiff_t>(n));
    return uploads_->handle(req, res, rest, issuer, [&] { return authenticate("reports:write").idempotency_owner(); });
  }
  if (media_ && n == 4 && seg[0] == "v1" && seg[1] == "media" && seg[3] == "content") {  // bytes: not an SDK call
    method_allowed(req, {http::verb::get}, "GET, HEAD");
    return media_->content(req, res, seg[2], authenticate("reports:read"));
  }
  if (n == 2 && seg[0] == "v1" && seg[1] == "events") {  // a stream: the server calls open_events
    if (req.method() != http::verb::get)
      throw HttpError{http::status::method_not_allowed, "method_not_allowed",
                      std::string(req.method_string()) + " is not allowed here; allowed: GET", "", "GET"};
    throw HttpError{http::status::not_found, "not_found", "no event stream on this server", ""};
  }
  if (n == 1 && seg[0] == "healthz") {
    method_allowed(req, {http::verb::get}, "GET, HEAD");
    set_body(res, http::status::ok, R"({"status":"ok"})");
    return;
  }
  const std::vector<std::string> segments(seg.begin(), seg.begin() + static_cast<std::ptrdiff_t>(n));
  const RouteMatch match = match_route(req.method_string(), segments);
  if (!match.route && match.allow)
    throw HttpError{http::status::method_not_allowed, "method_not_allowed",
                    std::string(req.method_string()) + " is not allowed here; allowed: " + match.allow, "",
                    match.allow};
  if (!match.route) throw HttpError{http::status::not_found, "not_found", "no such endpoint", ""};
  auto path_param = [&](const char* name) -> std::string {
    for (const auto& [k, v] : match.path_params)
      if (k == name) return v;
    return {};
  };
  // 404 rather than 403 for a private report: its id must not leak.
  auto visible_report = [&](const Caller& caller, const std::string& id) {
    auto report = store_.report(id);
    if (!report || !report->visible_to(caller))
      throw HttpError{http::status::not_found, "not_found", "no report with id '" + id + "'", ""};
    return report;
  };
  switch (match.route->handler) {
    case RouteHandler::kListCategories:
      authenticate(nullptr);
      set_body(res, http::status::ok, store_.categories_body());
      return;
    case RouteHandler::kGetMe: {
      const Caller caller = authenticate(nullptr);
      auto me = caller.role.empty() ? std::nullopt : oidc_.profile(caller.principal);
      if (!me)
        throw HttpError{http::status::forbidden, "insufficient_scope", "/v1/me needs a person's access token", "",
                        nullptr, R"(Bearer error="insufficient_scope", scope="openid")"};
      res.set(http::field::cache_control, "no-store");
      set_body(res, http::status::ok, internal::to_json_string(*me));
      return;
    }
    case RouteHandler::kCreateReport:
      return create_report(req, res, authenticate("reports:write"));
    case RouteHandler::kListReports: {
      const Caller caller = authenticate("reports:read");
      std::string filters;
      ListQuery q = parse_list_query(url, store_, filters);
      ListResult found = store_.list_reports(q, caller);
      const std::string at = rfc3339(now());
      for (std::size_t i = 0; i < found.items.size(); ++i) present(found.items[i], found.reporters[i], caller, at);
      ReportPage page{std::move(found.items),
                      found.next_seq ? encode_cursor(q, filters, found.next_seq, found.next_due) : std::string()};
      set_body(res, http::status::ok, internal::to_json_string(page));
      return;
    }
    case RouteHandler::kFindDuplicateReports: {
      const Caller caller = authenticate("reports:read");
      const boost::json::object args = checked_query(match.route->call_id, url);
      const auto* category = args.if_contains("category");
      if (!category) throw invalid("category", "category is required");
      if (!store_.category(category->get_string()))
        throw invalid("category", "unknown category '" + std::string(category->get_string()) + "'");
      double lat = 0, lon = 0;
      const auto* vlat = args.if_contains("lat");
      const auto* vlon = args.if_contains("lon");
      if (!vlat || !internal::json_number(*vlat, lat)) throw invalid("lat", "lat is required");
      if (!vlon || !internal::json_number(*vlon, lon)) throw invalid("lon", "lon is required");
      DuplicateList list{store_.duplicates(std::string(category->get_string()), lat, lon, caller)};
      set_body(res, http::status::ok, internal::to_json_string(list));
      return;
    }
    case RouteHandler::kGetReport: {
      const Caller caller = authenticate("reports:read");
      auto report = visible_report(caller, path_param("id"));
      res.set(http::field::etag, etag_of(report->report));
      set_body(res, http::status::ok, report_json(*report, caller));
      return;
    }
    case RouteHandler::kGetReportTimeline: {
      const Caller caller = authenticate("reports:read");
      const std::string id = path_param("id");
      auto report = visible_report(caller, id);
      Timeline timeline{store_.timeline(id)};
      present(timeline.items, *report, caller);
      set_body(res, http::status::ok, internal::to_json_string(timeline));
      return;
    }
    case RouteHandler::kListReportComments:
    case RouteHandler::kAddReportComment: {
      const bool add = match.route->handler == RouteHandler::kAddReportComment;
      const Caller caller = authenticate(add ? "reports:write" : "reports:read");
      const std::string id = path_param("id");
      auto report = visible_report(caller, id);
      // Between the reporter and the assigned agency; the IOC oversees.
      const bool reporter = !caller.principal.empty() && caller.principal == report->reporter;
      const bool agency = caller.role == "agency" && caller.agency_code == report->report.agency_code;
      if (!reporter && !agency && caller.role != "ioc")
        throw HttpError{http::status::forbidden, "role_not_allowed",
                        "comments are between the reporter, the assigned agency and the IOC (caller: " +
                            (caller.role.empty() ? std::string(caller.api_key_id ? "partner API key" : "client")
                                                 : caller.role) + ")",
                        ""};
      if (!add) {
        CommentList list{store_.comments(id)};
        present(list.items, *report, caller);
        set_body(res, http::status::ok, internal::to_json_string(list));
        return;
      }
      const auto nc = checked_body<NewComment>(req, match.route->call_id, {{"id", id}});
      attachable(nc.attachments, caller, "attachments", reporter && report->report.anonymous);
      const std::string role = reporter ? "citizen" : caller.role;
      set_body(res, http::status::created,
               internal::to_json_string(store_.add_comment(id, caller, role, nc.text, nc.attachments)));
      return;
    }
    case RouteHandler::kGetAgencyInbox: {
      const Caller caller = authenticate("reports:read");
      const std::string code = path_param("code");
      bool known = false;
      for (const auto& a : store_.agencies()) known = known || a.code == code;
      if (!known) throw HttpError{http::status::not_found, "not_found", "no agency '" + code + "'", ""};
      if (caller.role != "ioc" && !(caller.role == "agency" && caller.agency_code == code))
        throw HttpError{http::status::forbidden, "role_not_allowed",
                        "the inbox of " + code + " is for its own staff and IOC operators (caller: " +
                            (caller.role.empty() ? std::string(caller.api_key_id ? "partner API key" : "client")
                                                 : caller.role + (caller.agency_code.empty() ? "" : " " + caller.agency_code)) +
                            ")",
                        ""};
      ListResult found = store_.inbox(parse_inbox_query(url, code));
      const std::string at = rfc3339(now());
      for (std::size_t i = 0; i < found.items.size(); ++i) present(found.items[i], found.reporters[i], caller, at);
      ReportPage page{std::move(found.items), found.next_seq ? encode_inbox_cursor(found.next_due, found.next_seq)
                                                             : std::string()};
      set_body(res, http::status::ok, internal::to_json_string(page));
      return;
    }
    case RouteHandler::kReceiveReport:
    case RouteHandler::kAssignReport:
    case RouteHandler::kRejectReport:
    case RouteHandler::kMarkDuplicate:
    case RouteHandler::kAcceptReport:
    case RouteHandler::kRespondToReport:
    case RouteHandler::kRequestTransfer:
    case RouteHandler::kApproveTransfer:
    case RouteHandler::kApproveResponse:
    case RouteHandler::kReturnResponse:
    case RouteHandler::kRateReport:
    case RouteHandler::kDeclineTransfer:
      return transition(req, res, authenticate("reports:write"), match.route->call_id, path_param("id"));
    case RouteHandler::kGetReportStatistics: {
      const Caller caller = authenticate("reports:read");
      if (caller.role != "ioc")
        throw HttpError{http::status::forbidden, "role_not_allowed",
                        "statistics are for IOC operators (caller: " +
                            (caller.role.empty() ? std::string(caller.api_key_id ? "partner API key" : "client")
                                                 : caller.role) + ")",
                        ""};
      set_body(res, http::status::ok, internal::to_json_string(store_.statistics(parse_statistics_query(url, store_))));
      return;
    }
    case RouteHandler::kGetMedia: {
      const Caller caller = authenticate("reports:read");
      if (!media_) throw HttpError{http::status::not_found, "not_found", "no such endpoint", ""};
      return media_->get(req, res, path_param("media_id"), caller);
    }
    case RouteHandler::kListAgencies: {
      authenticate(nullptr);
      std::string after;
      const AgencyQuery q = parse_agency_query(url, after);
      const std::int64_t limit = q.limit.value_or(20);
      AgencyPage page;
      for (const auto& a : store_.agencies()) {
        if (a.code <= after || (q.kind && a.kind != *q.kind)) continue;
        if (static_cast<std::int64_t>(page.items.size()) == limit) {
          page.next_cursor = encode_agency_cursor(page.items.back().code);
          break;
        }
        page.items.push_back(a);
      }
      set_body(res, http::status::ok, internal::to_json_string(page));
      return;
    }
    case RouteHandler::kListWebhookEndpoints:
    case RouteHandler::kCreateWebhookEndpoint:
    case RouteHandler::kGetWebhookEndpoint:
    case RouteHandler::kUpdateWebhookEndpoint:
    case RouteHandler::kDeleteWebhookEndpoint:
    case RouteHandler::kRotateWebhookSecret:
    case RouteHandler::kListWebhookDeliveries:
    case RouteHandler::kReplayWebhookMessage:
      if (!webhooks_) break;
      return webhooks(req, res, authenticate("reports:read"), static_cast<int>(match.route->handler),
                      match.route->call_id, path_param("endpoint_id"), std::string(req.target()));
    case RouteHandler::kStreamEvents:  // answered before the routes (a stream: open_events)
      break;
  }
  throw HttpError{http::status::not_found, "not_found", "no such endpoint", ""};
}

void Api::attachable(const std::vector<std::string>& ids, const Caller& caller, const char* field, bool strip) {
  if (ids.empty()) return;
  if (!media_) throw invalid(std::string(field) + "[0]", "this server keeps no media");
  try {
    media_->check_attachable(ids, caller, field, strip);
  } catch (const ApiError& e) {
    throw HttpError{static_cast<http::status>(e.status), e.code, e.message, e.field};
  }
}

void Api::transition(const Request& req, Response& res, const Caller& caller, int call_id, const std::string& id) {
  const auto& call = internal::kCalls[call_id];
  const TransitionRule* rule = nullptr;
  for (const auto& r : transition_rules())
    if (call.method == std::string_view(r.name)) rule = &r;
  if (!rule) throw std::logic_error(std::string("no transition rule for ") + call.method);
  Transition t{};
  boost::json::object args;
  args["id"] = id;
  // Header parameters by the call table (If-Match: every transition but a rating); their
  // rules (printable ASCII, length) are the spec's, checked by the generated validator.
  for (std::size_t i = 0; i < call.header_param_count; ++i) {
    const char* name = call.header_params[i].name;
    auto it = req.find(name);
    if (it == req.end())
      throw HttpError{static_cast<http::status>(428), "precondition_required",
                      std::string("this change needs ") + name + " with the report's ETag (read the report first)", ""};
    args[name] = std::string(it->value());
  }
  require_json_content(req);
  t = parse_transition(call_id, req.body(), std::move(args), t);
  if (call.header_param_count > 0) {
    auto parsed = parse_if_match(req[http::field::if_match]);
    if (!parsed) throw invalid("If-Match", "If-Match must be * or a list of entity tags such as \"7\"");
    t.any_version = parsed->any_version;
    t.if_match = parsed->if_match;
  }
  t.action = rule->action;
  if (!t.attachments.empty()) {  // only for a report the caller sees: a stranger still gets its 404
    auto report = store_.report(id);
    if (!report || !report->visible_to(caller))
      throw HttpError{http::status::not_found, "not_found", "no report with id '" + id + "'", ""};
    attachable(t.attachments, caller, "attachments", false);
  }
  TransitionOutcome out = store_.transition(id, caller, t);
  switch (out.kind) {
    case TransitionOutcome::Kind::kDone:
      res.set(http::field::etag, etag_of(out.report->report));
      set_body(res, http::status::ok, report_json(*out.report, caller));
      return;
    case TransitionOutcome::Kind::kNotFound:
      throw HttpError{http::status::not_found, "not_found", "no report with id '" + id + "'", ""};
    case TransitionOutcome::Kind::kRoleNotAllowed:
      throw HttpError{http::status::forbidden, "role_not_allowed", out.message, ""};
    case TransitionOutcome::Kind::kInvalidState:
      throw HttpError{http::status::conflict, "invalid_transition", out.message, ""};
    case TransitionOutcome::Kind::kInvalidField:
      throw invalid(out.field, out.message);
    case TransitionOutcome::Kind::kStale: {
      // 412 with the current report beside the error (StaleReportError), and its ETag.
      ErrorBody err{"precondition_failed", out.message, std::string(res["X-Request-Id"]), std::nullopt};
      boost::json::object body;
      body["error"] = internal::to_json(err);
      Report current = out.report->report;
      present(current, out.report->reporter, caller, rfc3339(now()));
      body["current"] = internal::to_json(current);
      res.set(http::field::etag, etag_of(current));
      set_body(res, http::status::precondition_failed, internal::serialize_json(body));
      return;
    }
  }
}

void Api::create_report(const Request& req, Response& res, const Caller& caller) {
  require_json_content(req);
  std::string_view idem;
  if (auto it = req.find("Idempotency-Key"); it != req.end()) {
    idem = it->value();
    bool printable = !idem.empty() && idem.size() <= 255;
    for (char c : idem) printable = printable && c >= 0x20 && c <= 0x7e;
    if (!printable) throw invalid("Idempotency-Key", "Idempotency-Key must be 1 to 255 printable ASCII characters");
  }
  std::optional<HttpError> rejected;
  NewReport report;
  try {
    report = parse_new_report(req.body(), store_);
    // Each must be a finished medium of the caller's; an anonymous report's photos lose
    // their location metadata before anyone else can read them.
    attachable(report.media, caller, "media", report.anonymous);
  } catch (const HttpError& e) {
    if (idem.empty()) throw;
    rejected = e;  // a known key still replays or conflicts, whatever this body is
  }
  const Sha256 hash = idem.empty() ? Sha256{} : sha256(req.body());
  if (!rejected && caller.api_key_id && report.visibility == Visibility::kPrivate)
    throw HttpError{http::status::forbidden, "insufficient_scope",
                    "partner API keys create public reports only; private ones need a person's token", ""};
  CreateOutcome out = store_.create_report(caller, idem, hash, rejected ? nullptr : &report);
  switch (out.kind) {
    case CreateOutcome::Kind::kReplayed:
      res.set("Idempotent-Replayed", "true");
      [[fallthrough]];
    case CreateOutcome::Kind::kCreated:
      if (!out.response.location.empty()) res.set(http::field::location, out.response.location);
      set_body(res, static_cast<http::status>(out.response.status), std::move(out.response.body));
      return;
    case CreateOutcome::Kind::kKeyReused:
      throw HttpError{http::status::conflict, "idempotency_key_reused",
                      "this Idempotency-Key was already used with a different request body", ""};
    case CreateOutcome::Kind::kNotCreated:
      throw *rejected;
  }
}

namespace {

// https anywhere; http only to this machine (the sandbox's receivers in tests); no user
// info or fragment. The URL is a partner's, so the message says what is wrong with it.
void check_webhook_url(const std::string& url, const char* field) {
  auto u = boost::urls::parse_uri(url);
  if (!u) throw invalid(field, std::string(field) + " must be an absolute URL");
  const std::string scheme(u->scheme());
  if (scheme != "https" && scheme != "http") throw invalid(field, std::string(field) + " must be an https URL");
  if (u->has_userinfo() || u->has_fragment() || u->encoded_host().empty())
    throw invalid(field, std::string(field) + " must have a host and no user info or fragment");
  if (scheme == "http") {
    const std::string host(u->encoded_host());
    if (host != "127.0.0.1" && host != "[::1]" && host != "localhost")
      throw invalid(field, std::string(field) + " must be https (http only to 127.0.0.1, [::1] or localhost in the sandbox)");
  }
}

}  // namespace

void Api::webhooks(const Request& req, Response& res, const Caller& caller, int handler, int call_id,
                   const std::string& endpoint_id, const std::string& target) {
  // Partners only: a person's token (citizen, agency staff, IOC) is refused; reports:read is
  // the least the events need, since they tell of reports.
  if (!caller.role.empty())
    throw HttpError{http::status::forbidden, "role_not_allowed",
                    "webhook endpoints are for partner clients (client credentials or a partner API key); caller: " +
                        caller.role,
                    ""};
  const std::string owner = caller.idempotency_owner();
  auto no_endpoint = [&] {
    return HttpError{http::status::not_found, "not_found", "no webhook endpoint with id '" + endpoint_id + "'", ""};
  };
  auto url = boost::urls::parse_origin_form(target);
  if (!url) throw invalid("", "malformed request target");
  switch (static_cast<RouteHandler>(handler)) {
    case RouteHandler::kCreateWebhookEndpoint: {
      const auto n = checked_body<NewWebhookEndpoint>(req, call_id, {});
      check_webhook_url(n.url, "url");
      set_body(res, http::status::created, internal::to_json_string(webhooks_->create(owner, n)));
      return;
    }
    case RouteHandler::kListWebhookEndpoints:
    case RouteHandler::kListWebhookDeliveries: {
      const bool log = static_cast<RouteHandler>(handler) == RouteHandler::kListWebhookDeliveries;
      boost::json::object path;
      if (log) path["endpoint_id"] = endpoint_id;
      const boost::json::object args = checked_query(call_id, *url, path);
      std::int64_t limit = 20;
      if (const auto* l = args.if_contains("limit")) limit = l->to_number<std::int64_t>();
      std::optional<std::int64_t> position = log ? std::numeric_limits<std::int64_t>::max() : 0;
      if (const auto* c = args.if_contains("cursor"); c && !c->get_string().empty()) {
        position = Webhooks::parse_cursor(log ? 'd' : 'e', std::string(c->get_string()));
        if (!position) throw invalid("cursor", "cursor is not one this server issued");
      }
      if (!log) {
        set_body(res, http::status::ok, internal::to_json_string(webhooks_->list(owner, *position, limit)));
        return;
      }
      auto page = webhooks_->deliveries(owner, endpoint_id, *position, limit);
      if (!page) throw no_endpoint();
      set_body(res, http::status::ok, internal::to_json_string(*page));
      return;
    }
    case RouteHandler::kGetWebhookEndpoint:
    case RouteHandler::kDeleteWebhookEndpoint:
    case RouteHandler::kRotateWebhookSecret: {
      if (auto problem = internal::validate_args(call_id, {{"endpoint_id", endpoint_id}})) throw invalid(*problem);
      const auto h = static_cast<RouteHandler>(handler);
      if (h == RouteHandler::kRotateWebhookSecret) {
        auto r = webhooks_->rotate(owner, endpoint_id);
        if (!r) throw no_endpoint();
        res.set(http::field::cache_control, "no-store");
        set_body(res, http::status::ok, internal::to_json_string(*r));
        return;
      }
      auto e = h == RouteHandler::kGetWebhookEndpoint ? webhooks_->get(owner, endpoint_id)
                                                       : webhooks_->remove(owner, endpoint_id);
      if (!e) throw no_endpoint();
      set_body(res, http::status::ok, internal::to_json_string(*e));
      return;
    }
    case RouteHandler::kUpdateWebhookEndpoint: {
      const auto u = checked_body<WebhookEndpointUpdate>(req, call_id, {{"endpoint_id", endpoint_id}});
      if (u.url) check_webhook_url(*u.url, "url");
      auto e = webhooks_->update(owner, endpoint_id, u);
      if (!e) throw no_endpoint();
      set_body(res, http::status::ok, internal::to_json_string(*e));
      return;
    }
    case RouteHandler::kReplayWebhookMessage: {
      const auto r = checked_body<WebhookReplay>(req, call_id, {{"endpoint_id", endpoint_id}});
      if (r.message_id.empty() == r.delivery_id.empty())
        throw invalid(r.message_id.empty() ? "message_id" : "delivery_id",
                      "give exactly one of message_id and delivery_id");
      WebhookMessage m;
      switch (webhooks_->replay(owner, endpoint_id, r, m)) {
        case Webhooks::ReplayOutcome::kNoEndpoint:
          throw no_endpoint();
        case Webhooks::ReplayOutcome::kNoMessage:
          throw HttpError{http::status::not_found, "not_found",
                          "endpoint " + endpoint_id + " has no message or delivery '" +
                              (r.message_id.empty() ? r.delivery_id : r.message_id) + "'",
                          ""};
        case Webhooks::ReplayOutcome::kQueued:
          set_body(res, http::status::accepted, internal::to_json_string(m));
          return;
      }
      return;
    }
    default:
      break;
  }
  throw HttpError{http::status::not_found, "not_found", "no such endpoint", ""};
}

// ---- streamed request bodies (tus PATCH) ----

StreamedBody::~StreamedBody() = default;

bool Api::streams_body(const Request& header) {
  if (header.method() != http::verb::patch || !is_upload_target(header.target())) return false;
  auto parsed = boost::urls::parse_origin_form(header.target());
  return parsed && parsed->segments().size() == 3;  // /v1/uploads/{upload_id}
}

std::unique_ptr<StreamedBody> Api::begin_body(const Request& header, Response& res, const std::string& issuer) {
  auto body = std::make_unique<StreamedBody>();
  body->header = Request(header.base());
  answer(header, res, [&] {
    if (!uploads_) throw HttpError{http::status::not_found, "not_found", "no such endpoint", ""};
    auto parsed = boost::urls::parse_origin_form(header.target());
    std::string id;
    for (auto s : parsed->segments()) id = s;
    body->patch = uploads_->begin_patch(header, id, [&] {
      return authenticate(header, "reports:write", issuer).idempotency_owner();
    });
  });
  if (body->patch) return body;
  // A stranger is answered before the body and the connection closes; a caller's small
  // body (a 409, 412, 415...) is read and dropped first so the connection lives on.
  const auto declared = header.find(http::field::content_length) != header.end()
                            ? std::optional<std::uint64_t>(std::strtoull(std::string(header[http::field::content_length]).c_str(), nullptr, 10))
                            : std::nullopt;
  const int status = res.result_int();
  if (status == 401 || status == 403 || !declared || *declared > kJsonBodyLimit) res.keep_alive(false);
  return nullptr;
}

bool Api::body_piece(StreamedBody& body, std::string_view piece, Response& res) {
  std::exception_ptr failed;
  try {
    body.patch->write(piece);
    return true;
  } catch (...) {
    failed = std::current_exception();
  }
  answer(body.header, res, [&] { std::rethrow_exception(failed); });
  res.keep_alive(false);
  return false;
}

void Api::end_body(StreamedBody& body, bool complete, Response& res) {
  if (!complete) {
    try {
      Response unused;
      body.patch->finish(false, unused);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "hues-sandbox: an interrupted upload failed to commit: %s\n", e.what());
    }
    return;
  }
  answer(body.header, res, [&] { body.patch->finish(true, res); });
}

// ---- GET /v1/events (events.h) ----

bool Api::is_event_stream(const Request& req) {
  if (req.method() != http::verb::get) return false;
  const std::string_view t = req.target();
  constexpr std::string_view p = "/v1/events";
  return t.substr(0, p.size()) == p && (t.size() == p.size() || t[p.size()] == '?');
}

std::string Api::event_stream_preamble() { return "retry: 2000\n: hues-sandbox events\n\n"; }

namespace {
// An event id this server sent (a seq), as the position to resume after.
std::int64_t parse_event_id(std::string_view v, const char* field, std::int64_t latest) {
  std::int64_t id = -1;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), id);
  if (v.empty() || v.size() > 18 || ec != std::errc() || end != v.data() + v.size() || id < 0)
    throw invalid(field, std::string(field) + " must be an event id this server sent (its `id:` line)");
  if (id > latest) throw invalid(field, std::string(field) + " " + std::string(v) + " is not an event id of this server");
  return id;
}
}  // namespace

std::unique_ptr<EventStream> Api::open_events(const Request& req, Response& res, const std::string& issuer) {
  std::unique_ptr<EventStream> stream;
  answer(req, res, [&] {
    if (!events_) throw HttpError{http::status::not_found, "not_found", "no event stream on this server", ""};
    if (events_->closing())  // the server is stopping: not the caller over its limit
      throw HttpError{http::status::service_unavailable, "unavailable",
                      "the server is shutting down; reconnect in a moment", ""};
    auto parsed = boost::urls::parse_origin_form(req.target());
    if (!parsed) throw invalid("", "malformed request target");
    Caller caller = authenticate(req, "reports:read", issuer);
    std::optional<std::string> since;
    for (auto p : parsed->params()) {
      if (p.key != "since") throw invalid(std::string(p.key), "unknown query parameter '" + std::string(p.key) + "' (only since)");
      since = std::string(p.value);
    }
    const std::int64_t latest = std::max(store_.last_event_seq(), events_->latest());
    std::int64_t after = latest;  // by default: what happens from now on
    // Last-Event-ID first: an EventSource reconnecting keeps its URL (and its ?since=).
    if (auto it = req.find("Last-Event-ID"); it != req.end() && !it->value().empty())
      after = parse_event_id(it->value(), "Last-Event-ID", latest);
    else if (since)
      after = parse_event_id(*since, "since", latest);
    const std::string who = caller.idempotency_owner();
    if (!events_->acquire(who))
      throw HttpError{http::status::too_many_requests, "rate_limited",
                      "too many event streams open (at most " + std::to_string(events_->max_per_caller()) +
                          " per caller); close one or retry later",
                      ""};
    stream = std::make_unique<EventStream>(store_, *events_, std::move(caller), who, after);
    stream->set_credentials({std::string(req[http::field::authorization]), std::string(req["X-Api-Key"]), issuer});
    res.result(http::status::ok);
    res.set(http::field::content_type, "text/event-stream; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
  });
  if (res.result() == http::status::too_many_requests || res.result() == http::status::service_unavailable)
    res.set(http::field::retry_after, "2");
  if (stream) res.erase(http::field::content_length);  // the server frames the stream itself
  return stream;
}

bool Api::events_authorized(const EventStream& stream) {
  const auto& c = stream.credentials();
  Request probe;
  if (!c.authorization.empty()) probe.set(http::field::authorization, c.authorization);
  if (!c.api_key.empty()) probe.set("X-Api-Key", c.api_key);
  try {
    authenticate(probe, "reports:read", c.issuer);
    return true;
  } catch (const HttpError&) {
    return false;
  }
}

}  // namespace hues::sandbox
