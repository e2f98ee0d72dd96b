// The Open311 GeoReport v2 facade in-process (tests/contract/test_open311.py covers the
// protocol): schema step 8 on an older database, what a POST stores beside the report, and
// keep-alive on the facade's paths.
#include <doctest/doctest.h>

#include <sqlite3.h>

#include "hues/testing/sandbox.h"
#include "test_client.h"

using namespace sandbox_test;
using hues::testing::Sandbox;
using hues::testing::SandboxOptions;

namespace {

const Headers kForm = {{"Content-Type", "application/x-www-form-urlencoded"}};

// "Đèn đường hỏng trước chợ Đông Ba", form-encoded.
const std::string kDescription = "%C4%90%C3%A8n+%C4%91%C6%B0%E1%BB%9Dng+h%E1%BB%8Fng+tr%C6%B0%E1%BB%9Bc+"
                                 "ch%E1%BB%A3+%C4%90%C3%B4ng+Ba";

std::string light_form(const std::string& api_key) {
  return "api_key=" + api_key + "&service_code=street_light&lat=16.4726&long=107.5885&description=" + kDescription +
         "&attribute%5Blight_state%5D=off&attribute%5Bpole_number%5D=T%C4%90-12&media_url=https%3A%2F%2Fanh.example.vn%2F1.jpg";
}

// One row of a query on the sandbox's database (read beside the running server: WAL).
std::vector<std::string> row(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
  std::vector<std::string> out;
  if (sqlite3_step(st) == SQLITE_ROW)
    for (int i = 0; i < sqlite3_column_count(st); ++i)
      out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, i)));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

}  // namespace

TEST_CASE("schema v8 migrates a v7 database, and a GeoReport POST keeps its extras beside the report") {
  TempDir dir;
  {
    Sandbox sb(options_with(-1, dir.path, 2));
  }
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir.path + "/sandbox.db").c_str(), &db) == SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(
        db, (std::string(kUndoSearchStep) + "DROP TABLE open311_requests; DROP INDEX reports_created; PRAGMA user_version = 7;").c_str(),
        nullptr, nullptr, &err);
    INFO((err ? err : ""));
    sqlite3_free(err);
    REQUIRE(rc == SQLITE_OK);
    sqlite3_close(db);
  }
  Sandbox sb(options_with(-1, dir.path, 2));
  Client c(sb.port());
  auto r = c.request(http::verb::post, "/open311/v2/requests.json", light_form(sb.api_key()), kForm);
  REQUIRE(r.result_int() == 201);
  const std::string id(boost::json::parse(r.body()).as_array().at(0).at("service_request_id").as_string());
  const auto extras = row(dir.path + "/sandbox.db",
                          "SELECT token, media_url, attributes FROM open311_requests WHERE report_id = '" + id + "'");
  REQUIRE(extras.size() == 3);
  CHECK(extras[0].rfind("tok_", 0) == 0);
  CHECK(extras[1] == "https://anh.example.vn/1.jpg");
  CHECK(extras[2] == "{\"light_state\":\"off\",\"pole_number\":\"T\xC4\x90-12\"}");
  CHECK(row(dir.path + "/sandbox.db", "PRAGMA user_version") == std::vector<std::string>{"12"});

  r = c.request(http::verb::get, "/open311/v2/tokens/" + extras[0] + ".json");
  REQUIRE(r.result_int() == 200);
  CHECK(boost::json::parse(r.body()).as_array().at(0).at("service_request_id").as_string() == id);
  r = c.request(http::verb::get, "/v1/reports/" + id, {}, {{"X-Api-Key", sb.api_key()}});
  REQUIRE(r.result_int() == 200);
  CHECK(json_of(r).at("description").as_string() == "Đèn đường hỏng trước chợ Đông Ba");
}

TEST_CASE("the facade keeps the connection, errors included") {
  TempDir dir;
  Sandbox sb(options_with(-1, dir.path, 2));
  Client c(sb.port());
  const auto get = c.request(http::verb::get, "/open311/v2/services.xml");
  REQUIRE(get.result_int() == 200);
  CHECK(get[http::field::content_type] == "text/xml; charset=utf-8");
  CHECK(get.body().rfind("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<services><service>", 0) == 0);
  const auto missing = c.request(http::verb::get, "/open311/v2/requests/rpt_khong_co.json");  // same connection
  CHECK(missing.result_int() == 404);
  CHECK(missing.keep_alive());
  CHECK(!missing["X-Request-Id"].empty());
  const auto forbidden = c.request(http::verb::post, "/open311/v2/requests.xml", light_form("hk_sai"), kForm);
  CHECK(forbidden.result_int() == 403);
  CHECK(forbidden.body().find("<errors><error><code>403</code>") != std::string::npos);
  CHECK(c.request(http::verb::get, "/healthz").result_int() == 200);  // still the same connection
}
