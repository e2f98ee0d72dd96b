// Search for reports (issue 8) over real sockets: each filter alone and combined, both sorts
// paged to the end, full-text search that ignores Vietnamese diacritics and case (đ as d),
// queries that look like FTS5 syntax, bad values naming their parameter, cursors bound to
// their sort and filters, and duplicate hints. Every test creates its own reports with a
// unique marker word and filters on it, so seeded reports (however many) change nothing.
#include <doctest/doctest.h>

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <random>
#include <set>

#include "hues/testing/sandbox.h"
#include "test_client.h"

namespace sandbox_test {
std::string person_token(Client& c, const std::string& user);  // identity_tests.cpp
}  // namespace sandbox_test

using namespace sandbox_test;
using hues::testing::Sandbox;

namespace {

std::string text(const boost::json::value& v) { return std::string(v.as_string()); }
std::string enc(const std::string& s) { return boost::urls::encode(s, boost::urls::unreserved_chars); }
std::string num(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9f", d);
  return buf;
}

// A word no seeded report holds: letters and digits only, so it is one token.
std::string marker() {
  static std::mt19937_64 rng{std::random_device{}()};
  static const char* digits = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string m = "mk";
  for (int i = 0; i < 10; ++i) m += digits[rng() % 36];
  return m;
}

struct NewOne {
  std::string category = "street_light", description, address = "", ward = "";
  double lat = 16.4726, lon = 107.5885;
  std::string visibility = "public";
};

struct World {
  TempDir dir;
  Sandbox sb{options_with(-1, dir.path, 2)};
  Client c{sb.port()};
  std::map<std::string, std::string> tokens;

  World() {
    for (auto [who, user] : std::vector<std::pair<std::string, std::string>>{
             {"citizen", "nguyen.van.an"}, {"other_citizen", "tran.thi.binh"}, {"ioc", "le.ioc"},
             {"qldt", "qldt.staff"}, {"hepco", "hepco.staff"}})
      tokens[who] = person_token(c, user);
  }
  Headers as(const std::string& who) {
    Headers h;
    if (who == "api_key") h.emplace_back("X-Api-Key", sb.api_key());
    else h.emplace_back("Authorization", "Bearer " + tokens.at(who));
    return h;
  }
  boost::json::object create(const NewOne& n, const std::string& who = "citizen") {
    boost::json::object loc{{"lat", n.lat}, {"lon", n.lon}};
    if (!n.address.empty()) loc["address"] = n.address;
    if (!n.ward.empty()) loc["ward"] = n.ward;
    auto r = c.request(http::verb::post, "/v1/reports",
                       boost::json::serialize(boost::json::object{{"category", n.category},
                                                                  {"description", n.description},
                                                                  {"location", loc},
                                                                  {"visibility", n.visibility}}),
                       as(who));
    INFO(r.body());
    REQUIRE(r.result_int() == 201);
    return json_of(r);
  }
  std::string create_id(const NewOne& n, const std::string& who = "citizen") { return text(create(n, who).at("id")); }
  Response get(const std::string& target, const std::string& who = "ioc") {
    return c.request(http::verb::get, target, {}, as(who));
  }
  // Every page of /v1/reports?query, in order; checks each page's size and that no id repeats.
  std::vector<boost::json::object> all(const std::string& query, const std::string& who = "ioc", int limit = 2,
                                       int* pages = nullptr) {
    std::vector<boost::json::object> out;
    std::set<std::string> seen;
    std::string cursor;
    int n = 0;
    do {
      auto r = get("/v1/reports?" + query + "&limit=" + std::to_string(limit) + (cursor.empty() ? "" : "&cursor=" + cursor),
                   who);
      INFO(query << ": " << r.body());
      REQUIRE(r.result_int() == 200);
      auto page = json_of(r);
      const auto& items = page.at("items").as_array();
      cursor = text(page.at("next_cursor"));
      CHECK(static_cast<int>(items.size()) <= limit);
      if (!cursor.empty()) CHECK(static_cast<int>(items.size()) == limit);
      for (const auto& it : items) {
        CHECK(seen.insert(text(it.at("id"))).second);  // each report once
        out.push_back(it.as_object());
      }
      REQUIRE(++n < 1000);
    } while (!cursor.empty());
    if (pages) *pages = n;
    return out;
  }
  std::vector<std::string> ids(const std::string& query, const std::string& who = "ioc", int limit = 2) {
    std::vector<std::string> out;
    for (const auto& r : all(query, who, limit)) out.push_back(text(r.at("id")));
    return out;
  }
  std::set<std::string> id_set(const std::string& query, const std::string& who = "ioc") {
    auto v = ids(query, who, 100);
    return {v.begin(), v.end()};
  }
  // Changes rows behind the server's back (times it cannot be asked to fake); lists read SQLite.
  void sql(const std::string& statement) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir.path + "/sandbox.db").c_str(), &db) == SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &err);
    INFO((err ? err : ""));
    sqlite3_free(err);
    sqlite3_close(db);
    REQUIRE(rc == SQLITE_OK);
  }
  void step(const std::string& id, const std::string& action, const std::string& body, const std::string& who = "ioc") {
    auto r = c.request(http::verb::post, "/v1/reports/" + id + "/" + action, body,
                       [&] {
                         auto h = as(who);
                         h.emplace_back("If-Match", "*");
                         return h;
                       }());
    INFO(action << ": " << r.body());
    REQUIRE(r.result_int() == 200);
  }
};

