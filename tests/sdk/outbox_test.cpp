// The offline outbox against the sandbox over real sockets: enqueue with nothing listening,
// delivery once the sandbox comes up (in order, once each, with the listener told), refusals
// that fail for good, cancel, reopen, credentials that cannot refresh, and kill -9.
#include <doctest/doctest.h>

#include <hues/hues.h>
#include <hues/testing/sandbox.h>

#include "fault_server.h"
#include "internal/crypto.h"
#include "test_support.h"
#include "tus_upload.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

extern char** environ;

namespace {

namespace fs = std::filesystem;

// A loopback port nothing listens on (bound, then closed), for "the network is gone".
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/hues-outbox-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const char* name) const { return (path / name).string(); }
};

// Records the listener's events, in the order they came, and on which thread.
struct Events : hues::OutboxListener {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<hues::OutboxItem> delivered_items, failed_items;
  void delivered(const hues::OutboxItem& item) override {
    std::lock_guard<std::mutex> lock(mu);
    delivered_items.push_back(item);
    cv.notify_all();
  }
  void failed(const hues::OutboxItem& item) override {
    std::lock_guard<std::mutex> lock(mu);
    failed_items.push_back(item);
    cv.notify_all();
  }
  bool wait_for(std::size_t delivered, std::size_t failed) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(30),
                       [&] { return delivered_items.size() >= delivered && failed_items.size() >= failed; });
  }
};

hues::ClientOptions offline_options(int port, const std::string& api_key) {
  hues::ClientOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(port);
  o.api_key = api_key;
  o.connect_timeout_ms = 1000;
  o.attempt_timeout_ms = 5000;
  o.deadline_ms = 8000;
  o.retry.initial_backoff_ms = 10;
  o.retry.max_backoff_ms = 50;
  return o;
}

hues::OutboxOptions fast(const std::string& path, std::shared_ptr<hues::OutboxListener> listener = nullptr) {
  hues::OutboxOptions o;
  o.path = path;
  o.listener = std::move(listener);
  o.initial_backoff_ms = 20;
  o.max_backoff_ms = 200;
  return o;
}

using hues_test::new_report;

std::string tag() {
  std::random_device rd;
  char buf[32];
  std::snprintf(buf, sizeof buf, "obx%08x", static_cast<unsigned>(rd()));
  return buf;
}

// A request head's Idempotency-Key line, lowercased ("" when it has none).
std::string idempotency_key_line(std::string head) {
  for (auto& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  auto at = head.find("idempotency-key:");
  return at == std::string::npos ? std::string() : head.substr(at, head.find("\r\n", at) - at);
}

// Every report in the sandbox whose text holds word (full-text search), description -> ids.
std::map<std::string, std::vector<std::string>> reports_with(hues::Client& client, const std::string& word) {
  std::map<std::string, std::vector<std::string>> out;
  hues::ReportQuery q;
  q.q = word;
  q.limit = 100;
  for (const auto& r : client.reports().list(q)) out[r.description].push_back(r.id);
  return out;
}

std::size_t count_state(const hues::OutboxItemList& list, const char* state) {
  std::size_t n = 0;
  for (const auto& i : list.items) n += i.state == state;
  return n;
}

}  // namespace

