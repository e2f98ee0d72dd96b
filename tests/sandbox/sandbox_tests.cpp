// The sandbox over real sockets: every test starts real servers (HTTP and HTTPS on
// ephemeral loopback ports, SQLite in a temporary directory) and talks raw HTTP/1.1.
#include <doctest/doctest.h>

#include <signal.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "hues/sandbox_c_api.h"
#include "hues/testing/sandbox.h"
#include "test_client.h"

using namespace sandbox_test;
using hues::testing::Sandbox;
using hues::testing::SandboxOptions;
namespace fs = std::filesystem;

namespace {

// n TCP connections to port that never send a byte, closed at scope end. Raises this
// process's descriptor limit for them when it must.
struct IdleSockets {
  IdleSockets(int port, int n) {
    rlimit rl{};
    REQUIRE(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    const rlim_t want = static_cast<rlim_t>(n) + 512;
    if (rl.rlim_cur < want && rl.rlim_max >= want) {
      rl.rlim_cur = want;
      REQUIRE(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    }
    REQUIRE_MESSAGE(rl.rlim_cur >= want, "the descriptor limit is too low for this test");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < n; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      REQUIRE(fd >= 0);
      REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);  // the backlog takes it
      fds.push_back(fd);
    }
  }
  ~IdleSockets() {
    for (int fd : fds) ::close(fd);
  }
  // True when the server closed fd (EOF or reset) within 15 s.
  static bool closed_by_server(int fd) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 15000) <= 0) return false;
    char b;
    return ::recv(fd, &b, 1, 0) <= 0;
  }
  std::vector<int> fds;
};

const std::string kViText = "Đèn đường hỏng trước chợ Đông Ba, đường Trần Hưng Đạo";
constexpr double kDongBaLat = 16.4726, kDongBaLon = 107.5885;

Headers key_of(const Sandbox& sb) { return {{"X-Api-Key", sb.api_key()}}; }

Headers with(Headers h, const std::string& k, const std::string& v) {
  h.emplace_back(k, v);
  return h;
}

std::string report_json(const std::string& description, double lat = 16.4722, double lon = 107.588,
                        const std::string& category = "street_light") {
  boost::json::object loc{{"lat", lat}, {"lon", lon}, {"address", "Đường Trần Hưng Đạo"}, {"ward", "Đông Ba"}};
  boost::json::object o{{"category", category}, {"description", description}, {"location", loc}, {"anonymous", false}};
  return boost::json::serialize(o);
}

std::string str(const boost::json::value& v) { return std::string(v.as_string()); }

double haversine_m(double lat1, double lon1, double lat2, double lon2) {
  const double r = M_PI / 180, dlat = (lat2 - lat1) * r, dlon = (lon2 - lon1) * r;
  const double a = std::pow(std::sin(dlat / 2), 2) + std::cos(lat1 * r) * std::cos(lat2 * r) * std::pow(std::sin(dlon / 2), 2);
  return 2 * 6371008.8 * std::asin(std::sqrt(a));
}

