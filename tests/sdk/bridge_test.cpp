// The C boundary every binding uses (hues/c_api.h), driven the way a binding drives it,
// against the in-process sandbox over real sockets.
#include <doctest/doctest.h>

#include <hues/c_api.h>
#include <hues/testing/sandbox.h>

#include "fault_server.h"
#include "test_support.h"
#include "internal/bridge.h"
#include "internal/calls.h"
#include "internal/json_codec.h"
#include <poll.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

std::string take(hues_bytes& b) {
  std::string s(reinterpret_cast<const char*>(b.data), b.len);
  hues_bytes_free(&b);
  return s;
}

// Call ids in docs/openapi.yaml's order (the generator numbers HTTP operations first).
namespace ids = hues::internal::call_id;
constexpr std::uint32_t kCategories = ids::kReportsCategories, kCreate = ids::kReportsCreate, kList = ids::kReportsList,
                        kGet = ids::kReportsGet;

hues_handle new_client(const std::string& extra = "") {
  std::string cfg = "{\"base_url\":\"" + sandbox().url() + "\",\"api_key\":\"" + sandbox().api_key() + "\"" +
                    extra + "}";
  hues_handle h = 0;
  hues_bytes err{};
  int rc = hues_object_new("Client", reinterpret_cast<const std::uint8_t*>(cfg.data()), cfg.size(), &h, &err);
  if (rc != HUES_OK) FAIL(take(err));
  return h;
}

std::pair<int, std::string> call(hues_handle h, std::uint32_t id, const std::string& args) {
  hues_bytes out{};
  int rc = hues_call_sync(h, id, reinterpret_cast<const std::uint8_t*>(args.data()), args.size(), nullptr, 0,
                          nullptr, &out);
  return {rc, take(out)};
}

struct Collected {
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::uint64_t, std::pair<int, std::string>> done;
  std::atomic<int> calls{0};
};

void collect(void* ctx, std::uint64_t tag, int status, const std::uint8_t* data, std::size_t len) {
  auto* c = static_cast<Collected*>(ctx);
  std::lock_guard<std::mutex> lock(c->mu);
  c->calls++;
  c->done[tag] = {status, std::string(reinterpret_cast<const char*>(data), len)};
  c->cv.notify_all();
}

}  // namespace

TEST_CASE("bridge: create, get and errors cross as JSON, Vietnamese byte for byte") {
  auto h = new_client();
  std::string text = "Đèn đường hỏng trước chợ Đông Ba";
  auto [rc, body] = call(h, kCreate,
                         "{\"body\":{\"category\":\"street_light\",\"description\":\"" + text +
                             "\",\"location\":{\"lat\":16.4726,\"lon\":107.5885}}}");
  REQUIRE(rc == HUES_OK);
  CHECK(body.find(text) != std::string::npos);
  auto id_at = body.find("\"id\":\"") + 6;
  std::string id = body.substr(id_at, body.find('"', id_at) - id_at);
  auto [rc2, got] = call(h, kGet, "{\"id\":\"" + id + "\"}");
  CHECK(rc2 == HUES_OK);
  CHECK(got.find(id) != std::string::npos);

  auto [rc3, missing] = call(h, kGet, "{\"id\":\"rpt_missing\"}");
  CHECK(rc3 == HUES_ERROR);
  CHECK(missing.find("\"type\":\"not_found\"") != std::string::npos);
  CHECK(missing.find("\"status\":404") != std::string::npos);

  // A misspelt argument is refused before anything is sent, naming it.
  auto [rc4, typo] = call(h, kList, "{\"limt\":3}");
  CHECK(rc4 == HUES_ERROR);
  CHECK(typo.find("\"field\":\"limt\"") != std::string::npos);
  // The body is checked against the spec's schema before anything is sent (status 0).
  auto [rc6, far] = call(h, kCreate,
                         "{\"body\":{\"category\":\"street_light\",\"description\":\"x\","
                         "\"location\":{\"lat\":200,\"lon\":107.5}}}");
  CHECK(rc6 == HUES_ERROR);
  CHECK(far.find("\"field\":\"location.lat\"") != std::string::npos);
  CHECK(far.find("\"status\":0") != std::string::npos);
  auto [rc5, no_id] = call(h, kGet, "{}");
  CHECK(rc5 == HUES_ERROR);
  CHECK(no_id.find("\"field\":\"id\"") != std::string::npos);
  hues_object_release(h);
}

