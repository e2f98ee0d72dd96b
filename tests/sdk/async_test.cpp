// The non-blocking core: many calls on few threads, cancel, the bounded pool queue, a slow
// logger, runtime shutdown, and no thread left behind (DNS included).
#include <doctest/doctest.h>

#include <dirent.h>
#include <poll.h>

#include <hues/hues.h>
#include <hues/testing/sandbox.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "fault_server.h"
#include "internal/client_core.h"
#include "internal/runtime.h"
#include "test_support.h"

using namespace hues_test;
using Clock = std::chrono::steady_clock;
using hues::internal::Runtime;

namespace {

// Threads of this process right now.
int task_count() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/task")) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
  }
  return n;
}

hues::NewReport some_report() {
  hues::NewReport r;
  r.category = hues::Client(options_for(sandbox().url())).reports().categories().at(0).code;
  r.description = "Ổ gà trên đường Lê Duẩn — async";
  r.location.lat = 16.4637;
  r.location.lon = 107.5909;
  return r;
}

// Reads one request, then holds the connection open until the client closes it (or the
// server stops); counts requests and closes seen.
struct StallingServer {
  std::atomic<int> active{0};  // handler threads alive (the server's own, not the SDK's)
  std::atomic<int> requests{0};
  std::atomic<int> closed_by_client{0};
  std::mutex mu;
  std::condition_variable cv;
  FaultServer server{[this](int fd, int) {
    ++active;
    if (!read_message(fd).empty()) {
      ++requests;
      cv.notify_all();
      char buf[256];
      for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 50) > 0) {
          if (::recv(fd, buf, sizeof buf, 0) <= 0) {
            ++closed_by_client;
            cv.notify_all();
            break;
          }
        } else if (server.stopping()) {
          break;
        }
      }
    }
    ::close(fd);
    --active;
    cv.notify_all();
  }};
  // Waits (up to limit) until pred holds.
  template <typename Pred>
  bool wait(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, limit, pred);
  }
};

template <typename T>
hues::Error future_error(std::future<T>& f) {
  return catch_error([&] { f.get(); });
}

}  // namespace

TEST_CASE("1000 concurrent get_async from one thread complete on a fixed set of threads") {
  // Measured step by step so the bound below names each part.
  const int t0 = task_count();  // this thread and whatever other tests left running
  auto local = std::make_unique<hues::testing::Sandbox>();
  const int sandbox_threads = task_count() - t0;
  const int t1 = task_count();
  auto runtime = Runtime::global();  // the runtime every Client uses, started now if not yet
  const int runtime_started = task_count() - t1;  // io + host threads, or 0 if it already ran
  const int runtime_threads = static_cast<int>(runtime->io_threads() + runtime->host_threads());
  CHECK((runtime_started == runtime_threads || runtime_started == 0));

  hues::ClientOptions o;
  o.base_url = local->url();
  o.api_key = local->api_key();
  hues::Client client(o);
  hues::NewReport r;
  r.category = client.reports().categories().at(0).code;
  r.description = "Ổ gà trên đường Lê Duẩn — 1000 lần đọc";
  r.location.lat = 16.4637;
  r.location.lon = 107.5909;
  auto created = client.reports().create(r);

  std::vector<std::future<hues::Report>> futures;
  futures.reserve(1000);
  for (int i = 0; i < 1000; ++i) futures.push_back(client.reports().get_async(created.id));
  int peak = task_count();
  int ok = 0;
  for (std::size_t i = 0; i < futures.size(); ++i) {
    if (futures[i].get().id == created.id) ++ok;
    if (i % 50 == 0) peak = std::max(peak, task_count());
  }
  CHECK(ok == 1000);
  // Bound: what ran before (t0, the runtime included if it was already started) + the
  // sandbox's threads + the runtime's I/O and host threads + 2 (Asio's resolver thread, slack).
  const int bound = t0 + sandbox_threads + (runtime_started ? runtime_threads : 0) + 2;
  MESSAGE("threads: before=", t0, " sandbox=", sandbox_threads, " runtime io=", runtime->io_threads(),
          " host=", runtime->host_threads(), " peak=", peak, " bound=", bound);
  CHECK(peak <= bound);
}