TEST_CASE("outbox: enqueued offline, delivered once and in order when the sandbox comes up") {
  TempDir dir;
  int port = free_port();
  auto events = std::make_shared<Events>();
  const std::string word = tag();
  const std::string vi = "Ngập sâu 40 cm trên đường Phan Đình Phùng, xe máy chết máy; cần hỗ trợ gấp! 🌧 " + word;
  std::vector<std::string> ids;
  {
    hues::Client offline(offline_options(port, "hk_test_hue_s_sandbox_0001"));
    hues::Outbox outbox(offline, fast(dir.file("outbox.db"), events));
    for (int i = 0; i < 5; ++i) ids.push_back(outbox.enqueue(new_report(vi + " #" + std::to_string(i))).local_id);
    CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == 5);
    CHECK_FALSE(outbox.wait_idle(300));  // nothing listens: still pending
    auto list = outbox.items();
    REQUIRE(list.items.size() == 5);
    for (std::size_t i = 0; i < 5; ++i) {
      CHECK(list.items[i].local_id == ids[i]);
      CHECK(list.items[i].state != "delivered");
      CHECK(list.items[i].report_id.empty());
      CHECK(list.items[i].report.description == vi + " #" + std::to_string(i));  // byte for byte
    }
    // The head's attempt ends with the refused connection, and it waits to try again.
    for (int i = 0; i < 1000 && list.items[0].last_error.empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      list = outbox.items();
    }
    CHECK(list.items[0].attempts >= 1);
    CHECK(list.items[0].last_error.find("connection") != std::string::npos);
    CHECK(list.items[1].attempts == 0);  // one at a time, oldest first: the rest wait their turn
    {
      std::lock_guard<std::mutex> lock(events->mu);
      CHECK(events->delivered_items.empty());
    }

    // The network returns: a sandbox on that very port.
    hues::testing::SandboxOptions so;
    so.port = port;
    so.tls_port = -1;
    hues::testing::Sandbox sb(so);
    outbox.flush();
    REQUIRE(outbox.wait_idle(30000));
    REQUIRE(events->wait_for(5, 0));
    list = outbox.items();
    REQUIRE(count_state(list, "delivered") == 5);

    hues::Client online(offline_options(port, sb.api_key()));
    auto held = reports_with(online, word);
    CHECK(held.size() == 5);
    std::lock_guard<std::mutex> lock(events->mu);
    REQUIRE(events->delivered_items.size() == 5);
    for (std::size_t i = 0; i < 5; ++i) {
      const auto& ev = events->delivered_items[i];
      CHECK(ev.local_id == ids[i]);  // in order
      CHECK(ev.state == "delivered");
      CHECK(ev.report_id == list.items[i].report_id);
      const std::string text = vi + " #" + std::to_string(i);
      REQUIRE(held[text].size() == 1);  // once
      CHECK(held[text][0] == ev.report_id);
      auto fetched = online.reports().get(ev.report_id);
      CHECK(fetched.description == text);
      CHECK(fetched.location.address == "Chợ Đông Ba, đường Trần Hưng Đạo");
      CHECK(fetched.location.ward == "Đông Ba");
    }
    // Reports are created in queue order.
    for (std::size_t i = 1; i < 5; ++i)
      CHECK(online.reports().get(list.items[i - 1].report_id).created_at <=
            online.reports().get(list.items[i].report_id).created_at);
    CHECK(events->failed_items.empty());
    CHECK(outbox.purge() == 5);
    CHECK(outbox.items().items.empty());
  }
}

TEST_CASE("outbox: a report the server refuses fails once, is not retried, and the queue goes on") {
  TempDir dir;
  auto events = std::make_shared<Events>();
  const std::string word = tag();
  hues::Client client(options_for(sandbox().url()));
  hues::Outbox outbox(client, fast(dir.file("outbox.db"), events));
  // Valid for the SDK's validator, refused by the server: it knows no such category.
  auto bad = outbox.enqueue(new_report("Danh mục không tồn tại " + word, "no_such_category"));
  auto good = outbox.enqueue(new_report("Đèn đường hỏng " + word));
  REQUIRE(outbox.wait_idle(30000));
  REQUIRE(events->wait_for(1, 1));
  auto list = outbox.items();
  REQUIRE(list.items.size() == 2);
  CHECK(list.items[0].local_id == bad.local_id);
  CHECK(list.items[0].state == "failed");
  CHECK(list.items[0].attempts == 1);
  CHECK(list.items[0].error_field == "category");
  CHECK(list.items[0].last_error.find("validation 400") != std::string::npos);
  CHECK(list.items[0].report_id.empty());
  CHECK(list.items[1].state == "delivered");
  CHECK_FALSE(list.items[1].report_id.empty());
  outbox.flush();
  CHECK(outbox.wait_idle(2000));
  CHECK(outbox.items().items[0].attempts == 1);  // never sent again
  std::lock_guard<std::mutex> lock(events->mu);
  REQUIRE(events->failed_items.size() == 1);
  CHECK(events->failed_items[0].local_id == bad.local_id);
  CHECK(events->failed_items[0].error_field == "category");
  REQUIRE(events->delivered_items.size() == 1);
  CHECK(events->delivered_items[0].local_id == good.local_id);
  CHECK_FALSE(outbox.cancel(bad.local_id));  // failed: no longer pending
}