TEST_CASE("bridge: a misspelt option is refused naming it") {
  std::string cfg = "{\"base_url\":\"" + sandbox().url() + "\",\"api_kye\":\"x\"}";
  hues_handle h = 0;
  hues_bytes err{};
  REQUIRE(hues_object_new("Client", reinterpret_cast<const std::uint8_t*>(cfg.data()), cfg.size(), &h, &err) ==
          HUES_ERROR);
  CHECK(take(err).find("\"field\":\"api_kye\"") != std::string::npos);
}

TEST_CASE("bridge: a queue sink delivers every completion to the thread that drains it") {
  auto h = new_client();
  int fd = -1;
  hues_sink* sink = hues_sink_queue(&fd);
  REQUIRE(fd >= 0);
  Collected c;
  const int n = 200;
  std::string args = "{\"limit\":1}";
  for (int i = 0; i < n; ++i)
    hues_call_start(h, kList, reinterpret_cast<const std::uint8_t*>(args.data()), args.size(), nullptr, 0, sink,
                    static_cast<std::uint64_t>(i));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (c.calls < n && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, 1000);
    hues_sink_drain(sink, collect, &c, 1000);
  }
  CHECK(c.calls == n);
  CHECK(c.done.size() == static_cast<std::size_t>(n));
  for (auto& [tag, result] : c.done) CHECK(result.first == HUES_OK);
  hues_sink_free(sink);
  hues_object_release(h);
}

TEST_CASE("bridge: a cancelled call completes once, with a cancelled error") {
  auto h = new_client();
  Collected c;
  hues_sink* sink = hues_sink_callback(collect, &c);
  std::string args = "{\"limit\":1}";
  auto id = hues_call_start(h, kList, reinterpret_cast<const std::uint8_t*>(args.data()), args.size(), nullptr, 0,
                            sink, 42);
  hues_call_cancel(id);
  hues_call_cancel(id);  // harmless twice
  std::unique_lock<std::mutex> lock(c.mu);
  c.cv.wait_for(lock, std::chrono::seconds(30), [&] { return c.calls > 0; });
  REQUIRE(c.calls == 1);
  // It may have finished before the cancel landed; then it carries its result.
  auto& [status, data] = c.done[42];
  if (status == HUES_ERROR) CHECK(data.find("\"type\":\"cancelled\"") != std::string::npos);
  lock.unlock();
  hues_sink_free(sink);
  hues_object_release(h);
}

TEST_CASE("bridge: a host logger receives redacted lines, and its release when dropped") {
  struct Host {
    std::mutex mu;
    std::vector<std::string> lines;
    bool released = false;
  } host;
  auto invoke = [](void* ctx, std::uint64_t, std::int32_t method, const std::uint8_t* args, std::size_t len,
                   std::uint64_t reply) {
    auto* h = static_cast<Host*>(ctx);
    std::lock_guard<std::mutex> lock(h->mu);
    if (method == HUES_RELEASE) {
      h->released = true;
      return;
    }
    h->lines.emplace_back(reinterpret_cast<const char*>(args), len);
    hues_reply(reply, HUES_OK, reinterpret_cast<const std::uint8_t*>("null"), 4);
  };
  hues_handle logger = 0;
  hues_bytes err{};
  REQUIRE(hues_host_object_new("Logger", invoke, &host, 1, &logger, &err) == HUES_OK);
  auto h = new_client(",\"logger\":" + std::to_string(logger) + ",\"log_level\":\"debug\"");
  hues_object_release(logger);  // the client keeps it alive
  auto [rc, body] = call(h, kCategories, "{}");
  CHECK(rc == HUES_OK);
  {
    std::lock_guard<std::mutex> lock(host.mu);
    REQUIRE(!host.lines.empty());
    for (auto& l : host.lines) CHECK(l.find(sandbox().api_key()) == std::string::npos);
    CHECK(!host.released);
  }
  hues_object_release(h);
  // Lines still queued for the host may hold the logger briefly; the release follows them.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(host.mu);
      if (host.released || std::chrono::steady_clock::now() > until) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::lock_guard<std::mutex> lock(host.mu);
  REQUIRE(host.released);  // nothing can call into host (on this stack) after this point
}

