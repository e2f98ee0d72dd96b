// /v1/agencies, /v1/reports/{id}/timeline, generated validation and routing, the schema v5
// migration and the sandbox C API, over real sockets.
#include <doctest/doctest.h>

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "hues/sandbox_c_api.h"
#include "hues/testing/sandbox.h"
#include "test_client.h"

using namespace sandbox_test;
using hues::testing::Sandbox;
using hues::testing::SandboxOptions;

namespace {

Headers key(const Sandbox& sb) { return {{"X-Api-Key", sb.api_key()}}; }

std::string text(const boost::json::value& v) { return std::string(v.as_string()); }

std::string new_report(const std::string& description) {
  boost::json::object loc{{"lat", 16.4698}, {"lon", 107.5786}, {"address", "Đại Nội"}, {"ward", "Thuận Hòa"}};
  return boost::json::serialize(
      boost::json::object{{"category", "street_light"}, {"description", description}, {"location", loc}});
}

std::vector<boost::json::object> agencies(Client& c, const Sandbox& sb, const std::string& query, int* pages) {
  std::vector<boost::json::object> out;
  std::string cursor;
  *pages = 0;
  do {
    auto r = c.request(http::verb::get, "/v1/agencies?" + query + (cursor.empty() ? "" : "&cursor=" + cursor), {},
                       key(sb));
    REQUIRE(r.result_int() == 200);
    auto page = json_of(r);
    for (const auto& a : page.at("items").as_array()) out.push_back(a.as_object());
    cursor = text(page.at("next_cursor"));
    REQUIRE(++*pages < 100);
  } while (!cursor.empty());
  return out;
}

void exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  INFO(sql << ": " << (err ? err : ""));
  sqlite3_free(err);
  REQUIRE(rc == SQLITE_OK);
}

}  // namespace

TEST_CASE("agencies: by code, paged, filtered by kind, Vietnamese exact") {
  Sandbox sb;
  Client c(sb.port());
  int pages = 0;
  auto all = agencies(c, sb, "limit=4", &pages);
  CHECK(pages >= 4);
  std::vector<std::string> codes;
  for (const auto& a : all) codes.push_back(text(a.at("code")));
  CHECK(std::is_sorted(codes.begin(), codes.end()));
  CHECK(std::set<std::string>(codes.begin(), codes.end()).size() == codes.size());
  std::map<std::string, boost::json::object> by;
  for (const auto& a : all) by[text(a.at("code"))] = a;
  CHECK(text(by.at("IOC").at("name_vi")) == "Trung tâm Giám sát, điều hành đô thị thông minh tỉnh Thừa Thiên Huế");
  CHECK(text(by.at("IOC").at("kind")) == "ioc");
  CHECK(text(by.at("CA_HUE").at("kind")) == "police");
  CHECK(text(by.at("UBND_DONG_BA").at("ward")) == "Đông Ba");
  CHECK_FALSE(by.at("HEPCO").contains("ward"));
  auto wards = agencies(c, sb, "kind=ward", &pages);
  CHECK(wards.size() >= 4);
  for (const auto& a : wards) CHECK(text(a.at("kind")) == "ward");
}

TEST_CASE("validation comes from the generated validators and names the field") {
  Sandbox sb;
  Client c(sb.port());
  const std::pair<const char*, const char*> cases[] = {
      {"/v1/agencies?kind=bakery", "kind"},      {"/v1/agencies?limit=0", "limit"},
      {"/v1/agencies?limit=x", "limit"},         {"/v1/agencies?cursor=%21", "cursor"},
      {"/v1/reports?status=lost", "status"},     {"/v1/reports?near_lat=91", "near_lat"},
      {"/v1/reports?radius_m=-1", "radius_m"},   {"/v1/reports?limit=101", "limit"},
      {"/v1/reports?radius_m=5", "near_lat"},    {"/v1/reports?category=bakery", "category"},
  };
  for (const auto& [target, field] : cases) {
    CAPTURE(target);
    auto r = c.request(http::verb::get, target, {}, key(sb));
    CHECK(r.result_int() == 400);
    CHECK(error_code_of(r) == "validation_error");
    CHECK(error_field_of(r) == field);
  }
  CHECK(c.request(http::verb::get, "/v1/reports?status=&limit=3", {}, key(sb)).result_int() == 200);
}

TEST_CASE("routes: 405 with Allow for known paths, 404 for unknown ones") {
  Sandbox sb;
  Client c(sb.port());
  const std::pair<http::verb, const char*> cases[] = {
      {http::verb::post, "/v1/agencies"}, {http::verb::delete_, "/v1/reports/rpt_x/timeline"},
      {http::verb::put, "/v1/reports"}, {http::verb::post, "/v1/categories"}};
  for (const auto& [verb, target] : cases) {
    CAPTURE(target);
    auto r = c.request(verb, target, {}, key(sb));
    CHECK(r.result_int() == 405);
    CHECK(error_code_of(r) == "method_not_allowed");
    CHECK(r[http::field::allow] == (std::string(target) == "/v1/reports" ? "GET, HEAD, POST" : "GET, HEAD"));
  }
  CHECK(c.request(http::verb::get, "/v1/agency", {}, key(sb)).result_int() == 404);
  CHECK(c.request(http::verb::get, "/v1/reports/x/timeline/more", {}, key(sb)).result_int() == 404);
  CHECK(c.request(http::verb::get, "/v1/agencies", {}, key(sb)).result_int() == 200);
}