TEST_CASE("outbox: enqueue validates and queues nothing on bad input; cancel; one process per file; 0600") {
  TempDir dir;
  int port = free_port();
  hues::Client offline(offline_options(port, "hk_test_hue_s_sandbox_0001"));
  auto path = dir.file("outbox.db");
  hues::Outbox outbox(offline, fast(path));
  auto e = hues_test::catch_error([&] { outbox.enqueue(new_report("")); });
  CHECK(e.type() == hues::ErrorType::kValidation);
  CHECK(e.field() == "report.description");
  auto r = new_report("Cây đổ chắn đường Lê Lợi");
  r.location.lat = 123;
  e = hues_test::catch_error([&] { outbox.enqueue(r); });
  CHECK(e.field() == "report.location.lat");
  CHECK(outbox.items().items.empty());

  auto a = outbox.enqueue(new_report("Rác chưa thu gom ở Vĩ Dạ"));
  auto b = outbox.enqueue(new_report("Đèn đường hỏng ở Kim Long"));
  CHECK(outbox.cancel(b.local_id));
  e = hues_test::catch_error([&] { outbox.cancel(b.local_id); });
  CHECK(e.type() == hues::ErrorType::kNotFound);
  CHECK(e.field() == "local_id");
  e = hues_test::catch_error([&] { outbox.cancel("not-an-id"); });
  CHECK(e.type() == hues::ErrorType::kNotFound);
  auto list = outbox.items();
  REQUIRE(list.items.size() == 1);
  CHECK(list.items[0].local_id == a.local_id);

  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  if (::stat((path + "-wal").c_str(), &st) == 0) CHECK((st.st_mode & 0777) == 0600);

  // A second opener (here, or another process) is refused while the first holds the file.
  e = hues_test::catch_error([&] { hues::Outbox second(offline, fast(path)); });
  CHECK(e.type() == hues::ErrorType::kValidation);
  CHECK(e.field() == "path");
  outbox.close();
  CHECK(hues_test::catch_error([&] { outbox.items(); }).type() == hues::ErrorType::kCancelled);

  // Reopened from its file: the pending item is there with its id and text.
  hues::Outbox reopened(offline, fast(path));
  list = reopened.items();
  REQUIRE(list.items.size() == 1);
  CHECK(list.items[0].local_id == a.local_id);
  CHECK(list.items[0].report.description == "Rác chưa thu gom ở Vĩ Dạ");
  CHECK((list.items[0].state == "pending" || list.items[0].state == "sending"));  // its sender may have it
  auto c = reopened.enqueue(new_report("Ngập nước ở Đập Đá"));
  CHECK(c.local_id != a.local_id);
  CHECK(c.local_id != b.local_id);  // ids are never reused, even of a cancelled item
}

namespace {

// Credentials that cannot give a usable credential until `ok`: first the token endpoint is
// unreachable (a transport error), then the token is refused (401).
struct FlakyCredentials : hues::CredentialsProvider {
  std::string key;
  std::atomic<int> mode{0};  // 0: transport error, 1: a wrong key (401), 2: fine
  void authorize(hues::HttpRequest& request) override {
    if (mode == 0) hues::throw_error(hues::ErrorType::kConnection, "token endpoint unreachable", 0, "refused", {}, {}, true);
    request.set_header("X-Api-Key", mode == 1 ? "hk_test_expired_0000" : key);
  }
};

}  // namespace

TEST_CASE("outbox: credentials that cannot refresh pause delivery instead of dropping items") {
  TempDir dir;
  auto creds = std::make_shared<FlakyCredentials>();
  creds->key = sandbox().api_key();
  auto o = options_for(sandbox().url());
  o.api_key.clear();
  o.credentials = creds;
  hues::Client client(o);
  auto events = std::make_shared<Events>();
  hues::Outbox outbox(client, fast(dir.file("outbox.db"), events));
  const std::string word = tag();
  auto item = outbox.enqueue(new_report("Biển báo bị đổ ở cầu Trường Tiền " + word));
  CHECK_FALSE(outbox.wait_idle(400));
  auto list = outbox.items();
  CHECK(list.items[0].state != "failed");
  CHECK(list.items[0].last_error.find("connection") != std::string::npos);
  creds->mode = 1;
  outbox.flush();
  CHECK_FALSE(outbox.wait_idle(400));
  list = outbox.items();
  CHECK(list.items[0].state != "failed");
  CHECK(list.items[0].last_error.find("authentication 401") != std::string::npos);
  auto attempts = list.items[0].attempts;
  CHECK(attempts >= 2);
  creds->mode = 2;
  outbox.flush();
  REQUIRE(outbox.wait_idle(30000));
  REQUIRE(events->wait_for(1, 0));
  list = outbox.items();
  CHECK(list.items[0].state == "delivered");
  CHECK(list.items[0].last_error.empty());
  std::lock_guard<std::mutex> lock(events->mu);
  CHECK(events->failed_items.empty());
  hues::Client reader(options_for(sandbox().url()));
  CHECK(reports_with(reader, word).size() == 1);
}

namespace {

pid_t spawn_child(const std::vector<std::string>& args, int stdout_fd = -1) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (stdout_fd >= 0)
    posix_spawn_file_actions_adddup2(&fa, stdout_fd, 1);
  else
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  return pid;
}