TEST_CASE("bridge: a host token store that never answers fails its call by the reply timeout") {
  hues::internal::bridge::set_host_reply_timeout(std::chrono::milliseconds(300));
  // Never replies; only counts the invokes and the release.
  struct Host {
    std::atomic<int> invokes{0};
    std::atomic<bool> released{false};
  } host;
  auto invoke = [](void* ctx, std::uint64_t, std::int32_t method, const std::uint8_t*, std::size_t, std::uint64_t) {
    auto* h = static_cast<Host*>(ctx);
    if (method == HUES_RELEASE) h->released = true; else ++h->invokes;
  };
  hues_handle store = 0, oidc = 0, user = 0;
  hues_bytes err{};
  REQUIRE(hues_host_object_new("TokenStore", invoke, &host, 9, &store, &err) == HUES_OK);
  std::string cfg = "{\"issuer\":\"" + sandbox().url() + "\",\"client_id\":\"hues-cli\"}";
  REQUIRE(hues_object_new("OidcClient", reinterpret_cast<const std::uint8_t*>(cfg.data()), cfg.size(), &oidc, &err) ==
          HUES_OK);
  // With no tokens given, the credentials load from the store: the load never answers.
  cfg = "{\"oidc\":" + std::to_string(oidc) + ",\"store\":" + std::to_string(store) + ",\"key\":\"an\"}";
  int rc = hues_object_new("UserCredentials", reinterpret_cast<const std::uint8_t*>(cfg.data()), cfg.size(), &user, &err);
  hues::internal::bridge::set_host_reply_timeout(std::chrono::seconds(120));
  REQUIRE(rc == HUES_ERROR);
  auto e = take(err);
  CHECK(e.find("\"type\":\"token_store\"") != std::string::npos);
  CHECK(e.find("host_callback_timeout") != std::string::npos);
  CHECK(host.invokes.load() == 1);
  hues_object_release(store);
  hues_object_release(oidc);
  for (int i = 0; i < 400 && !host.released; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(host.released);
}

namespace {

// The process's threads, as the kernel counts them.
std::size_t thread_count() {
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    (void)entry;
    ++n;
  }
  return n;
}

hues_handle new_object(const char* type, const std::string& cfg) {
  hues_handle h = 0;
  hues_bytes err{};
  if (hues_object_new(type, reinterpret_cast<const std::uint8_t*>(cfg.data()), cfg.size(), &h, &err) != HUES_OK)
    FAIL(take(err));
  return h;
}

hues_handle new_oidc() {
  return new_object("OidcClient", "{\"issuer\":\"" + sandbox().url() + "\",\"client_id\":\"hues-cli\"}");
}

hues_call start_call(hues_handle h, int id, const std::string& args, hues_sink* sink, std::uint64_t tag) {
  return hues_call_start(h, static_cast<std::uint32_t>(id), reinterpret_cast<const std::uint8_t*>(args.data()),
                         args.size(), nullptr, 0, sink, tag);
}

// Waits (up to the test's own bound) until tags have all completed.
bool wait_done(Collected& c, const std::vector<std::uint64_t>& tags, std::chrono::seconds bound) {
  std::unique_lock<std::mutex> lock(c.mu);
  return c.cv.wait_for(lock, bound, [&] {
    for (auto t : tags)
      if (!c.done.count(t)) return false;
    return true;
  });
}

}  // namespace