std::set<std::string> set_of(std::initializer_list<std::string> l) { return l; }

}  // namespace

TEST_CASE("full-text search ignores Vietnamese diacritics and case, đ as d, whole words, all of them") {
  World w;
  const std::string m = marker();
  const std::string light = w.create_id({.description = "Đèn đường hỏng " + m, .address = "Số 5 Lê Lợi", .ward = "Vĩnh Ninh"});
  const std::string tree = w.create_id({.category = "fallen_tree", .description = "Cây đổ chắn ngang đường " + m});
  const std::string other = w.create_id({.description = "Đèn trang trí tắt " + m, .ward = "Đông Ba"});
  for (auto [q, want] : std::vector<std::pair<std::string, std::set<std::string>>>{
           {"duong", {light, tree}},
           {"den duong hong", {light}},
           {"DUONG", {light, tree}},
           {"Đường", {light, tree}},
           {"ĐÈN ĐƯỜNG HỎNG", {light}},
           {"hong duong den", {light}},  // any order
           {"den", {light, other}},
           {"le loi", {light}},           // the address
           {"vinh ninh", {light}},        // the ward
           {"dong ba", {other}},
           {"duon", {}},                  // no prefix matching
           {"den duong hong tree", {}},   // every word must occur
       }) {
    INFO("q=" << q);
    CHECK(w.id_set("q=" + enc(q + " " + m)) == want);
  }
  // The marker alone and in capitals.
  CHECK(w.id_set("q=" + enc(m)) == set_of({light, tree, other}));
  std::string upper = m;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char ch) { return std::toupper(ch); });
  CHECK(w.id_set("q=" + enc(upper)) == set_of({light, tree, other}));
}

TEST_CASE("queries that look like FTS5 syntax are plain words: never an error of the engine, never a wider match") {
  World w;
  const std::string m = marker();
  const std::string a = w.create_id({.description = "Đèn đường hỏng " + m});
  for (auto [q, want] : std::vector<std::pair<std::string, std::set<std::string>>>{
           {"\"" + m + "\"", {a}},
           {m + "*", {a}},
           {"-" + m, {a}},
           {"\"" + m + " den", {a}},
           {m + " OR zzzqqq", {}},          // OR is a word that must occur, not an operator
           {m + " NOT den", {}},
           {"NEAR(" + m + " den)", {}},
           {"description:" + m, {}},        // no column filters
           {m + " den') OR 1=1 --", {}},
           {"{description} : " + m, {}},
           {m + "^ \"\" \"\"\" ()", {a}},
       }) {
    INFO("q=" << q);
    CHECK(w.id_set("q=" + enc(q)) == want);
  }
  for (const std::string q : {"\"", "***", "- - -", "\"\")(*"}) {
    auto r = w.get("/v1/reports?q=" + enc(q));
    INFO(q << ": " << r.body());
    CHECK(r.result_int() == 400);
    CHECK(error_field_of(r) == "q");
  }
}

