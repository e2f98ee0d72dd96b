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