TEST_CASE("a cancel in flight closes the connection at once and ends the call with CancelledError") {
  StallingServer s;
  auto o = options_for(s.server.url());
  o.deadline_ms = 60000;
  o.attempt_timeout_ms = 60000;
  hues::CallOptions call;
  call.cancel = std::make_shared<hues::CancellationToken>();
  auto start = Clock::now();
  auto future = hues::Client(o).reports().get_async("rpt_stalled", call);
  REQUIRE(s.wait([&] { return s.requests.load() == 1; }));
  call.cancel->cancel();
  auto err = future_error(future);
  CHECK(err.type() == hues::ErrorType::kCancelled);
  // The server sees the socket closed: the I/O was aborted, not merely abandoned.
  CHECK(s.wait([&] { return s.closed_by_client.load() == 1; }, std::chrono::seconds(5)));
  CHECK(Clock::now() - start < std::chrono::seconds(10));  // far before the 60 s deadline
}

TEST_CASE("a full pool queue fails the call at once with ResourceExhaustedError") {
  StallingServer s;
  auto o = options_for(s.server.url());
  o.max_connections_per_host = 1;
  o.max_queued_requests = 2;
  o.retry.max_attempts = 1;
  hues::Client client(o);
  hues::CallOptions call;
  call.cancel = std::make_shared<hues::CancellationToken>();
  std::vector<std::future<hues::Report>> held;
  held.push_back(client.reports().get_async("rpt_1", call));
  REQUIRE(s.wait([&] { return s.requests.load() == 1; }));  // it holds the only connection
  held.push_back(client.reports().get_async("rpt_2", call));
  held.push_back(client.reports().get_async("rpt_3", call));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // both are queued by now

  auto start = Clock::now();
  auto refused = client.reports().get_async("rpt_4");
  REQUIRE(refused.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  auto err = future_error(refused);
  CHECK(err.type() == hues::ErrorType::kResourceExhausted);
  CHECK(err.code() == "queue_full");
  CHECK(std::string(hues::to_string(err.type())) == "resource_exhausted");
  CHECK(Clock::now() - start < std::chrono::seconds(5));
  CHECK_THROWS_AS(client.reports().get("rpt_5"), hues::ResourceExhaustedError);
  CHECK(s.requests.load() == 1);

  call.cancel->cancel();  // the held and queued calls end too
  for (auto& f : held) CHECK(future_error(f).type() == hues::ErrorType::kCancelled);
}

namespace {
struct SlowLogger : hues::Logger {
  std::atomic<int> lines{0};
  std::atomic<int> on_io_thread{0};
  void log(hues::LogLevel, const std::string&) override {
    if (Runtime::global()->on_io_thread()) ++on_io_thread;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ++lines;
  }
};
}  // namespace

TEST_CASE("a slow logger does not slow a call on another client, and never runs on an I/O thread") {
  auto logger = std::make_shared<SlowLogger>();
  auto logged = options_for(sandbox().url());
  logged.logger = logger;
  logged.log_level = hues::LogLevel::kDebug;
  hues::Client slow(logged);
  std::vector<std::future<hues::ReportPage>> pending;
  hues::ReportQuery q;
  q.limit = 1;
  for (int i = 0; i < 10; ++i) pending.push_back(slow.reports().list_page_async(q));  // ~4 s of log lines

  auto o = options_for(sandbox().url());
  o.deadline_ms = 3000;
  auto start = Clock::now();
  CHECK_FALSE(hues::Client(o).reports().categories().empty());
  CHECK(Clock::now() - start < std::chrono::milliseconds(3000));  // it ended before its deadline
  for (auto& f : pending) f.get();
  CHECK(logger->lines.load() == 20);  // each call returned after its own lines were logged
  CHECK(logger->on_io_thread.load() == 0);
}

TEST_CASE("the seam: send_async completes once on an I/O thread; a path is relative to base_url") {
  auto rt = Runtime::global();
  hues::internal::ClientCore core(options_for(sandbox().url()));
  CHECK(core.runtime() == rt);
  std::promise<std::pair<int, bool>> got;
  hues::HttpRequest req;
  req.method = "GET";
  req.url = "/v1/categories";
  core.send_async(req, {}, [&](std::exception_ptr error, hues::HttpResponse res) {
    got.set_value({error ? -1 : res.status, rt->on_io_thread()});
  });
  auto [status, on_io] = got.get_future().get();
  CHECK(status == 200);
  CHECK(on_io);

  std::promise<int> missing;
  req.url = "/v1/reports/rpt_nope";
  core.send_async(req, {}, [&](std::exception_ptr error, hues::HttpResponse res) { missing.set_value(error ? -1 : res.status); });
  CHECK(missing.get_future().get() == 404);  // any status is a response, not an error
}

TEST_CASE("Runtime shutdown with 100 calls in flight: every handler runs once, then no thread is left") {
  sandbox();  // the fixture's threads are part of the baseline
  StallingServer s;
  const int baseline = task_count();
  {
    Runtime::Config config;
    auto rt = std::make_shared<Runtime>(config);
    // By name, so lookups go through the runtime's resolver (no thread per lookup).
    auto o = options_for("http://localhost:" + std::to_string(s.server.port()));
    o.deadline_ms = 60000;
    o.attempt_timeout_ms = 60000;
    hues::internal::ClientCore core(o, rt);
    std::vector<std::atomic<int>> ran(100);
    std::atomic<int> cancelled{0};
    for (int i = 0; i < 100; ++i) {
      hues::HttpRequest req;
      req.method = "GET";
      req.url = "/v1/categories";
      core.send_async(req, {}, [&, i](std::exception_ptr error, hues::HttpResponse) {
        ++ran[i];
        try {
          if (error) std::rethrow_exception(error);
        } catch (const hues::CancelledError&) {
          ++cancelled;
        } catch (...) {
        }
      });
    }
    // Every pooled connection is open and its server thread counted in `active` (a server
    // thread only counts itself once it runs), so what is left is the SDK's.
    REQUIRE(s.wait([&] { return s.active.load() >= static_cast<int>(o.max_connections_per_host); }));
    // Bound while calls are in flight: the runtime's threads + asio's resolver thread + 1.
    // A thread per call would be 100 more.
    int during = task_count() - s.active.load();
    CHECK(during <= baseline + static_cast<int>(rt->io_threads() + rt->host_threads()) + 2);
    rt->shutdown();
    int once = 0;
    for (auto& r : ran) once += r.load() == 1;
    CHECK(once == 100);
    CHECK(cancelled.load() == 100);
    rt->shutdown();  // twice is harmless

    std::atomic<int> late{0};
    hues::HttpRequest req;
    req.method = "GET";
    req.url = "/v1/categories";
    core.send_async(req, {}, [&](std::exception_ptr error, hues::HttpResponse) {
      try {
        std::rethrow_exception(error);
      } catch (const hues::CancelledError&) {
        ++late;
      } catch (...) {
      }
    });
    CHECK(late.load() == 1);  // at once, with no I/O thread left
    MESSAGE("threads: baseline=", baseline, " during=", during, " after shutdown=", task_count());
  }
  // The runtime, its resolver thread included, is gone: nothing was detached. (The server's
  // handlers end once they see their connection closed.)
  CHECK(s.wait([&] { return s.active.load() == 0; }));
  int after = task_count();
  for (int i = 0; i < 40 && after != baseline; ++i) {  // an exiting handler may linger a moment
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    after = task_count();
  }
  CHECK(after == baseline);
}

TEST_CASE("DNS lookups use no thread per lookup and leave none behind") {
  sandbox();
  const int baseline = task_count();
  {
    auto rt = std::make_shared<Runtime>(Runtime::Config{});
    auto o = options_for("http://localhost:" + std::to_string(sandbox().port()));
    o.max_connections_per_host = 8;
    hues::internal::ClientCore core(o, rt);
    std::vector<std::future<hues::HttpResponse>> futures;
    for (int i = 0; i < 40; ++i) {
      auto p = std::make_shared<std::promise<hues::HttpResponse>>();
      futures.push_back(p->get_future());
      hues::HttpRequest req;
      req.method = "GET";
      req.url = "/v1/categories";
      core.send_async(req, {}, [p](std::exception_ptr error, hues::HttpResponse res) {
        if (error) p->set_exception(error); else p->set_value(std::move(res));
      });
    }
    int peak = task_count();
    for (auto& f : futures) {
      CHECK(f.get().status == 200);
      peak = std::max(peak, task_count());
    }
    CHECK(peak <= baseline + static_cast<int>(rt->io_threads() + rt->host_threads()) + 2);
    rt->shutdown();
  }
  CHECK(task_count() == baseline);
}

namespace {
// A transport written against the old, blocking interface only.
struct CannedTransport : hues::Transport {
  std::atomic<int> calls{0};
  std::atomic<int> on_io_thread{0};
  hues::HttpResponse send(const hues::HttpRequest& request, const hues::AttemptContext&) override {
    ++calls;
    if (hues::internal::on_sdk_io_thread()) ++on_io_thread;
    hues::HttpResponse res;
    res.status = 200;
    res.headers = {{"Content-Type", "application/json"}};
    res.body = request.url.find("/v1/reports/") != std::string::npos
                   ? R"({"id":"rpt_canned","description":"ok"})"
                   : R"({"items":[{"code":"den_duong","name_vi":"Đèn đường"}]})";
    return res;
  }
};
}  // namespace

TEST_CASE("a transport that only implements the blocking send still works, off the I/O threads") {
  auto transport = std::make_shared<CannedTransport>();
  hues::ClientOptions o;
  o.base_url = "https://api.example.invalid";
  o.api_key = "hk_test";
  o.transport = transport;
  hues::Client client(o);
  CHECK(client.reports().categories().at(0).code == "den_duong");
  std::vector<std::future<hues::Report>> futures;
  for (int i = 0; i < 20; ++i) futures.push_back(client.reports().get_async("rpt_canned"));
  for (auto& f : futures) CHECK(f.get().id == "rpt_canned");
  CHECK(transport->calls.load() == 21);
  CHECK(transport->on_io_thread.load() == 0);
}

TEST_CASE("a logger far behind never costs its own calls their results") {
  auto logger = std::make_shared<SlowLogger>();
  auto o = options_for(sandbox().url());
  o.logger = logger;
  o.log_level = hues::LogLevel::kDebug;
  o.deadline_ms = 1000;  // the 10 calls' 20 lines need 4 s
  hues::Client client(o);
  hues::ReportQuery q;
  q.limit = 1;
  std::vector<std::future<hues::ReportPage>> pages;
  auto start = Clock::now();
  for (int i = 0; i < 10; ++i) pages.push_back(client.reports().list_page_async(q));
  for (auto& p : pages) CHECK_NOTHROW(p.get());  // no deadline_exceeded although lines lag
  CHECK(Clock::now() - start < std::chrono::milliseconds(3500));
}

TEST_CASE("a kept-alive connection the server closed meanwhile is replaced without an error") {
  std::atomic<int> requests{0};
  FaultServer server([&](int fd, int) {
    if (!read_message(fd).empty()) {
      ++requests;
      send_all(fd, http_response(200, R"({"items":[]})"));  // keep-alive by default...
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ::close(fd);  // ...but the server drops it soon after
  });
  auto o = options_for(server.url());
  o.retry.max_attempts = 1;  // the resend on a fresh connection is the transport's, not a retry
  hues::Client client(o);
  CHECK(client.reports().categories().empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(client.reports().categories().empty());
  CHECK(requests.load() == 2);
  CHECK(server.connections() == 2);
}

TEST_CASE("plain HTTP through a proxy sends the absolute URL to the proxy") {
  std::string first_line;
  std::mutex mu;
  FaultServer proxy([&](int fd, int) {
    std::string req = read_message(fd);
    {
      std::lock_guard<std::mutex> lock(mu);
      first_line = req.substr(0, req.find("\r\n"));
    }
    send_all(fd, http_response(200, R"({"items":[{"code":"rac_thai","name_vi":"Rác thải"}]})"));
    ::close(fd);
  });
  auto o = options_for("http://api.hue-s.invalid:8080");
  o.proxy = proxy.url();
  o.retry.max_attempts = 1;
  CHECK(hues::Client(o).reports().categories().at(0).code == "rac_thai");
  std::lock_guard<std::mutex> lock(mu);
  CHECK(first_line == "GET http://api.hue-s.invalid:8080/v1/categories HTTP/1.1");
}

// ---- sync calls: start-then-wait on the sync loop ----

TEST_CASE("a sync call completes on the calling thread, with no handoff, in the common case") {
  hues::Client client(options_for(sandbox().url()));
  auto created = client.reports().create(some_report());
  client.reports().get(created.id);  // now a kept-alive connection waits in the pool
  const auto before = hues::internal::sync_stats();  // this thread's
  for (int i = 0; i < 20; ++i) CHECK(client.reports().get(created.id).id == created.id);
  hues::internal::ClientCore core(options_for(sandbox().url()));
  hues::HttpRequest req;
  req.method = "GET";
  req.url = "/v1/categories";
  CHECK(core.send(req, {}).status == 200);  // the untyped form too
  const auto& after = hues::internal::sync_stats();
  CHECK(after.in_loop - before.in_loop == 21);    // this thread ran the loop for every call...
  CHECK(after.handoffs - before.handoffs == 0);   // ...and each completed here, not on an I/O thread
  CHECK(after.fallbacks - before.fallbacks == 0);
}

TEST_CASE("sync calls from many threads at once all complete (each runs a sync loop while one is free)") {
  hues::Client client(options_for(sandbox().url()));
  auto created = client.reports().create(some_report());
  std::atomic<int> ok{0};
  std::atomic<std::uint64_t> in_loop{0}, fallbacks{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i)
        if (client.reports().get(created.id).id == created.id) ++ok;
      in_loop += hues::internal::sync_stats().in_loop;
      fallbacks += hues::internal::sync_stats().fallbacks;
    });
  for (auto& t : threads) t.join();
  CHECK(ok.load() == 200);
  CHECK(in_loop.load() + fallbacks.load() == 200);
  CHECK(in_loop.load() >= 1);
}

TEST_CASE("8 threads sharing a client with 8 sync loops each complete every call on their own thread") {
  Runtime::Config config;
  config.sync_loops = 8;
  auto rt = std::make_shared<Runtime>(config);
  CHECK(rt->sync_loops() == 8);
  hues::internal::ClientCore core(options_for(sandbox().url()), rt);
  std::atomic<int> ok{0};
  std::atomic<std::uint64_t> in_loop{0}, fallbacks{0}, handoffs{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      hues::HttpRequest req;
      req.method = "GET";
      req.url = "/v1/categories";
      for (int i = 0; i < 25; ++i)
        if (core.send(req, {}).status == 200) ++ok;
      in_loop += hues::internal::sync_stats().in_loop;
      fallbacks += hues::internal::sync_stats().fallbacks;
      handoffs += hues::internal::sync_stats().handoffs;
    });
  for (auto& t : threads) t.join();
  CHECK(ok.load() == 200);
  CHECK(in_loop.load() == 200);
  CHECK(fallbacks.load() == 0);
  CHECK(handoffs.load() == 0);
  rt->shutdown();
}