TEST_CASE("every filter alone and combined lists exactly the matching reports") {
  World w;
  const std::string m = marker();
  // street_light goes to QLDT_HUE, power_outage to PC_TTH (the seed's categories).
  const std::string a = w.create_id({.description = "a " + m, .ward = "Đông Ba"});
  const std::string b = w.create_id({.category = "power_outage", .description = "b " + m, .ward = "Đông Ba"});
  const std::string c = w.create_id({.description = "c " + m, .ward = "Vỹ Dạ"});
  const std::string d = w.create_id({.category = "power_outage", .description = "d " + m, .ward = "Vỹ Dạ", .lat = 16.47, .lon = 107.6});
  w.step(c, "receive", "{}");
  w.step(d, "reject", R"({"reason":"Trùng"})");
  // Known times and deadlines for the period and overdue filters.
  w.sql("UPDATE reports SET created_at = '2026-01-01T00:00:00Z' WHERE id = '" + a + "';"
        "UPDATE reports SET created_at = '2026-01-02T00:00:00Z' WHERE id = '" + b + "';"
        "UPDATE reports SET created_at = '2026-01-03T00:00:00Z' WHERE id = '" + c + "';"
        "UPDATE reports SET created_at = '2026-01-04T00:00:00Z' WHERE id = '" + d + "';"
        "UPDATE reports SET due_at = '2026-01-05T00:00:00Z' WHERE id IN ('" + a + "', '" + c + "', '" + d + "');");
  const std::string mq = "q=" + m;
  for (auto [filter, want] : std::vector<std::pair<std::string, std::set<std::string>>>{
           {"", {a, b, c, d}},
           {"status=submitted", {a, b}},
           {"status=received", {c}},
           {"category=power_outage", {b, d}},
           {"agency=QLDT_HUE", {a, c}},
           {"agency=PC_TTH", {b, d}},
           {"ward=" + enc("Đông Ba"), {a, b}},
           {"ward=" + enc("Vỹ Dạ"), {c, d}},
           {"ward=" + enc("Dong Ba"), {}},  // exact, not folded
           {"created_from=2026-01-02T00:00:00Z", {b, c, d}},  // inclusive
           {"created_to=2026-01-03T00:00:00Z", {a, b}},       // exclusive
           {"created_from=2026-01-01T00:00:00.5Z&created_to=2026-01-03T00:00:00.25Z", {b, c}},
           {"created_from=2026-01-02T00:00:00Z&created_to=2026-01-04T00:00:00Z", {b, c}},
           {"overdue=true", {a, c}},   // d's deadline passed too, but a rejected report waits for nothing
           {"overdue=false", {b, d}},
           {"near_lat=16.4726&near_lon=107.5885&radius_m=100", {a, b, c}},
           {"status=submitted&ward=" + enc("Đông Ba") + "&agency=PC_TTH", {b}},
           {"overdue=true&ward=" + enc("Vỹ Dạ"), {c}},
           {"category=street_light&created_from=2026-01-02T00:00:00Z&sort=due", {c}},
           {"agency=PC_TTH&near_lat=16.4726&near_lon=107.5885&radius_m=100&overdue=false", {b}},
           {"status=received&category=power_outage", {}},
       }) {
    INFO("filter: " << filter);
    CHECK(w.id_set(mq + "&" + filter) == want);
    CHECK(w.id_set(mq + "&" + filter + "&sort=due") == want);
  }
  // The flags the list shows agree with the filter.
  for (const auto& r : w.all(mq + "&overdue=true")) CHECK(r.at("overdue").as_bool());
  // Without q: the filters alone, over whatever else the database holds.
  for (const auto& r : w.all("overdue=true", "ioc", 100)) CHECK(r.at("overdue").as_bool());
  for (const auto& r : w.all("ward=" + enc("Vỹ Dạ") + "&agency=PC_TTH", "ioc", 100)) {
    CHECK(text(r.at("location").at("ward")) == "Vỹ Dạ");
    CHECK(text(r.at("agency_code")) == "PC_TTH");
  }
  for (const auto& r : w.all("created_from=2026-01-02T00:00:00Z&created_to=2026-01-04T00:00:00Z", "ioc", 100)) {
    CHECK(text(r.at("created_at")) >= "2026-01-02T00:00:00Z");
    CHECK(text(r.at("created_at")) < "2026-01-04T00:00:00Z");
  }
}