TEST_CASE("bridge: 8 pending device polls hold no thread; other object methods complete meanwhile") {
  using namespace hues::internal::call_id;
  // Leaked: should a call outlive a failed check, its completion still has somewhere to go.
  auto* c = new Collected;
  hues_sink* sink = hues_sink_callback(collect, c);
  // Everything the process runs anyway exists before counting: the sandbox, the runtime's
  // I/O and host threads, the delivery thread.
  auto client = new_client();
  start_call(client, kCategories, "{}", sink, 1000);
  REQUIRE(wait_done(*c, {1000}, std::chrono::seconds(30)));
  auto oidc = new_oidc();
  const std::size_t before = thread_count();

  std::vector<std::string> devices;
  for (int i = 0; i < 8; ++i) {
    auto [rc, device] = call(oidc, kOidcClientStartDeviceAuthorization, "{\"scope\":\"openid\"}");
    REQUIRE(rc == HUES_OK);
    devices.push_back(device);
  }
  std::vector<hues_call> polls;
  std::vector<std::uint64_t> poll_tags;
  for (std::uint64_t i = 0; i < 8; ++i) {
    polls.push_back(start_call(oidc, kOidcClientPollDeviceToken, "{\"device\":" + devices[i] + "}", sink, i));
    poll_tags.push_back(i);
  }
  // Nobody approves: every poll stays pending (the sandbox's interval is 1 s). Meanwhile a
  // fresh client's discovery (network) and an authorization request complete.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // each poll has polled at least once
  auto other = new_oidc();
  start_call(other, kOidcClientMetadata, "{}", sink, 100);
  start_call(oidc, kOidcClientAuthorizationRequest,
             "{\"redirect_uri\":\"http://127.0.0.1:9/callback\",\"scope\":\"openid\"}", sink, 101);
  bool others_done = wait_done(*c, {100, 101}, std::chrono::seconds(20));
  CHECK(others_done);
  const std::size_t during = thread_count();
  {
    std::lock_guard<std::mutex> lock(c->mu);
    if (others_done) {
      CHECK(c->done[100].first == HUES_OK);
      CHECK(c->done[100].second.find("\"token_endpoint\"") != std::string::npos);
      CHECK(c->done[101].first == HUES_OK);
      CHECK(c->done[101].second.find("code_challenge") != std::string::npos);
    }
    for (auto t : poll_tags) CHECK_MESSAGE(!c->done.count(t), "poll " << t << " ended: " << c->done[t].second);
  }
  INFO("threads before the polls: " << before << ", with 8 pending: " << during);
  CHECK(during <= before);  // no thread per pending call, no pool for object methods

  // A cancel ends each poll at once, between polls or with its request in flight.
  for (auto id : polls) hues_call_cancel(id);
  REQUIRE(wait_done(*c, poll_tags, std::chrono::seconds(20)));
  std::lock_guard<std::mutex> lock(c->mu);
  for (auto t : poll_tags) {
    CHECK(c->done[t].first == HUES_ERROR);
    CHECK(c->done[t].second.find("\"type\":\"cancelled\"") != std::string::npos);
  }
  hues_object_release(other);
  hues_object_release(oidc);
  hues_object_release(client);
}

