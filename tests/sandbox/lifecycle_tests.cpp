// The life of a report (issue 8) over real sockets: every forbidden (state, caller) pair of
// every step is 403 or 409 and changes nothing; two racing steps never both win (412 with the
// current report); the timeline records each step.
#include <doctest/doctest.h>

#include <sqlite3.h>

#include <map>
#include <set>
#include <thread>

#include "hues/testing/sandbox.h"
#include "test_client.h"

namespace sandbox_test {
// A person's access token (scopes openid profile offline_access reports:read reports:write)
// from a full code + PKCE sign-in of the demo app (defined in identity_tests.cpp).
std::string person_token(Client& c, const std::string& user);
}  // namespace sandbox_test

using namespace sandbox_test;
using hues::testing::Sandbox;
using hues::testing::SandboxOptions;

namespace {

std::string text(const boost::json::value& v) { return std::string(v.as_string()); }

const std::string kStaffAgency = "UBND_DONG_BA";

// The lifecycle as the spec states it (docs/openapi.yaml, ReportStatus), restated here so the
// server is checked against the contract rather than against its own table.
struct Step {
  std::string path, role;  // role: ioc | agency | reporter
  std::set<std::string> from;
  std::string to;
  std::string body;
};
const std::vector<Step>& steps() {
  static const std::vector<Step> s = {
      {"receive", "ioc", {"submitted"}, "received", "{}"},
      {"assign", "ioc", {"received"}, "assigned", R"({"agency_code":"UBND_DONG_BA"})"},
      {"reject", "ioc", {"submitted", "received"}, "rejected", R"({"reason":"Không đủ thông tin"})"},
      {"duplicate", "ioc", {"submitted", "received"}, "duplicate", ""},  // body: the original, set below
      {"accept", "agency", {"assigned", "returned"}, "in_progress", "{}"},
      {"respond", "agency", {"in_progress", "returned"}, "responded", R"({"answer":"Đã xử lý"})"},
      {"transfer-request", "agency", {"assigned", "in_progress"}, "transfer_requested", R"({"reason":"Không thuộc thẩm quyền"})"},
      {"transfer-approval", "ioc", {"transfer_requested"}, "assigned", R"({"agency_code":"CA_HUE"})"},
      {"approve", "ioc", {"responded"}, "resolved", "{}"},
      {"return", "ioc", {"responded"}, "returned", R"({"reason":"Thiếu biên bản"})"},
      {"rating", "reporter", {"resolved"}, "rated", R"({"satisfied":true,"comment":"Tốt"})"},
  };
  return s;
}

// From a new report to each state: the steps' paths in order.
const std::map<std::string, std::vector<std::string>>& paths() {
  static const std::map<std::string, std::vector<std::string>> p = {
      {"submitted", {}},
      {"received", {"receive"}},
      {"rejected", {"reject"}},
      {"duplicate", {"receive", "duplicate"}},
      {"assigned", {"receive", "assign"}},
      {"in_progress", {"receive", "assign", "accept"}},
      {"transfer_requested", {"receive", "assign", "transfer-request"}},
      {"responded", {"receive", "assign", "accept", "respond"}},
      {"returned", {"receive", "assign", "accept", "respond", "return"}},
      {"resolved", {"receive", "assign", "accept", "respond", "approve"}},
      {"rated", {"receive", "assign", "accept", "respond", "approve", "rating"}},
  };
  return p;
}

struct World {
  Sandbox sb{[] {
    SandboxOptions o;
    o.tls_port = -1;
    return o;
  }()};
  Client c{sb.port()};
  std::map<std::string, std::string> tokens;  // caller -> access token ("" for the API key)
  std::string original;                       // a report others may duplicate

  World() {
    for (auto [who, user] : std::vector<std::pair<std::string, std::string>>{
             {"reporter", "nguyen.van.an"}, {"other_citizen", "tran.thi.binh"}, {"ioc", "le.ioc"},
             {"ioc2", "tran.ioc"}, {"staff", "dongba.staff"}, {"other_staff", "hepco.staff"}})
      tokens[who] = person_token(c, user);
    tokens["api_key"] = "";
    original = create().first;
  }