TEST_CASE("both sorts page through every matching report exactly once, in order, with or without filters") {
  World w;
  const std::string m = marker();
  std::vector<std::string> made;
  for (int i = 0; i < 9; ++i) made.push_back(w.create_id({.description = "Báo cáo số " + std::to_string(i) + " " + m}));
  // Deadlines out of creation order, with ties (broken by creation).
  const char* dues[] = {"2026-03-05T00:00:00Z", "2026-03-01T00:00:00Z", "2026-03-05T00:00:00Z",
                        "2026-03-02T00:00:00Z", "2026-03-01T00:00:00Z", "2026-03-09T00:00:00Z",
                        "2026-03-05T00:00:00Z", "2026-03-02T00:00:00Z", "2026-03-01T00:00:00Z"};
  std::string sql;
  for (int i = 0; i < 9; ++i) sql += "UPDATE reports SET due_at = '" + std::string(dues[i]) + "' WHERE id = '" + made[i] + "';";
  w.sql(sql);
  std::vector<std::string> by_due = {made[1], made[4], made[8], made[3], made[7], made[0], made[2], made[6], made[5]};
  for (int limit : {1, 2, 4, 9, 50}) {
    INFO("limit " << limit);
    int pages = 0;
    std::vector<std::string> got;
    for (const auto& r : w.all("q=" + m + "&sort=due", "ioc", limit, &pages)) got.push_back(text(r.at("id")));
    CHECK(got == by_due);
    CHECK(pages == (9 + limit - 1) / limit);
    std::vector<std::string> newest(made.rbegin(), made.rend());
    CHECK(w.ids("q=" + m, "ioc", limit) == newest);
    CHECK(w.ids("q=" + m + "&sort=newest", "ioc", limit) == newest);
  }
  // Every report the caller may see, paged by due time: each once and in order.
  for (const std::string who : {"ioc", "api_key", "qldt"}) {
    const auto rows = w.all("sort=due", who, 7);
    CHECK(rows.size() >= 9);
    for (std::size_t i = 1; i < rows.size(); ++i) CHECK(text(rows[i - 1].at("due_at")) <= text(rows[i].at("due_at")));
    std::set<std::string> due_ids, newest_ids;
    for (const auto& r : rows) due_ids.insert(text(r.at("id")));
    for (const auto& r : w.all("", who, 7)) newest_ids.insert(text(r.at("id")));
    CHECK(due_ids == newest_ids);  // the same reports, whichever the order
  }
  // A report created between two pages never shifts the newest-first pages that follow.
  auto first = json_of(w.get("/v1/reports?limit=3&q=" + m));
  w.create_id({.description = "Muộn hơn " + m});
  auto second = json_of(w.get("/v1/reports?limit=3&q=" + m + "&cursor=" + text(first.at("next_cursor"))));
  CHECK(text(second.at("items").as_array()[0].at("id")) == made[5]);
}