// Every report matching query, following next_cursor; fails the test on a bad page.
std::vector<boost::json::object> list_all(Client& c, const Sandbox& sb, const std::string& query, int limit,
                                          int* pages = nullptr) {
  std::vector<boost::json::object> out;
  std::string cursor;
  int n = 0;
  do {
    std::string target = "/v1/reports?limit=" + std::to_string(limit) + (query.empty() ? "" : "&" + query);
    if (!cursor.empty()) target += "&cursor=" + cursor;
    auto r = c.request(http::verb::get, target, {}, key_of(sb));
    REQUIRE(r.result_int() == 200);
    auto page = json_of(r);
    const auto& items = page.at("items").as_array();
    REQUIRE(items.size() <= static_cast<std::size_t>(limit));
    for (const auto& i : items) out.push_back(i.as_object());
    cursor = str(page.at("next_cursor"));
    if (!cursor.empty()) REQUIRE(items.size() == static_cast<std::size_t>(limit));
    REQUIRE(++n < 1000);
  } while (!cursor.empty());
  if (pages) *pages = n;
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("health needs no key and request ids are echoed or generated") {
  Sandbox sb;
  Client c(sb.port());
  auto r = c.request(http::verb::get, "/healthz");
  CHECK(r.result_int() == 200);
  CHECK(str(json_of(r).at("status")) == "ok");
  CHECK(!r["X-Request-Id"].empty());

  r = c.request(http::verb::get, "/healthz", {}, {{"X-Request-Id", "trace-42.A_b"}});
  CHECK(r["X-Request-Id"] == "trace-42.A_b");
  for (std::string bad : {std::string("bad id!"), std::string(129, 'a')}) {
    r = c.request(http::verb::get, "/v1/reports/nope", {}, {{"X-Request-Id", bad}});
    CHECK(r["X-Request-Id"] != bad);
    CHECK(std::regex_match(std::string(r["X-Request-Id"]), std::regex("[A-Za-z0-9._-]{1,128}")));
    CHECK(str(json_of(r).at("error").at("request_id")) == std::string(r["X-Request-Id"]));
  }
}

TEST_CASE("the API key is required and checked") {
  Sandbox sb;
  Client c(sb.port());
  auto r = c.request(http::verb::get, "/v1/categories");
  CHECK(r.result_int() == 401);
  CHECK(error_code_of(r) == "missing_api_key");
  CHECK(error_field_of(r).empty());

  std::string wrong = sb.api_key();
  wrong.back() = wrong.back() == '1' ? '2' : '1';
  for (const auto& key : {wrong, std::string("hk_test"), sb.api_key() + "x"}) {
    r = c.request(http::verb::get, "/v1/reports", {}, {{"X-Api-Key", key}});
    CHECK(r.result_int() == 401);
    CHECK(error_code_of(r) == "invalid_api_key");
  }
  r = c.request(http::verb::post, "/v1/reports", report_json(kViText), {{"X-Api-Key", wrong}});
  CHECK(r.result_int() == 401);
  CHECK(c.request(http::verb::get, "/v1/categories", {}, key_of(sb)).result_int() == 200);
}

TEST_CASE("categories are Huế's, in Vietnamese and English, with Open311 attributes") {
  Sandbox sb;
  Client c(sb.port());
  auto r = c.request(http::verb::get, "/v1/categories", {}, key_of(sb));
  REQUIRE(r.result_int() == 200);
  CHECK(r[http::field::content_type] == "application/json");
  const auto categories = json_of(r);
  const auto& items = categories.at("items").as_array();
  CHECK(items.size() >= 10);
  std::map<std::string, boost::json::object> by_code;
  std::set<std::string> datatypes;
  for (const auto& i : items) {
    const auto& o = i.as_object();
    by_code[str(o.at("code"))] = o;
    CHECK(!str(o.at("name_vi")).empty());
    CHECK(!str(o.at("name_en")).empty());
    CHECK(o.at("sla_hours").as_int64() > 0);
    for (const auto& a : o.at("attributes").as_array()) {
      const std::string dt = str(a.at("datatype"));
      datatypes.insert(dt);
      CHECK(a.at("values").as_array().empty() == (dt.find("valuelist") == std::string::npos));
    }
  }
  CHECK(datatypes == std::set<std::string>{"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"});
  REQUIRE(by_code.count("waste_collection"));
  CHECK(str(by_code["waste_collection"].at("agency_code")) == "HEPCO");
  CHECK(str(by_code["waste_collection"].at("name_vi")) == "Rác thải chưa được thu gom");
  REQUIRE(by_code.count("water_supply"));
  CHECK(str(by_code["water_supply"].at("agency_name")).find("Công ty CP Cấp nước Thừa Thiên Huế") != std::string::npos);
  REQUIRE(by_code.count("fallen_tree"));
  CHECK(str(by_code["fallen_tree"].at("name_vi")).find("Cây xanh") != std::string::npos);
  // Raw UTF-8 on the wire, not \u escapes.
  CHECK(r.body().find("Công ty Điện lực Thừa Thiên Huế") != std::string::npos);
}

TEST_CASE("a report round-trips Vietnamese text byte for byte, over HTTP and HTTPS") {
  Sandbox sb;
  Client c(sb.port());
  // The same words decomposed (NFD): the server must not normalise either form.
  const std::string nfd = "Hue\xcc\x82\xcc\x81";  // "Huế" as e + combining circumflex + acute
  boost::json::object body{{"category", "street_light"},
                           {"description", kViText},
                           {"location", {{"lat", 16.4722}, {"lon", 107.588}, {"address", nfd}, {"ward", "Đông Ba"}}},
                           {"anonymous", true}};
  auto created = c.request(http::verb::post, "/v1/reports", boost::json::serialize(body), key_of(sb));
  REQUIRE(created.result_int() == 201);
  auto report = json_of(created);
  const std::string id = str(report.at("id"));
  CHECK(std::regex_match(id, std::regex("rpt_[a-z2-7]{20}")));
  CHECK(created[http::field::location] == "/v1/reports/" + id);
  CHECK(str(report.at("description")) == kViText);
  CHECK(str(report.at("location").at("address")) == nfd);
  CHECK(str(report.at("location").at("ward")) == "Đông Ba");
  CHECK(report.at("location").at("lat").to_number<double>() == 16.4722);
  CHECK(report.at("anonymous").as_bool());
  CHECK(str(report.at("status")) == "submitted");
  CHECK(std::regex_match(str(report.at("created_at")), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  CHECK(report.at("created_at") == report.at("updated_at"));
  auto cats = json_of(c.request(http::verb::get, "/v1/categories", {}, key_of(sb)));
  for (const auto& cat : cats.at("items").as_array())
    if (cat.at("code") == "street_light") CHECK(report.at("agency_code") == cat.at("agency_code"));

  auto got = c.request(http::verb::get, "/v1/reports/" + id, {}, key_of(sb));
  REQUIRE(got.result_int() == 200);
  CHECK(got.body() == without_hints(created.body()));
  CHECK(got.body().find(kViText) != std::string::npos);

  Client tls(sb.tls_port(), TlsOptions{sb.ca_file()});
  auto over_tls = tls.request(http::verb::get, "/v1/reports/" + id, {}, key_of(sb));
  CHECK(over_tls.result_int() == 200);
  CHECK(over_tls.body() == without_hints(created.body()));

  auto missing = c.request(http::verb::get, "/v1/reports/rpt_aaaaaaaaaaaaaaaaaaaa", {}, key_of(sb));
  CHECK(missing.result_int() == 404);
  CHECK(error_code_of(missing) == "not_found");
}

TEST_CASE("invalid reports are rejected with the field named") {
  Sandbox sb;
  Client c(sb.port());
  struct Case {
    std::string body, code, field;
  };
  const std::string loc = R"("location":{"lat":16.47,"lon":107.58})";
  std::vector<Case> cases = {
      {report_json(kViText, 91, 107.5), "validation_error", "location.lat"},
      {report_json(kViText, -90.5, 107.5), "validation_error", "location.lat"},
      {report_json(kViText, 16.4, 180.01), "validation_error", "location.lon"},
      {R"({"category":"flooding","description":"Ngập","location":{"lat":"16.4","lon":107.5}})", "validation_error", "location.lat"},
      {R"({"category":"flooding","description":"Ngập","location":{"lon":107.5}})", "validation_error", "location.lat"},
      {R"({"category":"flooding","description":"Ngập","location":{"lat":16.4}})", "validation_error", "location.lon"},
      {R"({"category":"flooding","description":"Ngập"})", "validation_error", "location"},
      {R"({"category":"flooding","description":"Ngập","location":[1,2]})", "validation_error", "location"},
      {R"({"category":"no_such_thing","description":"Ngập",)" + loc + "}", "validation_error", "category"},
      {R"({"description":"Ngập",)" + loc + "}", "validation_error", "category"},
      {R"({"category":7,"description":"Ngập",)" + loc + "}", "validation_error", "category"},
      {R"({"category":"flooding","description":"",)" + loc + "}", "validation_error", "description"},
      {R"({"category":"flooding","description":12,)" + loc + "}", "validation_error", "description"},
      {R"({"category":"flooding",)" + loc + "}", "validation_error", "description"},
      {report_json([] { std::string s; for (int i = 0; i < 5001; ++i) s += "đ"; return s; }()), "validation_error",
       "description"},
      {R"({"category":"flooding","description":"Ngập","anonymous":"yes",)" + loc + "}", "validation_error", "anonymous"},
      {R"({"category":"flooding","description":"Ngập","media":[1],)" + loc + "}", "validation_error", "media[0]"},
      {"[]", "validation_error", ""},
      {R"({"category":"flooding",)", "malformed_json", ""},
      // Invalid UTF-8 inside a string names its field (the JSON around it is fine).
      {"{\"category\":\"flooding\",\"description\":\"\xff\xfe\"," + loc + "}", "validation_error", "description"},
  };
  for (const auto& tc : cases) {
    CAPTURE(tc.body.substr(0, 120));
    auto r = c.request(http::verb::post, "/v1/reports", tc.body, key_of(sb));
    CHECK(r.result_int() == 400);
    CHECK(error_code_of(r) == tc.code);
    CHECK(error_field_of(r) == tc.field);
  }
  // 5000 characters of two-byte UTF-8 is at the limit, not over it.
  std::string longest;
  for (int i = 0; i < 5000; ++i) longest += "đ";
  CHECK(c.request(http::verb::post, "/v1/reports", report_json(longest), key_of(sb)).result_int() == 201);

  auto r = c.request(http::verb::post, "/v1/reports", report_json(kViText), with(key_of(sb), "Content-Type", "text/plain"));
  CHECK(r.result_int() == 415);
  CHECK(error_code_of(r) == "unsupported_media_type");
  r = c.request(http::verb::post, "/v1/reports", report_json(kViText),
                with(key_of(sb), "Content-Type", "Application/JSON; charset=utf-8"));
  CHECK(r.result_int() == 201);

  r = c.request(http::verb::put, "/v1/reports", report_json(kViText), key_of(sb));
  CHECK(r.result_int() == 405);
  CHECK(error_code_of(r) == "method_not_allowed");
  CHECK(r[http::field::allow].find("POST") != std::string::npos);
  r = c.request(http::verb::get, "/v2/nothing/here", {}, key_of(sb));
  CHECK(r.result_int() == 404);
  CHECK(error_code_of(r) == "not_found");
}

TEST_CASE("Idempotency-Key replays the first response and rejects a different body") {
  Sandbox sb;
  Client c(sb.port());
  const std::string body = report_json(kViText + " (idempotent)");
  const Headers h = with(key_of(sb), "Idempotency-Key", "outbox-7f3a-0001");
  auto first = c.request(http::verb::post, "/v1/reports", body, h);
  REQUIRE(first.result_int() == 201);
  CHECK(first.find("Idempotent-Replayed") == first.end());
  auto again = c.request(http::verb::post, "/v1/reports", body, h);
  CHECK(again.result_int() == 201);
  CHECK(again["Idempotent-Replayed"] == "true");
  CHECK(again.body() == first.body());
  CHECK(again[http::field::location] == first[http::field::location]);

  auto other = c.request(http::verb::post, "/v1/reports", report_json(kViText + " (changed)"), h);
  CHECK(other.result_int() == 409);
  CHECK(error_code_of(other) == "idempotency_key_reused");
  other = c.request(http::verb::post, "/v1/reports", "{broken", h);
  CHECK(other.result_int() == 409);

  // Another key with the same body is another report.
  auto second = c.request(http::verb::post, "/v1/reports", body, with(key_of(sb), "Idempotency-Key", "outbox-7f3a-0002"));
  CHECK(second.result_int() == 201);
  CHECK(json_of(second).at("id") != json_of(first).at("id"));

  auto bad = c.request(http::verb::post, "/v1/reports", body, with(key_of(sb), "Idempotency-Key", std::string(256, 'k')));
  CHECK(bad.result_int() == 400);
  CHECK(error_field_of(bad) == "Idempotency-Key");

  int copies = 0;
  for (const auto& r : list_all(c, sb, "", 100))
    copies += str(r.at("description")) == kViText + " (idempotent)";
  CHECK(copies == 2);
}

TEST_CASE("concurrent identical requests with one Idempotency-Key create one report") {
  Sandbox sb;
  constexpr int kThreads = 8;
  const std::string body = report_json(kViText + " (race)");
  std::vector<Response> results(kThreads);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kThreads; ++i) {
    clients.push_back(std::make_unique<Client>(sb.port()));
    clients.back()->connect();
  }
  std::mutex mu;
  std::condition_variable cv;
  bool go = false;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      {
        std::unique_lock<std::mutex> lk(mu);
        cv.wait(lk, [&] { return go; });
      }
      results[i] = clients[i]->request(http::verb::post, "/v1/reports", body, with(key_of(sb), "Idempotency-Key", "race-1"));
    });
  {
    std::lock_guard<std::mutex> lk(mu);
    go = true;
  }
  cv.notify_all();
  for (auto& t : threads) t.join();
  int fresh = 0;
  for (const auto& r : results) {
    CHECK(r.result_int() == 201);
    CHECK(r.body() == results[0].body());
    fresh += r.find("Idempotent-Replayed") == r.end();
  }
  CHECK(fresh == 1);
  Client c(sb.port());
  int copies = 0;
  for (const auto& r : list_all(c, sb, "", 100)) copies += str(r.at("description")) == kViText + " (race)";
  CHECK(copies == 1);
}