// Runs the child `rounds` times and kills each run with SIGKILL: the first at a random moment
// (while it enqueues, uploads or sends), each later one a random moment (0-10 ms) after its
// next delivery (the child tells each one on stdout), so those kills land mid-work however
// fast the machine is, as long as work is left. A run that finishes first is not killed.
// Returns the number of runs killed.
int kill_runs(const std::vector<std::string>& args, int rounds, int min_delay_ms, int max_delay_ms) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(min_delay_ms, max_delay_ms), jitter_ms(0, 10);
  int kills = 0, finished_early = 0;
  for (int round = 0; round < rounds; ++round) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_t pid = spawn_child(args, fds[1]);
    ::close(fds[1]);
    if (round == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    } else {
      pollfd p{fds[0], POLLIN, 0};
      char byte;
      if (::poll(&p, 1, 30000) == 1 && ::read(fds[0], &byte, 1) == 1)  // a delivery (EOF: it ended)
        std::this_thread::sleep_for(std::chrono::milliseconds(jitter_ms(rng)));
    }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {  // done before its kill came
      ::close(fds[0]);
      ++finished_early;
      REQUIRE(WIFEXITED(status));
      REQUIRE(WEXITSTATUS(status) == 0);
      continue;
    }
    ::kill(pid, SIGKILL);
    ::close(fds[0]);
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    kills += WIFSIGNALED(status) ? 1 : 0;
  }
  MESSAGE("killed " << kills << " times; " << finished_early << " runs finished before their kill");
  return kills;
}

}  // namespace

TEST_CASE("outbox: kill -9 at random moments while enqueueing and flushing 1,000 reports: each arrives once") {
  TempDir dir;
  const std::string word = tag();
  const std::string path = dir.file("outbox.db");
  const int total = 1000;
  const std::vector<std::string> args{HUES_OUTBOX_CHILD, path, sandbox().url(), sandbox().api_key(), word,
                                      std::to_string(total)};
  // The runs killed after a delivery each leave most of the 1,000 to do (20 of 20 are
  // killed even on a loaded machine); a floor, not the expected count.
  CHECK(kill_runs(args, 20, 20, 500) >= 10);
  // The last run goes to the end.
  pid_t pid = spawn_child(args);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);

  hues::Client client(options_for(sandbox().url()));
  auto held = reports_with(client, word);
  CHECK(held.size() == static_cast<std::size_t>(total));
  int missing = 0, twice = 0;
  for (int i = 0; i < total; ++i) {
    char text[160];
    std::snprintf(text, sizeof text, "Báo cáo ngoại tuyến số %04d — đèn đường hỏng ở Vỹ Dạ %s", i, word.c_str());
    auto it = held.find(text);
    if (it == held.end()) ++missing;
    else if (it->second.size() != 1) ++twice;
  }
  CHECK(missing == 0);
  CHECK(twice == 0);

  hues::Outbox outbox(client, fast(path));
  auto list = outbox.items();
  CHECK(list.items.size() == static_cast<std::size_t>(total));
  CHECK(count_state(list, "delivered") == static_cast<std::size_t>(total));
  std::set<std::string> report_ids;
  for (const auto& i : list.items) report_ids.insert(i.report_id);
  CHECK(report_ids.size() == static_cast<std::size_t>(total));
  CHECK(outbox.purge() == total);
  CHECK(outbox.items().items.empty());
}

// ---- media in the outbox ----

namespace {

std::string sha256_hex(const std::string& data) { return hues::internal::to_hex(hues::internal::sha256(data)); }

void write_file(const std::string& path, const std::string& data) {
  FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f);
  REQUIRE(std::fwrite(data.data(), 1, data.size(), f) == data.size());
  std::fclose(f);
}

hues::OutboxMedia photo_at(const std::string& path) {
  hues::OutboxMedia m;
  m.path = path;
  m.media_type = hues::MediaType::kPhoto;
  return m;
}

// The item's report as the server holds it, with the sha256 of each of its media.
std::vector<std::string> media_sha256(hues::Client& client, const std::string& report_id) {
  std::vector<std::string> out;
  for (const auto& id : client.reports().get(report_id).media) out.push_back(client.media().get(id).sha256);
  return out;
}

std::size_t finished_media_files(const std::string& data_dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(fs::path(data_dir) / "uploads"))
    n += e.path().extension() == ".content";
  return n;
}

}  // namespace

