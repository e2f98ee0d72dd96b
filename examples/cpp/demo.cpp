// The Hue-S SDK in one story, against the sandbox started in this process (the seed's own
// story): a citizen reports a bar taking over the pavement near Đông Ba market; the IOC
// routes it to the ward; the ward answers without the violation record; the IOC sends the
// answer back for it; the ward answers again with the record; the IOC publishes it; the
// citizen rates it. Three people, each signed in through the sandbox's identity provider
// with the device flow. The citizen's photo goes up first, resumably (tus), with a progress
// bar; the ward's violation record is uploaded too. A partner, the Huế taxi company, has
// registered a webhook and hears every change, verified; one of its drivers reports a rockfall
// on a pass with no signal, and the phone's outbox delivers it once the signal is back.
// Then the report's timeline, the webhooks the partner received, the events the citizen's
// app saw on its live stream (Server-Sent Events), and the IOC's figures.
#include <hues/hues.h>
#include <hues/testing/sandbox.h>
#include <hues/upload.h>

#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <thread>
#include <vector>

#include "demo_props.h"

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

// A file's bytes written where the phone keeps its pictures (the demo's temporary directory).
std::string save(const std::filesystem::path& dir, const std::string& name, const std::string& bytes) {
  std::ofstream(dir / name, std::ios::binary) << bytes;
  return (dir / name).string();
}

// A tus upload; with bar, a progress bar drawn on the terminal, chunk by chunk.
hues::UploadResult upload(const hues::Client& client, const std::string& path, const std::string& media_type,
                          const std::string& filetype, std::int64_t chunk_size, bool bar) {
  hues::UploadOptions o;
  o.path = path;
  o.media_type = media_type;
  o.filetype = filetype;
  o.chunk_size = chunk_size;
  if (bar) o.progress = hues::progress_listener([](const hues::UploadProgress& p) {
    const int width = 30, done = p.total ? int(p.uploaded * width / p.total) : width;
    std::cout << "\r   [" << std::string(std::size_t(done), '#') << std::string(std::size_t(width - done), '.') << "] "
              << std::setw(3) << (p.total ? p.uploaded * 100 / p.total : 100) << "%  " << p.uploaded / 1024 << "/"
              << p.total / 1024 << " KiB" << std::flush;
  });
  hues::Upload up(client, o);
  auto r = up.start();
  if (bar) std::cout << "\n";
  return r;
}

// What the partner's backend keeps of each webhook: the event, verified, or why it was refused.
struct Inbox {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<hues::WebhookVerifier> verifier;  // set once the endpoint's secret is known
  std::vector<hues::WebhookEvent> events;
  std::string tampered_refusal;  // what the verifier said of a copy with one byte changed

  void on_post(const std::string& body, const std::map<std::string, std::string>& headers) {
    std::lock_guard<std::mutex> lk(mu);
    if (!verifier) return;
    if (tampered_refusal.empty()) {
      std::string forged = body;
      forged[forged.find("\"report_id\":\"") + 14] ^= 1;
      try {
        verifier->verify(forged, headers);
      } catch (const hues::WebhookVerificationError& e) {
        tampered_refusal = e.code();
      }
    }
    try {
      events.push_back(verifier->verify(body, headers));  // the raw bytes, as received
    } catch (const hues::WebhookVerificationError& e) {
      std::cerr << "webhook refused: " << e.code() << "\n";
    }
    cv.notify_all();
  }
  // Waits (at most 10 s) until `count` events about report_id have come.
  std::vector<hues::WebhookEvent> about(const std::string& report_id, std::size_t count) {
    std::unique_lock<std::mutex> lk(mu);
    std::vector<hues::WebhookEvent> mine;
    cv.wait_for(lk, std::chrono::seconds(10), [&] {
      mine.clear();
      for (const auto& e : events)
        if (e.data.report_id == report_id) mine.push_back(e);
      return mine.size() >= count;
    });
    return mine;
  }
};

