#include "open311.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "internal/calls.h"
#include "internal/json_codec.h"
#include "store.h"
#include "util.h"

namespace hues::sandbox {
namespace {

namespace http = boost::beast::http;

enum class Format { kXml, kJson };

// A GeoReport error: the HTTP status, also the error's code (the spec lets them differ; ours
// never do), and a description meant for the user.
struct Open311Error {
  int status;
  std::string description;
  const char* allow = nullptr;  // a 405's Allow header
};

Open311Error bad(std::string description) { return {400, std::move(description)}; }
Open311Error not_found(std::string description) { return {404, std::move(description)}; }

// ---- the documents --------------------------------------------------------------------
// One tree renders as both formats: XML elements, or JSON by the Spark convention the spec
// uses (a list element becomes an array of its items, a leaf a scalar, an empty leaf null).
struct Node {
  enum class Kind { kString, kNumber, kBool, kNull, kObject, kArray };
  Kind kind;
  std::string name;  // the element name (array items: the item's element name)
  std::string text;  // scalars: the text (numbers and booleans as JSON writes them)
  std::vector<Node> kids;
};

Node str(std::string name, std::string v) { return {Node::Kind::kString, std::move(name), std::move(v), {}}; }
Node str_or_null(std::string name, std::string v) {
  return v.empty() ? Node{Node::Kind::kNull, std::move(name), "", {}} : str(std::move(name), std::move(v));
}
Node null(std::string name) { return {Node::Kind::kNull, std::move(name), "", {}}; }
Node boolean(std::string name, bool v) { return {Node::Kind::kBool, std::move(name), v ? "true" : "false", {}}; }
Node integer(std::string name, std::int64_t v) { return {Node::Kind::kNumber, std::move(name), std::to_string(v), {}}; }
Node number(std::string name, double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest, locale-independent
  return {Node::Kind::kNumber, std::move(name), ec == std::errc() ? std::string(buf, end) : "0", {}};
}
Node object(std::string name, std::vector<Node> kids) { return {Node::Kind::kObject, std::move(name), "", std::move(kids)}; }
Node array(std::string name, std::vector<Node> kids) { return {Node::Kind::kArray, std::move(name), "", std::move(kids)}; }

void put_json(std::string& out, const Node& n) {
  switch (n.kind) {
    case Node::Kind::kString:
      out += internal::serialize_json(boost::json::value(boost::json::string_view(n.text)));
      return;
    case Node::Kind::kNumber:
    case Node::Kind::kBool:
      out += n.text;
      return;
    case Node::Kind::kNull:
      out += "null";
      return;
    case Node::Kind::kObject:
    case Node::Kind::kArray: {
      const bool obj = n.kind == Node::Kind::kObject;
      out += obj ? '{' : '[';
      for (std::size_t i = 0; i < n.kids.size(); ++i) {
        if (i) out += ',';
        if (obj) {
          out += internal::serialize_json(boost::json::value(boost::json::string_view(n.kids[i].name)));
          out += ':';
        }
        put_json(out, n.kids[i]);
      }
      out += obj ? '}' : ']';
      return;
    }
  }
}

// XML 1.0 text: &, < and > escaped (quotes need it only in attributes), CR kept as a reference (parsers fold a raw CR
// into LF), and the C0 controls XML cannot carry at all replaced by U+FFFD.
void put_xml_text(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\r': out += "&#13;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') out += "\xEF\xBF\xBD";
        else out += c;
    }
  }
}

void put_xml(std::string& out, const Node& n) {
  if (n.kind == Node::Kind::kNull || ((n.kind == Node::Kind::kObject || n.kind == Node::Kind::kArray) && n.kids.empty())) {
    out += '<' + n.name + "/>";
    return;
  }
  out += '<' + n.name + '>';
  if (n.kind == Node::Kind::kObject || n.kind == Node::Kind::kArray) {
    for (const auto& k : n.kids) put_xml(out, k);
  } else {
    put_xml_text(out, n.text);
  }
  out += "</" + n.name + '>';
}