TEST_CASE("outbox: a report with a photo queued offline is delivered with its photo once the sandbox comes up") {
  TempDir dir;
  int port = free_port();
  auto events = std::make_shared<Events>();
  const std::string word = tag();
  const std::string photo = hues_test::jpeg_head(640, 480, 70000);
  const std::string photo_path = dir.file("ảnh-đèn-hỏng.jpg");
  write_file(photo_path, photo);
  hues::Client offline(offline_options(port, "hk_test_hue_s_sandbox_0001"));
  auto o = fast(dir.file("outbox.db"), events);
  o.media_chunk_size = 16384;  // several PATCHes
  hues::Outbox outbox(offline, o);
  auto item = outbox.enqueue(new_report("Đèn đường hỏng, có ảnh " + word), {photo_at(photo_path)});
  REQUIRE(item.media.size() == 1);
  CHECK(item.media[0].path == photo_path);
  CHECK(item.media[0].size == static_cast<std::int64_t>(photo.size()));
  CHECK(item.media_total == static_cast<std::int64_t>(photo.size()));
  CHECK(item.media_sent == 0);
  CHECK_FALSE(outbox.wait_idle(300));
  auto list = outbox.items();
  for (int i = 0; i < 1000 && list.items[0].last_error.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    list = outbox.items();
  }
  CHECK(list.items[0].state == "pending");
  CHECK(list.items[0].last_error.find("connection") != std::string::npos);
  CHECK(list.items[0].media_sent == 0);

  hues::testing::SandboxOptions so;
  so.port = port;
  so.tls_port = -1;
  hues::testing::Sandbox sb(so);
  outbox.flush();
  REQUIRE(outbox.wait_idle(30000));
  REQUIRE(events->wait_for(1, 0));
  list = outbox.items();
  REQUIRE(list.items.size() == 1);
  const auto& done = list.items[0];
  REQUIRE(done.state == "delivered");
  CHECK(done.media_sent == done.media_total);
  REQUIRE(done.media.size() == 1);
  CHECK_FALSE(done.media[0].media_id.empty());
  CHECK(done.report.media == std::vector<std::string>{done.media[0].media_id});  // the body sent
  hues::Client online(offline_options(port, sb.api_key()));
  auto held = reports_with(online, word);
  REQUIRE(held.size() == 1);
  REQUIRE(held.begin()->second.size() == 1);
  CHECK(held.begin()->second[0] == done.report_id);
  CHECK(online.reports().get(done.report_id).media == std::vector<std::string>{done.media[0].media_id});
  CHECK(media_sha256(online, done.report_id) == std::vector<std::string>{sha256_hex(photo)});
  CHECK(finished_media_files(sb.data_dir()) == 1);
}

TEST_CASE("outbox: media is checked at enqueue: a missing, unreadable or non-regular file queues nothing") {
  TempDir dir;
  hues::Client offline(offline_options(free_port(), "hk_test_hue_s_sandbox_0001"));
  hues::Outbox outbox(offline, fast(dir.file("outbox.db")));
  const std::string ok = dir.file("ok.jpg");
  write_file(ok, hues_test::jpeg_head(10, 10));
  auto e = hues_test::catch_error([&] { outbox.enqueue(new_report("Ảnh mất"), {photo_at(ok), photo_at(dir.file("none.jpg"))}); });
  CHECK(e.type() == hues::ErrorType::kValidation);
  CHECK(e.field() == "media[1].path");
  CHECK(e.code() == "file_not_found");
  e = hues_test::catch_error([&] { outbox.enqueue(new_report("Thư mục"), {photo_at(dir.path.string())}); });
  CHECK(e.field() == "media[0].path");
  if (::geteuid() != 0) {  // root reads anything
    const std::string locked = dir.file("locked.jpg");
    write_file(locked, "x");
    ::chmod(locked.c_str(), 0);
    e = hues_test::catch_error([&] { outbox.enqueue(new_report("Không đọc được"), {photo_at(locked)}); });
    CHECK(e.field() == "media[0].path");
    CHECK(e.code() == "file_unreadable");
  }
  e = hues_test::catch_error([&] { outbox.enqueue(new_report("Đường dẫn rỗng"), {photo_at("")}); });
  CHECK(e.field() == "media[0].path");
  CHECK(outbox.items().items.empty());
}