  Headers as(const std::string& who, const std::string& etag = {}) {
    Headers h;
    if (who == "api_key") h.emplace_back("X-Api-Key", sb.api_key());
    else h.emplace_back("Authorization", "Bearer " + tokens.at(who));
    if (!etag.empty()) h.emplace_back("If-Match", etag);
    h.emplace_back("Content-Type", "application/json");
    return h;
  }
  std::pair<std::string, std::string> create(const std::string& description = "Lấn chiếm vỉa hè đường Trần Hưng Đạo") {
    boost::json::object loc{{"lat", 16.4726}, {"lon", 107.5885}, {"address", "Chợ Đông Ba"}, {"ward", "Đông Ba"}};
    auto r = c.request(http::verb::post, "/v1/reports",
                       boost::json::serialize(boost::json::object{
                           {"category", "urban_order"}, {"description", description}, {"location", loc}}),
                       as("reporter"));
    REQUIRE(r.result_int() == 201);
    return {text(json_of(r).at("id")), "\"1\""};
  }
  std::string body_of(const Step& s) {
    return s.path == "duplicate" ? R"({"original_id":")" + original + "\"}" : s.body;
  }
  Response act(const std::string& who, const std::string& id, const Step& s, const std::string& etag) {
    return c.request(http::verb::post, "/v1/reports/" + id + "/" + s.path, body_of(s),
                     as(who, s.path == "rating" ? "" : etag));
  }
  const Step& step(const std::string& path) {
    for (const auto& s : steps())
      if (s.path == path) return s;
    FAIL("no step " << path);
    throw;
  }
  // A new report driven to state; returns (id, ETag).
  std::pair<std::string, std::string> in_state(const std::string& state) {
    auto [id, etag] = create();
    for (const auto& path : paths().at(state)) {
      const Step& s = step(path);
      auto r = act(s.role == "reporter" ? "reporter" : s.role == "agency" ? "staff" : "ioc", id, s, etag);
      INFO(path << ": " << r.body());
      REQUIRE(r.result_int() == 200);
      etag = std::string(r[http::field::etag]);
      CHECK(text(json_of(r).at("status")) == s.to);
    }
    return {id, etag};
  }
  boost::json::object get(const std::string& id, std::string* etag = nullptr) {
    auto r = c.request(http::verb::get, "/v1/reports/" + id, {}, as("ioc"));
    REQUIRE(r.result_int() == 200);
    if (etag) *etag = std::string(r[http::field::etag]);
    return json_of(r);
  }
  std::size_t timeline_size(const std::string& id) {
    auto r = c.request(http::verb::get, "/v1/reports/" + id + "/timeline", {}, as("ioc"));
    REQUIRE(r.result_int() == 200);
    return json_of(r).at("items").as_array().size();
  }
};

// May this caller take this step on a report of that agency? (The role check comes first.)
bool role_allows(const Step& s, const std::string& who, const std::string& agency) {
  if (s.role == "reporter") return who == "reporter";
  if (s.role == "ioc") return who == "ioc" || who == "ioc2";
  return (who == "staff" && agency == kStaffAgency) || (who == "other_staff" && agency == "HEPCO");
}

}  // namespace

