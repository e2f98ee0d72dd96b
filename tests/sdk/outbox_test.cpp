// The offline outbox against the sandbox over real sockets: enqueue with nothing listening,
// delivery once the sandbox comes up (in order, once each, with the listener told), refusals
// that fail for good, cancel, reopen, credentials that cannot refresh, and kill -9.
#include <doctest/doctest.h>

#include <hues/hues.h>
#include <hues/testing/sandbox.h>

#include "test_support.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
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
#include <map>
#include <mutex>
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

hues::NewReport report(const std::string& text, const std::string& category = "street_light") {
  hues::NewReport r;
  r.category = category;
  r.description = text;
  r.location.lat = 16.4726;
  r.location.lon = 107.5885;
  r.location.address = "Chợ Đông Ba, đường Trần Hưng Đạo";
  r.location.ward = "Đông Ba";
  return r;
}

std::string tag() {
  std::random_device rd;
  char buf[32];
  std::snprintf(buf, sizeof buf, "obx%08x", static_cast<unsigned>(rd()));
  return buf;
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
    for (int i = 0; i < 5; ++i) ids.push_back(outbox.enqueue(report(vi + " #" + std::to_string(i))).local_id);
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
  auto bad = outbox.enqueue(report("Danh mục không tồn tại " + word, "no_such_category"));
  auto good = outbox.enqueue(report("Đèn đường hỏng " + word));
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
  auto e = hues_test::catch_error([&] { outbox.enqueue(report("")); });
  CHECK(e.type() == hues::ErrorType::kValidation);
  CHECK(e.field() == "report.description");
  auto r = report("Cây đổ chắn đường Lê Lợi");
  r.location.lat = 123;
  e = hues_test::catch_error([&] { outbox.enqueue(r); });
  CHECK(e.field() == "report.location.lat");
  CHECK(outbox.items().items.empty());

  auto a = outbox.enqueue(report("Rác chưa thu gom ở Vĩ Dạ"));
  auto b = outbox.enqueue(report("Đèn đường hỏng ở Kim Long"));
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
  auto c = reopened.enqueue(report("Ngập nước ở Đập Đá"));
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
  auto item = outbox.enqueue(report("Biển báo bị đổ ở cầu Trường Tiền " + word));
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

pid_t spawn_child(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  return pid;
}

}  // namespace

TEST_CASE("outbox: kill -9 at random moments while enqueueing and flushing 1,000 reports: each arrives once") {
  TempDir dir;
  const std::string word = tag();
  const std::string path = dir.file("outbox.db");
  const int total = 1000;
  const std::vector<std::string> args{HUES_OUTBOX_CHILD, path, sandbox().url(), sandbox().api_key(), word,
                                      std::to_string(total)};
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(20, 500);
  int kills = 0, finished_early = 0;
  for (int round = 0; round < 20; ++round) {
    pid_t pid = spawn_child(args);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {  // done before its kill came
      ++finished_early;
      REQUIRE(WIFEXITED(status));
      REQUIRE(WEXITSTATUS(status) == 0);
      continue;
    }
    ::kill(pid, SIGKILL);
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    kills += WIFSIGNALED(status) ? 1 : 0;
  }
  MESSAGE("killed " << kills << " times; " << finished_early << " runs finished before their kill");
  // Runs that find nothing left to do finish before their kill: how many depends on the
  // machine's speed, so only a few kills are required (each one mid-work).
  CHECK(kills >= 3);
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
