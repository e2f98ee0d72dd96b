// The life of a report (issue 8) over real sockets: every forbidden (state, caller) pair of
// every step is 403 or 409 and changes nothing; two racing steps never both win (412 with the
// current report); the timeline records each step.
#include <doctest/doctest.h>

#include <sqlite3.h>

#include <algorithm>
#include <ctime>
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
      {"transfer-decline", "ioc", {"transfer_requested"}, "in_progress", R"({"reason":"Thuộc thẩm quyền của phường"})"},
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
  // A media object of who's (one creation-with-upload POST): attachments must be real.
  std::string upload(const std::string& who, const std::string& bytes, const std::string& type_b64) {
    Headers h;
    for (auto& [k, v] : as(who))
      if (k != "Content-Type") h.emplace_back(k, v);
    h.insert(h.end(), {{"Tus-Resumable", "1.0.0"}, {"Upload-Length", std::to_string(bytes.size())},
                       {"Upload-Metadata", "type " + type_b64}, {"Content-Type", "application/offset+octet-stream"}});
    auto r = c.request(http::verb::post, "/v1/uploads", bytes, h);
    REQUIRE(r.result_int() == 201);
    return std::string(r["Hues-Media-Id"]);
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
  // 11 states x 12 steps x 6 callers, less the allowed pairs.
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
  const std::string record = w.upload("staff", "%PDF-1.7\n% biên bản 12\n%%EOF\n", "ZG9jdW1lbnQ=");  // document
  const std::string photo = w.upload("staff", std::string("\xFF\xD8\xFF\xE0", 4) + std::string(100, 'x'), "cGhvdG8=");
  // Media ids that are not the caller's finished media are refused by name; nothing changes.
  const std::string theirs = w.upload("reporter", "%PDF-1.7\n% của người dân\n", "ZG9jdW1lbnQ=");
  for (const std::string& bad : {std::string("m_aaaaaaaaaaaaaaaaaaaaaaaa"), theirs}) {
    auto refused = w.c.request(http::verb::post, "/v1/reports/" + id + "/respond",
                               boost::json::serialize(boost::json::object{
                                   {"answer", answer}, {"attachments", boost::json::array{record, bad}}}),
                               w.as("staff", etag));
    CHECK(refused.result_int() == 400);
    CHECK(json_of(refused).at("error").at("field") == "attachments[1]");
  }
  CHECK(w.timeline_size(id) == 4);
  auto r = w.c.request(http::verb::post, "/v1/reports/" + id + "/respond",
                       boost::json::serialize(boost::json::object{
                           {"answer", answer}, {"attachments", boost::json::array{record, photo}}}),
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
  CHECK(last.at("attachments") == boost::json::array{record.c_str(), photo.c_str()});
  // Whoever sees the report reads its attachments now; a stranger to it does not.
  CHECK(w.c.request(http::verb::get, "/v1/media/" + record, {}, w.as("reporter")).result_int() == 200);
  CHECK(w.c.request(http::verb::get, "/v1/media/" + record, {}, w.as("ioc")).result_int() == 200);
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
        (std::string(kUndoSearchStep) +
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

TEST_CASE("several people work for each body: a second member of staff answers what the first accepted") {
  World w;
  auto [id, etag] = w.in_state("in_progress");  // accepted by dongba.staff
  w.tokens["staff2"] = person_token(w.c, "dongba.staff2");
  w.tokens["ioc3"] = person_token(w.c, "nguyen.ioc");
  w.tokens["hepco2"] = person_token(w.c, "hepco.staff2");
  CHECK(w.act("hepco2", id, w.step("respond"), etag).result_int() == 403);  // another agency's second member
  auto r = w.act("staff2", id, w.step("respond"), etag);
  REQUIRE(r.result_int() == 200);
  r = w.act("ioc3", id, w.step("approve"), std::string(r[http::field::etag]));
  REQUIRE(r.result_int() == 200);
  auto t = json_of(w.c.request(http::verb::get, "/v1/reports/" + id + "/timeline", {}, w.as("staff2")));
  const auto& items = t.at("items").as_array();
  REQUIRE(items.size() >= 2);
  CHECK(text(items[items.size() - 2].at("actor_role")) == "agency");
  CHECK(text(items[items.size() - 1].at("actor_role")) == "ioc");
  CHECK(text(items[3].at("status")) == "in_progress");
  CHECK(text(items[items.size() - 2].at("actor")) != text(items[3].at("actor")));  // not the one who accepted
}

TEST_CASE("the IOC declines a transfer: the same agency goes on with it, the reason lands in the timeline") {
  World w;
  auto [id, etag] = w.in_state("transfer_requested");
  const std::string due = text(w.get(id).at("due_at"));
  // Without a reason it is refused by name, and nothing changes.
  auto r = w.c.request(http::verb::post, "/v1/reports/" + id + "/transfer-decline", "{}", w.as("ioc", etag));
  CHECK(r.result_int() == 400);
  CHECK(error_field_of(r) == "reason");
  r = w.c.request(http::verb::post, "/v1/reports/" + id + "/transfer-decline", R"({"reason":""})", w.as("ioc", etag));
  CHECK(r.result_int() == 400);
  CHECK(error_field_of(r) == "reason");
  CHECK(w.act("ioc", id, w.step("transfer-decline"), "\"1\"").result_int() == 412);
  CHECK(w.timeline_size(id) == 4);
  const std::string reason = "Vỉa hè đường Trần Hưng Đạo do phường Đông Ba quản lý; đề nghị tiếp tục xử lý.";
  r = w.c.request(http::verb::post, "/v1/reports/" + id + "/transfer-decline",
                  boost::json::serialize(boost::json::object{{"reason", reason}}), w.as("ioc2", etag));
  REQUIRE(r.result_int() == 200);
  const auto after = json_of(r);
  CHECK(text(after.at("status")) == "in_progress");
  CHECK(text(after.at("agency_code")) == kStaffAgency);
  CHECK(text(after.at("due_at")) == due);
  CHECK(std::string(r[http::field::etag]) == "\"5\"");
  auto t = json_of(w.c.request(http::verb::get, "/v1/reports/" + id + "/timeline", {}, w.as("staff")));
  const auto& items = t.at("items").as_array();
  REQUIRE(items.size() == 5);
  CHECK(text(items[3].at("status")) == "transfer_requested");
  CHECK(text(items[4].at("status")) == "in_progress");
  CHECK(text(items[4].at("actor_role")) == "ioc");
  CHECK(text(items[4].at("note")) == reason);
  // Declined once, it cannot be declined again; the agency answers as usual.
  CHECK(w.act("ioc", id, w.step("transfer-decline"), std::string(r[http::field::etag])).result_int() == 409);
  CHECK(w.act("staff", id, w.step("respond"), std::string(r[http::field::etag])).result_int() == 200);
}

namespace {

std::string utc(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::time_t parse_utc(const std::string& s) {
  std::tm tm{};
  REQUIRE(strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) != nullptr);
  return timegm(&tm);
}

// Every report the IOC sees, by following the cursor.
std::vector<boost::json::object> all_reports(World& w) {
  std::vector<boost::json::object> out;
  std::string cursor;
  do {
    auto r = w.c.request(http::verb::get, "/v1/reports?limit=100" + (cursor.empty() ? "" : "&cursor=" + cursor), {},
                         w.as("ioc"));
    REQUIRE(r.result_int() == 200);
    auto page = json_of(r);
    for (const auto& it : page.at("items").as_array()) out.push_back(it.as_object());
    cursor = text(page.at("next_cursor"));
  } while (!cursor.empty());
  return out;
}

boost::json::array timeline_of(World& w, const std::string& id) {
  auto r = w.c.request(http::verb::get, "/v1/reports/" + id + "/timeline", {}, w.as("ioc"));
  REQUIRE(r.result_int() == 200);
  return json_of(r).at("items").as_array();
}

boost::json::object statistics(World& w, const std::string& query, const std::string& who = "ioc") {
  auto r = w.c.request(http::verb::get, "/v1/statistics/reports?" + query, {}, w.as(who));
  INFO(query << ": " << r.body());
  REQUIRE(r.result_int() == 200);
  return json_of(r);
}

const std::vector<std::string> kStates = {"submitted", "received", "assigned", "in_progress", "responded", "returned",
                                          "resolved", "rated", "rejected", "duplicate", "transferred",
                                          "transfer_requested"};
bool open_state(const std::string& s) {
  return s == "submitted" || s == "received" || s == "assigned" || s == "in_progress" || s == "returned" ||
         s == "transfer_requested";
}

// The statistics of [from, to) (optionally of one agency) worked out from the reports and
// their timelines, independently of the server's SQL.
boost::json::object expected_statistics(World& w, const std::vector<boost::json::object>& reports,
                                        const std::string& from, const std::string& to, const std::string& agency) {
  std::map<std::string, std::int64_t> states;
  for (const auto& s : kStates) states[s] = 0;
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> agencies;  // code -> (count, overdue)
  std::int64_t total = 0, overdue = 0, ratings = 0, satisfied = 0;
  std::vector<std::int64_t> handling;
  for (const auto& r : reports) {
    const std::string code = text(r.at("agency_code"));
    if (!agency.empty() && code != agency) continue;
    const std::string created = text(r.at("created_at"));
    if (created >= from && created < to) {
      ++total;
      ++states[text(r.at("status"))];
      auto& a = agencies[code];
      ++a.first;
      const bool late = r.at("overdue").as_bool();
      // Overdue is the server's "now"; a report falling due within seconds of this check may
      // have changed sides meanwhile, so only the others are compared.
      const std::int64_t due = parse_utc(text(r.at("due_at")));
      const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
      if (due < now - 5 || due > now + 5) CHECK(late == (open_state(text(r.at("status"))) && due < now));
      a.second += late;
      overdue += late;
    }
    if (const auto* rating = r.if_contains("rating")) {
      const std::string at = text(rating->at("rated_at"));
      if (at >= from && at < to) ++ratings, satisfied += rating->at("satisfied").as_bool();
    }
    const std::string status = text(r.at("status"));
    if (status == "resolved" || status == "rated") {
      for (const auto& e : timeline_of(w, text(r.at("id")))) {
        const std::string at = text(e.at("at"));
        if (text(e.at("status")) == "resolved" && at >= from && at < to)
          handling.push_back(parse_utc(at) - parse_utc(created));
      }
    }
  }
  boost::json::object by_state;
  for (const auto& [k, v] : states) by_state[k] = v;
  boost::json::object out{{"total", total}, {"overdue", overdue}, {"ratings", ratings}, {"satisfied", satisfied},
                          {"by_state", by_state}};
  boost::json::array by_agency;
  for (const auto& [code, n] : agencies) by_agency.push_back(boost::json::object{{"code", code}, {"count", n.first}, {"overdue", n.second}});
  out["by_agency"] = by_agency;
  if (ratings) out["satisfaction_rate"] = static_cast<double>(satisfied) / static_cast<double>(ratings);
  if (!handling.empty()) {
    std::sort(handling.begin(), handling.end());
    const std::size_t n = handling.size();
    const double median = n % 2 ? static_cast<double>(handling[n / 2])
                                : (static_cast<double>(handling[n / 2 - 1]) + static_cast<double>(handling[n / 2])) / 2;
    out["median_handling_seconds"] = static_cast<std::int64_t>(std::llround(median));
  }
  return out;
}

void check_statistics(const boost::json::object& got, const boost::json::object& want) {
  INFO("got " << boost::json::serialize(got) << "\nwant " << boost::json::serialize(want));
  for (const char* k : {"total", "overdue", "ratings", "satisfied"}) CHECK(got.at(k) == want.at(k));
  CHECK(got.at("by_state") == want.at("by_state"));
  CHECK(got.at("by_state").as_object().size() == 12);
  CHECK(got.contains("median_handling_seconds") == want.contains("median_handling_seconds"));
  if (want.contains("median_handling_seconds"))
    CHECK(got.at("median_handling_seconds") == want.at("median_handling_seconds"));
  CHECK(got.contains("satisfaction_rate") == want.contains("satisfaction_rate"));
  if (want.contains("satisfaction_rate"))
    CHECK(got.at("satisfaction_rate").to_number<double>() == doctest::Approx(want.at("satisfaction_rate").to_number<double>()));
  // By agency: the same counts, most reports first.
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> g, e;
  std::int64_t last = std::numeric_limits<std::int64_t>::max();
  for (const auto& a : got.at("by_agency").as_array()) {
    g[text(a.at("code"))] = {a.at("count").as_int64(), a.at("overdue").as_int64()};
    CHECK(a.at("count").as_int64() <= last);
    last = a.at("count").as_int64();
    CHECK(!text(a.at("name")).empty());
  }
  for (const auto& a : want.at("by_agency").as_array())
    e[text(a.at("code"))] = {a.at("count").as_int64(), a.at("overdue").as_int64()};
  CHECK(g == e);
}

}  // namespace

TEST_CASE("statistics of a fresh period count exactly the reports made in it") {
  World w;
  // From the next whole second: the reports made before (the World's own) fall outside.
  const std::time_t start = std::time(nullptr) + 1;
  while (std::time(nullptr) < start) std::this_thread::sleep_for(std::chrono::milliseconds(5));  // time() is coarse
  const std::string from = utc(start), to = utc(start + 3600);
  const std::string period = "from=" + from + "&to=" + to;
  // Nothing was made in it yet: every state is there with 0, and there is no median or rate.
  auto empty = statistics(w, period);
  CHECK(empty.at("total").as_int64() == 0);
  CHECK(empty.at("by_state").as_object().size() == 12);
  for (const auto& s : kStates) CHECK(empty.at("by_state").at(s).as_int64() == 0);
  CHECK(empty.at("by_agency").as_array().empty());
  CHECK_FALSE(empty.contains("median_handling_seconds"));
  CHECK_FALSE(empty.contains("satisfaction_rate"));
  CHECK(text(empty.at("from")) == from);

  const std::vector<std::string> made = {"submitted", "received", "rejected", "assigned", "in_progress", "in_progress",
                                         "transfer_requested", "responded", "resolved", "rated", "rated"};
  std::vector<std::string> ids;
  for (const auto& state : made) ids.push_back(w.in_state(state).first);
  // One of the ratings is not satisfied.
  {
    auto [id, etag] = w.in_state("resolved");
    auto r = w.c.request(http::verb::post, "/v1/reports/" + id + "/rating", R"({"satisfied":false,"comment":"Chậm"})",
                         w.as("reporter"));
    REQUIRE(r.result_int() == 200);
    ids.push_back(id);
  }
  std::vector<boost::json::object> mine;
  for (const auto& id : ids) mine.push_back(w.get(id));
  auto got = statistics(w, period);
  check_statistics(got, expected_statistics(w, mine, from, to, ""));
  CHECK(got.at("total").as_int64() == 12);
  CHECK(got.at("by_state").at("rated").as_int64() == 3);
  CHECK(got.at("by_state").at("in_progress").as_int64() == 2);
  CHECK(got.at("ratings").as_int64() == 3);
  CHECK(got.at("satisfied").as_int64() == 2);
  CHECK(got.at("satisfaction_rate").to_number<double>() == doctest::Approx(2.0 / 3));
  // One agency only: those assigned to the ward committee (the others wait at UBND_PHUONG).
  auto ward = statistics(w, period + "&agency=" + kStaffAgency);
  check_statistics(ward, expected_statistics(w, mine, from, to, kStaffAgency));
  CHECK(ward.at("total").as_int64() == 9);
  CHECK(text(ward.at("agency")) == kStaffAgency);
  REQUIRE(ward.at("by_agency").as_array().size() == 1);
  CHECK(text(ward.at("by_agency").at(0).at("name")) == "Ủy ban nhân dân phường Đông Ba");
  // A period that ends when they begin sees none of them: only what the list says was before.
  auto before = statistics(w, "from=" + utc(start - 7200) + "&to=" + from);
  check_statistics(before, expected_statistics(w, all_reports(w), utc(start - 7200), from, ""));
}

TEST_CASE("statistics over the seed agree with the lists and timelines, for the city, an agency and a week") {
  World w;
  const std::time_t now = std::time(nullptr);
  const auto reports = all_reports(w);
  REQUIRE(reports.size() >= 300);
  for (const auto& [from, agency] : std::vector<std::pair<std::time_t, std::string>>{
           {now - 61 * 86400, ""}, {now - 61 * 86400, "QLDT_HUE"}, {now - 7 * 86400, ""}, {now - 30 * 86400, "HEPCO"}}) {
    const std::string f = utc(from), t = utc(now + 60);
    INFO("from " << f << " agency " << agency);
    auto got = statistics(w, "from=" + f + "&to=" + t + (agency.empty() ? "" : "&agency=" + agency));
    const auto want = expected_statistics(w, reports, f, t, agency);
    check_statistics(got, want);
    CHECK(got.at("total").as_int64() > 10);
    CHECK(got.contains("median_handling_seconds"));
    CHECK(got.contains("satisfaction_rate"));
  }
  auto city = statistics(w, "from=" + utc(now - 61 * 86400) + "&to=" + utc(now + 60));
  CHECK(city.at("overdue").as_int64() > 0);
  CHECK(city.at("by_agency").as_array().size() >= 8);
  const double rate = city.at("satisfaction_rate").to_number<double>();
  CHECK(rate > 0.5);
  CHECK(rate < 1.0);
}

TEST_CASE("statistics are for IOC operators only, and a bad period is refused by name") {
  World w;
  const std::string ok = "from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z";
  for (auto [who, role] : std::vector<std::pair<std::string, std::string>>{
           {"reporter", "citizen"}, {"staff", "agency"}, {"api_key", "partner API key"}}) {
    auto r = w.c.request(http::verb::get, "/v1/statistics/reports?" + ok, {}, w.as(who));
    INFO(who << ": " << r.body());
    CHECK(r.result_int() == 403);
    CHECK(error_code_of(r) == "role_not_allowed");
    CHECK(r.body().find("caller: " + role) != std::string::npos);
  }
  for (auto [query, field] : std::vector<std::pair<std::string, std::string>>{
           {"to=2026-12-01T00:00:00Z", "from"},
           {"from=2026-11-01T00:00:00Z", "to"},
           {"from=yesterday&to=2026-12-01T00:00:00Z", "from"},
           {"from=2026-11-01T00:00:00Z&to=2026-12-01", "to"},
           {"from=2026-13-01T00:00:00Z&to=2026-12-01T00:00:00Z", "from"},
           {"from=2026-02-30T00:00:00Z&to=2026-12-01T00:00:00Z", "from"},
           {"from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z", "from"},
           {"from=2026-12-01T00:00:00Z&to=2026-12-01T00:00:00Z", "from"},
           {"from=2025-01-01T00:00:00Z&to=2026-12-01T00:00:00Z", "to"},
           {ok + "&agency=NOPE", "agency"}}) {
    auto r = w.c.request(http::verb::get, "/v1/statistics/reports?" + query, {}, w.as("ioc"));
    INFO(query << ": " << r.body());
    CHECK(r.result_int() == 400);
    CHECK(error_code_of(r) == "validation_error");
    CHECK(error_field_of(r) == field);
  }
  // 366 days is the longest period; fractions of a second are fine.
  CHECK(w.c.request(http::verb::get, "/v1/statistics/reports?from=2025-12-01T00:00:00Z&to=2026-12-02T00:00:00Z", {},
                    w.as("ioc")).result_int() == 200);
  CHECK(w.c.request(http::verb::get, "/v1/statistics/reports?from=2026-11-01T00:00:00.250Z&to=2026-12-01T00:00:00Z", {},
                    w.as("ioc")).result_int() == 200);
}

namespace {

struct SeededPerson {
  std::string role, agency;
};

std::map<std::string, SeededPerson> people_of(const std::string& data_dir) {
  std::map<std::string, SeededPerson> out;
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2((data_dir + "/sandbox.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT sub, role, agency_code FROM users", -1, &s, nullptr) == SQLITE_OK);
  while (sqlite3_step(s) == SQLITE_ROW)
    out[reinterpret_cast<const char*>(sqlite3_column_text(s, 0))] = {
        reinterpret_cast<const char*>(sqlite3_column_text(s, 1)), reinterpret_cast<const char*>(sqlite3_column_text(s, 2))};
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

}  // namespace

TEST_CASE("the seed: about 300 reports whose timelines are valid paths of the lifecycle, spread over states, wards, categories and agencies") {
  World w;
  const std::time_t now = std::time(nullptr);
  const auto people = people_of(w.sb.data_dir());
  const auto reports = all_reports(w);
  std::map<std::string, int> states, wards, categories, agencies;
  std::map<std::string, std::string> created_of;
  int seeded = 0, overdue = 0, anonymous = 0, satisfied = 0, unsatisfied = 0, street_lights = 0, declined = 0,
      transferred = 0, returned = 0, late_answers = 0;
  for (const auto& r : reports) created_of[text(r.at("id"))] = text(r.at("created_at"));
  std::map<std::string, std::int64_t> sla_hours;
  const auto cats = json_of(w.c.request(http::verb::get, "/v1/categories", {}, w.as("ioc")));
  for (const auto& c : cats.at("items").as_array()) sla_hours[text(c.at("code"))] = c.at("sla_hours").as_int64();
  for (const auto& r : reports) {
    if (!r.contains("reporter")) continue;  // the reports of schema v2 predate reporters and timelines
    const std::string id = text(r.at("id")), reporter = text(r.at("reporter"));
    const std::string category = text(r.at("category"));
    INFO(id << " " << boost::json::serialize(r));
    ++seeded;
    ++states[text(r.at("status"))];
    ++wards[text(r.at("location").at("ward"))];
    ++categories[category];
    ++agencies[text(r.at("agency_code"))];
    overdue += r.at("overdue").as_bool();
    anonymous += r.at("anonymous").as_bool();
    street_lights += text(r.at("description")).rfind("Đèn đường hỏng", 0) == 0;
    REQUIRE(people.count(reporter) == 1);
    CHECK(people.at(reporter).role == "citizen");
    const auto t = timeline_of(w, id);
    REQUIRE(!t.empty());
    CHECK(text(t[0].at("status")) == "submitted");
    CHECK(text(t[0].at("at")) == text(r.at("created_at")));
    CHECK(text(t[0].at("actor")) == reporter);
    CHECK(parse_utc(text(t[0].at("at"))) >= now - 61 * 86400);
    std::string agency;
    const std::string assigned_to = text(r.at("agency_code"));
    std::time_t due = 0;
    std::string answer;
    for (std::size_t i = 1; i < t.size(); ++i) {
      const std::string prev = text(t[i - 1].at("status")), next = text(t[i].at("status"));
      const std::string role = text(t[i].at("actor_role")), actor = text(t[i].at("actor"));
      INFO("step " << i << ": " << prev << " -> " << next << " by " << role);
      CHECK(text(t[i].at("at")) >= text(t[i - 1].at("at")));
      CHECK(parse_utc(text(t[i].at("at"))) <= now);
      // A step of the contract's lifecycle, taken by its role ...
      bool valid = false;
      for (const auto& s : steps())
        valid = valid || (s.from.count(prev) && s.to == next && (s.role == "reporter" ? "citizen" : s.role) == role);
      CHECK(valid);
      // ... by a seeded person of that role; agency staff of the agency holding it.
      REQUIRE(people.count(actor) == 1);
      if (role == "citizen") CHECK(actor == reporter);
      else CHECK(people.at(actor).role == role);
      if (role == "agency") CHECK(people.at(actor).agency == agency);
      if (next == "assigned") {
        agency = text(t[i].at("agency_code"));
        due = parse_utc(text(t[i].at("at")));
        transferred += prev == "transfer_requested";
      }
      declined += prev == "transfer_requested" && next == "in_progress";
      returned += next == "returned";
      if (next == "responded") answer = text(t[i].at("note"));
      if (role != "citizen" && next != "received" && next != "in_progress" && next != "resolved")
        CHECK(!text(t[i].at("note")).empty());  // reasons, answers and routing notes are said
    }
    const auto& last = t.back();
    CHECK(text(last.at("status")) == text(r.at("status")));
    CHECK(text(last.at("at")) == text(r.at("updated_at")));
    CHECK(r.at("version").as_int64() == static_cast<std::int64_t>(t.size()));
    if (!agency.empty()) CHECK(agency == assigned_to);
    if (!answer.empty()) CHECK(text(r.at("answer")) == answer);
    const std::int64_t sla = sla_hours.at(category);
    const std::time_t from = due ? due : parse_utc(text(r.at("created_at")));
    CHECK(parse_utc(text(r.at("due_at"))) == from + sla * 3600);
    if (text(r.at("status")) == "rated") {
      REQUIRE(r.contains("rating"));
      (r.at("rating").at("satisfied").as_bool() ? satisfied : unsatisfied)++;
      CHECK(text(r.at("rating").at("rated_at")) == text(last.at("at")));
      CHECK(text(r.at("rating").at("comment")) == text(last.at("note")));
    } else {
      CHECK_FALSE(r.contains("rating"));
    }
    if (text(r.at("status")) == "duplicate") {
      REQUIRE(r.contains("duplicate_of"));
      const std::string original = text(r.at("duplicate_of"));
      REQUIRE(created_of.count(original) == 1);
      CHECK(created_of.at(original) <= text(r.at("created_at")));
    }
    if (text(r.at("status")) == "responded" || text(r.at("status")) == "resolved" || text(r.at("status")) == "rated") {
      for (const auto& e : t)
        if (text(e.at("status")) == "responded" && text(e.at("at")) > text(r.at("due_at"))) {
          ++late_answers;
          break;
        }
    }
  }
  CHECK(seeded >= 290);
  CHECK(seeded <= 310);
  for (const char* s : {"submitted", "received", "assigned", "in_progress", "responded", "returned", "resolved", "rated",
                        "rejected", "duplicate", "transfer_requested"}) {
    INFO(s);
    CHECK(states[s] >= 3);
  }
  CHECK(states["rated"] + states["resolved"] > seeded / 2);  // most of an older city's reports are closed
  CHECK(wards.size() >= 12);
  CHECK(categories.size() == 11);
  CHECK(agencies.size() >= 10);
  CHECK(overdue >= 5);
  CHECK(overdue < seeded / 3);
  CHECK(anonymous >= 10);
  CHECK(satisfied > unsatisfied);
  CHECK(unsatisfied >= 3);
  CHECK(street_lights >= 5);
  CHECK(declined >= 1);
  CHECK(transferred >= 1);
  CHECK(returned >= 5);
  CHECK(late_answers >= 3);
}

TEST_CASE("the seed is the same on every fresh sandbox") {
  auto ids = [] {
    World w;
    std::vector<std::string> out;
    for (const auto& r : all_reports(w))
      if (r.contains("reporter") && text(r.at("id")) != w.original)
        out.push_back(text(r.at("id")) + " " + text(r.at("status")) + " " + text(r.at("description")));
    return out;
  };
  const auto a = ids(), b = ids();
  CHECK(a.size() >= 290);
  CHECK(a == b);
}
