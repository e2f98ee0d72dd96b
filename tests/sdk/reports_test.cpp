// The reports service against the in-process sandbox over real sockets.
#include <doctest/doctest.h>

#include <hues/hues.h>
#include <hues/testing/sandbox.h>

#include "test_support.h"

#include <algorithm>
#include <atomic>
#include <set>

namespace {

hues::Client client() {
  hues::ClientOptions o;
  o.base_url = sandbox().url();
  o.api_key = sandbox().api_key();
  return hues::Client(o);
}

hues::NewReport report_at(double lat, double lon, const std::string& text) {
  hues::NewReport r;
  r.category = client().reports().categories().at(0).code;
  r.description = text;
  r.location.lat = lat;
  r.location.lon = lon;
  r.location.address = "Đường Lê Lợi";
  r.location.ward = "Vĩnh Ninh";
  return r;
}

}  // namespace

TEST_CASE("categories are seeded in Vietnamese with agencies and Open311 attributes") {
  auto cats = client().reports().categories();
  REQUIRE(cats.size() >= 5);
  bool any_attribute = false;
  for (const auto& c : cats) {
    CHECK_FALSE(c.code.empty());
    CHECK_FALSE(c.name_vi.empty());
    CHECK_FALSE(c.agency_code.empty());
    CHECK(c.sla_hours > 0);
    any_attribute = any_attribute || !c.attributes.empty();
  }
  CHECK(any_attribute);
}

TEST_CASE("a Vietnamese report round-trips byte for byte") {
  const std::string text = "Ngập sâu 40 cm trên đường Phan Đình Phùng, xe máy chết máy; cần hỗ trợ gấp! 🌧";
  auto created = client().reports().create(report_at(16.4619, 107.5875, text));
  CHECK(created.id.rfind("rpt_", 0) == 0);
  CHECK(created.status == "submitted");
  CHECK(created.description == text);
  auto fetched = client().reports().get(created.id);
  CHECK(fetched.description == text);
  CHECK(fetched.location.address == "Đường Lê Lợi");
  CHECK(fetched.location.ward == "Vĩnh Ninh");
  CHECK(fetched.location.lat == doctest::Approx(16.4619));
  CHECK(fetched.created_at == created.created_at);
}

TEST_CASE("wrong API key is an AuthenticationError; unknown id is NotFoundError") {
  hues::ClientOptions o;
  o.base_url = sandbox().url();
  o.api_key = "hk_test_wrong";
  try {
    hues::Client(o).reports().categories();
    FAIL("expected AuthenticationError");
  } catch (const hues::AuthenticationError& e) {
    CHECK(e.http_status() == 401);
    CHECK(e.code() == "invalid_api_key");
    CHECK_FALSE(e.request_id().empty());
    CHECK_FALSE(e.retryable());
  }
  CHECK_THROWS_AS(client().reports().get("rpt_does_not_exist"), hues::NotFoundError);
}

TEST_CASE("the server names the field it refuses") {
  auto r = report_at(16.47, 107.59, "Rác thải ùn ứ");
  r.category = "no_such_category";
  try {
    client().reports().create(r);
    FAIL("expected ValidationError");
  } catch (const hues::ValidationError& e) {
    CHECK(e.http_status() == 400);
    CHECK(e.field() == "category");
  }
}

TEST_CASE("an Idempotency-Key replays the same report; another body with it conflicts") {
  hues::CallOptions call;
  call.idempotency_key = "idem-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  auto r = report_at(16.4698, 107.5786, "Cây xanh gãy đổ trước Đại Nội");
  auto first = client().reports().create(r, call);
  auto again = client().reports().create(r, call);
  CHECK(first.id == again.id);
  r.description = "Một nội dung khác";
  CHECK_THROWS_AS(client().reports().create(r, call), hues::ConflictError);
}

TEST_CASE("list near Đông Ba market, paging through every page without duplicates") {
  std::string tag = "paging-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  for (int i = 0; i < 5; ++i) client().reports().create(report_at(16.4726, 107.5885, tag + " #" + std::to_string(i)));
  client().reports().create(report_at(16.4326, 107.5658, tag + " far away at Tự Đức tomb"));

  hues::ReportQuery q;
  q.near_lat = 16.4726;
  q.near_lon = 107.5885;
  q.radius_m = 300;
  q.limit = 2;
  auto pager = client().reports().list(q);
  std::set<std::string> ids;
  int tagged = 0;
  for (const auto& r : pager) {
    CHECK(ids.insert(r.id).second);
    if (r.description.rfind(tag, 0) == 0) {
      ++tagged;
      CHECK(r.description.find("Tự Đức") == std::string::npos);
    }
  }
  CHECK(tagged == 5);
  CHECK(pager.pages_fetched() >= 3);
}