TEST_CASE("listing filters by status, category and distance") {
  Sandbox sb;
  Client c(sb.port());
  // A report just outside the radius and one well inside, beside the seeded ones.
  REQUIRE(c.request(http::verb::post, "/v1/reports", report_json("Gần chợ", 16.4730, 107.5880), key_of(sb)).result_int() == 201);
  REQUIRE(c.request(http::verb::post, "/v1/reports", report_json("Xa chợ", 16.4772, 107.5885), key_of(sb)).result_int() == 201);
  const auto all = list_all(c, sb, "", 100);
  REQUIRE(all.size() >= 20);

  auto near = list_all(c, sb, "near_lat=16.4726&near_lon=107.5885&radius_m=500", 100);
  std::size_t expected = 0;
  for (const auto& r : all) {
    const auto& l = r.at("location");
    expected += haversine_m(kDongBaLat, kDongBaLon, l.at("lat").to_number<double>(), l.at("lon").to_number<double>()) <= 500;
  }
  CHECK(near.size() == expected);
  CHECK(near.size() >= 5);
  CHECK(near.size() < all.size());
  for (const auto& r : near) {
    const auto& l = r.at("location");
    CHECK(haversine_m(kDongBaLat, kDongBaLon, l.at("lat").to_number<double>(), l.at("lon").to_number<double>()) <= 500);
    CHECK(str(r.at("description")) != "Xa chợ");  // 511 m away
  }

  for (const std::string status : {"submitted", "resolved", "in_progress"}) {
    auto got = list_all(c, sb, "status=" + status, 100);
    std::size_t want = 0;
    for (const auto& r : all) want += str(r.at("status")) == status;
    CHECK(got.size() == want);
    for (const auto& r : got) CHECK(str(r.at("status")) == status);
  }
  auto flooding = list_all(c, sb, "category=flooding&status=", 100);
  CHECK(!flooding.empty());
  for (const auto& r : flooding) CHECK(str(r.at("category")) == "flooding");
  auto combined = list_all(c, sb, "category=street_light&near_lat=16.4726&near_lon=107.5885&radius_m=500", 100);
  for (const auto& r : combined) CHECK(str(r.at("category")) == "street_light");
  CHECK(combined.size() < near.size());

  struct Bad {
    std::string query, field;
  };
  for (const auto& b : std::vector<Bad>{{"status=lost", "status"},
                                        {"category=unicorns", "category"},
                                        {"near_lat=abc&near_lon=107.5&radius_m=10", "near_lat"},
                                        {"near_lat=95&near_lon=107.5&radius_m=10", "near_lat"},
                                        {"near_lat=16.4&near_lon=107.5x&radius_m=10", "near_lon"},
                                        {"near_lon=107.5&radius_m=10", "near_lat"},
                                        {"near_lat=16.4&near_lon=107.5&radius_m=-1", "radius_m"},
                                        {"limit=0", "limit"},
                                        {"limit=101", "limit"},
                                        {"limit=ten", "limit"},
                                        {"cursor=%21%21", "cursor"},
                                        {"cursor=djEueA", "cursor"}}) {  // base64url("v1.x")
    CAPTURE(b.query);
    auto r = c.request(http::verb::get, "/v1/reports?" + b.query, {}, key_of(sb));
    CHECK(r.result_int() == 400);
    CHECK(error_code_of(r) == "validation_error");
    CHECK(error_field_of(r) == b.field);
  }
  auto def = json_of(c.request(http::verb::get, "/v1/reports", {}, key_of(sb)));
  CHECK(def.at("items").as_array().size() == 20);  // the default page size
}

