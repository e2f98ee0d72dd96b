// The generated JSON codec and validators: exact numbers, dotted error paths, UTF-8.
#include <doctest/doctest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <random>

#include "internal/calls.h"
#include "internal/json_codec.h"

namespace {

using hues::internal::FieldError;
using hues::internal::parse_json;
using hues::internal::serialize_json;

double round_trip(double d) { return parse_json(serialize_json(boost::json::value(d))).as_double(); }

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

std::string field_of_decode(const std::string& text) {
  try {
    hues::internal::from_json_string<hues::ReportPage>(text);
  } catch (const FieldError& e) {
    return e.field();
  }
  return "<no error>";
}

}  // namespace

TEST_CASE("one million random doubles encode and decode to the same bits") {
  std::mt19937_64 rng(20261201);
  int checked = 0;
  while (checked < 1000000) {
    std::uint64_t bits = rng();
    double d = 0;
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isfinite(d)) continue;
    const double back = round_trip(d);
    if (!same_bits(d, back)) FAIL("round trip of " << serialize_json(boost::json::value(d)) << " gave " << back);
    ++checked;
  }
  CHECK(checked == 1000000);
}

TEST_CASE("targeted doubles: text in, exact value; value out, shortest text") {
  CHECK(same_bits(parse_json("2.2222222222222223E42").as_double(), 2.2222222222222223E42));
  CHECK(same_bits(parse_json("16.4726").as_double(), 16.4726));
  CHECK(serialize_json(boost::json::value(16.4726)) == "16.4726");
  CHECK(serialize_json(boost::json::value(-0.0)) == "-0.0");
  CHECK(std::signbit(round_trip(-0.0)));
  CHECK(serialize_json(boost::json::value(5e-324)) == "5e-324");
  CHECK(same_bits(round_trip(5e-324), 5e-324));
  CHECK(same_bits(round_trip(DBL_MAX), DBL_MAX));
  CHECK(same_bits(round_trip(-DBL_MAX), -DBL_MAX));
  CHECK(serialize_json(boost::json::value(2.0)) == "2.0");  // stays a double on the way back
  CHECK(parse_json("1e-400").as_double() == 0.0);
  CHECK(std::isinf(parse_json("1e999").as_double()));

  hues::Location loc;
  loc.lat = 16.4726;
  loc.lon = 107.5885;
  const auto text = hues::internal::to_json_string(loc);
  CHECK(text == R"({"lat":16.4726,"lon":107.5885,"address":"","ward":""})");
  auto back = hues::internal::from_json_string<hues::Location>(text);
  CHECK(same_bits(back.lat, loc.lat));
  CHECK(same_bits(back.lon, loc.lon));
}

TEST_CASE("decoding errors name the field as a dotted path") {
  const std::string report =
      R"({"id":"r","category":"c","description":"d","location":{"lat":1,"lon":2,"address":"","ward":""},)"
      R"("anonymous":false,"visibility":"public","status":"submitted","agency_code":"A","media":[],)"
      R"("created_at":"2026-11-28T09:16:16Z","updated_at":"2026-11-28T09:16:16Z"})";
  const std::string bad_status = R"({"id":"r","category":"c","description":"d","location":{"lat":1,"lon":2},)"
                                 R"("anonymous":false,"visibility":"public","status":7,"agency_code":"A","media":[],)"
                                 R"("created_at":"x","updated_at":"x"})";
  CHECK(field_of_decode(R"({"items":[)" + report + "," + report + "," + report + "," + bad_status +
                        R"(],"next_cursor":""})") == "items[3].status");
  std::string bad_lat = report;
  bad_lat.replace(bad_lat.find(R"("lat":1)"), 7, R"("lat":"north")");
  CHECK(field_of_decode(R"({"items":[)" + bad_lat + R"(],"next_cursor":""})") == "items[0].location.lat");
  CHECK(field_of_decode(R"({"items":[],"next_cursor":5})") == "next_cursor");
  CHECK_THROWS_AS(parse_json("{\"a\":1"), FieldError);
  CHECK_THROWS_AS(parse_json("{} x"), FieldError);
}

TEST_CASE("unknown closed-set values decode and re-encode unchanged") {
  auto e = hues::internal::from_json_string<hues::TimelineEntry>(
      R"({"at":"2026-11-28T09:16:16Z","status":"escalated","actor_role":"robot","note":""})");
  CHECK_FALSE(e.status.is_known());
  CHECK(e.status == "escalated");
  CHECK(hues::ReportStatus::kInProgress.is_known());
  CHECK(hues::internal::to_json_string(e).find(R"("status":"escalated","actor_role":"robot")") != std::string::npos);
}