TEST_CASE("bridge: a cancelled loopback wait completes cancelled long before its timeout; the next wait gets the redirect") {
  using namespace hues::internal::call_id;
  auto* c = new Collected;  // leaked, as above
  hues_sink* sink = hues_sink_callback(collect, c);
  auto receiver = new_object("LoopbackReceiver", "{}");
  auto [rc, uri_json] = call(receiver, kLoopbackReceiverRedirectUri, "{}");
  REQUIRE(rc == HUES_OK);
  std::string uri = uri_json.substr(1, uri_json.size() - 2);  // a JSON string

  auto id = start_call(receiver, kLoopbackReceiverWait, "{\"timeout_ms\":60000}", sink, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // accepting
  hues_call_cancel(id);
  REQUIRE(wait_done(*c, {1}, std::chrono::seconds(30)));  // the wait's own timeout is 60 s
  {
    std::lock_guard<std::mutex> lock(c->mu);
    CHECK(c->done[1].first == HUES_ERROR);
    CHECK(c->done[1].second.find("\"type\":\"cancelled\"") != std::string::npos);
  }

  start_call(receiver, kLoopbackReceiverWait, "{\"timeout_ms\":30000}", sink, 2);
  hues::ClientOptions o;
  auto browser = hues::make_default_transport(o);
  hues::HttpRequest req;
  req.method = "GET";
  req.url = uri + "?code=c2&state=s2";
  hues::AttemptContext ctx;
  ctx.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  CHECK(browser->send(req, ctx).status == 200);
  REQUIRE(wait_done(*c, {2}, std::chrono::seconds(30)));
  std::lock_guard<std::mutex> lock(c->mu);
  CHECK(c->done[2].first == HUES_OK);
  CHECK(c->done[2].second == "\"" + uri + "?code=c2&state=s2\"");
  hues_object_release(receiver);
}

// A stream call with "ack": the SDK counts each event as waiting until the host acknowledges it
// (hues_call_ack), not once the sink handed it on, so a binding whose own queue feeds a slow
// consumer holds at most max_buffered_events. Without "ack" the same sink gets them all at once.
TEST_CASE("bridge: a stream call with ack holds back events beyond the bound until the host acknowledges them") {
  constexpr int kEvents = 60;
  constexpr int kBound = 4;
  for (bool ack : {true, false}) {
    CAPTURE(ack);
    hues_test::FaultServer server([&](int fd, int index) {
      hues_test::read_message(fd);
      if (index > 0) return hues_test::send_all(fd, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"), (void)::close(fd);
      std::string body = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
      for (int id = 1; id <= kEvents; ++id)
        body += "id: " + std::to_string(id) + "\ndata: " + R"({"id":")" + std::to_string(id) +
                R"(","type":"report.status_changed","report_id":"rpt_1","category":"street_light",)"
                R"("status":"received","at":"2026-11-28T09:16:16Z","actor_role":"ioc","actor":"",)"
                R"("note":"Đã tiếp nhận","attachments":[],"version":2})" + "\n\n";
      hues_test::send_all(fd, body);  // all of it at once: only the SDK holds them back
      ::close(fd);
    });
    std::string cfg = "{\"base_url\":\"" + server.url() + "\",\"api_key\":\"hk_test_any\"}";
    hues_handle client = 0;
    hues_bytes err{};
    REQUIRE(hues_object_new("Client", reinterpret_cast<const std::uint8_t*>(cfg.data()), cfg.size(), &client, &err) ==
            HUES_OK);
    struct Events {
      std::mutex mu;
      std::condition_variable cv;
      std::vector<std::string> ids;
      bool ended = false;
    } got;
    auto on = [](void* ctx, std::uint64_t, int status, const std::uint8_t* data, std::size_t len) {
      auto* g = static_cast<Events*>(ctx);
      std::lock_guard<std::mutex> lock(g->mu);
      if (status == HUES_EVENT) {
        auto v = hues::internal::parse_json(std::string(reinterpret_cast<const char*>(data), len));
        g->ids.emplace_back(v.as_object().at("id").as_string());
      } else {
        g->ended = true;
      }
      g->cv.notify_all();
    };
    hues_sink* sink = hues_sink_callback(on, &got);
    std::string args = std::string("{\"stream\":{\"max_buffered_events\":") + std::to_string(kBound) +
                       ",\"initial_backoff_ms\":10,\"max_backoff_ms\":20}" + (ack ? ",\"ack\":true}" : "}");
    hues_call call = hues_call_start(client, ids::kEventsStream, reinterpret_cast<const std::uint8_t*>(args.data()),
                                     args.size(), nullptr, 0, sink, 7);
    if (ack) {
      {
        std::unique_lock<std::mutex> lock(got.mu);
        REQUIRE(got.cv.wait_for(lock, std::chrono::seconds(10), [&] { return got.ids.size() >= static_cast<std::size_t>(kBound); }));
      }
      // Nothing acknowledged: more than the bound never reaches the host, however long it waits.
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      {
        std::lock_guard<std::mutex> lock(got.mu);
        CHECK(got.ids.size() == static_cast<std::size_t>(kBound));
      }
      // The app takes them one at a time: each acknowledgement lets the next one through.
      for (int taken = 0; taken < kEvents; ++taken) {
        std::unique_lock<std::mutex> lock(got.mu);
        REQUIRE(got.cv.wait_for(lock, std::chrono::seconds(10), [&] { return got.ids.size() > static_cast<std::size_t>(taken); }));
        CHECK(got.ids.size() <= static_cast<std::size_t>(taken + kBound));
        lock.unlock();
        hues_call_ack(call, 1);
      }
    }
    {
      std::unique_lock<std::mutex> lock(got.mu);
      bool all = got.cv.wait_for(lock, std::chrono::seconds(10), [&] { return got.ids.size() >= static_cast<std::size_t>(kEvents); });
      INFO("received " << got.ids.size() << ", ended " << got.ended << ", connections " << server.connections());
      REQUIRE(all);
      REQUIRE(got.ids.size() == static_cast<std::size_t>(kEvents));
      for (int i = 0; i < kEvents; ++i) REQUIRE(got.ids[i] == std::to_string(i + 1));  // exactly once, in order
      REQUIRE(got.cv.wait_for(lock, std::chrono::seconds(10), [&] { return got.ended; }));  // the 204 ends it
    }
    hues_call_ack(call, 5);  // after its end: harmless
    hues_sink_free(sink);
    hues_object_release(client);
  }
}