TEST_CASE("a cursor only works with the sort and filters it was returned for") {
  World w;
  const std::string m = marker();
  for (int i = 0; i < 3; ++i) w.create_id({.description = "Đèn " + m, .ward = "Đông Ba"});
  auto page = json_of(w.get("/v1/reports?limit=1&q=" + m));
  const std::string newest = text(page.at("next_cursor"));
  page = json_of(w.get("/v1/reports?limit=1&sort=due&q=" + m));
  const std::string due = text(page.at("next_cursor"));
  REQUIRE(!newest.empty());
  REQUIRE(!due.empty());
  CHECK(w.get("/v1/reports?limit=1&q=" + m + "&cursor=" + newest).result_int() == 200);
  CHECK(w.get("/v1/reports?limit=5&q=" + m + "&sort=newest&cursor=" + newest).result_int() == 200);  // limit may change
  CHECK(w.get("/v1/reports?limit=1&sort=due&q=" + m + "&cursor=" + due).result_int() == 200);
  for (const std::string& target : std::vector<std::string>{
           "/v1/reports?limit=1&sort=due&q=" + m + "&cursor=" + newest,
           "/v1/reports?limit=1&q=" + m + "&cursor=" + due,
           "/v1/reports?limit=1&q=other&cursor=" + newest,
           "/v1/reports?limit=1&cursor=" + newest,
           "/v1/reports?limit=1&q=" + m + "&ward=" + enc("Đông Ba") + "&cursor=" + newest,
           "/v1/reports?limit=1&sort=due&q=" + m + "&overdue=false&cursor=" + due,
           "/v1/reports?cursor=djEuNQ",  // base64url("v1.5"): the old format
           "/v1/reports?cursor=" + newest.substr(0, newest.size() - 2),
       }) {
    auto r = w.get(target);
    INFO(target << ": " << r.body());
    CHECK(r.result_int() == 400);
    CHECK(error_code_of(r) == "validation_error");
    CHECK(error_field_of(r) == "cursor");
  }
}

TEST_CASE("each bad value is a 400 validation_error naming its parameter") {
  World w;
  for (auto [query, field] : std::vector<std::pair<std::string, std::string>>{
           {"created_from=yesterday", "created_from"},
           {"created_from=2026-11-28", "created_from"},
           {"created_from=2026-11-28T09:16:16%2B07:00", "created_from"},
           {"created_from=2026-13-01T00:00:00Z", "created_from"},
           {"created_to=2026-02-30T00:00:00Z", "created_to"},
           {"created_from=2026-02-02T00:00:00Z&created_to=2026-02-01T00:00:00Z", "created_to"},
           {"created_from=2026-02-02T00:00:00Z&created_to=2026-02-02T00:00:00Z", "created_to"},
           {"sort=oldest", "sort"},
           {"sort=DUE", "sort"},
           {"overdue=yes", "overdue"},
           {"agency=NO_SUCH_AGENCY", "agency"},
           {"status=open", "status"},
           {"category=nope", "category"},
           {"radius_m=50", "near_lat"},
           {"radius_m=50&near_lat=16.47", "near_lon"},
           {"near_lat=91&near_lon=107&radius_m=5", "near_lat"},
           {"ward=" + std::string(101, 'x'), "ward"},
           {"q=" + std::string(201, 'x'), "q"},
           {"q=%FF%FE", "q"},
           {"limit=0", "limit"},
       }) {
    auto r = w.get("/v1/reports?" + query, "api_key");
    INFO(query << ": " << r.body());
    CHECK(r.result_int() == 400);
    CHECK(error_code_of(r) == "validation_error");
    CHECK(error_field_of(r) == field);
  }
}