TEST_CASE("optional fields: absent is nullopt and is not sent; defaults are filled") {
  auto a = hues::internal::from_json_string<hues::Agency>(
      R"({"code":"HEPCO","name_vi":"Công ty","name_en":"Co","kind":"utility","phone":""})");
  CHECK_FALSE(a.ward.has_value());
  CHECK(hues::internal::to_json_string(a).find("ward") == std::string::npos);
  hues::NewReport r;
  CHECK(r.visibility == hues::Visibility::kPublic);
  CHECK(r.anonymous == false);
  hues::ReportQuery q;
  CHECK(hues::internal::to_json_string(q) == "{}");
}

TEST_CASE("invalid UTF-8 in a string field is a validation error naming the field") {
  const std::string text = "{\"category\":\"lighting\",\"description\":\"\xff\xfe\",\"location\":{\"lat\":1,\"lon\":2}}";
  boost::json::object args;
  args["body"] = parse_json(text);  // parses: the check belongs to the field
  auto problem = hues::internal::validate_args(hues::internal::call_id::kReportsCreate, args);
  REQUIRE(problem);
  CHECK(problem->field == "description");
  try {
    hues::internal::from_json_string<hues::NewReport>(text);
    FAIL("decoded invalid UTF-8");
  } catch (const FieldError& e) {
    CHECK(e.field() == "description");
  }
}

TEST_CASE("generated validators: required, range, length in characters, enum, query types") {
  using hues::internal::call_id::kReportsCreate;
  auto check_body = [](const char* json) {
    boost::json::object args;
    args["body"] = parse_json(json);
    auto p = hues::internal::validate_args(kReportsCreate, args);
    return p ? p->field : std::string("<valid>");
  };
  CHECK(check_body(R"({"category":"x","description":"d","location":{"lat":1,"lon":2}})") == "<valid>");
  CHECK(check_body(R"({"description":"d","location":{"lat":1,"lon":2}})") == "category");
  CHECK(check_body(R"({"category":"x","description":"","location":{"lat":1,"lon":2}})") == "description");
  CHECK(check_body(R"({"category":"x","description":"d","location":{"lat":91,"lon":2}})") == "location.lat");
  CHECK(check_body(R"({"category":"x","description":"d","location":{"lat":1}})") == "location.lon");
  CHECK(check_body(R"({"category":"x","description":"d","location":{"lat":1,"lon":2},"visibility":"secret"})") ==
        "visibility");
  CHECK(check_body(R"({"category":"x","description":"d","location":{"lat":1,"lon":2},"media":["a",3]})") ==
        "media[1]");
  CHECK(check_body("[]") == "");
  std::string long_text;
  for (int i = 0; i < 5000; ++i) long_text += "ế";  // 5000 characters, 15000 bytes
  boost::json::object args;
  args["body"] = boost::json::object{{"category", "x"}, {"description", long_text},
                                     {"location", boost::json::object{{"lat", 1}, {"lon", 2}}}};
  CHECK_FALSE(hues::internal::validate_args(kReportsCreate, args));
  args["body"].as_object()["description"] = long_text + "a";
  CHECK(hues::internal::validate_args(kReportsCreate, args)->field == "description");

  const auto& list = hues::internal::kCalls[hues::internal::call_id::kReportsList];
  boost::json::object q;
  CHECK(hues::internal::query_to_args(list, {{"limit", "abc"}}, q)->field == "limit");
  q = {};
  REQUIRE_FALSE(hues::internal::query_to_args(list, {{"limit", "500"}, {"status", ""}}, q));
  CHECK(list.validate_args(q)->field == "limit");
  q = {};
  REQUIRE_FALSE(hues::internal::query_to_args(list, {{"status", "lost"}}, q));
  CHECK(list.validate_args(q)->field == "status");
}

TEST_CASE("the call table describes every call and builds requests from args") {
  const auto* get = hues::internal::find_call("reports", "get");
  REQUIRE(get);
  CHECK(std::string(get->http_method) == "GET");
  CHECK(std::string(get->path) == "/v1/reports/{id}");
  REQUIRE(get->path_param_count == 1);
  CHECK(std::string(get->path_params[0].name) == "id");
  const auto* create = hues::internal::find_call("reports", "create");
  CHECK(create->idempotency_key);
  CHECK(create->retry_safe);
  CHECK(std::string(create->body_model) == "NewReport");
  const auto* list = hues::internal::find_call("agencies", "list");
  REQUIRE(list->pagination);
  CHECK(std::string(list->pagination->item_model) == "Agency");

  boost::json::object args{{"id", "rpt a/b"}};
  CHECK(hues::internal::prepare_call(*get, args).target == "/v1/reports/rpt%20a%2Fb");
  const auto* reports = hues::internal::find_call("reports", "list");
  boost::json::object q{{"near_lat", 16.4726}, {"near_lon", 107.5885}, {"radius_m", 300.0}, {"limit", 5}};
  CHECK(hues::internal::prepare_call(*reports, q).target ==
        "/v1/reports?near_lat=16.4726&near_lon=107.5885&radius_m=300&limit=5");
  for (std::size_t i = 0; i < hues::internal::kCallCount; ++i) CHECK(hues::internal::kCalls[i].id == static_cast<int>(i));
}

