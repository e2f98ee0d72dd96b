// The Hue-S SDK in one story, against the sandbox started in this process (the seed's own
// story): a citizen reports a bar taking over the pavement near Đông Ba market; the IOC
// routes it to the ward; the ward answers without the violation record; the IOC sends the
// answer back for it; the ward answers again with the record; the IOC publishes it; the
// citizen rates it. Three people, each signed in through the sandbox's identity provider
// with the device flow. Then the report's timeline and the IOC's figures for the day.
#include <hues/hues.h>
#include <hues/testing/sandbox.h>

#include <ctime>
#include <iomanip>
#include <iostream>
#include <map>
#include <regex>
#include <thread>

namespace {

// Plays the person's phone: opens the verification page and approves with their seeded
// account (password HueS-demo-2025), using plain HTTP; the form's CSRF token is bound to a
// cookie, so the page is fetched first.
void approve_on_phone(const hues::testing::Sandbox& sandbox, const hues::DeviceAuthorization& device,
                      const std::string& username) {
  hues::ClientOptions o;
  o.ca_file = sandbox.ca_file();
  auto http = hues::make_default_transport(o);
  hues::AttemptContext ctx;
  ctx.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  hues::HttpRequest page;
  page.method = "GET";
  page.url = device.verification_uri_complete;
  auto form = http->send(page, ctx);
  std::smatch csrf;
  std::regex_search(form.body, csrf, std::regex(R"re(name="csrf_token" value="([^"]*)")re"));
  hues::HttpRequest req;
  req.method = "POST";
  req.url = sandbox.tls_url() + "/device";
  req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  req.headers.emplace_back("Cookie", form.header("Set-Cookie").substr(0, form.header("Set-Cookie").find(';')));
  req.body = "csrf_token=" + csrf[1].str() + "&user_code=" + device.user_code + "&username=" + username +
             "&password=HueS-demo-2025&decision=approve";
  http->send(req, ctx);
}

// A client acting as one person, signed in with the device flow (RFC 8628) as a kiosk or
// an agency's desktop tool would.
struct Person {
  hues::Client client;
  hues::CitizenProfile me;
};

Person sign_in(const hues::testing::Sandbox& sandbox, const std::string& username) {
  hues::OidcOptions oidc_options;
  oidc_options.issuer = sandbox.tls_url();
  oidc_options.client_id = "hues-cli";
  oidc_options.http.ca_file = sandbox.ca_file();  // over TLS, trusting the sandbox's development CA
  auto oidc = std::make_shared<hues::OidcClient>(oidc_options);
  auto device = oidc->start_device_authorization("openid profile offline_access reports:read reports:write");
  std::thread phone([&] { approve_on_phone(sandbox, device, username); });
  auto tokens = oidc->poll_device_token(device);
  phone.join();
  oidc->validate_id_token(tokens.id_token);
  hues::ClientOptions options;
  options.base_url = sandbox.tls_url();
  options.ca_file = sandbox.ca_file();
  // Every call carries the person's token, refreshed when due.
  options.credentials = std::make_shared<hues::UserCredentials>(oidc, hues::make_memory_token_store(), username, tokens);
  hues::Client client(options);
  auto me = client.me();
  return {client, me};
}

std::string etag(const hues::Report& r) { return "\"" + std::to_string(r.version) + "\""; }

// "2026-12-01T02:16:16Z" as Huế time (UTC+7): "01/12 09:16".
std::string hue_time(const std::string& utc) {
  std::tm tm{};
  strptime(utc.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::time_t t = timegm(&tm) + 7 * 3600;
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%d/%m %H:%M", &tm);
  return buf;
}

const char* state_vi(const std::string& s) {
  static const std::map<std::string, const char*> names = {
      {"submitted", "Đã gửi"},          {"received", "IOC tiếp nhận"},   {"assigned", "Đã chuyển xử lý"},
      {"in_progress", "Đang xử lý"},    {"responded", "Đã trả lời"},     {"returned", "IOC trả lại"},
      {"resolved", "Đã công khai"},     {"rated", "Đã đánh giá"},        {"rejected", "Từ chối"},
      {"duplicate", "Trùng lặp"},       {"transfer_requested", "Xin chuyển đơn vị"}};
  auto it = names.find(s);
  return it == names.end() ? "?" : it->second;
}

// Pads to width characters (code points, not bytes: Vietnamese letters take two or three).
std::string pad(std::string s, std::size_t width) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  if (n < width) s.append(width - n, ' ');
  return s;
}

std::string duration_vi(std::int64_t s) {
  if (s < 60) return std::to_string(s) + " giây";
  if (s < 3600) return std::to_string(s / 60) + " phút";
  return std::to_string(s / 3600) + " giờ " + std::to_string(s % 3600 / 60) + " phút";
}

const char* role_vi(const std::string& r) {
  return r == "citizen" ? "Người dân" : r == "ioc" ? "IOC" : r == "agency" ? "Đơn vị" : "Hệ thống";
}

}  // namespace

int main() try {
  hues::testing::Sandbox sandbox;  // real HTTP(S) server + SQLite on ephemeral ports, seeded
  std::cout << "Sandbox: " << sandbox.tls_url() << "\n\n1. Ba người đăng nhập (device flow):\n";
  Person citizen = sign_in(sandbox, "nguyen.van.an");
  Person ioc = sign_in(sandbox, "le.ioc");
  Person ward = sign_in(sandbox, "dongba.staff");
  for (const Person* p : {&citizen, &ioc, &ward})
    std::cout << "   " << p->me.name << " — " << role_vi(p->me.role.str())
              << (p->me.agency_code.empty() || p->me.agency_code == "IOC" ? std::string() : " " + p->me.agency_code)
              << "\n";

  // 2. The citizen reports; each later step is taken by its role, guarded by the report's ETag.
  hues::NewReport n;
  n.category = "urban_order";
  n.description = "Quán nhậu lấn chiếm vỉa hè, mở nhạc lớn sau 22 giờ — đường Trần Hưng Đạo, gần chợ Đông Ba";
  n.location = {16.4726, 107.5885, "Chợ Đông Ba, đường Trần Hưng Đạo", "Đông Ba"};
  auto r = citizen.client.reports().create(n);
  std::cout << "\n2. Phản ánh " << r.id << ": \"" << r.description << "\"\n";
  auto reports = [](Person& p) { return p.client.reports(); };
  r = reports(ioc).receive(r.id, etag(r), {"Đã tiếp nhận", {}});
  r = reports(ioc).assign(r.id, etag(r), {"UBND_DONG_BA", "Chuyển UBND phường Đông Ba xử lý"});
  r = reports(ward).accept(r.id, etag(r), {"Tổ trật tự đô thị đã nhận", {}});
  r = reports(ward).respond(r.id, etag(r), {"Công an phường đã lập biên bản vi phạm hành chính đối với chủ quán.", {}});
  r = reports(ioc).return_to_agency(r.id, etag(r), {"Đề nghị bổ sung biên bản vi phạm hành chính đã lập.", {}});
  // Attachments must now be media objects the ward uploaded (tus); the record joins this
  // answer once the SDK's upload client lands (issue 9).
  r = reports(ward).respond(r.id, etag(r), {"Gửi kèm biên bản vi phạm hành chính số 12/BB-VPHC.", {}});
  r = reports(ioc).approve(r.id, etag(r), {"Công khai kết quả xử lý", {}});
  r = reports(citizen).rate(r.id, {true, "Xử lý nhanh, cảm ơn!"});

  std::cout << "\n3. Dòng thời gian (giờ Huế):\n";
  const std::map<std::string, std::string> names = {
      {citizen.me.sub, citizen.me.name}, {ioc.me.sub, ioc.me.name}, {ward.me.sub, ward.me.name}};
  for (const auto& e : reports(citizen).timeline(r.id)) {
    auto who = names.find(e.actor);
    std::cout << "   " << hue_time(e.at) << "  " << pad(state_vi(e.status.str()), 18)
              << (who == names.end() ? e.actor : who->second) << " (" << role_vi(e.actor_role.str()) << ")"
              << (e.note.empty() ? "" : ": " + e.note)
              << (e.attachments.empty() ? "" : " [đính kèm " + e.attachments.front() + "]") << "\n";
  }

  // 4. The IOC's figures for the last 24 hours, the seed's reports included.
  auto utc = [](std::time_t t) {
    char buf[32];
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buf);
  };
  const std::time_t now = std::time(nullptr);
  hues::StatisticsQuery day;
  day.from = utc(now - 86400);
  day.to = utc(now + 60);
  auto s = ioc.client.statistics().report_statistics(day);
  std::cout << "\n4. Thống kê của IOC trong 24 giờ qua: " << s.total << " phản ánh mới, " << s.overdue
            << " quá hạn\n   ";
  const std::pair<const char*, std::int64_t> by_state[] = {
      {"submitted", s.by_state.submitted}, {"received", s.by_state.received}, {"assigned", s.by_state.assigned},
      {"in_progress", s.by_state.in_progress}, {"responded", s.by_state.responded}, {"returned", s.by_state.returned},
      {"resolved", s.by_state.resolved}, {"rated", s.by_state.rated}, {"rejected", s.by_state.rejected},
      {"duplicate", s.by_state.duplicate}, {"transfer_requested", s.by_state.transfer_requested}};
  const char* sep = "";
  for (const auto& [state, count] : by_state)
    if (count) std::cout << sep << state_vi(state) << " " << count, sep = ", ";
  std::cout << "\n";
  for (const auto& a : s.by_agency)
    std::cout << "   " << std::setw(3) << a.count << "  " << a.name
              << (a.overdue ? " (" + std::to_string(a.overdue) + " quá hạn)" : "") << "\n";
  if (s.median_handling_seconds)
    std::cout << "   Thời gian xử lý (trung vị, từ khi gửi đến khi công khai): " << duration_vi(*s.median_handling_seconds)
              << "\n";
  if (s.satisfaction_rate)
    std::cout << "   Hài lòng: " << s.satisfied << "/" << s.ratings << " (" << std::fixed << std::setprecision(0)
              << *s.satisfaction_rate * 100 << "%)\n";
  return r.status == hues::ReportStatus::kRated ? 0 : 1;
} catch (const hues::Error& e) {
  std::cerr << "hues error: " << hues::to_string(e.type()) << " " << e.code() << " (HTTP " << e.http_status()
            << ", request " << e.request_id() << "): " << e.message() << "\n";
  return 1;
}