// Hears the outbox's deliveries (on the SDK's host executor).
struct OutboxEvents : hues::OutboxListener {
  std::promise<hues::OutboxItem> delivered_item;
  void delivered(const hues::OutboxItem& item) override { delivered_item.set_value(item); }
  void failed(const hues::OutboxItem& item) override {
    delivered_item.set_exception(std::make_exception_ptr(std::runtime_error("outbox: " + item.last_error)));
  }
};

}  // namespace

int main() try {
  // The phones' storage (the photo, the record, the taxi's outbox), removed when the story ends.
  char dir_template[] = "/tmp/hues-demo-XXXXXX";
  struct Dir {
    std::filesystem::path path;
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } phone{mkdtemp(dir_template) ? dir_template : throw std::runtime_error("cannot make a temporary directory")};

  hues::testing::Sandbox sandbox;  // real HTTP(S) server + SQLite on ephemeral ports, seeded
  std::cout << "Sandbox: " << sandbox.tls_url() << "\n\n1. Ba người đăng nhập (device flow):\n";
  Person citizen = sign_in(sandbox, "nguyen.van.an");
  Person ioc = sign_in(sandbox, "le.ioc");
  Person ward = sign_in(sandbox, "dongba.staff");
  for (const Person* p : {&citizen, &ioc, &ward})
    std::cout << "   " << p->me.name << " — " << role_vi(p->me.role.str())
              << (p->me.agency_code.empty() || p->me.agency_code == "IOC" ? std::string() : " " + p->me.agency_code)
              << "\n";

  // The citizen's app follows the reports it may see, live: Server-Sent Events (GET /v1/events)
  // through the SDK's subscription, which reconnects by itself and resumes with Last-Event-ID.
  // since=0 replays the history first, so nothing the story does can race the connection.
  struct Live {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<hues::ReportEvent> events;
    // The events about one report, waiting (at most 10 s) until count of them have arrived.
    std::vector<hues::ReportEvent> about(const std::string& report_id, std::size_t count) {
      std::unique_lock<std::mutex> lk(mu);
      std::vector<hues::ReportEvent> mine;
      cv.wait_for(lk, std::chrono::seconds(10), [&] {
        mine.clear();
        for (const auto& e : events)
          if (e.report_id == report_id) mine.push_back(e);
        return mine.size() >= count;
      });
      return mine;
    }
  } live;
  hues::EventSubscription subscription = citizen.client.events().stream([&](const hues::ReportEvent& e) {
    {
      std::lock_guard<std::mutex> lk(live.mu);
      live.events.push_back(e);
    }
    live.cv.notify_all();
  }, hues::EventStreamQuery{"0"});

  // 2. A partner backend registers a webhook endpoint: its own small HTTP server, which
  // verifies every delivery (Standard Webhooks signature, timestamp, replay) before trusting it.
  Inbox inbox;
  demo::WebhookReceiver receiver([&](const std::string& body, const std::map<std::string, std::string>& headers) {
    inbox.on_post(body, headers);
  });
  hues::ClientOptions partner_options;
  partner_options.base_url = sandbox.tls_url();
  partner_options.ca_file = sandbox.ca_file();
  partner_options.api_key = sandbox.api_key();  // the partner's key (never printed)
  hues::Client partner(partner_options);
  auto endpoint = partner.webhooks().create_endpoint(
      {receiver.url(), {hues::WebhookEventType::kReportStatusChanged}, "Taxi Huế: trạng thái phản ánh"});
  {
    std::lock_guard<std::mutex> lk(inbox.mu);
    inbox.verifier.emplace(hues::WebhookVerifierOptions{{endpoint.secret}});  // shown once; kept, never printed
  }
  std::cout << "\n2. Taxi Huế (đối tác) đăng ký webhook " << endpoint.id << " → " << receiver.url()
            << "\n   Khoá ký whsec_… chỉ trả về một lần: máy chủ đối tác giữ để xác minh, không in ra.\n";

  // 3. The citizen photographs the pavement and uploads the photo (tus, resumable), then
  // reports with it attached; each later step is taken by its role, guarded by the ETag.
  const std::string photo_path = save(phone.path, "IMG_20261201_0916.jpg", demo::street_photo());
  std::cout << "\n3. Anh An chụp ảnh vỉa hè (" << std::filesystem::file_size(photo_path) / 1024
            << " KiB) và tải lên từng phần 16 KiB:\n";
  auto uploaded = upload(citizen.client, photo_path, "photo", "image/jpeg", 16 << 10, true);
  auto photo = citizen.client.media().get(uploaded.media_id);
  std::cout << "   Ảnh " << photo.id << ": " << photo.content_type << " " << photo.width.value_or(0) << "×"
            << photo.height.value_or(0) << ", sha256 " << photo.sha256.substr(0, 16) << "…\n";
  hues::NewReport n;
  n.category = "urban_order";
  n.description = "Quán nhậu lấn chiếm vỉa hè, mở nhạc lớn sau 22 giờ — đường Trần Hưng Đạo, gần chợ Đông Ba";
  n.location = {16.4726, 107.5885, "Chợ Đông Ba, đường Trần Hưng Đạo", "Đông Ba"};
  n.media = {photo.id};
  auto r = citizen.client.reports().create(n);
  std::cout << "   Phản ánh " << r.id << ": \"" << r.description << "\" [ảnh " << r.media.front() << "]\n";
  auto reports = [](Person& p) { return p.client.reports(); };
  r = reports(ioc).receive(r.id, etag(r), {"Đã tiếp nhận", {}});
  r = reports(ioc).assign(r.id, etag(r), {"UBND_DONG_BA", "Chuyển UBND phường Đông Ba xử lý"});
  r = reports(ward).accept(r.id, etag(r), {"Tổ trật tự đô thị đã nhận", {}});
  r = reports(ward).respond(r.id, etag(r), {"Công an phường đã lập biên bản vi phạm hành chính đối với chủ quán.", {}});
  r = reports(ioc).return_to_agency(r.id, etag(r), {"Đề nghị bổ sung biên bản vi phạm hành chính đã lập.", {}});
  const std::string record_path =
      save(phone.path, "bien-ban-12-BB-VPHC.txt",
           "BIÊN BẢN VI PHẠM HÀNH CHÍNH số 12/BB-VPHC\nLấn chiếm vỉa hè để kinh doanh ăn uống, đường Trần Hưng Đạo.\n");
  auto record = upload(ward.client, record_path, "document", "text/plain", 32 << 10, false);
  std::cout << "   Phường tải biên bản lên: " << record.media_id << " (" << record.size << " byte)\n";
  r = reports(ward).respond(r.id, etag(r), {"Gửi kèm biên bản vi phạm hành chính số 12/BB-VPHC.", {record.media_id}});
  r = reports(ioc).approve(r.id, etag(r), {"Công khai kết quả xử lý", {}});
  r = reports(citizen).rate(r.id, {true, "Xử lý nhanh, cảm ơn!"});

  std::cout << "\n4. Dòng thời gian (giờ Huế):\n";
  const std::map<std::string, std::string> names = {
      {citizen.me.sub, citizen.me.name}, {ioc.me.sub, ioc.me.name}, {ward.me.sub, ward.me.name}};
  const auto timeline = reports(citizen).timeline(r.id);
  for (const auto& e : timeline) {
    auto who = names.find(e.actor);
    std::cout << "   " << hue_time(e.at) << "  " << pad(state_vi(e.status.str()), 18)
              << (who == names.end() ? e.actor : who->second) << " (" << role_vi(e.actor_role.str()) << ")"
              << (e.note.empty() ? "" : ": " + e.note)
              << (e.attachments.empty() ? "" : " [đính kèm " + e.attachments.front() + "]") << "\n";
  }

  // 5. A taxi driver of the partner reports from the Hải Vân pass, where there is no signal:
  // the app's outbox keeps the report on the phone (SQLite) and sends it when it can.
  std::string taxi_report;
  {
    demo::MobileNetwork network(sandbox.tls_port());  // refuses connections: no signal
    hues::ClientOptions o = partner_options;
    o.base_url = "https://127.0.0.1:" + std::to_string(network.port());
    o.deadline_ms = 5000;
    hues::Client taxi(o);
    auto heard = std::make_shared<OutboxEvents>();
    auto delivered = heard->delivered_item.get_future();
    hues::OutboxOptions oo;
    oo.path = (phone.path / "outbox.db").string();
    oo.listener = heard;
    oo.initial_backoff_ms = 200;
    oo.max_backoff_ms = 1000;
    hues::Outbox outbox(taxi, oo);
    hues::NewReport fallen;
    fallen.category = "road_damage";
    fallen.description = "Đá lở lấn nửa mặt đường đèo Hải Vân, phía Lăng Cô; xe đi chậm, nguy hiểm khi trời tối";
    fallen.location = {16.1956, 108.1278, "Đèo Hải Vân, quốc lộ 1A", "Lăng Cô"};
    auto item = outbox.enqueue(fallen);
    std::cout << "\n5. Tài xế Taxi Huế báo cáo từ đèo Hải Vân, nơi mất sóng:\n   Đã xếp hàng " << item.local_id
              << " (" << item.state.str() << ") ngay trên máy, không cần mạng\n";
    for (int i = 0; i < 250; ++i) {  // until the first attempt has failed (at most 5 s)
      auto now = outbox.items().items.front();
      if (now.attempts >= 1 && !now.last_error.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::cout << "   Chưa có sóng: lần gửi đầu không kết nối được, hàng đợi chờ rồi thử lại\n";
    network.signal_back();
    outbox.flush();
    if (delivered.wait_for(std::chrono::seconds(10)) != std::future_status::ready)
      throw std::runtime_error("the outbox did not deliver within 10 s");
    auto sent = delivered.get();
    taxi_report = sent.report_id;
    std::cout << "   Có sóng trở lại: " << sent.local_id << " đã gửi (" << sent.state.str()
              << "), máy chủ ghi nhận là phản ánh " << sent.report_id << "\n";
    outbox.close();
  }

  // 6. What the partner's backend heard: one verified webhook per change of the two reports.
  std::cout << "\n6. Webhook Taxi Huế nhận được (Standard Webhooks, chữ ký HMAC-SHA256 đã xác minh):\n";
  auto heard = inbox.about(r.id, timeline.size());
  for (const auto& e : inbox.about(taxi_report, 1)) heard.push_back(e);
  for (const auto& e : heard)
    std::cout << "   " << hue_time(e.timestamp) << "  " << e.type.str() << "  " << e.data.report_id << "  "
              << pad(state_vi(e.data.status ? e.data.status->str() : ""), 18) << "("
              << role_vi(e.data.actor_role ? e.data.actor_role->str() : "") << ")\n";
  {
    std::lock_guard<std::mutex> lk(inbox.mu);
    std::cout << "   Một bản bị sửa một byte trên đường đi: bị từ chối (" << inbox.tampered_refusal << ")\n";
  }
  partner.webhooks().delete_endpoint(endpoint.id);
  // The same story as the citizen's app saw it on its live stream, each event as it committed.
  const auto streamed = live.about(r.id, timeline.size());
  std::cout << "\n   Ứng dụng của anh An nhận trực tiếp (Server-Sent Events, " << streamed.size() << " sự kiện):\n";
  for (const auto& e : streamed)
    std::cout << "   #" << e.id << "  " << hue_time(e.at) << "  " << pad(e.type.str(), 22)
              << pad(state_vi(e.status.str()), 18) << "(" << role_vi(e.actor_role.str()) << ")\n";
  subscription.close();

  // 7. The IOC's figures for the last 24 hours, the seed's reports included.
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
  std::cout << "\n7. Thống kê của IOC trong 24 giờ qua: " << s.total << " phản ánh mới, " << s.overdue
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
  return r.status == hues::ReportStatus::kRated && heard.size() == timeline.size() + 1 &&
                 streamed.size() == timeline.size()
             ? 0
             : 1;
} catch (const hues::Error& e) {
  std::cerr << "hues error: " << hues::to_string(e.type()) << " " << e.code() << " (HTTP " << e.http_status()
            << ", request " << e.request_id() << "): " << e.message() << "\n";
  return 1;
} catch (const std::exception& e) {
  std::cerr << "demo: " << e.what() << "\n";
  return 1;
}