TEST_CASE("async forms deliver results and errors through futures") {
  auto futures = std::vector<std::future<hues::Report>>{};
  for (int i = 0; i < 8; ++i)
    futures.push_back(client().reports().create_async(report_at(16.4421, 107.6015, "Bến xe phía Nam " + std::to_string(i))));
  std::set<std::string> ids;
  for (auto& f : futures) ids.insert(f.get().id);
  CHECK(ids.size() == 8);
  auto missing = client().reports().get_async("rpt_missing");
  CHECK_THROWS_AS(missing.get(), hues::NotFoundError);
}

namespace {

// Counts what reaches the network, to prove client-side validation sends nothing.
class CountingTransport final : public hues::Transport {
 public:
  hues::HttpResponse send(const hues::HttpRequest&, const hues::AttemptContext&) override {
    ++sent;
    return hues::HttpResponse{500, {}, "{}"};
  }
  std::atomic<int> sent{0};
};

}  // namespace

TEST_CASE("the generated validators refuse bad input before anything is sent") {
  auto transport = std::make_shared<CountingTransport>();
  hues::ClientOptions o;
  o.base_url = "http://127.0.0.1:9";
  o.api_key = "k";
  o.transport = transport;
  hues::Client c(o);
  auto r = report_at(16.4726, 107.5885, "");
  try {
    c.reports().create(r);
    FAIL("created a report without a description");
  } catch (const hues::ValidationError& e) {
    CHECK(e.field() == "description");
  }
  r.description = "ok";
  r.location.lat = 123;
  try {
    c.reports().create_async(r).get();
    FAIL("created a report at latitude 123");
  } catch (const hues::ValidationError& e) {
    CHECK(e.field() == "location.lat");
  }
  hues::ReportQuery q;
  q.limit = 500;
  try {
    c.reports().list_page(q);
    FAIL("listed with limit 500");
  } catch (const hues::ValidationError& e) {
    CHECK(e.field() == "limit");
  }
  CHECK_THROWS_AS(c.reports().get(""), hues::ValidationError);
  CHECK(transport->sent == 0);
}

TEST_CASE("a new report's timeline starts with its submission by the citizen") {
  auto created = client().reports().create(report_at(16.4680, 107.5790, "Đèn đường hỏng trên cầu Trường Tiền"));
  auto timeline = client().reports().timeline(created.id);
  REQUIRE(timeline.size() == 1);
  CHECK(timeline[0].status == hues::ReportStatus::kSubmitted);
  CHECK(timeline[0].actor_role == hues::ActorRole::kCitizen);
  CHECK(timeline[0].at == created.created_at);
  CHECK(timeline[0].note.empty());
  CHECK(client().reports().timeline_async(created.id).get().size() == 1);
  CHECK_THROWS_AS(client().reports().timeline("rpt_missing"), hues::NotFoundError);
}

TEST_CASE("agencies page by code, filter by kind and keep Vietnamese names") {
  std::vector<std::string> codes;
  hues::AgencyQuery q;
  q.limit = 3;
  auto pager = client().agencies().list(q);
  bool hepco = false;
  for (const auto& a : pager) {
    codes.push_back(a.code);
    if (a.code == "HEPCO") hepco = a.name_vi == "Công ty CP Môi trường và Công trình đô thị Huế (HEPCO)";
  }
  CHECK(hepco);
  CHECK(codes.size() >= 12);
  CHECK(std::is_sorted(codes.begin(), codes.end()));
  CHECK(pager.pages_fetched() >= 4);
  hues::AgencyQuery wards;
  wards.kind = hues::AgencyKind::kWard;
  auto page = client().agencies().list_page(wards);
  REQUIRE_FALSE(page.items.empty());
  for (const auto& a : page.items) CHECK(a.kind == hues::AgencyKind::kWard);
  bool phu_hoi = false;
  for (const auto& a : page.items) phu_hoi = phu_hoi || (a.ward && *a.ward == "Phú Hội");
  CHECK(phu_hoi);
}