TEST_CASE("near: a report inside the bounding box but outside the circle is left out") {
  Sandbox sb;
  Client c(sb.port());
  const double radius = 500, dlat = radius / 6371008.8 * 180 / M_PI, dlon = dlat / std::cos(kDongBaLat * M_PI / 180);
  // The box's corner region: 0.8 of the way out on both axes, about 566 m from the centre.
  const double lat = kDongBaLat + 0.8 * dlat, lon = kDongBaLon + 0.8 * dlon;
  REQUIRE(haversine_m(kDongBaLat, kDongBaLon, lat, lon) > radius * 1.1);
  auto corner = c.request(http::verb::post, "/v1/reports", report_json("Góc ngoài vòng tròn", lat, lon), key_of(sb));
  REQUIRE(corner.result_int() == 201);
  auto edge = c.request(http::verb::post, "/v1/reports", report_json("Trong vòng tròn", kDongBaLat + 0.8 * dlat, kDongBaLon),
                        key_of(sb));
  REQUIRE(edge.result_int() == 201);
  auto ids = [&](double r) {
    std::set<std::string> out;
    char q[160];
    std::snprintf(q, sizeof q, "near_lat=%.6f&near_lon=%.6f&radius_m=%.0f", kDongBaLat, kDongBaLon, r);
    for (const auto& item : list_all(c, sb, q, 100)) out.insert(str(item.at("id")));
    return out;
  };
  const std::string corner_id = str(json_of(corner).at("id")), edge_id = str(json_of(edge).at("id"));
  auto within = ids(radius);
  CHECK(within.count(edge_id) == 1);
  CHECK(within.count(corner_id) == 0);
  CHECK(ids(600).count(corner_id) == 1);
}