namespace {

// The document decoder's outcome: the re-encoded model, or the error's field and message.
template <typename T>
std::string via_document(const std::string& text) {
  try {
    return hues::internal::to_json_string(hues::internal::from_json<T>(parse_json(text)));
  } catch (const FieldError& e) {
    return std::string("error ") + e.what();
  }
}

template <typename T>
std::string via_stream(const std::string& text) {
  try {
    return hues::internal::to_json_string(hues::internal::from_json_string<T>(text));
  } catch (const FieldError& e) {
    return std::string("error ") + e.what();
  }
}

template <typename T>
bool streams(const std::string& text) {
  T out{};
  return hues::internal::sax_decode(text, hues::internal::sax_sink(out));
}

}  // namespace

TEST_CASE("the streaming decoder gives what the document decoder gives, or leaves the text to it") {
  const std::string report =
      "{\"id\":\"r1\",\"category\":\"street_light\",\"description\":\"\xC4\x90\xC3\xA8n \\\"h\\u1ecfng\\\"\\n\","
      "\"location\":{\"lat\":16.4726,\"lon\":107,\"address\":\"2 Tr\xE1\xBA\xA7n H\xC6\xB0ng \xC4\x90\xE1\xBA\xA1o\","
      "\"ward\":\"\xC4\x90\xC3\xB4ng Ba\",\"extra\":{\"deep\":[1,{\"x\":[null,true]}]}},"
      "\"anonymous\":true,\"visibility\":\"private\",\"status\":\"escalated\",\"agency_code\":\"A\","
      "\"media\":[\"m1\",\"m2\"],\"created_at\":\"2026-11-28T09:16:16Z\",\"updated_at\":\"2026-11-28T09:16:17Z\","
      "\"version\":3.0,\"overdue\":false,\"reporter\":null,\"duplicate_of\":\"r0\",\"unknown\":[[],{}],"
      "\"rating\":{\"stars\":4,\"comment\":\"t\\u1ed1t\"}}";
  // The common case streams (no document), and agrees with the document.
  CHECK(streams<hues::Report>(report));
  CHECK(via_stream<hues::Report>(report) == via_document<hues::Report>(report));
  auto r = hues::internal::from_json_string<hues::Report>(report);
  CHECK(r.description == "\xC4\x90\xC3\xA8n \"h\xE1\xBB\x8Fng\"\n");
  CHECK(r.location.ward == "\xC4\x90\xC3\xB4ng Ba");
  CHECK(same_bits(r.location.lat, 16.4726));
  CHECK(r.version == 3);
  CHECK(r.status == "escalated");
  CHECK_FALSE(r.reporter.has_value());
  CHECK(r.duplicate_of.value_or("") == "r0");
  CHECK(r.media == std::vector<std::string>{"m1", "m2"});

  // Each of these is left to the document decoder (sax_decode refuses it), which then gives
  // its own result or error: a duplicate member, a wrong type, invalid UTF-8, a fraction in
  // an integer, null in a list, malformed or trailing text, a document that is not an object.
  std::vector<std::string> refused = {
      R"({"id":"a","id":"b"})",
      R"({"location":{"lat":1},"location":{"lon":2}})",
      R"({"status":7})",
      "{\"description\":\"\xff\"}",
      R"({"version":1.5})",
      R"({"version":1e300})",
      R"({"media":["a",null]})",
      R"({"media":"a"})",
      R"({"location":[]})",
      R"({"id":"a")",
      R"({"id":"a"} x)",
      R"([])",
      R"(null)",
      R"({"location":{"lat":1e999}})",
  };
  for (const auto& text : refused) {
    CAPTURE(text);
    CHECK_FALSE(streams<hues::Report>(text));
    CHECK(via_stream<hues::Report>(text) == via_document<hues::Report>(text));
  }
  CHECK(via_document<hues::Report>(R"({"id":"a","id":"b"})").find("\"id\":\"b\"") != std::string::npos);
  // A null member is absent, so a later value of it is no duplicate; an earlier one is.
  for (std::string text : {R"({"id":null,"id":"b"})", R"({"id":"b","id":null})", R"({"reporter":null})"}) {
    CAPTURE(text);
    CHECK(via_stream<hues::Report>(text) == via_document<hues::Report>(text));
  }
  CHECK(streams<hues::Report>(R"({"id":null,"id":"b"})"));
  CHECK_FALSE(streams<hues::Report>(R"({"id":"b","id":null})"));

  // A list's member: streamed when it is there, the document's error when it is not.
  std::vector<hues::Report> items;
  CHECK(hues::internal::sax_decode_member(R"({"next":1,"items":[)" + report + "]}", "items", items));
  REQUIRE(items.size() == 1);
  CHECK(items[0].id == "r1");
  items.clear();
  CHECK_FALSE(hues::internal::sax_decode_member(R"({"next":1})", "items", items));
  CHECK_FALSE(hues::internal::sax_decode_member(R"({"items":null})", "items", items));
}