// ---- the generated host adapters (internal/host_adapters.h, from x-hues-sdk.callbacks) ----
#include "internal/host_adapters.h"

namespace {

namespace br = hues::internal::bridge;

// A host that answers each call with the next canned reply, recording what it was sent.
struct CannedHost final : br::HostCaller {
  mutable std::vector<std::pair<int, std::string>> sent;
  mutable std::vector<br::HostReply> replies;
  br::HostReply call(int method, const std::string& args) const override {
    sent.emplace_back(method, args);
    REQUIRE(!replies.empty());
    auto r = replies.front();
    replies.erase(replies.begin());
    return r;
  }
};

std::shared_ptr<CannedHost> canned(std::vector<br::HostReply> replies) {
  auto h = std::make_shared<CannedHost>();
  h->replies = std::move(replies);
  return h;
}

// What a call throws, as type and code ("" when it returns).
template <typename F>
std::pair<std::string, std::string> outcome(F&& f) {
  try {
    f();
  } catch (const hues::Error& e) {
    return {hues::to_string(e.type()), e.code()};
  }
  return {"", ""};
}

}  // namespace

TEST_CASE("host adapters: arguments cross as the spec's JSON, to the spec's method index") {
  auto host = canned({{br::HostReply::kOk, "null"}, {br::HostReply::kOk, "null"}, {br::HostReply::kOk, "null"}});
  br::HostTokenStore store(host);
  hues::TokenSet tokens;
  tokens.access_token = "at-Đà Nẵng";
  store.save("k", tokens);
  br::HostLogger logger(host);
  logger.log(hues::LogLevel::kWarning, "xin chào");
  CHECK(store.load("k").access_token.empty());  // null: an empty TokenSet
  REQUIRE(host->sent.size() == 3);
  CHECK(host->sent[0].first == 1);  // TokenStore.save
  auto saved = hues::internal::parse_json(host->sent[0].second).as_object();
  CHECK(saved.at("key") == "k");
  CHECK(saved.at("tokens").as_object().at("access_token") == "at-Đà Nẵng");
  CHECK(host->sent[1] == std::pair<int, std::string>{0, R"({"level":"warning","message":"xin chào"})"});
  CHECK(host->sent[2] == std::pair<int, std::string>{0, R"({"key":"k"})"});  // TokenStore.load
}