TEST_CASE("every forbidden (state, caller) pair of every step is 403 naming the role or 409 naming the state, and changes nothing") {
  World w;
  const std::vector<std::string> callers = {"reporter", "other_citizen", "ioc", "staff", "other_staff", "api_key"};
  int forbidden_role = 0, forbidden_state = 0;
  for (const auto& [state, _] : paths()) {
    auto [id, etag] = w.in_state(state);
    const std::string agency = text(w.get(id).at("agency_code"));
    const std::size_t events = w.timeline_size(id);
    for (const auto& s : steps()) {
      for (const auto& who : callers) {
        const bool role_ok = role_allows(s, who, agency);
        const bool state_ok = s.from.count(state) > 0;
        if (role_ok && state_ok) continue;  // allowed: the paths above take each of these
        auto r = w.act(who, id, s, etag);
        INFO(s.path << " by " << who << " in " << state << ": " << r.body());
        if (!role_ok) {
          ++forbidden_role;
          REQUIRE(r.result_int() == 403);
          CHECK(error_code_of(r) == "role_not_allowed");
          const std::string role = who == "api_key" ? "partner API key"
                                   : who == "ioc"   ? "ioc"
                                   : who.find("staff") != std::string::npos ? "agency"
                                                                            : "citizen";
          if (s.role != "reporter") CHECK(r.body().find("role " + role) != std::string::npos);
          else CHECK(r.body().find("only the reporter") != std::string::npos);
        } else {
          ++forbidden_state;
          REQUIRE(r.result_int() == 409);
          CHECK(error_code_of(r) == "invalid_transition");
          CHECK(r.body().find("in state " + state) != std::string::npos);
        }
      }
    }
    std::string now_etag;
    CHECK(text(w.get(id, &now_etag).at("status")) == state);
    CHECK(now_etag == etag);  // nothing changed: same version
    CHECK(w.timeline_size(id) == events);
  }
  // 11 states x 11 steps x 6 callers, less the allowed pairs.
  CHECK(forbidden_role > 400);
  CHECK(forbidden_state > 40);
}

TEST_CASE("two racing steps on one report: exactly one wins, the other gets 412 with the current report") {
  World w;
  for (int round = 0; round < 10; ++round) {
    auto [id, etag] = w.in_state("received");
    // Two operators at once, on their own connections, with the same ETag.
    Response results[2];
    const Step* racing[2] = {&w.step("assign"), round % 2 ? &w.step("assign") : &w.step("reject")};
    const std::string who[2] = {"ioc", "ioc2"};
    std::vector<Headers> headers = {w.as("ioc", etag), w.as("ioc2", etag)};
    std::vector<std::string> bodies = {w.body_of(*racing[0]), w.body_of(*racing[1])};
    {
      std::vector<std::thread> threads;
      for (int i = 0; i < 2; ++i)
        threads.emplace_back([&, i] {
          Client c(w.sb.port());
          results[i] = c.request(http::verb::post, "/v1/reports/" + id + "/" + racing[i]->path, bodies[i], headers[i]);
        });
      for (auto& t : threads) t.join();
    }
    const int a = results[0].result_int(), b = results[1].result_int();
    INFO("round " << round << ": " << a << " " << b << " " << results[0].body() << " " << results[1].body());
    REQUIRE(((a == 200 && b == 412) || (a == 412 && b == 200)));
    const Response& won = a == 200 ? results[0] : results[1];
    const Response& lost = a == 200 ? results[1] : results[0];
    CHECK(error_code_of(lost) == "precondition_failed");
    std::string now_etag;
    const auto now = w.get(id, &now_etag);
    CHECK(json_of(lost).at("current").as_object() == now);
    CHECK(json_of(won) == now);
    CHECK(std::string(lost[http::field::etag]) == now_etag);
    CHECK(now_etag == "\"3\"");
    CHECK(w.timeline_size(id) == 3);  // submitted, received, and the winner's step only
  }
}

TEST_CASE("If-Match: absent is 428, not an entity tag 400, weak never matches, a list or * does") {
  World w;
  auto [id, etag] = w.in_state("submitted");
  const Step& receive = w.step("receive");
  auto r = w.c.request(http::verb::post, "/v1/reports/" + id + "/receive", "{}", w.as("ioc"));
  CHECK(r.result_int() == 428);
  CHECK(error_code_of(r) == "precondition_required");
  for (const char* bad : {"7", "\"7", "W/", "\"a\"\"b\"", "\"a b\""}) {
    r = w.act("ioc", id, receive, bad);
    INFO(bad << ": " << r.body());
    CHECK(r.result_int() == 400);
    CHECK(json_of(r).at("error").at("field") == "If-Match");
  }
  CHECK(w.act("ioc", id, receive, "W/" + etag).result_int() == 412);
  CHECK(w.act("ioc", id, receive, "\"2\"").result_int() == 412);
  r = w.act("ioc", id, receive, "\"41\", " + etag);
  CHECK(r.result_int() == 200);
  CHECK(std::string(r[http::field::etag]) == "\"2\"");
  CHECK(w.act("ioc", id, w.step("assign"), "*").result_int() == 200);
  CHECK(w.timeline_size(id) == 3);
}