TEST_CASE("search keeps the visibility rules: private reports only for their reporter, their agency and the IOC") {
  World w;
  const std::string m = marker();
  const std::string pub = w.create_id({.description = "Công khai " + m});
  const std::string priv = w.create_id({.description = "Riêng tư " + m, .visibility = "private"});
  CHECK(w.id_set("q=" + m, "citizen") == set_of({pub, priv}));
  CHECK(w.id_set("q=" + m, "ioc") == set_of({pub, priv}));
  CHECK(w.id_set("q=" + m, "qldt") == set_of({pub, priv}));  // street_light: QLDT_HUE's
  CHECK(w.id_set("q=" + m, "hepco") == set_of({pub}));
  CHECK(w.id_set("q=" + m, "other_citizen") == set_of({pub}));
  CHECK(w.id_set("q=" + m, "api_key") == set_of({pub}));
  CHECK(w.id_set("q=" + m + "&sort=due", "other_citizen") == set_of({pub}));
  // Duplicate hints obey the same rules.
  auto hints = [&](const std::string& who) {
    auto r = w.get("/v1/reports/duplicates?category=street_light&lat=16.4726&lon=107.5885", who);
    REQUIRE(r.result_int() == 200);
    std::set<std::string> out;
    const auto body = json_of(r);
    for (const auto& h : body.at("items").as_array()) {
      CHECK_FALSE(h.as_object().contains("reporter"));
      out.insert(text(h.at("id")));
    }
    return out;
  };
  CHECK(hints("citizen").count(priv) == 1);
  CHECK(hints("other_citizen").count(priv) == 0);
  CHECK(hints("other_citizen").count(pub) == 1);
  CHECK(hints("api_key").count(priv) == 0);
}

TEST_CASE("duplicate hints: open reports of the category within 50 m, nearest first, also in the create response") {
  World w;
  const std::string m = marker();
  // Far from the seed's reports (in the lagoon north-east of Huế).
  const double lat = 16.58, lon = 107.71, per_m = 1.0 / 111195.0;  // degrees of latitude per metre
  const std::string at0 = w.create_id({.description = "Đèn hỏng tại chỗ " + m, .lat = lat, .lon = lon});
  const std::string at30 = w.create_id({.description = "Đèn hỏng cách 30 m " + m, .lat = lat + 30 * per_m, .lon = lon});
  const std::string at45 = w.create_id({.description = "Đèn hỏng cách 45 m " + m, .lat = lat - 45 * per_m, .lon = lon});
  const std::string at80 = w.create_id({.description = "Đèn hỏng cách 80 m " + m, .lat = lat + 80 * per_m, .lon = lon});
  const std::string other_cat = w.create_id({.category = "fallen_tree", .description = "Cây đổ " + m, .lat = lat, .lon = lon});
  const std::string rejected = w.create_id({.description = "Bị từ chối " + m, .lat = lat + 5 * per_m, .lon = lon});
  const std::string dup = w.create_id({.description = "Trùng " + m, .lat = lat + 6 * per_m, .lon = lon});
  const std::string received = w.create_id({.description = "Đã tiếp nhận " + m, .lat = lat + 10 * per_m, .lon = lon});
  w.step(rejected, "reject", R"({"reason":"Không rõ"})");
  w.step(dup, "duplicate", R"({"original_id":")" + at0 + "\"}");
  w.step(received, "receive", "{}");

  auto r = w.get("/v1/reports/duplicates?category=street_light&lat=" + num(lat) + "&lon=" + num(lon),
                 "other_citizen");
  INFO(r.body());
  REQUIRE(r.result_int() == 200);
  std::vector<std::string> got;
  std::vector<double> dist;
  const auto body = json_of(r);
  for (const auto& h : body.at("items").as_array()) {
    got.push_back(text(h.at("id")));
    dist.push_back(h.at("distance_m").to_number<double>());
    CHECK(text(h.at("category")) == "street_light");
    CHECK(h.at("distance_m").to_number<double>() <= 50);
  }
  CHECK(got == std::vector<std::string>{at0, received, at30, at45});
  REQUIRE(dist.size() == 4);
  CHECK(dist[0] == doctest::Approx(0).epsilon(0.01));
  CHECK(dist[1] == doctest::Approx(10).epsilon(0.02));
  CHECK(dist[2] == doctest::Approx(30).epsilon(0.02));
  CHECK(dist[3] == doctest::Approx(45).epsilon(0.02));
  CHECK(body.at("items").as_array()[1].at("status").as_string() == "received");
  (void)at80;
  (void)other_cat;

  // Filing one more there: the same hints in its create response, without itself.
  const auto created = w.create({.description = "Lại đèn hỏng " + m, .lat = lat + 1 * per_m, .lon = lon}, "other_citizen");
  std::vector<std::string> hinted;
  for (const auto& h : created.at("possible_duplicates").as_array()) {
    hinted.push_back(text(h.at("id")));
    CHECK_FALSE(h.as_object().contains("reporter"));
  }
  CHECK(hinted == std::vector<std::string>{at0, received, at30, at45});
  CHECK(std::find(hinted.begin(), hinted.end(), text(created.at("id"))) == hinted.end());
  // ... and only there: a read of the report does not carry them.
  CHECK_FALSE(json_of(w.get("/v1/reports/" + text(created.at("id")))).contains("possible_duplicates"));
  // A category with nothing nearby: an empty list.
  auto none = json_of(w.get("/v1/reports/duplicates?category=noise&lat=16.58&lon=107.71"));
  CHECK(none.at("items").as_array().empty());

  for (auto [query, field] : std::vector<std::pair<std::string, std::string>>{
           {"lat=16.58&lon=107.71", "category"},
           {"category=nope&lat=16.58&lon=107.71", "category"},
           {"category=street_light&lon=107.71", "lat"},
           {"category=street_light&lat=16.58", "lon"},
           {"category=street_light&lat=95&lon=107.71", "lat"},
           {"category=street_light&lat=16.58&lon=east", "lon"},
       }) {
    auto bad = w.get("/v1/reports/duplicates?" + query);
    INFO(query << ": " << bad.body());
    CHECK(bad.result_int() == 400);
    CHECK(error_field_of(bad) == field);
  }
  CHECK(w.c.request(http::verb::post, "/v1/reports/duplicates", "{}", w.as("ioc")).result_int() == 405);
}

