// The Hue-S SDK in six steps, against the sandbox started in this process: sign a citizen
// in with the device flow, list categories, report a broken street light in Vietnamese as
// that citizen, read it back, list reports near Đông Ba market, show the report's timeline
// and the utility companies that answer reports.
#include <hues/hues.h>
#include <hues/testing/sandbox.h>

#include <iomanip>
#include <iostream>
#include <regex>
#include <thread>

namespace {

// Plays the citizen's phone: opens the verification page and approves with the seeded test
// account, using plain HTTP (no browser needed in a demo). The form carries a CSRF token
// bound to a cookie, so the page is fetched first.
void approve_on_phone(const hues::testing::Sandbox& sandbox, const hues::DeviceAuthorization& device) {
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
  req.body = "csrf_token=" + csrf[1].str() + "&user_code=" + device.user_code +
             "&username=nguyen.van.an&password=HueS-demo-2025&decision=approve";
  http->send(req, ctx);
}

}  // namespace

int main() try {
  std::cout << std::setprecision(8);
  hues::testing::Sandbox sandbox;  // real HTTP(S) server + SQLite on ephemeral ports
  std::cout << "Sandbox running at " << sandbox.url() << " and " << sandbox.tls_url() << "\n";

  // 1. Sign in with the device flow (RFC 8628), as a kiosk or an in-car terminal would.
  hues::OidcOptions oidc_options;
  oidc_options.issuer = sandbox.tls_url();
  oidc_options.client_id = "hues-cli";
  oidc_options.http.ca_file = sandbox.ca_file();  // over TLS, trusting the sandbox's development CA
  auto oidc = std::make_shared<hues::OidcClient>(oidc_options);
  auto device = oidc->start_device_authorization("openid profile offline_access reports:read reports:write");
  std::cout << "\n1. Sign in: open " << device.verification_uri << " and enter " << device.user_code << "\n";
  std::thread phone([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    approve_on_phone(sandbox, device);
  });
  auto tokens = oidc->poll_device_token(device);
  phone.join();
  auto claims = oidc->validate_id_token(tokens.id_token);
  auto user = std::make_shared<hues::UserCredentials>(oidc, hues::make_memory_token_store(), "demo", tokens);

  hues::ClientOptions options;
  options.base_url = sandbox.tls_url();
  options.ca_file = sandbox.ca_file();
  options.credentials = user;  // every call carries the citizen's token, refreshed when due
  hues::Client client(options);
  auto me = client.me();
  std::cout << "   Signed in as " << me.name << " (" << me.role << ", verification level " << me.verification_level
            << ", ward " << me.ward << "); ID token from " << claims.iss << " verified\n";
  auto reports = client.reports();

  auto categories = reports.categories();
  std::cout << "\n2. " << categories.size() << " report categories:\n";
  for (const auto& c : categories)
    std::cout << "   " << c.code << " — " << c.name_vi << " (" << c.name_en << ") → " << c.agency_name
              << ", SLA " << c.sla_hours << " h\n";

  hues::NewReport report;
  report.category = categories.front().code;
  for (const auto& c : categories)
    if (c.code.find("light") != std::string::npos || c.code.find("den") != std::string::npos) report.category = c.code;
  report.description = "Đèn đường hỏng trước chợ Đông Ba, đường Trần Hưng Đạo, tối om từ 3 đêm nay.";
  report.location.lat = 16.4726;
  report.location.lon = 107.5885;
  report.location.address = "Chợ Đông Ba, 2 Trần Hưng Đạo";
  report.location.ward = "Đông Ba";
  auto created = reports.create(report);
  std::cout << "\n3. Created " << created.id << " [" << created.status << "] → " << created.agency_code << "\n   \""
            << created.description << "\"\n";

  auto fetched = reports.get(created.id);
  std::cout << "\n4. Read back " << fetched.id << ": text "
            << (fetched.description == report.description ? "identical" : "DIFFERENT") << ", at "
            << fetched.location.lat << "," << fetched.location.lon << " (" << fetched.location.ward << "), created "
            << fetched.created_at << "\n";

  hues::ReportQuery near;
  near.near_lat = 16.4726;
  near.near_lon = 107.5885;
  near.radius_m = 1000;
  near.limit = 5;
  std::cout << "\n5. Reports within 1 km of Đông Ba market:\n";
  int count = 0;
  for (const auto& r : reports.list(near)) {
    std::cout << "   " << r.id << " [" << r.status << "] " << r.location.address << ": " << r.description << "\n";
    ++count;
  }
  std::cout << "   (" << count << " in all)\n";

  std::cout << "\n6. Its timeline:\n";
  for (const auto& e : reports.timeline(created.id))
    std::cout << "   " << e.at << " " << e.status << " by " << e.actor_role << (e.note.empty() ? "" : ": " + e.note) << "\n";

  hues::AgencyQuery utilities;
  utilities.kind = hues::AgencyKind::kUtility;
  std::cout << "\n7. Utility companies that answer reports:\n";
  for (const auto& a : client.agencies().list(utilities))
    std::cout << "   " << a.code << " — " << a.name_vi << (a.phone.empty() ? "" : " (" + a.phone + ")") << "\n";

  std::cout << "\n8. Signing out revokes the tokens.\n";
  user->sign_out();
  return fetched.description == report.description ? 0 : 1;
} catch (const hues::Error& e) {
  std::cerr << "hues error: " << hues::to_string(e.type()) << " " << e.code() << " (HTTP " << e.http_status()
            << ", request " << e.request_id() << "): " << e.message() << "\n";
  return 1;
}