TEST_CASE("a sync call cancelled while its thread runs the sync loop ends with CancelledError") {
  StallingServer s;
  auto o = options_for(s.server.url());
  o.deadline_ms = 60000;
  o.attempt_timeout_ms = 60000;
  hues::Client client(o);
  hues::CallOptions call;
  call.cancel = std::make_shared<hues::CancellationToken>();
  std::thread canceller([&] {
    if (s.wait([&] { return s.requests.load() == 1; })) call.cancel->cancel();
  });
  auto err = catch_error([&] { client.reports().get("rpt_stalled", call); });
  canceller.join();
  CHECK(err.type() == hues::ErrorType::kCancelled);
  CHECK(hues::internal::sync_stats().handoffs >= 1);  // ended from another thread, which woke the loop
  // The attempt let go of its connection at once: the server sees it closed.
  CHECK(s.wait([&] { return s.closed_by_client.load() == 1; }, std::chrono::seconds(5)));
}

TEST_CASE("Runtime shutdown while a thread waits in the sync loop ends its call with CancelledError") {
  StallingServer s;
  Runtime::Config config;
  auto rt = std::make_shared<Runtime>(config);
  auto o = options_for(s.server.url());
  o.deadline_ms = 60000;
  o.attempt_timeout_ms = 60000;
  hues::internal::ClientCore core(o, rt);
  std::promise<std::string> outcome;
  std::thread waiter([&] {
    hues::HttpRequest req;
    req.method = "GET";
    req.url = "/v1/categories";
    try {
      core.send(req, {});
      outcome.set_value("returned");
    } catch (const hues::CancelledError&) {
      outcome.set_value(hues::internal::sync_stats().in_loop == 1 ? "cancelled in loop" : "cancelled");
    } catch (...) {
      outcome.set_value("other error");
    }
  });
  REQUIRE(s.wait([&] { return s.requests.load() == 1; }));
  rt->shutdown();
  auto f = outcome.get_future();
  REQUIRE(f.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
  CHECK(f.get() == "cancelled in loop");
  waiter.join();
  // After shutdown a sync call ends at once (no loop, no I/O thread left).
  hues::HttpRequest req;
  req.method = "GET";
  req.url = "/v1/categories";
  CHECK_THROWS_AS(core.send(req, {}), hues::CancelledError);
}

TEST_CASE("a sync call made on an I/O thread refuses instead of deadlocking") {
  hues::Client client(options_for(sandbox().url()));
  auto rt = Runtime::global();
  std::promise<std::string> got;
  rt->post([&] {
    try {
      client.reports().categories();
      got.set_value("returned");
    } catch (const hues::Error& e) {
      got.set_value(e.code());
    }
  });
  auto f = got.get_future();
  REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(f.get() == "blocking_on_io_thread");
}