TEST_CASE("schema v10 indexes the reports a v9 database already holds, and the triggers every later change") {
  TempDir dir;
  const std::string m = marker();
  std::string id;
  {
    Sandbox sb(options_with(-1, dir.path, 2));
    Client c(sb.port());
    auto r = c.request(http::verb::post, "/v1/reports",
                       R"({"category":"street_light","description":"Đèn đường hỏng )" + m +
                           R"(","location":{"lat":16.47,"lon":107.59}})",
                       {{"X-Api-Key", sb.api_key()}});
    REQUIRE(r.result_int() == 201);
    id = text(json_of(r).at("id"));
  }
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir.path + "/sandbox.db").c_str(), &db) == SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, (std::string(kUndoSearchStep) + "PRAGMA user_version = 9;").c_str(), nullptr, nullptr, &err);
    INFO((err ? err : ""));
    sqlite3_free(err);
    REQUIRE(rc == SQLITE_OK);
    // A change made while no index existed, and one through plain SQL once it does.
    REQUIRE(sqlite3_exec(db, ("UPDATE reports SET address = 'Đống Đa' WHERE id = '" + id + "'").c_str(), nullptr, nullptr,
                         nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  Sandbox sb(options_with(-1, dir.path, 2));
  Client c(sb.port());
  auto search = [&](const std::string& q) {
    auto r = c.request(http::verb::get, "/v1/reports?q=" + enc(q), {}, {{"X-Api-Key", sb.api_key()}});
    REQUIRE(r.result_int() == 200);
    std::vector<std::string> out;
    const auto body = json_of(r);
    for (const auto& it : body.at("items").as_array()) out.push_back(text(it.at("id")));
    return out;
  };
  CHECK(search("den duong " + m) == std::vector<std::string>{id});
  CHECK(search("dong da " + m) == std::vector<std::string>{id});
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((dir.path + "/sandbox.db").c_str(), &db) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  REQUIRE(sqlite3_exec(db, ("UPDATE reports SET description = 'Ổ gà sâu " + m + "' WHERE id = '" + id + "'").c_str(),
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  CHECK(search("den duong " + m).empty());
  CHECK(search("o ga sau " + m) == std::vector<std::string>{id});
}