TEST_CASE("each step lands in the timeline with its time, actor, role, note and attachments") {
  World w;
  auto [id, etag] = w.in_state("in_progress");
  const std::string answer = "Đã lập biên bản vi phạm hành chính — phường Đông Ba";
  auto r = w.c.request(http::verb::post, "/v1/reports/" + id + "/respond",
                       boost::json::serialize(boost::json::object{
                           {"answer", answer}, {"attachments", boost::json::array{"med_bien_ban_12", "med_anh_2"}}}),
                       w.as("staff", etag));
  REQUIRE(r.result_int() == 200);
  CHECK(text(json_of(r).at("answer")) == answer);
  auto t = json_of(w.c.request(http::verb::get, "/v1/reports/" + id + "/timeline", {}, w.as("ioc")));
  const auto& items = t.at("items").as_array();
  REQUIRE(items.size() == 5);
  const auto& last = items.back().as_object();
  CHECK(text(last.at("status")) == "responded");
  CHECK(text(last.at("actor_role")) == "agency");
  CHECK(text(last.at("note")) == answer);
  CHECK(last.at("attachments") == boost::json::array{"med_bien_ban_12", "med_anh_2"});
  CHECK(text(items[2].at("agency_code")) == kStaffAgency);
  CHECK(text(last.at("at")) == text(json_of(r).at("updated_at")));
  // A bad attachment id is refused by name; nothing changes.
  r = w.c.request(http::verb::post, "/v1/reports/" + id + "/return", R"({"reason":"x","attachments":["có dấu"]})",
                  w.as("ioc", std::string(r[http::field::etag])));
  CHECK(r.result_int() == 400);
  CHECK(json_of(r).at("error").at("field") == "attachments[0]");
  CHECK(w.timeline_size(id) == 5);
}

TEST_CASE("schema v7 migrates a v6 database: versions, deadlines and the new people") {
  TempDir dir;
  {
    SandboxOptions o;
    o.tls_port = -1;
    o.data_dir = dir.path;
    Sandbox sb(o);
  }
  {
    // Back to what a v6 server left.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir.path + "/sandbox.db").c_str(), &db) == SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(
        db,
        (std::string(kUndoSchemaV8) +
        "DROP INDEX reports_agency_due; ALTER TABLE reports DROP COLUMN version; ALTER TABLE reports DROP COLUMN due_at;"
        "ALTER TABLE reports DROP COLUMN duplicate_of; ALTER TABLE reports DROP COLUMN answer;"
        "ALTER TABLE reports DROP COLUMN rating_satisfied; ALTER TABLE reports DROP COLUMN rating_comment;"
        "ALTER TABLE reports DROP COLUMN rated_at; ALTER TABLE report_events DROP COLUMN actor;"
        "ALTER TABLE report_events DROP COLUMN agency_code; ALTER TABLE report_events DROP COLUMN attachments;"
        "DELETE FROM users WHERE username IN ('tran.ioc', 'ca.hue.staff', 'dongba.staff'); PRAGMA user_version = 6;")
            .c_str(),
        nullptr, nullptr, &err);
    INFO((err ? err : ""));
    sqlite3_free(err);
    REQUIRE(rc == SQLITE_OK);
    sqlite3_close(db);
  }
  SandboxOptions o;
  o.tls_port = -1;
  o.data_dir = dir.path;
  Sandbox sb(o);
  Client c(sb.port());
  auto r = c.request(http::verb::get, "/v1/reports?limit=5", {}, {{"X-Api-Key", sb.api_key()}});
  REQUIRE(r.result_int() == 200);
  const auto items = json_of(r).at("items").as_array();
  REQUIRE(!items.empty());
  for (const auto& it : items) {
    CHECK(it.at("version").as_int64() == 1);
    CHECK(text(it.at("due_at")).size() == 20);  // created_at + the category's sla_hours
    CHECK(text(it.at("due_at")) > text(it.at("created_at")));
  }
  CHECK(!person_token(c, "dongba.staff").empty());
}