TEST_CASE("pagination walks every report once, newest first") {
  Sandbox sb;
  Client c(sb.port());
  for (int i = 0; i < 30; ++i)
    REQUIRE(c.request(http::verb::post, "/v1/reports", report_json("Báo cáo số " + std::to_string(i)), key_of(sb))
                .result_int() == 201);
  const auto full = list_all(c, sb, "", 100);
  int pages = 0;
  const auto paged = list_all(c, sb, "", 7, &pages);
  REQUIRE(paged.size() == full.size());
  CHECK(pages == static_cast<int>((full.size() + 6) / 7));
  std::set<std::string> ids;
  for (std::size_t i = 0; i < paged.size(); ++i) {
    CHECK(paged[i].at("id") == full[i].at("id"));
    ids.insert(str(paged[i].at("id")));
    if (i) CHECK(str(paged[i - 1].at("created_at")) >= str(paged[i].at("created_at")));
  }
  CHECK(ids.size() == paged.size());
  // The newest report comes first: the last one created here.
  CHECK(str(full.front().at("description")) == "Báo cáo số 29");

  // A cursor keeps working while new reports arrive: they are newer, so no page shifts.
  auto first = json_of(c.request(http::verb::get, "/v1/reports?limit=5", {}, key_of(sb)));
  REQUIRE(c.request(http::verb::post, "/v1/reports", report_json("Mới hơn"), key_of(sb)).result_int() == 201);
  auto second = json_of(c.request(http::verb::get, "/v1/reports?limit=5&cursor=" + str(first.at("next_cursor")), {}, key_of(sb)));
  CHECK(second.at("items").as_array()[0].at("id") == full[5].at("id"));
}