TEST_CASE("host adapters: x-hues-on-error decides what a failing, silent or wrong host becomes") {
  using R = br::HostReply;
  // token_store: every failure is a TokenStoreError.
  {
    br::HostTokenStore store(canned({{R::kFailed, "disk full"}, {R::kNoAnswer, "late"}, {R::kOk, "[1]"}}));
    CHECK(outcome([&] { store.remove("k"); }) == std::pair<std::string, std::string>{"token_store", "token_store_failed"});
    CHECK(outcome([&] { store.load("k"); }) == std::pair<std::string, std::string>{"token_store", "host_callback_timeout"});
    CHECK(outcome([&] { store.load("k"); }) == std::pair<std::string, std::string>{"token_store", "token_store_failed"});
  }
  // raise: ApiError, TimeoutError, ValidationError.
  {
    br::HostUploadStore store(canned({{R::kFailed, "no"}, {R::kNoAnswer, "late"}, {R::kOk, "\"a record?\""}}));
    CHECK(outcome([&] { store.remove("k"); }) == std::pair<std::string, std::string>{"api", "host_callback_failed"});
    CHECK(outcome([&] { store.remove("k"); }) == std::pair<std::string, std::string>{"timeout", "host_callback_timeout"});
    CHECK(outcome([&] { store.load("k"); }) == std::pair<std::string, std::string>{"validation", "validation_error"});
  }
  // ignore: nothing reaches the SDK's caller.
  {
    br::HostLogger logger(canned({{R::kFailed, "no"}, {R::kNoAnswer, "late"}}));
    CHECK(outcome([&] { logger.log(hues::LogLevel::kInfo, "a"); }).first.empty());
    CHECK(outcome([&] { logger.log(hues::LogLevel::kInfo, "b"); }).first.empty());
    br::HostOutboxListener listener(canned({{R::kFailed, "no"}}));
    CHECK(outcome([&] { listener.delivered(hues::OutboxItem{}); }).first.empty());
  }
}

TEST_CASE("host adapters: a source's bytes are checked and read into the caller's buffer") {
  using R = br::HostReply;
  auto host = canned({{R::kOk, "\"AAEC\""}, {R::kOk, "\"AAECAw==\""}, {R::kOk, "\"not base64!\""}, {R::kOk, "null"},
                      {R::kOk, "null"}, {R::kOk, "null"}, {R::kOk, "12"}, {R::kOk, "\"12\""}});
  br::HostUploadSource source(host);
  char buf[3] = {9, 9, 9};
  CHECK(source.read(buf, 3) == 3);
  CHECK((buf[0] == 0 && buf[1] == 1 && buf[2] == 2));
  CHECK(outcome([&] { source.read(buf, 3); }).first == "validation");  // 4 bytes for 3
  try {
    source.read(buf, 3);
    FAIL("bytes that are not base64 were accepted");
  } catch (const hues::Error& e) {
    CHECK(e.field() == "UploadSource.read");
  }
  CHECK(source.read(buf, 3) == 0);  // null: the end
  CHECK(source.seek(5) == false);   // null: the result's default
  CHECK(source.size() == -1);
  CHECK(source.size() == 12);
  CHECK(outcome([&] { source.size(); }).first == "validation");
  CHECK(host->sent[0] == std::pair<int, std::string>{0, R"({"size":3})"});
  CHECK(host->sent[4] == std::pair<int, std::string>{1, R"({"offset":5})"});
  CHECK(host->sent[5] == std::pair<int, std::string>{2, "{}"});
}