TEST_CASE("a timeline starts with the creation, in the same transaction") {
  Sandbox sb;
  Client c(sb.port());
  auto created = c.request(http::verb::post, "/v1/reports", new_report("Đèn chiếu sáng Đại Nội không sáng"), key(sb));
  REQUIRE(created.result_int() == 201);
  const auto report = json_of(created);
  auto r = c.request(http::verb::get, "/v1/reports/" + text(report.at("id")) + "/timeline", {}, key(sb));
  REQUIRE(r.result_int() == 200);
  const auto items = json_of(r).at("items").as_array();
  REQUIRE(items.size() == 1);
  CHECK(text(items[0].at("status")) == "submitted");
  CHECK(text(items[0].at("actor_role")) == "citizen");
  CHECK(items[0].at("at") == report.at("created_at"));
  CHECK(text(items[0].at("note")).empty());
  CHECK(c.request(http::verb::get, "/v1/reports/rpt_none/timeline", {}, key(sb)).result_int() == 404);
  CHECK(c.request(http::verb::get, "/v1/reports/" + text(report.at("id")) + "/timeline").result_int() == 401);
}

TEST_CASE("schemas v5, v6 and v7 migrate a v4 database: agencies gain their columns, reports their timeline, codes and tokens their issuer") {
  TempDir dir;
  std::string id;
  {
    Sandbox sb(options_with(-1, dir.path, 2));
    Client c(sb.port());
    auto r = c.request(http::verb::post, "/v1/reports", new_report("Trước khi nâng cấp"), key(sb));
    REQUIRE(r.result_int() == 201);
    id = text(json_of(r).at("id"));
  }
  {
    // Back to what a v4 server left: no timeline, agencies without kind & co, no new ones,
    // codes, tokens and device grants without their issuer.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir.path + "/sandbox.db").c_str(), &db) == SQLITE_OK);
    exec(db, kUndoSearchStep);
    exec(db,  // v7's additions first (tests/sandbox/lifecycle_tests.cpp migrates v6 alone)
         "DROP INDEX reports_agency_due; ALTER TABLE reports DROP COLUMN version; ALTER TABLE reports DROP COLUMN due_at;"
         "ALTER TABLE reports DROP COLUMN duplicate_of; ALTER TABLE reports DROP COLUMN answer;"
         "ALTER TABLE reports DROP COLUMN rating_satisfied; ALTER TABLE reports DROP COLUMN rating_comment;"
         "ALTER TABLE reports DROP COLUMN rated_at; DELETE FROM users WHERE username IN ('tran.ioc', 'ca.hue.staff', "
         "'dongba.staff');");
    exec(db,
         "DROP INDEX auth_codes_expires; DROP INDEX device_grants_expires; ALTER TABLE auth_codes DROP COLUMN issuer;"
         "ALTER TABLE oauth_tokens DROP COLUMN issuer; ALTER TABLE device_grants DROP COLUMN issuer;"
         "DROP TABLE report_events; ALTER TABLE agencies DROP COLUMN name_en; ALTER TABLE agencies DROP COLUMN kind;"
         "ALTER TABLE agencies DROP COLUMN phone; ALTER TABLE agencies DROP COLUMN ward;"
         "DELETE FROM agencies WHERE code IN ('IOC','SXD_TTH','UBND_PHU_HOI','UBND_DONG_BA','UBND_VINH_NINH',"
         "'UBND_VY_DA'); PRAGMA user_version = 4;");
    sqlite3_close(db);
  }
  Sandbox sb(options_with(-1, dir.path, 2));
  Client c(sb.port());
  auto r = c.request(http::verb::get, "/v1/reports/" + id + "/timeline", {}, key(sb));
  REQUIRE(r.result_int() == 200);
  CHECK(json_of(r).at("items").as_array().size() == 1);
  int pages = 0;
  auto all = agencies(c, sb, "kind=ioc", &pages);
  REQUIRE(all.size() == 1);
  CHECK(text(all[0].at("code")) == "IOC");
  CHECK(text(agencies(c, sb, "kind=police", &pages).at(0).at("name_en")) == "Huế City Police");
}