namespace {

// A word no other report holds, so searches see only this test's reports.
std::string search_marker() {
  return "mk" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

hues::NewReport new_report(const std::string& category, const std::string& text, double lat, double lon) {
  hues::NewReport r;
  r.category = category;
  r.description = text;
  r.location.lat = lat;
  r.location.lon = lon;
  r.location.ward = "Đông Ba";
  return r;
}

}  // namespace

TEST_CASE("search: 'den duong hong' finds 'Đèn đường hỏng' across pages; a filter; sort by due") {
  const std::string m = search_marker();
  std::set<std::string> lights;
  for (const char* cat : {"street_light", "power_outage", "flooding"})
    lights.insert(client().reports().create(new_report(cat, "Đèn đường hỏng " + m, 16.4726, 107.5885)).id);
  const auto other = client().reports().create(new_report("street_light", "Đèn trang trí tắt " + m, 16.4726, 107.5885));

  hues::ReportQuery q;
  q.q = "den duong hong " + m;
  q.limit = 1;
  auto pager = client().reports().list(q);
  std::set<std::string> seen;
  for (const auto& r : pager) {
    CHECK(seen.insert(r.id).second);
    CHECK(r.description == "Đèn đường hỏng " + m);  // byte for byte
  }
  CHECK(seen == lights);
  CHECK(pager.pages_fetched() >= 3);

  q.q = "DEN " + m;
  q.limit = 100;
  q.category = "street_light";
  std::set<std::string> street;
  for (const auto& r : client().reports().list(q)) street.insert(r.id);
  CHECK(street.count(other.id) == 1);
  CHECK(street.size() == 2);

  q.category.reset();
  q.sort = hues::ReportSort::kDue;
  q.limit = 2;
  std::vector<hues::Report> by_due;
  for (const auto& r : client().reports().list(q)) by_due.push_back(r);
  REQUIRE(by_due.size() == 4);
  for (std::size_t i = 1; i < by_due.size(); ++i) CHECK(by_due[i - 1].due_at <= by_due[i].due_at);
  std::string most_urgent;  // the category with the shortest deadline of the three
  std::int64_t shortest = 1 << 30;
  for (const auto& c : client().reports().categories())
    if ((c.code == "street_light" || c.code == "power_outage" || c.code == "flooding") && c.sla_hours < shortest)
      shortest = c.sla_hours, most_urgent = c.code;
  CHECK(by_due.front().category == most_urgent);

  q.created_from = "yesterday";
  try {
    (void)client().reports().list_page(q);
    FAIL("expected ValidationError");
  } catch (const hues::ValidationError& e) {
    CHECK(e.field() == "created_from");
  }
}

TEST_CASE("duplicate hints: the operation and the create response, nearest first, Vietnamese intact") {
  const std::string m = search_marker();
  const double lat = 16.585, lon = 107.715, per_m = 1.0 / 111195.0;  // away from the seed
  const auto first = client().reports().create(new_report("road_damage", "Ổ gà sâu trên đường Lê Lợi " + m, lat, lon));
  const auto second =
      client().reports().create(new_report("road_damage", "Hố ga mất nắp " + m, lat + 25 * per_m, lon));
  client().reports().create(new_report("road_damage", "Xa hơn 50 m " + m, lat + 90 * per_m, lon));
  client().reports().create(new_report("noise", "Ồn ào " + m, lat, lon));
  REQUIRE(second.possible_duplicates.has_value());
  REQUIRE(second.possible_duplicates->size() == 1);
  CHECK(second.possible_duplicates->at(0).id == first.id);

  hues::DuplicateQuery dq;
  dq.category = "road_damage";
  dq.lat = lat + 20 * per_m;
  dq.lon = lon;
  auto hints = client().reports().duplicates(dq);
  REQUIRE(hints.size() == 2);
  CHECK(hints[0].id == second.id);
  CHECK(hints[0].distance_m == doctest::Approx(5).epsilon(0.05));
  CHECK(hints[1].id == first.id);
  CHECK(hints[1].distance_m == doctest::Approx(20).epsilon(0.05));
  CHECK(hints[1].description == "Ổ gà sâu trên đường Lê Lợi " + m);
  CHECK(hints[1].status == hues::ReportStatus::kSubmitted);
  CHECK_FALSE(client().reports().get(second.id).possible_duplicates.has_value());
}