TEST_CASE("oversized requests get 413 and the connection is closed cleanly") {
  Sandbox sb;
  {
    Client c(sb.port());  // declared length over the limit: refused before the body
    c.write_bytes("POST /v1/reports HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + sb.api_key() +
                  "\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n");
    auto r = c.read_response();
    CHECK(r.result_int() == 413);
    CHECK(error_code_of(r) == "payload_too_large");
    CHECK(!r.keep_alive());
  }
  {
    Client c(sb.port());  // chunked body that grows past the limit while it is read
    c.write_bytes("POST /v1/reports HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + sb.api_key() +
                  "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
    const std::string chunk = "10000\r\n" + std::string(0x10000, ' ') + "\r\n";
    for (int i = 0; i < 17; ++i) c.write_bytes(chunk);
    auto r = c.read_response();
    CHECK(r.result_int() == 413);
    CHECK(c.peer_closed());
  }
  {
    Client c(sb.port());  // exactly 1 MiB is allowed
    std::string body = report_json(kViText);
    body.resize(1024 * 1024, ' ');
    CHECK(c.request(http::verb::post, "/v1/reports", body, key_of(sb)).result_int() == 201);
    body.push_back(' ');
    CHECK(c.request(http::verb::post, "/v1/reports", body, key_of(sb)).result_int() == 413);
  }
}

TEST_CASE("framing (RFC 9112 §6.1, §6.3): only a final chunked or a Content-Length frames a body; the rest is 400 or 501 and closes") {
  Sandbox sb;
  const std::string key = "X-Api-Key: " + sb.api_key() + "\r\n";
  // Smuggling: the body of a request with a non-chunked Transfer-Encoding must never run as a request.
  const std::string marker = "Smuggled report " + std::to_string(::getpid());
  const std::string inner_body = report_json(marker);
  const std::string inner = "POST /v1/reports HTTP/1.1\r\nHost: x\r\n" + key +
                            "Content-Type: application/json\r\nContent-Length: " + std::to_string(inner_body.size()) +
                            "\r\n\r\n" + inner_body;
  struct Case {
    std::string head;
    int status;
  };
  const std::vector<Case> cases = {
      {"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n", 400},
      {"POST /v1/reports HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n" + key, 400},
      {"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n", 400},
      {"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\nContent-Length: 0\r\n", 400},
      {"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nTransfer-Encoding: identity\r\n", 400},
      {"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n", 400},
      {"POST /healthz HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n", 400},
      {"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n", 501},
  };
  for (const auto& c : cases) {
    CAPTURE(c.head);
    Client client(sb.port());
    client.write_bytes(c.head + "\r\n" + inner);
    auto r = client.read_response();
    CHECK(r.result_int() == c.status);
    CHECK(error_code_of(r) == (c.status == 400 ? "validation_error" : "not_implemented"));
    CHECK(!r.keep_alive());
    CHECK(client.peer_closed());
  }
  Client c(sb.port());
  for (const auto& item : list_all(c, sb, "", 100)) CHECK(str(item.at("description")) != marker);
  // A final chunked still works.
  Client chunked(sb.port());
  chunked.write_bytes("POST /v1/reports HTTP/1.1\r\nHost: x\r\n" + key +
                      "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
                      [&] { std::ostringstream o; o << std::hex << inner_body.size(); return o.str(); }() + "\r\n" +
                      inner_body + "\r\n0\r\n\r\n");
  CHECK(chunked.read_response().result_int() == 201);
}

TEST_CASE("Host (RFC 9112 §3.2): missing in HTTP/1.1, repeated or invalid is 400; HTTP/1.0 may omit it") {
  Sandbox sb;
  for (const std::string head : {"GET /healthz HTTP/1.1\r\n", "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n",
                                 "GET /healthz HTTP/1.1\r\nHost: user@example\r\n", "GET /healthz HTTP/1.1\r\nHost: a b\r\n",
                                 "GET /healthz HTTP/1.1\r\nHost: example/path\r\n", "GET /healthz HTTP/1.0\r\nHost: a\r\nHost: b\r\n"}) {
    CAPTURE(head);
    Client c(sb.port());
    c.write_bytes(head + "\r\n");
    auto r = c.read_response();
    CHECK(r.result_int() == 400);
    CHECK(c.peer_closed());
  }
  for (const std::string head : {"GET /healthz HTTP/1.0\r\n", "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n",
                                 "GET /healthz HTTP/1.1\r\nHost: [::1]:8080\r\n", "GET /healthz HTTP/1.1\r\nHost: \r\n"}) {
    CAPTURE(head);
    Client c(sb.port());
    c.write_bytes(head + "\r\n");
    CHECK(c.read_response().result_int() == 200);
  }
}

TEST_CASE("a header section over 16 KiB is 431 (RFC 6585), a target over 8 KiB is 414 (RFC 9110), and both close") {
  Sandbox sb;
  {
    Client c(sb.port());
    auto r = c.request(http::verb::get, "/healthz", {}, {{"X-Padding", std::string(17 * 1024, 'p')}});
    CHECK(r.result_int() == 431);
    CHECK(error_code_of(r) == "header_too_large");
    CHECK(c.peer_closed());
  }
  for (std::size_t n : {9 * 1024, 20 * 1024}) {  // within and beyond the header section's limit
    CAPTURE(n);
    Client c(sb.port());
    auto r = c.request(http::verb::get, "/v1/reports?status=" + std::string(n, 's'), {}, key_of(sb));
    CHECK(r.result_int() == 414);
    CHECK(error_code_of(r) == "uri_too_long");
    CHECK(c.peer_closed());
  }
  Client ok(sb.port());  // 8 KiB of target still works
  CHECK(ok.request(http::verb::get, "/healthz?" + std::string(8000, 'a')).result_int() == 200);
}

TEST_CASE("connection cap: a client holding 1,100 idle sockets cannot shut others out; the longest-idle are shed") {
  SandboxOptions o;
  o.max_connections = 64;
  Sandbox sb(o);
  Client busy(sb.port());  // a keep-alive client that keeps using its connection
  CHECK(busy.request(http::verb::get, "/healthz").result_int() == 200);
  IdleSockets idle(sb.port(), 1100);
  Client fresh(sb.port());
  CHECK(fresh.request(http::verb::get, "/healthz").result_int() == 200);  // within the client's 15 s deadline
  CHECK(IdleSockets::closed_by_server(idle.fds.front()));  // the first idle one made room
  Client tls(sb.tls_port(), TlsOptions{sb.ca_file()});
  CHECK(tls.request(http::verb::get, "/healthz").result_int() == 200);
  CHECK(fresh.request(http::verb::get, "/healthz").result_int() == 200);
}

TEST_CASE("a header must arrive within the header timeout, a next request within the idle timeout") {
  SandboxOptions o;
  o.header_timeout_ms = 300;
  o.idle_timeout_ms = 300;
  Sandbox sb(o);
  Client slow(sb.port());  // slowloris: a header that never ends
  slow.write_bytes("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  CHECK(slow.peer_closed());
  Client silent(sb.port());
  silent.connect();
  CHECK(silent.peer_closed());
  Client kept(sb.port());
  CHECK(kept.request(http::verb::get, "/healthz").result_int() == 200);
  CHECK(kept.peer_closed());  // idle after its response
}

TEST_CASE("keep-alive serves many requests on one connection until Connection: close") {
  Sandbox sb;
  for (bool tls : {false, true}) {
    CAPTURE(tls);
    Client c(tls ? sb.tls_port() : sb.port(), tls ? std::optional<TlsOptions>(TlsOptions{sb.ca_file()}) : std::nullopt);
    c.connect();
    std::string id;
    for (int i = 0; i < 6; ++i) {
      auto r = i % 3 == 0 ? c.request(http::verb::post, "/v1/reports", report_json(kViText), key_of(sb))
               : i % 3 == 1 ? c.request(http::verb::get, "/v1/reports/" + id, {}, key_of(sb))
                            : c.request(http::verb::get, "/v1/reports?limit=abc", {}, key_of(sb));  // errors keep it open too
      if (i % 3 == 0) id = str(json_of(r).at("id"));
      CHECK(r.result_int() == (i % 3 == 0 ? 201 : i % 3 == 1 ? 200 : 400));
      CHECK(r.keep_alive());
    }
    auto last = c.request(http::verb::get, "/healthz", {}, {{"Connection", "close"}});
    CHECK(last.result_int() == 200);
    CHECK(!last.keep_alive());
    CHECK(c.peer_closed());
  }
}

TEST_CASE("Expect: 100-continue gets an interim 100, or a 413 when the body is too large") {
  Sandbox sb;
  Client c(sb.port());
  const std::string body = report_json(kViText);
  const std::string head = "POST /v1/reports HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + sb.api_key() +
                           "\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ";
  c.write_bytes(head + std::to_string(body.size()) + "\r\n\r\n");
  CHECK(c.read_response().result_int() == 100);
  c.write_bytes(body);
  auto r = c.read_response();
  CHECK(r.result_int() == 201);
  CHECK(str(json_of(r).at("description")) == kViText);

  c.write_bytes(head + "5000000\r\n\r\n");  // refused before a byte of the body is sent
  CHECK(c.read_response().result_int() == 413);
}

TEST_CASE("TLS verifies against the sandbox CA and refuses old protocols") {
  Sandbox sb;
  REQUIRE(!sb.ca_file().empty());
  CHECK(sb.tls_url() == "https://localhost:" + std::to_string(sb.tls_port()));
  Client ok(sb.tls_port(), TlsOptions{sb.ca_file()}, "localhost");
  CHECK(ok.request(http::verb::get, "/healthz").result_int() == 200);

  Client ip(sb.tls_port(), TlsOptions{sb.ca_file(), "127.0.0.1"});  // SAN IP:127.0.0.1
  CHECK_NOTHROW(ip.connect());
  Client wrong_host(sb.tls_port(), TlsOptions{sb.ca_file(), "hue.example"});
  CHECK_THROWS(wrong_host.connect());
  Client untrusted(sb.tls_port(), TlsOptions{""});
  CHECK_THROWS(untrusted.connect());

  TlsOptions legacy{sb.ca_file()};
  legacy.allow_legacy = true;
  legacy.min_version = TLS1_VERSION;
  legacy.max_version = TLS1_1_VERSION;
  Client old(sb.tls_port(), legacy);
  CHECK_THROWS(old.connect());
  legacy.max_version = TLS1_2_VERSION;  // the same lax client succeeds once it may use 1.2
  Client v12(sb.tls_port(), legacy);
  CHECK_NOTHROW(v12.connect());
}

TEST_CASE("tls_names: the sandbox can serve a certificate for other names, which a client of localhost refuses") {
  TempDir dir;
  {
    SandboxOptions o;
    o.data_dir = dir.path;
    o.tls_names = {"wrong.example", "10.20.30.40"};
    Sandbox sb(o);
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file((dir.path + "/server.pem").c_str(), "r"), BIO_free);
    REQUIRE(bio);
    std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
    REQUIRE(cert);
    CHECK(X509_check_host(cert.get(), "wrong.example", 0, 0, nullptr) == 1);
    CHECK(X509_check_ip_asc(cert.get(), "10.20.30.40", 0) == 1);
    CHECK(X509_check_host(cert.get(), "localhost", 0, 0, nullptr) != 1);
    CHECK(X509_check_ip_asc(cert.get(), "127.0.0.1", 0) != 1);
    Client localhost(sb.tls_port(), TlsOptions{sb.ca_file()}, "localhost");
    CHECK_THROWS(localhost.connect());  // host-name verification fails
    Client named(sb.tls_port(), TlsOptions{sb.ca_file(), "wrong.example"});
    CHECK(named.request(http::verb::get, "/healthz").result_int() == 200);
  }
  Sandbox sb(options_with(0, dir.path, 2));  // back to the default names: the certificate is re-issued
  Client localhost(sb.tls_port(), TlsOptions{sb.ca_file()}, "localhost");
  CHECK(localhost.request(http::verb::get, "/healthz").result_int() == 200);

  // The same through the C API the language testing packages use.
  const std::string config = R"({"tls_names": ["wrong.example"], "threads": 1})";
  std::uint64_t handle = 0;
  hues_sandbox_bytes info{};
  REQUIRE(hues_sandbox_start(reinterpret_cast<const uint8_t*>(config.data()), config.size(), &handle, &info) == 0);
  auto started = boost::json::parse(std::string_view(reinterpret_cast<const char*>(info.data), info.len)).as_object();
  hues_sandbox_bytes_free(&info);
  Client via_c(static_cast<int>(started.at("tls_port").as_int64()), TlsOptions{str(started.at("ca_file"))}, "localhost");
  CHECK_THROWS(via_c.connect());
  hues_sandbox_stop(handle);
}

TEST_CASE("a restart on the same data directory keeps reports and the certificate") {
  TempDir dir;
  std::string id, created, ca, cert;
  std::size_t count = 0;
  {
    Sandbox sb(options_with(0, dir.path, 2));
    Client c(sb.port());
    auto r = c.request(http::verb::post, "/v1/reports", report_json(kViText), key_of(sb));
    REQUIRE(r.result_int() == 201);
    id = str(json_of(r).at("id"));
    created = without_hints(r.body());
    count = list_all(c, sb, "", 100).size();
    ca = read_file(sb.ca_file());
    cert = read_file(dir.path + "/server.pem");
    CHECK(sb.ca_file() == dir.path + "/ca.pem");
    const auto key_perms = fs::status(dir.path + "/server-key.pem").permissions() & fs::perms::all;
    CHECK(key_perms == (fs::perms::owner_read | fs::perms::owner_write));
  }
  REQUIRE(fs::exists(dir.path + "/sandbox.db"));  // a caller's directory is never removed
  Sandbox sb(options_with(0, dir.path, 2));
  Client c(sb.port());
  auto r = c.request(http::verb::get, "/v1/reports/" + id, {}, key_of(sb));
  CHECK(r.result_int() == 200);
  CHECK(r.body() == created);
  CHECK(list_all(c, sb, "", 100).size() == count);  // no second seeding
  CHECK(read_file(sb.ca_file()) == ca);
  CHECK(read_file(dir.path + "/server.pem") == cert);
  Client tls(sb.tls_port(), TlsOptions{dir.path + "/ca.pem"});
  CHECK(tls.request(http::verb::get, "/healthz").result_int() == 200);
}

TEST_CASE("sandboxes are independent and stop() closes everything") {
  auto a = std::make_unique<Sandbox>();
  Sandbox b(options_with(-1, "", 1));
  CHECK(b.tls_port() == -1);
  CHECK(b.tls_url().empty());
  CHECK(a->port() != b.port());
  CHECK(a->data_dir() != b.data_dir());
  Client ca(a->port()), cb(b.port());
  auto r = ca.request(http::verb::post, "/v1/reports", report_json(kViText), key_of(*a));
  REQUIRE(r.result_int() == 201);
  const std::string id = str(json_of(r).at("id"));
  CHECK(cb.request(http::verb::get, "/v1/reports/" + id, {}, key_of(b)).result_int() == 404);

  // ca holds an idle keep-alive connection; stop() must not wait for it.
  const std::string dir = a->data_dir();
  const int port = a->port();
  const auto t0 = std::chrono::steady_clock::now();
  a->stop();
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3));
  a->stop();  // idempotent
  CHECK(ca.peer_closed());
  CHECK(!fs::exists(dir));  // the temporary directory is gone
  Client after(port);
  CHECK_THROWS(after.connect());
  a.reset();
  CHECK(cb.request(http::verb::get, "/healthz").result_int() == 200);
}