void send(Response& res, int status, Format f, const Node& root) {
  std::string body;
  if (f == Format::kJson) {
    put_json(body, root);
    res.set(http::field::content_type, "application/json; charset=utf-8");
  } else {
    body = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";
    put_xml(body, root);
    res.set(http::field::content_type, "text/xml; charset=utf-8");
  }
  res.result(static_cast<http::status>(status));
  res.body() = std::move(body);
}

void send_error(Response& res, Format f, const Open311Error& e) {
  const unsigned version = res.version();
  res = {};
  res.version(version);
  if (e.allow) res.set(http::field::allow, e.allow);
  send(res, e.status, f,
       array("errors", {object("error", {integer("code", e.status), str("description", valid_utf8(e.description))})}));
}

// ---- times --------------------------------------------------------------------------------
constexpr std::time_t kHueOffsetS = 7 * 3600;  // Huế is UTC+7, no daylight saving
constexpr std::time_t kDayS = 24 * 3600;
constexpr std::time_t kMaxSpanS = 90 * kDayS;  // the spec's default window and widest range

bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// A W3C-profile ISO 8601 date-time (the spec's "w3 format"): YYYY-MM-DDThh:mm[:ss[.s+]]
// with Z or ±hh:mm, which must be there; or a bare date, midnight in Huế. A space where
// the offset's '+' belongs is read as '+': an unencoded '+' in a query string arrives so.
// round_up: a fraction of a second counts as the next whole second (for a lower bound).
std::optional<std::time_t> parse_w3c(std::string_view s, bool round_up = false) {
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d))
    return std::nullopt;
  if (s.size() == 10) {
    auto t = utc_time(y, mo, d, 0, 0, 0);
    if (!t) return std::nullopt;
    return *t - kHueOffsetS;
  }
  if (s[10] != 'T' || !digits(s, 11, 2, h) || s.size() < 16 || s[13] != ':' || !digits(s, 14, 2, mi))
    return std::nullopt;
  std::size_t i = 16;
  bool fraction = false;
  if (i < s.size() && s[i] == ':') {
    if (!digits(s, i + 1, 2, sec)) return std::nullopt;
    i += 3;
    if (i < s.size() && s[i] == '.') {
      std::size_t j = i + 1;
      while (j < s.size() && s[j] >= '0' && s[j] <= '9') fraction = fraction || s[j++] != '0';
      if (j == i + 1) return std::nullopt;
      i = j;
    }
  }
  if (i >= s.size()) return std::nullopt;  // the offset is required
  std::time_t offset = 0;
  if (s[i] == 'Z' && i + 1 == s.size()) {
    offset = 0;
  } else if ((s[i] == '+' || s[i] == '-' || s[i] == ' ') && i + 6 == s.size() && s[i + 3] == ':') {
    int oh, om;
    if (!digits(s, i + 1, 2, oh) || !digits(s, i + 4, 2, om) || oh > 23 || om > 59) return std::nullopt;
    offset = (s[i] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  auto t = utc_time(y, mo, d, h, mi, sec);
  if (!t) return std::nullopt;
  return *t - offset + (round_up && fraction ? 1 : 0);
}

std::optional<std::time_t> parse_rfc3339_utc(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (s.size() < 20 || !digits(s, 0, 4, y) || !digits(s, 5, 2, mo) || !digits(s, 8, 2, d) || !digits(s, 11, 2, h) ||
      !digits(s, 14, 2, mi) || !digits(s, 17, 2, sec))
    return std::nullopt;
  return utc_time(y, mo, d, h, mi, sec);
}

// Our UTC times as Huế local time with its offset, as the spec's examples carry theirs.
std::string hue_time(std::string_view rfc3339_utc) {
  auto t = parse_rfc3339_utc(rfc3339_utc);
  if (!t) return std::string(rfc3339_utc);
  const std::time_t local = *t + kHueOffsetS;
  std::tm tm{};
  gmtime_r(&local, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S+07:00", &tm);
  return buf;
}

// ---- forms and lists ---------------------------------------------------------------------
int hex(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

// application/x-www-form-urlencoded (WHATWG URL §5.1): '+' is a space, %XX a byte.
std::optional<std::string> form_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size() || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) return std::nullopt;
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

using Params = std::vector<std::pair<std::string, std::string>>;

Params parse_form(std::string_view body) {
  Params out;
  while (!body.empty()) {
    const auto amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto key = form_decode(pair.substr(0, eq));
    auto value = form_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!key || !value) throw bad("the form body has a malformed %-escape near '" + std::string(pair.substr(0, 60)) + "'");
    out.emplace_back(std::move(*key), std::move(*value));
  }
  return out;
}

// Optional arguments: an empty one is as if it were not sent (the spec's definition).
struct Args {
  Params params;
  std::optional<std::string> get(const std::string& name) const {
    std::optional<std::string> found;
    for (const auto& [k, v] : params) {
      if (k != name || v.empty()) continue;
      if (found && *found != v) throw bad(name + " is given more than once with different values");
      found = v;
    }
    if (found && !internal::is_valid_utf8(*found)) throw bad(name + " is not valid UTF-8");
    return found;
  }
  // A list argument: comma-separated, and it may be given more than once.
  std::optional<std::string> list(const std::string& name) const {
    std::optional<std::string> out;
    for (const auto& [k, v] : params) {
      if (k != name || v.empty()) continue;
      if (!internal::is_valid_utf8(v)) throw bad(name + " is not valid UTF-8");
      out = out ? *out + "," + v : v;
    }
    return out;
  }
};

std::vector<std::string> comma_list(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    std::string item = s.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.erase(0, 1);
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(std::move(item));
    start = comma + 1;
  }
  return out;
}