TEST_CASE("outbox: a file deleted or changed after enqueue fails its item for good; with copy_media it is delivered") {
  TempDir dir;
  int port = free_port();
  auto events = std::make_shared<Events>();
  const std::string word = tag();
  hues::Client offline(offline_options(port, "hk_test_hue_s_sandbox_0001"));
  const std::string a = dir.file("a.jpg"), b = dir.file("b.jpg"), c = dir.file("c.jpg");
  const std::string photo_c = hues_test::jpeg_head(30, 20, 5000);
  write_file(a, hues_test::jpeg_head(10, 10));
  write_file(b, hues_test::jpeg_head(20, 10));
  write_file(c, photo_c);
  std::string deleted_id, changed_id, copied_id;
  {
    hues::Outbox outbox(offline, fast(dir.file("plain.db"), events));
    deleted_id = outbox.enqueue(new_report("Tệp bị xoá " + word), {photo_at(a)}).local_id;
    changed_id = outbox.enqueue(new_report("Tệp bị sửa " + word), {photo_at(b)}).local_id;
  }
  {
    auto o = fast(dir.file("copies.db"), events);
    o.copy_media = true;
    hues::Outbox outbox(offline, o);
    auto item = outbox.enqueue(new_report("Tệp được sao " + word), {photo_at(c)});
    copied_id = item.local_id;
    REQUIRE(item.media.size() == 1);
    CHECK(item.media[0].copied);
    CHECK(item.media[0].path == c);
    CHECK(std::distance(fs::directory_iterator(dir.file("copies.db.media")), fs::directory_iterator()) == 1);
  }
  ::unlink(a.c_str());
  write_file(b, hues_test::jpeg_head(20, 10, 2100));  // another size
  ::unlink(c.c_str());                                 // the outbox has its copy

  hues::testing::SandboxOptions so;
  so.port = port;
  so.tls_port = -1;
  hues::testing::Sandbox sb(so);
  {
    hues::Outbox outbox(offline, fast(dir.file("plain.db"), events));
    REQUIRE(outbox.wait_idle(30000));
    auto list = outbox.items();
    REQUIRE(list.items.size() == 2);
    CHECK(list.items[0].state == "failed");
    CHECK(list.items[0].error_field == "media[0].path");
    CHECK(list.items[0].last_error.find("deleted after enqueue") != std::string::npos);
    CHECK(list.items[1].state == "failed");
    CHECK(list.items[1].error_field == "media[0].path");
    CHECK(list.items[1].last_error.find("changed after enqueue") != std::string::npos);
    const auto attempts = list.items[0].attempts;
    outbox.flush();
    CHECK(outbox.wait_idle(2000));
    CHECK(outbox.items().items[0].attempts == attempts);  // not retried
  }
  {
    auto o = fast(dir.file("copies.db"), events);
    o.copy_media = true;
    hues::Outbox outbox(offline, o);
    REQUIRE(outbox.wait_idle(30000));
    auto list = outbox.items();
    REQUIRE(list.items.size() == 1);
    REQUIRE(list.items[0].state == "delivered");
    hues::Client online(offline_options(port, sb.api_key()));
    CHECK(media_sha256(online, list.items[0].report_id) == std::vector<std::string>{sha256_hex(photo_c)});
    // Delivered: the copy is gone.
    CHECK(std::distance(fs::directory_iterator(dir.file("copies.db.media")), fs::directory_iterator()) == 0);
  }
  REQUIRE(events->wait_for(1, 2));
  std::lock_guard<std::mutex> lock(events->mu);
  CHECK(events->failed_items[0].local_id == deleted_id);
  CHECK(events->failed_items[1].local_id == changed_id);
  CHECK(events->delivered_items[0].local_id == copied_id);
}

TEST_CASE("outbox: media the server refuses for good (415 media_type_mismatch) fails the item, the queue goes on") {
  TempDir dir;
  auto events = std::make_shared<Events>();
  const std::string word = tag();
  hues::Client client(options_for(sandbox().url()));
  hues::Outbox outbox(client, fast(dir.file("outbox.db"), events));
  const std::string jpeg = dir.file("not-a-video.mp4");
  write_file(jpeg, hues_test::jpeg_head(40, 30));
  hues::OutboxMedia as_video = photo_at(jpeg);
  as_video.media_type = hues::MediaType::kVideo;  // a photo declared a video: the sandbox sniffs it
  auto bad = outbox.enqueue(new_report("Video giả " + word), {as_video});
  auto good = outbox.enqueue(new_report("Không có tệp " + word));
  REQUIRE(outbox.wait_idle(30000));
  REQUIRE(events->wait_for(1, 1));
  auto list = outbox.items();
  REQUIRE(list.items.size() == 2);
  CHECK(list.items[0].state == "failed");
  CHECK(list.items[0].error_field == "media[0].media_type");
  CHECK(list.items[0].last_error.find("415") != std::string::npos);
  CHECK(list.items[0].report_id.empty());
  CHECK(list.items[1].state == "delivered");
  CHECK(reports_with(client, word).size() == 1);  // only the good one
}