#ifdef HUES_SANDBOX_EXE
namespace {

// hues-sandbox as a child process with args; its URLs read from its stdout.
struct SandboxExe {
  explicit SandboxExe(std::vector<std::string> args, int nofile_soft = 0) {
    int out[2];
    REQUIRE(pipe(out) == 0);
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      dup2(out[1], 1);
      close(out[0]);
      if (nofile_soft > 0) {  // the descriptor limit the sandbox runs under
        rlimit rl{};
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = static_cast<rlim_t>(nofile_soft);
        setrlimit(RLIMIT_NOFILE, &rl);
      }
      std::vector<char*> argv{const_cast<char*>(HUES_SANDBOX_EXE)};
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(HUES_SANDBOX_EXE, argv.data());
      _exit(127);
    }
    close(out[1]);
    f = fdopen(out[0], "r");
    char line[512];
    while (std::fgets(line, sizeof line, f)) {  // "data" comes last
      std::string s(line);
      if (s.rfind("hues-sandbox: data ", 0) == 0) break;
      if (s.rfind("hues-sandbox: http://", 0) == 0) http_url = s.substr(14, s.size() - 15);
      if (s.rfind("hues-sandbox: https://", 0) == 0) https_url = s.substr(14, s.size() - 15);
      if (s.rfind("hues-sandbox: ca ", 0) == 0) ca = s.substr(17, s.size() - 18);
    }
    REQUIRE(!http_url.empty());
  }
  ~SandboxExe() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    if (f) std::fclose(f);
  }
  int port() const { return std::stoi(http_url.substr(http_url.rfind(':') + 1)); }
  int tls_port() const { return std::stoi(https_url.substr(https_url.rfind(':') + 1)); }
  // The exit status after SIGTERM, or -1 when it did not exit within 5 s.
  int terminate() {
    kill(pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; ++i) usleep(50000);
    if (!WIFEXITED(status)) return -1;
    pid = -1;
    return WEXITSTATUS(status);
  }
  void kill9() {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    pid = -1;
  }
  pid_t pid = -1;
  FILE* f = nullptr;
  std::string http_url, https_url, ca;
};