// ---- places for address_string -------------------------------------------------------------
// Lowercase ASCII with Vietnamese diacritics removed (đ -> d), to match what people type.
std::string fold(std::string_view s) {
  static const std::map<std::uint32_t, char> table = [] {
    static const char* const groups[][2] = {
        {"a", "àáâãăạảấầẩẫậắằẳẵặÀÁÂÃĂẠẢẤẦẨẪẬẮẰẲẴẶ"}, {"e", "èéêẹẻẽếềểễệÈÉÊẸẺẼẾỀỂỄỆ"},
        {"i", "ìíĩỉịÌÍĨỈỊ"}, {"o", "òóôõơọỏốồổỗộớờởỡợÒÓÔÕƠỌỎỐỒỔỖỘỚỜỞỠỢ"},
        {"u", "ùúũưụủứừửữựÙÚŨƯỤỦỨỪỬỮỰ"}, {"y", "ýỳỵỷỹÝỲỴỶỸ"}, {"d", "đĐ"}};
    std::map<std::uint32_t, char> m;
    for (const auto& g : groups) {
      std::string_view letters = g[1];
      for (std::size_t i = 0; i < letters.size();) {
        const auto c = static_cast<unsigned char>(letters[i]);
        const std::size_t n = c < 0xE0 ? 2 : 3;
        std::uint32_t cp = c & (n == 2 ? 0x1F : 0x0F);
        for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(letters[i + k]) & 0x3F);
        m[cp] = g[0][0];
        i += n;
      }
    }
    return m;
  }();
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
      ++i;
      continue;
    }
    const std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    std::uint32_t cp = c & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
    for (std::size_t k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    auto it = table.find(cp);
    if (it != table.end()) out += it->second;
    else out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

struct Place {
  const char* folded;  // what the folded address_string must contain
  double lat, lon;
};

// Landmarks of Huế (docs: the product brief's places, and the seed's bridges and flood spots).
// A GeoReport client may send only address_string; a report needs a point.
constexpr Place kPlaces[] = {
    {"dai noi", 16.4698, 107.5786},         {"imperial city", 16.4698, 107.5786},
    {"cho dong ba", 16.4726, 107.5885},     {"dong ba market", 16.4726, 107.5885},
    {"lang tu duc", 16.4326, 107.5658},     {"tu duc tomb", 16.4326, 107.5658},
    {"ben xe phia nam", 16.4421, 107.6015}, {"southern bus station", 16.4421, 107.6015},
    {"cau truong tien", 16.4665, 107.5905}, {"truong tien bridge", 16.4665, 107.5905},
    {"cau phu xuan", 16.4650, 107.5800},    {"phu xuan bridge", 16.4650, 107.5800},
    {"cau da vien", 16.4605, 107.5700},     {"da vien bridge", 16.4605, 107.5700},
    {"dap da", 16.4720, 107.5990},
};

const Place* locate(const std::string& address) {
  const std::string f = fold(address);
  for (const auto& p : kPlaces)
    if (f.find(p.folded) != std::string::npos) return &p;
  return nullptr;
}

// ---- our data in GeoReport's words -----------------------------------------------------------
bool closed(const ReportStatus& s) {
  return s == ReportStatus::kResolved || s == ReportStatus::kRated || s == ReportStatus::kRejected ||
         s == ReportStatus::kDuplicate;
}

std::string agency_name(const Store& store, const std::string& code) {
  for (const auto& a : store.agencies())
    if (a.code == code) return a.name_vi;
  return code;
}

std::string service_notice(const Category& c) {
  return c.agency_name + " xử lý trong vòng " + std::to_string(c.sla_hours) + " giờ kể từ khi tiếp nhận.";
}

std::string datatype_description(const CategoryAttribute& a) {
  if (a.datatype == "number") return "Một số, dấu chấm thập phân (ví dụ 12.5).";
  if (a.datatype == "datetime") return "Ngày giờ ISO 8601 có múi giờ, ví dụ 2026-11-28T16:30:00+07:00.";
  if (a.datatype == "singlevaluelist") return "Chọn một giá trị (key).";
  if (a.datatype == "multivaluelist") return "Chọn một hoặc nhiều giá trị: attribute[" + a.code + "][]=key.";
  if (a.datatype == "text") return "Văn bản, có thể nhiều dòng.";
  return "Một dòng văn bản.";
}

Node service_node(const Category& c) {
  return object("service", {str("service_code", c.code), str("service_name", c.name_vi), str("description", c.description),
                            boolean("metadata", !c.attributes.empty()), str("type", "realtime"),
                            str("keywords", c.name_en + ", " + c.code + ", " + c.group), str("group", c.group)});
}

Node definition_node(const Category& c) {
  std::vector<Node> attrs;
  for (const auto& a : c.attributes) {
    std::vector<Node> values;
    for (const auto& v : a.values) values.push_back(object("value", {str("key", v.key), str("name", v.name)}));
    attrs.push_back(object("attribute", {boolean("variable", true), str("code", a.code), str("datatype", a.datatype),
                                         boolean("required", a.required),
                                         str("datatype_description", datatype_description(a)), integer("order", a.order),
                                         str("description", a.description), array("values", std::move(values))}));
  }
  return object("service_definition", {str("service_code", c.code), array("attributes", std::move(attrs))});
}

// Why the report is where it is: its latest step's note; for a closed one the agency's
// answer or the original it repeats when that step said nothing.
std::string status_notes(const Store::Open311Request& row) {
  const Report& r = row.report->report;
  if ((r.status == ReportStatus::kResolved || r.status == ReportStatus::kRated) && r.answer && !r.answer->empty())
    return *r.answer;
  if (!row.last_note.empty()) return row.last_note;
  if (r.status == ReportStatus::kDuplicate && r.duplicate_of) return "Trùng với phản ánh " + *r.duplicate_of + ".";
  return "";
}

Node request_node(const Store& store, const Store::Open311Request& row) {
  const Report& r = row.report->report;
  const Category* c = store.category(r.category);
  std::string address = r.location.address;
  if (!r.location.ward.empty() && address.find(r.location.ward) == std::string::npos)
    address += (address.empty() ? "" : ", ") + r.location.ward;
  // Who reported it is never part of a GeoReport request: nothing here names the reporter.
  return object("request", {
                               str("service_request_id", r.id),
                               str("status", closed(r.status) ? "closed" : "open"),
                               str_or_null("status_notes", status_notes(row)),
                               str("service_name", c ? c->name_vi : r.category),
                               str("service_code", r.category),
                               str("description", r.description),
                               str("agency_responsible", agency_name(store, r.agency_code)),
                               str_or_null("service_notice", c ? service_notice(*c) : ""),
                               str("requested_datetime", hue_time(r.created_at)),
                               str("updated_datetime", hue_time(r.updated_at)),
                               str_or_null("expected_datetime", r.due_at.empty() ? "" : hue_time(r.due_at)),
                               str_or_null("address", address),
                               number("lat", r.location.lat),
                               number("long", r.location.lon),
                               str_or_null("media_url", row.media_url),
                           });
}

// ---- the methods ----------------------------------------------------------------------------
struct Target {
  std::string resource;  // services | requests | tokens
  std::string id;        // services/{id}, requests/{id}, tokens/{id}; empty for a list
  Format format = Format::kXml;
};

class Handler {
 public:
  Handler(Store& store, const Request& req, Response& res, const boost::urls::url_view& url)
      : store_(store), req_(req), res_(res) {
    for (auto p : url.params()) query_.params.emplace_back(p.key, p.value);
  }

  void run(const Target& t) {
    const bool post = req_.method() == http::verb::post;
    const bool get = req_.method() == http::verb::get || req_.method() == http::verb::head;
    const bool create = t.resource == "requests" && t.id.empty();
    if (create ? !(get || post) : !get)
      throw Open311Error{405, std::string(req_.method_string()) + " is not allowed here",
                         create ? "GET, HEAD, POST" : "GET, HEAD"};
    if (post) {
      auto ct = req_[http::field::content_type];
      ct = ct.substr(0, ct.find(';'));
      while (!ct.empty() && ct.back() == ' ') ct.remove_suffix(1);
      if (!boost::beast::iequals(ct, "application/x-www-form-urlencoded"))
        throw bad("POST requests needs Content-Type: application/x-www-form-urlencoded");
      form_.params = parse_form(req_.body());
    }
    check_jurisdiction();
    if (t.resource == "services" && t.id.empty()) return services(t.format);
    if (t.resource == "services") return definition(t.id, t.format);
    if (t.resource == "requests" && post) return create_request(t.format);
    if (t.resource == "requests") return requests(t.id, t.format);
    return token(t.id, t.format);
  }

 private:
  // A form field, or the same name in the query string (some clients send api_key there).
  std::optional<std::string> arg(const std::string& name) const {
    if (auto v = form_.get(name)) return v;
    return query_.get(name);
  }

  void check_jurisdiction() const {
    if (auto j = arg("jurisdiction_id"); j && *j != kOpen311Jurisdiction)
      throw not_found("jurisdiction_id '" + *j + "' was not found; this endpoint serves " +
                      std::string(kOpen311Jurisdiction));
  }

  const Category& category(const std::string& code) const {
    const Category* c = store_.category(code);
    if (!c) throw not_found("service_code '" + code + "' was not found");
    return *c;
  }

  void services(Format f) {
    std::vector<Node> items;
    boost::json::value cats = internal::parse_json(store_.categories_body());
    for (const auto& v : cats.as_object().at("items").as_array())
      items.push_back(service_node(category(std::string(v.as_object().at("code").as_string()))));
    send(res_, 200, f, array("services", std::move(items)));
  }

  void definition(const std::string& code, Format f) { send(res_, 200, f, definition_node(category(code))); }

  void requests(const std::string& id, Format f) {
    Store::Open311Query q;
    if (!id.empty()) {
      q.ids = {id};
    } else if (auto ids = query_.list("service_request_id")) {
      q.ids = comma_list(*ids);
      if (q.ids.size() > 1000) throw bad("service_request_id lists at most 1000 ids");
    }
    if (q.ids.empty()) {
      if (auto codes = query_.list("service_code")) {
        q.codes = comma_list(*codes);
        for (const auto& c : q.codes) category(c);
      }
      if (auto statuses = query_.list("status")) {
        bool open = false, closed_too = false;
        for (const auto& s : comma_list(*statuses)) {
          if (s == "open") open = true;
          else if (s == "closed") closed_too = true;
          else throw bad("status '" + s + "' is not one of open, closed");
        }
        if (open != closed_too) q.closed = closed_too;
      }
      auto start = date_arg("start_date", true), end = date_arg("end_date", false);
      if (start && end && *start > *end) throw bad("start_date is after end_date");
      if (start && end && *end - *start > kMaxSpanS) throw bad("start_date to end_date may not span more than 90 days");
      if (!start && !end) end = now();
      if (!start) start = *end - kMaxSpanS;
      if (!end) end = *start + kMaxSpanS;
      q.start = rfc3339(*start);
      q.end = rfc3339(*end);
    }
    q.limit = 1000;
    auto rows = store_.open311_requests(q);
    if (!id.empty() && rows.empty()) throw not_found("service_request_id '" + id + "' was not found");
    std::vector<Node> items;
    for (const auto& row : rows) items.push_back(request_node(store_, row));
    send(res_, 200, f, array("service_requests", std::move(items)));
  }

  std::optional<std::time_t> date_arg(const char* name, bool lower_bound) const {
    auto v = arg(name);
    if (!v) return std::nullopt;
    auto t = parse_w3c(*v, lower_bound);
    if (!t)
      throw bad(std::string(name) + " '" + *v +
                "' is not a W3C date-time with a time zone, e.g. 2026-11-28T08:00:00+07:00 or 2026-11-28T01:00:00Z");
    return t;
  }

  void token(const std::string& token, Format f) {
    auto id = store_.open311_token(token);
    Store::Open311Query q;
    if (id) q.ids = {*id};
    if (!id || store_.open311_requests(q).empty()) throw not_found("token '" + token + "' was not found");
    send(res_, 200, f, array("service_requests", {object("request", {str("service_request_id", *id), str("token", token)})}));
  }

  // The attribute[code] (or attribute[code][]) answers, checked against the definition.
  boost::json::object attributes(const Category& c) const {
    std::map<std::string, std::vector<std::string>> given;
    for (const auto* p : {&form_.params, &query_.params}) {
      for (const auto& [k, v] : *p) {
        if (k.rfind("attribute[", 0) != 0) continue;
        const auto close = k.find(']');
        const std::string rest = close == std::string::npos ? "" : k.substr(close + 1);
        if (close == std::string::npos || close == 10 || !(rest.empty() || rest == "[]"))
          throw bad("'" + k + "' is not of the form attribute[code] or attribute[code][]");
        if (!internal::is_valid_utf8(v)) throw bad(k + " is not valid UTF-8");
        if (!v.empty()) given[k.substr(10, close - 10)].push_back(v);
      }
    }
    boost::json::object out;
    for (const auto& [code, values] : given) {
      const CategoryAttribute* a = nullptr;
      for (const auto& x : c.attributes) a = x.code == code ? &x : a;
      if (!a) throw bad("attribute[" + code + "] is not an attribute of service_code '" + c.code + "'");
      const std::string name = "attribute[" + code + "]";
      if (a->datatype != "multivaluelist" && values.size() > 1) throw bad(name + " takes one value");
      for (const auto& v : values) {
        if (a->datatype == "number") {
          double d = 0;
          auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
          if (ec != std::errc() || end != v.data() + v.size()) throw bad(name + " '" + v + "' is not a number");
        } else if (a->datatype == "datetime") {
          if (!parse_w3c(v)) throw bad(name + " '" + v + "' is not an ISO 8601 date-time with a time zone");
        } else if (a->datatype == "string") {
          if (v.find_first_of("\r\n") != std::string::npos) throw bad(name + " is a string: no line breaks");
        } else if (a->datatype == "singlevaluelist" || a->datatype == "multivaluelist") {
          bool known = false;
          for (const auto& choice : a->values) known = known || choice.key == v;
          if (!known) {
            std::string keys;
            for (const auto& choice : a->values) keys += (keys.empty() ? "" : ", ") + choice.key;
            throw bad(name + " '" + v + "' is not one of " + keys);
          }
        }
        if (utf8_length(v) > 5000) throw bad(name + " is longer than 5000 characters");
      }
      if (a->datatype == "multivaluelist") {
        boost::json::array arr;
        for (const auto& v : values) arr.emplace_back(v);
        out[code] = std::move(arr);
      } else {
        out[code] = values.front();
      }
    }
    for (const auto& a : c.attributes)
      if (a.required && !out.contains(a.code))
        throw bad("attribute[" + a.code + "] is required for service_code '" + c.code + "' (" + a.description + ")");
    return out;
  }

  void create_request(Format f) {
    auto key = arg("api_key");
    if (!key) throw Open311Error{403, "api_key is missing: creating a service request needs a Hue-S partner API key"};
    Caller caller;
    caller.api_key_id = store_.authenticate(*key);
    if (!caller.api_key_id) throw Open311Error{403, "api_key is not valid"};

    auto code = arg("service_code");
    if (!code) throw bad("service_code is required");
    const Category& c = category(*code);

    auto lat_s = arg("lat"), long_s = arg("long");
    auto address = arg("address_string");
    if (lat_s.has_value() != long_s.has_value()) throw bad(lat_s ? "long is required with lat" : "lat is required with long");
    double lat = 0, lon = 0;
    auto coordinate = [](const std::string& name, const std::string& s) {
      double d = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
      if (ec != std::errc() || end != s.data() + s.size()) throw bad(name + " '" + s + "' is not a number");
      return d;
    };
    if (lat_s) {
      lat = coordinate("lat", *lat_s);
      lon = coordinate("long", *long_s);
    } else if (address) {
      const Place* p = locate(*address);
      if (!p)
        throw bad("address_string '" + *address +
                  "' is not a place this jurisdiction can locate; send lat and long as well");
      lat = p->lat;
      lon = p->lon;
    } else if (arg("address_id")) {
      throw bad("address_id is not supported: this jurisdiction has no master address repository; send lat and long "
                "or address_string");
    } else {
      throw bad("a location is required: lat and long, or address_string");
    }
    const boost::json::object attrs = attributes(c);

    std::string media_url;
    if (auto m = arg("media_url")) {
      auto u = boost::urls::parse_absolute_uri(*m);
      if (!u || !(u->scheme() == "http" || u->scheme() == "https") || m->size() > 2048)
        throw bad("media_url '" + *m + "' is not an http(s) URL of at most 2048 characters");
      media_url = *m;
    }

    // The same NewReport, generated validator and store path as POST /v1/reports.
    boost::json::object location{{"lat", lat}, {"lon", lon}, {"address", address.value_or("")}, {"ward", ""}};
    boost::json::object body{{"category", c.code},
                             {"description", arg("description").value_or("")},
                             {"location", std::move(location)},
                             {"anonymous", false},
                             {"visibility", "public"},
                             {"media", boost::json::array()}};
    boost::json::object args{{"body", body}};
    if (auto problem = internal::validate_args(internal::call_id::kReportsCreate, args))
      throw bad(open311_message(problem->field, problem->message));
    const NewReport report = internal::from_json<NewReport>(args["body"]);
    // The report, its timeline's start and what GeoReport brings beside it commit together.
    const Store::Open311Extras extras{random_id("tok_", 20), media_url, internal::serialize_json(attrs)};
    CreateOutcome out = store_.create_report(caller, "", Sha256{}, &report, &extras);
    if (out.kind != CreateOutcome::Kind::kCreated) throw std::runtime_error("open311: the report was not created");
    const std::string id = out.response.location.substr(out.response.location.rfind('/') + 1);
    const std::string& token = extras.token;

    // RFC 7240: a client that prefers an asynchronous answer gets a token (GeoReport's
    // batch flow) instead of the id; tokens/{token} turns it into the id.
    const bool async = req_[http::field::prefer].find("respond-async") != std::string_view::npos;
    if (async) res_.set("Preference-Applied", "respond-async");
    std::vector<Node> fields;
    fields.push_back(async ? str("token", token) : str("service_request_id", id));
    fields.push_back(str("service_notice", service_notice(c)));
    fields.push_back(null("account_id"));
    res_.set(http::field::location,
             "/open311/v2/requests/" + id + (f == Format::kJson ? ".json" : ".xml"));
    send(res_, 201, f, array("service_requests", {object("request", std::move(fields))}));
  }

  // The validator's message in the form's words: its field named as GeoReport names it.
  static std::string open311_message(std::string field, std::string message) {
    if (field.rfind("body.", 0) == 0) field.erase(0, 5);
    const std::string name = open311_field(field);
    if (auto at = message.find(field); at != std::string::npos && !field.empty()) return message.replace(at, field.size(), name);
    return name + ": " + message;
  }

  // /v1's field names as the GeoReport form calls them.
  static std::string open311_field(const std::string& field) {
    if (field == "body.category" || field == "category") return "service_code";
    if (field.find("location.lat") != std::string::npos) return "lat";
    if (field.find("location.lon") != std::string::npos) return "long";
    if (field.find("location.address") != std::string::npos) return "address_string";
    if (field.find("description") != std::string::npos) return "description";
    return field;
  }

  Store& store_;
  const Request& req_;
  Response& res_;
  Args query_, form_;
};

}  // namespace