TEST_CASE("outbox: cancelling a pending item whose photo is half uploaded aborts and terminates its upload") {
  TempDir dir;
  // The relay lets the creation and the first PATCH through, then answers every PATCH 503:
  // the item is pending (backing off) with its upload half done.
  std::atomic<int> patches{0};
  hues_test::ScriptedRelay relay(sandbox().port(), [&](const std::string& req, int) -> std::optional<std::string> {
    if (req.rfind("PATCH ", 0) == 0 && patches++ >= 1) return hues_test::http_response(503, "{}");
    return std::nullopt;
  });
  hues::Client client(options_for(relay.url()));
  auto o = fast(dir.file("outbox.db"));
  o.media_chunk_size = 4096;
  o.initial_backoff_ms = 200;
  hues::Outbox outbox(client, o);
  const std::string path = dir.file("photo.jpg");
  write_file(path, hues_test::jpeg_head(200, 100, 40000));
  auto item = outbox.enqueue(new_report("Hủy giữa chừng " + tag()), {photo_at(path)});
  auto list = outbox.items();
  for (int i = 0; i < 1500 && list.items[0].media_sent == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    list = outbox.items();
  }
  REQUIRE(list.items[0].media_sent == 4096);  // the first chunk
  CHECK(list.items[0].state == "pending");
  CHECK(outbox.cancel(item.local_id));
  CHECK(outbox.items().items.empty());
  // The upload's URL, as the POST's answer gave it, gets a tus DELETE.
  std::string upload_path;
  for (int i = 0; i < 500; ++i) {
    bool deleted = false;
    for (const auto& s : relay.seen()) {
      if (s.head.rfind("PATCH ", 0) == 0 && upload_path.empty()) upload_path = s.head.substr(6, s.head.find(' ', 6) - 6);
      if (!upload_path.empty() && s.head.rfind("DELETE " + upload_path + " ", 0) == 0) deleted = true;
    }
    if (deleted) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (i == 499) FAIL("no DELETE of " << upload_path);
  }
  // And the sandbox no longer knows it (a tus HEAD of a terminated upload: 404 or 410), once
  // the DELETE the relay passed on has reached it (a hang guard of 5 s, not a timing check).
  std::string answer;
  for (int i = 0; i < 100; ++i) {
    int fd = hues_test::connect_to(sandbox().port());
    REQUIRE(fd >= 0);
    hues_test::send_all(fd, "HEAD " + upload_path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\nX-Api-Key: " +
                                sandbox().api_key() + "\r\nConnection: close\r\n\r\n");
    answer = hues_test::read_message(fd, true);
    ::close(fd);
    if (answer.rfind("HTTP/1.1 404", 0) == 0 || answer.rfind("HTTP/1.1 410", 0) == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK((answer.rfind("HTTP/1.1 404", 0) == 0 || answer.rfind("HTTP/1.1 410", 0) == 0));
}

TEST_CASE("outbox: 5xx and 429 (Retry-After honoured) back off and deliver exactly once, never fail") {
  TempDir dir;
  const std::string word = tag();
  // The first two creates get 503, the third 429 with Retry-After: 1, the rest reach the sandbox.
  std::atomic<int> creates{0};
  hues_test::ScriptedRelay relay(sandbox().port(), [&](const std::string& req, int) -> std::optional<std::string> {
    if (req.rfind("POST /v1/reports ", 0) != 0) return std::nullopt;
    int n = creates++;
    if (n < 2) return hues_test::http_response(503, R"({"error":{"code":"unavailable","message":"down"}})");
    if (n == 2)
      return hues_test::http_response(429, R"({"error":{"code":"rate_limited","message":"slow down"}})", "Retry-After: 1\r\n");
    return std::nullopt;
  });
  auto co = options_for(relay.url());
  co.retry.max_attempts = 1;  // the outbox's own backoff, not the client's
  hues::Client client(co);
  auto events = std::make_shared<Events>();
  hues::Outbox outbox(client, fast(dir.file("outbox.db"), events));
  auto item = outbox.enqueue(new_report("Thử lại khi máy chủ bận " + word));
  REQUIRE(outbox.wait_idle(30000));
  REQUIRE(events->wait_for(1, 0));
  auto list = outbox.items();
  REQUIRE(list.items.size() == 1);
  CHECK(list.items[0].state == "delivered");
  CHECK(list.items[0].attempts == 4);
  CHECK(events->failed_items.empty());
  hues::Client reader(options_for(sandbox().url()));
  auto held = reports_with(reader, word);
  REQUIRE(held.size() == 1);
  CHECK(held.begin()->second.size() == 1);
  // Every attempt carried the same Idempotency-Key; the one after the 429 waited its Retry-After
  // (the backoff alone is at most 200 ms here).
  std::vector<hues_test::ScriptedRelay::Seen> posts;
  for (const auto& s : relay.seen())
    if (s.head.rfind("POST /v1/reports ", 0) == 0) posts.push_back(s);
  REQUIRE(posts.size() == 4);
  CHECK_FALSE(idempotency_key_line(posts[0].head).empty());
  for (const auto& p : posts) CHECK(idempotency_key_line(p.head) == idempotency_key_line(posts[0].head));
  CHECK(posts[3].at - posts[2].at >= std::chrono::milliseconds(990));
}

// retry: a refusal the app can fix (here a 403 the first time) fails the item for good; retry
// queues it again with a fresh Idempotency-Key and it is delivered once, with its photo, while
// the items after it went on meanwhile. Retrying an item that is not failed is false.
TEST_CASE("outbox: retry queues a failed item again with a new key; it is delivered once with its photo") {
  TempDir dir;
  const std::string word = tag();
  std::atomic<bool> refuse{true};
  hues_test::ScriptedRelay relay(sandbox().port(), [&](const std::string& req, int) -> std::optional<std::string> {
    if (req.rfind("POST /v1/reports ", 0) != 0 || req.find("Bị từ chối lần đầu") == std::string::npos) return std::nullopt;
    if (!refuse.exchange(false)) return std::nullopt;
    return hues_test::http_response(403, R"({"error":{"code":"role_not_allowed","message":"not now"}})");
  });
  auto co = options_for(relay.url());
  co.retry.max_attempts = 1;
  hues::Client client(co);
  auto events = std::make_shared<Events>();
  hues::Outbox outbox(client, fast(dir.file("outbox.db"), events));
  const std::string photo = dir.file("p.jpg");
  const std::string bytes = hues_test::jpeg_head(40, 30, 3000);
  write_file(photo, bytes);
  auto refused = outbox.enqueue(new_report("Bị từ chối lần đầu " + word), {photo_at(photo)});
  auto after = outbox.enqueue(new_report("Đi tiếp sau nó " + word));
  REQUIRE(outbox.wait_idle(30000));
  auto list = outbox.items();
  REQUIRE(list.items.size() == 2);
  REQUIRE(list.items[0].state == "failed");
  CHECK(list.items[0].last_error.find("403") != std::string::npos);
  CHECK(list.items[1].state == "delivered");
  CHECK_FALSE(outbox.retry(after.local_id));  // delivered: not failed
  CHECK_THROWS_AS(outbox.retry("obx_999999"), hues::NotFoundError);

  REQUIRE(outbox.retry(refused.local_id));
  REQUIRE(outbox.wait_idle(30000));
  list = outbox.items();
  REQUIRE(list.items[0].state == "delivered");
  CHECK(list.items[0].attempts == 1);   // counted again from the retry
  CHECK(list.items[0].last_error.empty());
  CHECK_FALSE(outbox.retry(refused.local_id));
  hues::Client reader(options_for(sandbox().url()));
  auto held = reports_with(reader, word);
  REQUIRE(held.size() == 2);  // each report once
  CHECK(media_sha256(reader, list.items[0].report_id) == std::vector<std::string>{sha256_hex(bytes)});
  // The retry went with another key than the refused attempt.
  std::vector<std::string> keys;
  for (const auto& s : relay.seen())
    if (s.head.rfind("POST /v1/reports ", 0) == 0) keys.push_back(idempotency_key_line(s.head));
  REQUIRE(keys.size() == 3);  // refused, the next item, the retry
  CHECK_FALSE(keys[0].empty());
  CHECK(keys[2] != keys[0]);
  std::lock_guard<std::mutex> lock(events->mu);
  CHECK(events->failed_items.size() == 1);
  CHECK(events->delivered_items.size() == 2);
}

TEST_CASE("outbox: kill -9 between and within uploads: each report once, with exactly its photo, no upload twice") {
  TempDir dir;
  // A sandbox of its own: its finished media files are counted.
  hues::testing::SandboxOptions so;
  so.tls_port = -1;
  hues::testing::Sandbox sb(so);
  const std::string word = tag();
  const std::string path = dir.file("outbox.db");
  const int total = 50;
  const std::vector<std::string> args{HUES_OUTBOX_CHILD, path, sb.url(), sb.api_key(), word, std::to_string(total),
                                      dir.path.string()};
  // Each run killed after a delivery leaves work to do, but the listener's byte may come a few
  // deliveries late, so a run can deliver several of the 50 (9 to 15 of 15 runs are killed,
  // loaded machine or not); a floor, not the expected count.
  CHECK(kill_runs(args, 15, 30, 400) >= 5);
  pid_t pid = spawn_child(args);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);

  hues::Client client(options_for(sb.url()));
  auto held = reports_with(client, word);
  CHECK(held.size() == static_cast<std::size_t>(total));
  std::set<std::string> media_ids;
  int wrong = 0;
  for (int i = 0; i < total; ++i) {
    char text[160];
    std::snprintf(text, sizeof text, "Báo cáo có ảnh số %04d ở Vỹ Dạ %s", i, word.c_str());
    auto it = held.find(text);
    REQUIRE(it != held.end());
    REQUIRE(it->second.size() == 1);  // once
    auto r = client.reports().get(it->second[0]);
    REQUIRE(r.media.size() == 1);  // exactly its photo
    media_ids.insert(r.media[0]);
    // The child wrote photo i from its number: the bytes the server holds are that file's.
    std::ifstream in(dir.path / ("photo-" + std::to_string(i) + ".jpg"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    wrong += client.media().get(r.media[0]).sha256 != sha256_hex(bytes);
  }
  CHECK(wrong == 0);
  CHECK(media_ids.size() == static_cast<std::size_t>(total));
  // No file was uploaded to the end twice (a kill after the server finished an upload resumes
  // it by HEAD, which names the finished medium).
  CHECK(finished_media_files(sb.data_dir()) == static_cast<std::size_t>(total));
  hues::Outbox outbox(client, fast(path));
  CHECK(count_state(outbox.items(), "delivered") == static_cast<std::size_t>(total));
}
