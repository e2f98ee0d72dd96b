// The Hue-S SDK in five steps, against the sandbox started in this process:
// list categories, report a broken street light in Vietnamese, read it back, list reports
// near Đông Ba market.
#include <hues/hues.h>
#include <hues/testing/sandbox.h>

#include <iomanip>
#include <iostream>

int main() try {
  std::cout << std::setprecision(8);
  hues::testing::Sandbox sandbox;  // real HTTP(S) server + SQLite on ephemeral ports
  std::cout << "Sandbox running at " << sandbox.url() << " and " << sandbox.tls_url() << "\n";

  hues::ClientOptions options;
  options.base_url = sandbox.tls_url();  // over TLS, trusting the sandbox's development CA
  options.ca_file = sandbox.ca_file();
  options.api_key = sandbox.api_key();
  hues::Client client(options);
  auto reports = client.reports();

  auto categories = reports.categories();
  std::cout << "\n1. " << categories.size() << " report categories:\n";
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
  std::cout << "\n2. Created " << created.id << " [" << created.status << "] → " << created.agency_code << "\n   \""
            << created.description << "\"\n";

  auto fetched = reports.get(created.id);
  std::cout << "\n3. Read back " << fetched.id << ": text "
            << (fetched.description == report.description ? "identical" : "DIFFERENT") << ", at "
            << fetched.location.lat << "," << fetched.location.lon << " (" << fetched.location.ward << "), created "
            << fetched.created_at << "\n";

  hues::ReportQuery near;
  near.near_lat = 16.4726;
  near.near_lon = 107.5885;
  near.radius_m = 1000;
  near.limit = 5;
  std::cout << "\n4. Reports within 1 km of Đông Ba market:\n";
  int count = 0;
  for (const auto& r : reports.list(near)) {
    std::cout << "   " << r.id << " [" << r.status << "] " << r.location.address << ": " << r.description << "\n";
    ++count;
  }
  std::cout << "   (" << count << " in all)\n\n5. Done.\n";
  return fetched.description == report.description ? 0 : 1;
} catch (const hues::Error& e) {
  std::cerr << "hues error: " << hues::to_string(e.type()) << " " << e.code() << " (HTTP " << e.http_status()
            << ", request " << e.request_id() << "): " << e.message() << "\n";
  return 1;
}