bool Open311::handle(const Request& req, Response& res, const boost::urls::url_view& url) {
  auto segs = url.segments();
  auto it = segs.begin();
  if (it == segs.end() || *it != "open311" || ++it == segs.end() || *it != "v2") return false;
  std::vector<std::string> rest{"v2"};
  for (++it; it != segs.end(); ++it) rest.push_back(*it);
  Target t;
  // The format is the last segment's extension; errors before it is known are XML, the
  // format every GeoReport server must speak.
  Format f = Format::kXml;
  try {
    try {
      if (rest.size() < 2 || rest.size() > 3 || rest[0] != "v2") throw not_found("no such GeoReport v2 resource");
      std::string last = rest.back();
      const auto dot = last.rfind('.');
      const std::string ext = dot == std::string::npos ? "" : last.substr(dot + 1);
      if (ext == "json") f = Format::kJson;
      if (ext != "json" && ext != "xml") throw not_found("no such GeoReport v2 resource: the format must be .xml or .json");
      last.resize(dot);
      if (rest.size() == 2 && (last == "services" || last == "requests")) {
        t.resource = last;
      } else if (rest.size() == 3 && (rest[1] == "services" || rest[1] == "requests" || rest[1] == "tokens") &&
                 !last.empty()) {
        t.resource = rest[1];
        t.id = last;
      } else {
        throw not_found("no such GeoReport v2 resource");
      }
      t.format = f;
      Handler(store_, req, res, url).run(t);
    } catch (const Open311Error&) {
      throw;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "hues-sandbox: open311 internal error: %s\n", e.what());
      throw Open311Error{500, "internal server error"};
    }
  } catch (const Open311Error& e) {
    send_error(res, f, e);
  }
  return true;
}

}  // namespace hues::sandbox