TEST_CASE("the sandbox C API starts and stops a sandbox in-process") {
  const std::string config = R"({"tls_port": -1, "threads": 1})";
  std::uint64_t handle = 0;
  hues_sandbox_bytes info{};
  REQUIRE(hues_sandbox_start(reinterpret_cast<const std::uint8_t*>(config.data()), config.size(), &handle, &info) == 0);
  const auto doc = boost::json::parse(std::string_view(reinterpret_cast<const char*>(info.data), info.len)).as_object();
  hues_sandbox_bytes_free(&info);
  CHECK(info.data == nullptr);
  CHECK(text(doc.at("api_key")) == "hk_test_hue_s_sandbox_0001");
  CHECK(text(doc.at("tls_url")).empty());
  CHECK(doc.at("tls_port").as_int64() == -1);
  const std::string data_dir = text(doc.at("data_dir"));
  CHECK(std::filesystem::exists(data_dir));
  Client c(static_cast<int>(doc.at("port").as_int64()));
  CHECK(c.request(http::verb::get, "/healthz").result_int() == 200);
  hues_sandbox_stop(handle);
  hues_sandbox_stop(handle);  // idempotent
  CHECK_FALSE(std::filesystem::exists(data_dir));  // a temporary directory is removed

  const std::string bad = R"({"port": "eighty"})";
  REQUIRE(hues_sandbox_start(reinterpret_cast<const std::uint8_t*>(bad.data()), bad.size(), &handle, &info) != 0);
  const auto err = boost::json::parse(std::string_view(reinterpret_cast<const char*>(info.data), info.len)).as_object();
  hues_sandbox_bytes_free(&info);
  CHECK(text(err.at("type")) == "sandbox");
  CHECK(text(err.at("message")).find("port") != std::string::npos);
}

namespace {

// Strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool strict_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
    if (!len || i + len > s.size()) return false;
    std::uint32_t cp = len == 1 ? c : c & (0xFF >> (len + 1));
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = cp << 6 | (b & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

}  // namespace

TEST_CASE("every response body is valid UTF-8 whatever bytes came in; bad text in a JSON field names the field") {
  Sandbox sb;
  Client c(sb.port());
  const Headers form{{"Content-Type", "application/x-www-form-urlencoded"}};
  struct Probe {
    http::verb method;
    std::string target, body;
    Headers headers;
    int status;
  };
  const std::vector<Probe> probes = {
      {http::verb::get, "/v1/reports/%ff%fe", "", key(sb), 404},
      {http::verb::get, "/v1/reports/rpt_%c3%28/timeline", "", key(sb), 404},
      {http::verb::get, "/v1/reports?status=%ff%fe", "", key(sb), 400},
      {http::verb::get, "/v1/reports?category=%ed%a0%80", "", key(sb), 400},
      {http::verb::get, "/v1/agencies?kind=%f0%28%8c%28", "", key(sb), 400},
      {http::verb::post, "/oauth/token", "grant_type=%ff%fe&client_id=hues-cli", form, 400},
      {http::verb::post, "/oauth/token", "grant_type=a&grant_type=b&%ff=1&%ff=2", form, 400},
      {http::verb::get, "/oauth/authorize?client_id=%ff%fe&redirect_uri=x", "", {}, 400},
      {http::verb::get, "/device?user_code=%ff%fe%c0%af", "", {}, 200},
  };
  for (const auto& p : probes) {
    CAPTURE(p.target);
    CAPTURE(p.body);
    auto r = c.request(p.method, p.target, p.body, p.headers);
    CHECK(r.result_int() == p.status);
    CHECK(strict_utf8(r.body()));
    if (r[http::field::content_type] == "application/json") CHECK_NOTHROW(boost::json::parse(r.body()));
  }
  auto missing = c.request(http::verb::get, "/v1/reports/%ff%fe", {}, key(sb));
  CHECK(text(json_of(missing).at("error").at("message")).find("\xEF\xBF\xBD") != std::string::npos);  // U+FFFD

  // Unpaired surrogate escapes are text that is not Unicode: validation_error naming the field.
  const std::string good_loc = R"({"lat":16.4698,"lon":107.5786,"address":"Đại Nội","ward":"Thuận Hòa"})";
  for (const auto& [body, field] : std::vector<std::pair<std::string, std::string>>{
           {R"({"category":"street_light","description":"\udcff đèn hỏng","location":)" + good_loc + "}", "description"},
           {R"({"category":"street_light","description":"đèn \ud800","location":)" + good_loc + "}", "description"},
           {R"({"category":"street_light","description":"ok","location":{"lat":16.4,"lon":107.5,"address":"\udfff\ud800"}})",
            "location.address"},
           {"{\"category\":\"street_light\",\"description\":\"\xff\xfe\",\"location\":" + good_loc + "}", "description"}}) {
    CAPTURE(body);
    auto r = c.request(http::verb::post, "/v1/reports", body, key(sb));
    CHECK(r.result_int() == 400);
    CHECK(error_code_of(r) == "validation_error");
    CHECK(error_field_of(r) == field);
    CHECK(strict_utf8(r.body()));
  }
  // A proper pair (U+1F6A6, a traffic light) is fine, and JSON that is broken stays malformed_json.
  auto ok = c.request(http::verb::post, "/v1/reports",
                      R"({"category":"street_light","description":"đèn \ud83d\udea6 hỏng","location":)" + good_loc + "}", key(sb));
  CHECK(ok.result_int() == 201);
  CHECK(text(json_of(ok).at("description")) == "đèn \xF0\x9F\x9A\xA6 hỏng");
  auto broken = c.request(http::verb::post, "/v1/reports", R"({"description":"\udcff",)", key(sb));
  CHECK(error_code_of(broken) == "malformed_json");
}
