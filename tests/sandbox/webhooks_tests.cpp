// The webhook worker's life inside in-process sandboxes: stop() ends an attempt in flight at
// once (a receiver that never answers cannot hold a test's sandbox), and the abandoned attempt
// is not logged as failed: after a restart on the same data directory it is sent again, with
// the same webhook-id. (tests/contract/test_webhooks.py covers the protocol.)
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "hues/testing/sandbox.h"
#include "test_client.h"

using namespace sandbox_test;

namespace {

// Accepts on 127.0.0.1; each connection's request goes to requests; answers with status,
// or never when status is 0.
struct Receiver {
  int fd = -1, port = 0;
  std::atomic<int> status{0};
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> requests;
  std::vector<int> open;
  std::thread acceptor;
  Receiver() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 16) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    acceptor = std::thread([this] {
      for (;;) {
        int c = ::accept(fd, nullptr, nullptr);
        if (c < 0) return;
        std::string got;
        char buf[4096];
        while (got.find("}") == std::string::npos) {  // the JSON body's end
          const ssize_t n = ::recv(c, buf, sizeof buf, 0);
          if (n <= 0) break;
          got.append(buf, static_cast<std::size_t>(n));
        }
        if (const int s = status.load()) {
          const std::string res = "HTTP/1.1 " + std::to_string(s) + " X\r\nContent-Length: 0\r\n\r\n";
          [[maybe_unused]] auto w = ::send(c, res.data(), res.size(), MSG_NOSIGNAL);
        }
        std::lock_guard<std::mutex> lk(mu);
        requests.push_back(got);
        open.push_back(c);
        cv.notify_all();
      }
    });
  }
  ~Receiver() {
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
    acceptor.join();
    for (int c : open) ::close(c);
  }
  std::string wait_request(std::size_t n) {
    std::unique_lock<std::mutex> lk(mu);
    REQUIRE(cv.wait_for(lk, std::chrono::seconds(20), [&] { return requests.size() >= n; }));
    return requests[n - 1];
  }
};

constexpr const char* kKey = "hk_test_hue_s_sandbox_0001";  // the seeded partner key

std::string header_of(const std::string& request, const std::string& name) {
  std::string lower = request;
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  const auto at = lower.find("\r\n" + name + ":");
  if (at == std::string::npos) return "";
  const auto start = request.find_first_not_of(' ', at + name.size() + 3);
  return request.substr(start, request.find("\r\n", start) - start);
}

}  // namespace

TEST_CASE("webhooks: stop() ends an attempt in flight, and a restart sends it again") {
  sandbox_test::TempDir dir;
  Receiver receiver;  // never answers at first
  hues::testing::SandboxOptions o;
  o.tls_port = -1;
  o.data_dir = dir.path;
  std::string endpoint_id, first_id;
  {
    hues::testing::Sandbox sb(o);
    sandbox_test::Client c(sb.port());
    const sandbox_test::Headers key = {{"X-Api-Key", kKey}};
    auto made = c.request(http::verb::post, "/v1/webhooks",
                          R"({"url":"http://127.0.0.1:)" + std::to_string(receiver.port) +
                              R"(/h","event_types":["report.status_changed"]})",
                          key);
    REQUIRE(made.result_int() == 201);
    endpoint_id = std::string(sandbox_test::json_of(made).at("id").as_string());
    auto report = c.request(http::verb::post, "/v1/reports",
                            R"({"category":"urban_order","description":"Lấn chiếm vỉa hè đường Chi Lăng",)"
                            R"("location":{"lat":16.47,"lon":107.59,"address":"Chi Lăng","ward":"Phú Hậu"}})",
                            key);
    REQUIRE(report.result_int() == 201);
    first_id = header_of(receiver.wait_request(1), "webhook-id");
    REQUIRE(first_id.rfind("msg_", 0) == 0);
    // The attempt waits on the receiver (deadline 15 s): stopping must not.
    auto stopped = std::async(std::launch::async, [&] { sb.stop(); });
    REQUIRE(stopped.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  }
  receiver.status = 200;
  hues::testing::Sandbox again(o);
  CHECK(header_of(receiver.wait_request(2), "webhook-id") == first_id);
  sandbox_test::Client c(again.port());
  const sandbox_test::Headers key = {{"X-Api-Key", kKey}};
  std::string body;
  for (int i = 0; i < 1000 && body.find("delivered") == std::string::npos; ++i) {
    body = c.request(http::verb::get, "/v1/webhooks/" + endpoint_id + "/deliveries", {}, key).body();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto log = boost::json::parse(body).at("items").as_array();
  REQUIRE(log.size() == 1);  // the abandoned attempt left no row
  CHECK(log[0].at("status_code").as_int64() == 200);
  CHECK(log[0].at("attempt").as_int64() == 1);
}

TEST_CASE("webhooks: many sandboxes start and stop in one process with the worker running") {
  for (int i = 0; i < 5; ++i) {
    hues::testing::SandboxOptions o;
    o.tls_port = -1;
    hues::testing::Sandbox sb(o);
    sandbox_test::Client c(sb.port());
    auto r = c.request(http::verb::get, "/v1/webhooks", {}, {{"X-Api-Key", kKey}});
    CHECK(r.result_int() == 200);
  }
}