// Files in dir that the group or others may read or write, with their modes.
std::vector<std::string> shared_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto p = e.symlink_status().permissions();
    if ((p & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(p & fs::perms::all));
      out.push_back(e.path().filename().string() + " " + mode);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("hues-sandbox prints its URLs, serves, and stops on SIGTERM") {
  TempDir dir;
  const std::string db = dir.path + "/db/reports.db";
  fs::create_directories(dir.path + "/db");
  SandboxExe sb({"--port", "0", "--db", db});
  CHECK(sb.https_url.rfind("https://localhost:", 0) == 0);
  CHECK(sb.ca == dir.path + "/db/ca.pem");
  CHECK(fs::exists(db));
  Client c(sb.port());
  CHECK(c.request(http::verb::get, "/healthz").result_int() == 200);
  Client tls(sb.tls_port(), TlsOptions{sb.ca});
  CHECK(tls.request(http::verb::get, "/healthz").result_int() == 200);
  CHECK(sb.terminate() == 0);
}

TEST_CASE("with the default cap and descriptor limit, 1,100 idle sockets from one client do not stall a new one") {
  SandboxExe sb({"--port", "0", "--tls-port", "-1"}, 1024);  // the common default soft limit
  IdleSockets idle(sb.port(), 1100);
  Client fresh(sb.port());
  CHECK(fresh.request(http::verb::get, "/healthz").result_int() == 200);  // within the client's 15 s deadline
  CHECK(sb.terminate() == 0);
}

TEST_CASE("every file in the data directory is owner-only, from the start, after a kill -9 and a restart") {
  TempDir parent;
  const std::string dir = parent.path + "/data";  // the sandbox makes it
  {
    SandboxExe sb({"--port", "0", "--data-dir", dir});
    Client c(sb.port());
    for (int i = 0; i < 5; ++i)
      REQUIRE(c.request(http::verb::post, "/v1/reports", report_json(kViText), {{"X-Api-Key", "hk_test_hue_s_sandbox_0001"}})
                  .result_int() == 201);
    CHECK(fs::exists(dir + "/sandbox.db-wal"));
    CHECK(fs::exists(dir + "/sandbox.db-shm"));
    CHECK(shared_files(dir) == std::vector<std::string>{});
    CHECK((fs::status(dir).permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
    sb.kill9();  // the WAL stays behind
    REQUIRE(fs::exists(dir + "/sandbox.db-wal"));
    CHECK(shared_files(dir) == std::vector<std::string>{});
  }
  // Files an older version left readable are made owner-only on the next start.
  for (const char* name : {"sandbox.db", "sandbox.db-wal", "sandbox.db-shm", "ca.pem", "server.pem", "server-key.pem"})
    fs::permissions(dir + "/" + name, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  SandboxExe sb({"--port", "0", "--data-dir", dir});
  CHECK(shared_files(dir) == std::vector<std::string>{});
  Client c(sb.port());
  auto r = c.request(http::verb::get, "/v1/reports?limit=100", {}, {{"X-Api-Key", "hk_test_hue_s_sandbox_0001"}});
  CHECK(r.result_int() == 200);
  CHECK(sb.terminate() == 0);
}
#endif
