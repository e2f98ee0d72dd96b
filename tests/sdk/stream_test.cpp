// Subscriptions (hues/stream.h): the WHATWG Server-Sent Events parser, byte by byte, and
// client.events().stream() against the in-process sandbox over real sockets: decoded events,
// resuming from a saved id, and a relay that cuts the connection twenty times mid-stream while
// reports are created, with every event seen exactly once, in order.
#include <doctest/doctest.h>

#include <hues/hues.h>
#include <hues/stream.h>
#include <hues/testing/sandbox.h>

#include <atomic>
#include <cstdio>
#include <condition_variable>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "fault_server.h"
#include "internal/stream.h"
#include "test_support.h"

namespace {

using hues::ServerEvent;
using hues::internal::SseParser;

std::vector<ServerEvent> parse(const std::vector<std::string>& pieces, SseParser& p) {
  std::vector<ServerEvent> out;
  for (const auto& piece : pieces) p.feed(piece, [&](ServerEvent&& e) { out.push_back(std::move(e)); });
  return out;
}

std::vector<ServerEvent> parse(const std::string& text) {
  SseParser p;
  return parse({text}, p);
}

// The same text fed one byte at a time.
std::vector<ServerEvent> parse_bytewise(const std::string& text, SseParser& p) {
  std::vector<std::string> pieces;
  for (char c : text) pieces.emplace_back(1, c);
  return parse(pieces, p);
}

hues::ClientOptions options_for(const std::string& url, const std::string& key) {
  hues::ClientOptions o;
  o.base_url = url;
  o.api_key = key;
  return o;
}

hues::Client client() { return hues::Client(options_for(sandbox().url(), sandbox().api_key())); }

using hues_test::new_report;

hues::StreamOptions fast() {
  hues::StreamOptions o;
  o.initial_backoff_ms = 10;
  o.max_backoff_ms = 40;  // below the sandbox's `retry: 2000`: tests reconnect at once
  return o;
}

// Events a listener received, waited for by tests.
struct Received {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<hues::ReportEvent> events;
  std::exception_ptr end;
  bool ended = false;
  std::function<void(const hues::ReportEvent&)> listener() {
    return [this](const hues::ReportEvent& e) {
      std::lock_guard<std::mutex> lock(mu);
      events.push_back(e);
      cv.notify_all();
    };
  }
  std::function<void(std::exception_ptr)> on_end() {
    return [this](std::exception_ptr e) {
      std::lock_guard<std::mutex> lock(mu);
      end = e;
      ended = true;
      cv.notify_all();
    };
  }
  // Waits (a hang guard, not a timing check) until an event of report_id with status arrives.
  bool wait_for_report(const std::string& report_id, const std::string& status = "submitted") {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(60), [&] {
      for (const auto& e : events)
        if (e.report_id == report_id && e.status == status) return true;
      return false;
    });
  }
  std::vector<std::string> ids() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.id);
    return out;
  }
};

// Waits for the peer to close fd (recv returns 0 or fails); true then.
bool server_stopping_or_closed(int fd, char* buf, std::size_t size) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 100) <= 0) return false;
  return ::recv(fd, buf, size, 0) <= 0;
}

}  // namespace

TEST_CASE("sse parser: data lines join with LF, the final LF dropped, type message by default") {
  auto events = parse("data: một\ndata:hai\ndata:  ba\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "một\nhai\n ba");
  CHECK(events[0].type == "message");
  CHECK(events[0].id == "");
}

TEST_CASE("sse parser: CR, LF and CRLF end lines, also when a CRLF is split between pieces") {
  SseParser p;
  auto events = parse({"data: a\r", "\ndata: b\r\r", "data: c\n", "\r\n"}, p);
  REQUIRE(events.size() == 2);
  CHECK(events[0].data == "a\nb");
  CHECK(events[1].data == "c");
  SseParser q;
  auto bytewise = parse_bytewise("event: x\r\ndata: 1\r\n\r\ndata: 2\r\rdata: 3\n\n", q);
  REQUIRE(bytewise.size() == 3);
  CHECK(bytewise[0].type == "x");
  CHECK(bytewise[1].type == "message");  // the type does not outlive its event
  CHECK(bytewise[1].data == "2");
  CHECK(bytewise[2].data == "3");
}

TEST_CASE("sse parser: one leading BOM is dropped, even split; a second is part of the line") {
  SseParser p;
  auto events = parse({"\xEF", "\xBB", "\xBF" "data: x\n\n\xEF\xBB\xBF" "data: y\n\n"}, p);
  REQUIRE(events.size() == 1);  // "\uFEFFdata" is an unknown field: ignored
  CHECK(events[0].data == "x");
  auto plain = parse("\xEF\xBB\xBF\xEF\xBB\xBF" "data: z\n\n");
  CHECK(plain.empty());
}

TEST_CASE("sse parser: comments, unknown fields and a field without a colon") {
  auto events = parse(": heartbeat\nfoo: bar\ndata\ndata\n\n:only a comment\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "\n");  // two empty data lines
}

TEST_CASE("sse parser: ids persist, an id with NUL is ignored, an empty id resets, a data-less event moves the id") {
  SseParser p;
  auto events = parse({"id: 1\ndata: a\n\n", "data: b\n\n", std::string("id: 2\0x\ndata: c\n\n", 17),
                       "id\ndata: d\n\n", "id: 7\n\n"},
                      p);
  REQUIRE(events.size() == 4);
  CHECK(events[0].id == "1");
  CHECK(events[1].id == "1");
  CHECK(events[2].id == "1");  // "2\0x" was ignored
  CHECK(events[3].id == "");
  CHECK(p.last_event_id() == "7");  // no event fired, but the last event ID string is set
}

TEST_CASE("sse parser: retry takes ASCII digits only; nothing is dispatched without a blank line") {
  SseParser p;
  auto events = parse({"retry: 2500\n", "retry: 12a\n", "retry:\n", "data: pending"}, p);
  CHECK(events.empty());
  auto retry = p.take_retry();
  REQUIRE(retry);
  CHECK(*retry == 2500);
  CHECK_FALSE(p.take_retry());
  p.reset();  // the connection ended: the pending event is discarded
  events = parse({"\n", "data: next\n\n"}, p);
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "next");
}

TEST_CASE("sse parser: bytes that are not UTF-8 decode as U+FFFD; Vietnamese stays as it is") {
  auto events = parse("data: \xC3(Đông Ba\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "\xEF\xBF\xBD(Đông Ba");
}

TEST_CASE("sse parser: an overlong line is a ProtocolError, not unbounded memory") {
  SseParser p(64);
  std::string line(100, 'x');
  auto e = hues_test::catch_error([&] { parse({"data: " + line}, p); });
  CHECK(e.type() == hues::ErrorType::kProtocol);
  CHECK(e.code() == "event_too_large");
}

TEST_CASE("events.stream: report changes arrive decoded, Vietnamese exactly, and resume after a saved id") {
  auto c = client();
  const std::string text = "Đèn đường hỏng trước chợ Đông Ba — tối om, nguy hiểm 🌙";
  auto first = c.reports().create(new_report(text));
  Received got;
  hues::EventStreamQuery from_start;
  from_start.since = "0";
  auto sub = c.events().stream(got.listener(), from_start, {}, fast(), got.on_end());
  REQUIRE(got.wait_for_report(first.id));
  auto second = c.reports().create(new_report("Thứ hai: ổ gà đường Trần Hưng Đạo"));
  REQUIRE(got.wait_for_report(second.id));
  std::string saved;
  {
    std::lock_guard<std::mutex> lock(got.mu);
    for (const auto& e : got.events) {
      if (e.report_id != first.id) continue;
      CHECK(e.type == hues::ReportEventType::kReportCreated);
      CHECK(e.note.empty());
      CHECK(e.category == "street_light");
      saved = e.id;
    }
  }
  CHECK(c.reports().get(first.id).description == text);
  REQUIRE_FALSE(saved.empty());
  const std::string last = sub.last_event_id();
  CHECK_FALSE(last.empty());
  sub.close();
  REQUIRE(sub.wait_for(std::chrono::seconds(30)));

  // Resuming after the first report's event gives exactly what followed it: the second's.
  Received resumed;
  auto again = c.events().stream(resumed.listener(), {}, saved, fast(), resumed.on_end());
  REQUIRE(resumed.wait_for_report(second.id));
  {
    std::lock_guard<std::mutex> lock(resumed.mu);
    std::vector<std::string> expected;
    bool after = false;
    std::lock_guard<std::mutex> lock2(got.mu);
    for (const auto& e : got.events) {
      if (after) expected.push_back(e.id);
      if (e.id == saved) after = true;
    }
    REQUIRE(resumed.events.size() >= expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) CHECK(resumed.events[i].id == expected[i]);
    for (const auto& e : resumed.events) CHECK(e.report_id != first.id);
  }
  again.close();
  again.wait();
}

TEST_CASE("events.stream: twenty dropped connections while reports are created, every event exactly once, in order") {
  auto c = client();
  // A relay that resets both sides after a random few kilobytes downstream, twenty times.
  std::atomic<int> drops{0};
  const int upstream = sandbox().port();
  hues_test::FaultServer relay([&](int fd, int index) {
    int up = hues_test::connect_to(upstream);
    if (up < 0) return hues_test::reset(fd);
    std::mt19937 rng(static_cast<unsigned>(index) * 7919u + 13u);
    std::int64_t budget = drops.load() < 20 ? std::uniform_int_distribution<std::int64_t>(300, 6000)(rng) : -1;
    pollfd fds[2] = {{fd, POLLIN, 0}, {up, POLLIN, 0}};
    char buf[16384];
    for (;;) {
      if (::poll(fds, 2, 30000) <= 0) break;
      bool done = false;
      for (int i = 0; i < 2 && !done; ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = ::recv(fds[i].fd, buf, sizeof buf, 0);
        if (n <= 0) {
          done = true;
          break;
        }
        std::size_t len = static_cast<std::size_t>(n);
        if (i == 1 && budget >= 0 && static_cast<std::int64_t>(len) >= budget) {
          hues_test::send_all(fd, std::string(buf, static_cast<std::size_t>(budget)));  // cut mid-event
          ++drops;
          hues_test::reset(fd);
          hues_test::reset(up);
          return;
        }
        if (i == 1 && budget >= 0) budget -= static_cast<std::int64_t>(len);
        hues_test::send_all(fds[1 - i].fd, std::string(buf, len));
      }
      if (done) break;
    }
    ::close(fd);
    ::close(up);
  });
  auto start = c.reports().create(new_report("Mốc bắt đầu"));
  auto via_relay = hues::Client(options_for(relay.url(), sandbox().api_key()));
  Received cut, whole;
  hues::EventStreamQuery from_start;
  from_start.since = "0";
  auto sub = via_relay.events().stream(cut.listener(), from_start, {}, fast(), cut.on_end());
  std::vector<std::string> created;
  std::thread writer([&] {
    for (int i = 0; i < 300; ++i) created.push_back(c.reports().create(new_report("Sự cố số " + std::to_string(i))).id);
  });
  writer.join();
  REQUIRE(cut.wait_for_report(created.back()));
  // An unbroken stream of the same events, straight from the sandbox.
  auto direct = c.events().stream(whole.listener(), from_start, {}, fast(), whole.on_end());
  REQUIRE(whole.wait_for_report(created.back()));
  auto cut_ids = cut.ids();
  auto whole_ids = whole.ids();
  // Both end with the last report's creation (nothing is created after it).
  REQUIRE(cut_ids.size() == whole_ids.size());
  CHECK(cut_ids == whole_ids);
  CHECK(std::set<std::string>(cut_ids.begin(), cut_ids.end()).size() == cut_ids.size());
  CHECK(drops.load() == 20);
  CHECK(sub.connections() >= 21);
  for (const auto& id : created) CHECK(cut.wait_for_report(id));
  sub.close();
  direct.close();
  CHECK(sub.wait_for(std::chrono::seconds(30)));
  CHECK(direct.wait_for(std::chrono::seconds(30)));
  CHECK_FALSE(cut.end);
}

TEST_CASE("events.stream: close mid-stream ends it at once; nothing reaches the listener after close") {
  auto c = client();
  std::atomic<bool> closed{false};
  std::atomic<int> after_close{0};
  Received got;
  hues::EventStreamQuery from_start;
  from_start.since = "0";
  auto sub = c.events().stream(
      [&](const hues::ReportEvent& e) {
        if (closed) ++after_close;
        got.listener()(e);
      },
      from_start, {}, fast(), got.on_end());
  auto r = c.reports().create(new_report("Đóng giữa chừng"));
  REQUIRE(got.wait_for_report(r.id));
  sub.close();
  closed = true;
  REQUIRE(sub.wait_for(std::chrono::seconds(30)));  // a hang guard
  CHECK(sub.ended());
  CHECK_FALSE(got.end);  // closed: no error
  c.reports().create(new_report("Sau khi đóng"));
  CHECK(after_close.load() == 0);
  sub.close();  // idempotent
}

TEST_CASE("events.stream: a wrong key ends with AuthenticationError, an unknown id with ValidationError") {
  auto bad = hues::Client(options_for(sandbox().url(), "hk_test_wrong"));
  Received got;
  auto sub = bad.events().stream(got.listener(), {}, {}, fast(), got.on_end());
  auto e = hues_test::catch_error([&] { sub.wait(); });
  CHECK(e.type() == hues::ErrorType::kAuthentication);
  CHECK(e.http_status() == 401);
  CHECK(got.end);
  CHECK(sub.connections() == 1);  // not retried

  auto c = client();
  auto unknown = c.events().stream(got.listener(), {}, "999999999999", fast(), nullptr);
  auto v = hues_test::catch_error([&] { unknown.wait(); });
  CHECK(v.type() == hues::ErrorType::kValidation);
  CHECK(v.field() == "Last-Event-ID");
  auto invalid = hues_test::catch_error([&] { c.events().stream(got.listener(), {}, "not-a-number"); });
  CHECK(invalid.type() == hues::ErrorType::kValidation);
  CHECK(invalid.field() == "Last-Event-ID");
}

TEST_CASE("events.stream: beyond 8 streams the 429 is retried after its Retry-After, and the stream opens") {
  auto c = client();
  std::vector<std::unique_ptr<Received>> receivers;
  std::vector<hues::EventSubscription> subs;
  hues::EventStreamQuery from_start;
  from_start.since = "0";
  auto marker = c.reports().create(new_report("Giới hạn luồng"));
  for (int i = 0; i < 8; ++i) {
    receivers.push_back(std::make_unique<Received>());
    subs.push_back(c.events().stream(receivers.back()->listener(), from_start, {}, fast(), receivers.back()->on_end()));
    REQUIRE(receivers.back()->wait_for_report(marker.id));  // open: it holds one of the caller's 8
  }
  Received ninth;
  auto extra = c.events().stream(ninth.listener(), from_start, {}, fast(), ninth.on_end());
  while (extra.connections() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(20));  // refused once
  {
    std::lock_guard<std::mutex> lock(ninth.mu);
    CHECK(ninth.events.empty());
    CHECK_FALSE(ninth.ended);
  }
  subs.front().close();
  REQUIRE(ninth.wait_for_report(marker.id));  // let in once a slot freed, after Retry-After
  CHECK(extra.connections() >= 2);
  CHECK_FALSE(ninth.end);
  for (auto& s : subs) s.close();
  extra.close();
  extra.wait();
}

TEST_CASE("events.stream: a silent connection (no heartbeat) is dead: it reconnects with Last-Event-ID; 204 ends it") {
  std::mutex mu;
  std::vector<std::string> requests;
  const std::string event =
      R"({"id":"5","type":"report.status_changed","report_id":"rpt_1","category":"street_light","status":"received",)"
      R"("at":"2026-11-28T09:16:16Z","actor_role":"ioc","actor":"","note":"Đã tiếp nhận","attachments":[],"version":2})";
  hues_test::FaultServer server([&](int fd, int index) {
    std::string req = hues_test::read_message(fd);
    {
      std::lock_guard<std::mutex> lock(mu);
      requests.push_back(req);
    }
    if (index > 0) {  // the reconnect: 204, "nothing more" (WHATWG), which ends the subscription
      hues_test::send_all(fd, "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
      ::close(fd);
      return;
    }
    std::string body = "retry: 10\nid: 5\ndata: " + event + "\n\n";
    char size[16];
    std::snprintf(size, sizeof size, "%zx", body.size());
    hues_test::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
                                std::string(size) + "\r\n" + body + "\r\n");
    char buf[256];
    while (!server_stopping_or_closed(fd, buf, sizeof buf)) {
    }  // then silence: no heartbeat, until the client gives up on it
    ::close(fd);
  });
  auto c = hues::Client(options_for(server.url(), "hk_test_any"));
  Received got;
  hues::StreamOptions o = fast();
  o.idle_timeout_ms = 300;
  auto sub = c.events().stream(got.listener(), {}, {}, o, got.on_end());
  sub.wait();  // 204: ended without an error
  CHECK(sub.connections() == 2);
  REQUIRE(got.events.size() == 1);
  CHECK(got.events[0].note == "Đã tiếp nhận");
  CHECK(sub.last_event_id() == "5");
  std::lock_guard<std::mutex> lock(mu);
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].find("Last-Event-ID") == std::string::npos);
  CHECK(requests[1].find("Last-Event-ID: 5\r\n") != std::string::npos);
  CHECK(requests[1].find("Accept: text/event-stream\r\n") != std::string::npos);
}

// Backpressure (StreamOptions::max_buffered_events): a listener that blocks while a server
// sends 3,000 events. The subscription hands at most the bound on and stops reading, so the
// server's socket fills (its non-blocking send would block: TCP holds it back); once the
// listener goes on, every event arrives exactly once, in order. A server that drops the slow
// reader instead (impatient) is reconnected to with Last-Event-ID and loses nothing either.
TEST_CASE("events.stream: a blocked listener holds at most max_buffered_events; the server is held back; nothing lost") {
  constexpr int kEvents = 3000;
  constexpr int kBound = 100;
  for (bool impatient : {false, true}) {
    CAPTURE(impatient);
    std::mutex mu;
    std::condition_variable cv;
    bool held_back = false;  // a send of the server would have blocked
    std::vector<std::string> last_ids;  // each request's Last-Event-ID ("" without)
    hues_test::FaultServer server([&](int fd, int index) {
      std::string req = hues_test::read_message(fd);
      int after = 0;
      if (auto at = req.find("Last-Event-ID: "); at != std::string::npos) after = std::stoi(req.substr(at + 15));
      {
        std::lock_guard<std::mutex> lock(mu);
        last_ids.push_back(req.find("Last-Event-ID: ") == std::string::npos ? "" : std::to_string(after));
      }
      int small = 4096;
      ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
      hues_test::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\nretry: 10\n\n");
      for (int id = after + 1; id <= kEvents; ++id) {
        const std::string e = "id: " + std::to_string(id) + "\ndata: " +
                              R"({"id":")" + std::to_string(id) +
                              R"(","type":"report.status_changed","report_id":"rpt_1","category":"street_light",)"
                              R"("status":"received","at":"2026-11-28T09:16:16Z","actor_role":"ioc","actor":"",)"
                              R"("note":"Đã tiếp nhận","attachments":[],"version":2})" + "\n\n";
        std::size_t off = 0;
        while (off < e.size()) {
          ssize_t n = ::send(fd, e.data() + off, e.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
          if (n > 0) {
            off += static_cast<std::size_t>(n);
            continue;
          }
          if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return (void)::close(fd);
          {
            std::lock_guard<std::mutex> lock(mu);
            held_back = true;
          }
          cv.notify_all();
          if (impatient && index == 0) return (void)::close(fd);  // drops the slow reader
          pollfd p{fd, POLLOUT, 0};
          ::poll(&p, 1, 1000);
        }
      }
      ::close(fd);  // the end: the subscription reconnects after it, and hears nothing new
    });
    auto c = hues::Client(options_for(server.url(), "hk_test_any"));
    hues::StreamOptions o = fast();
    o.max_buffered_events = kBound;
    bool gate = false;
    std::vector<std::string> ids;
    auto sub_holder = std::make_shared<hues::EventSubscription>();
    *sub_holder = c.events().stream(
        [&](const hues::ReportEvent& e) {
          std::unique_lock<std::mutex> lock(mu);
          cv.wait(lock, [&] { return gate; });  // blocked until the test lets it go
          ids.push_back(e.id);
          cv.notify_all();
        },
        {}, {}, o, {});
    auto& sub = *sub_holder;
    {
      std::unique_lock<std::mutex> lock(mu);
      REQUIRE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return held_back; }));  // a hang guard
    }
    // The listener is blocked on its first event: what waits for it is within the bound.
    CHECK(sub.buffered_events() <= kBound);
    CHECK(sub.max_buffered_seen() <= kBound);
    {
      std::lock_guard<std::mutex> lock(mu);
      gate = true;
    }
    cv.notify_all();
    {
      std::unique_lock<std::mutex> lock(mu);
      REQUIRE(cv.wait_for(lock, std::chrono::seconds(120), [&] { return ids.size() >= static_cast<std::size_t>(kEvents); }));
      REQUIRE(ids.size() == static_cast<std::size_t>(kEvents));
      for (int i = 0; i < kEvents; ++i) REQUIRE(ids[i] == std::to_string(i + 1));  // exactly once, in order
    }
    CHECK(sub.max_buffered_seen() <= kBound);
    CHECK(sub.max_buffered_seen() >= kBound / 2);  // it did fill up while blocked
    sub.close();
    sub.wait();
    std::lock_guard<std::mutex> lock(mu);
    REQUIRE_FALSE(last_ids.empty());
    CHECK(last_ids[0].empty());
    if (impatient) {
      REQUIRE(last_ids.size() >= 2);  // dropped, it reconnected
      CHECK(std::stoi(last_ids[1]) > 0);           // resumed after what it had,
      CHECK(std::stoi(last_ids[1]) < kEvents);     // before the end: the rest came again
    }
  }
}

// The server ends the subscription (204 on the reconnect) while a slow listener still has
// events queued for it: they are all handed on, in order, and only then does it end; a close
// in that state drops them and ends at once. (With the SDK's own transport the socket is not
// read while events wait, so the end is seen only once they are taken; a transport that does
// not stream hands over the whole body at once, which is how this test queues 40 of them.)
TEST_CASE("events.stream: a server's end waits for the events still queued for a slow listener; close does not") {
  constexpr int kEvents = 40;
  struct WholeBody final : hues::Transport {
    std::mutex mu;
    std::condition_variable cv;
    int sent = 0;
    hues::HttpResponse send(const hues::HttpRequest&, const hues::AttemptContext&) override {
      hues::HttpResponse res;
      std::lock_guard<std::mutex> lock(mu);
      if (sent++ > 0) {
        res.status = 204;  // "nothing more" (WHATWG): ends the subscription
        cv.notify_all();
        return res;
      }
      res.status = 200;
      res.headers.push_back({"Content-Type", "text/event-stream"});
      res.body = "retry: 10\n\n";
      for (int id = 1; id <= kEvents; ++id)
        res.body += "id: " + std::to_string(id) + "\ndata: " + R"({"id":")" + std::to_string(id) +
                    R"(","type":"report.status_changed","report_id":"rpt_1","category":"street_light",)"
                    R"("status":"received","at":"2026-11-28T09:16:16Z","actor_role":"ioc","actor":"",)"
                    R"("note":"Đã tiếp nhận","attachments":[],"version":2})" + "\n\n";
      return res;
    }
  };
  for (bool close_early : {false, true}) {
    CAPTURE(close_early);
    auto transport = std::make_shared<WholeBody>();
    auto opts = options_for("http://127.0.0.1:9", "hk_test_any");
    opts.transport = transport;
    auto c = hues::Client(opts);
    hues::StreamOptions o = fast();
    o.max_buffered_events = 2;
    std::mutex mu;
    std::condition_variable cv;
    bool gate = false, ended = false;
    std::vector<std::string> ids;
    std::size_t ids_at_end = 0;
    auto sub = c.events().stream(
        [&](const hues::ReportEvent& e) {
          std::unique_lock<std::mutex> lock(mu);
          cv.wait(lock, [&] { return gate; });  // slow until the server has ended it
          ids.push_back(e.id);
        },
        {}, {}, o,
        [&](std::exception_ptr e) {
          std::lock_guard<std::mutex> lock(mu);
          CHECK_FALSE(e);
          ended = true;
          ids_at_end = ids.size();
          cv.notify_all();
        });
    {
      std::unique_lock<std::mutex> lock(transport->mu);
      REQUIRE(transport->cv.wait_for(lock, std::chrono::seconds(30), [&] { return transport->sent >= 2; }));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the 204 reaches the subscription
    {
      std::lock_guard<std::mutex> lock(mu);
      CHECK_FALSE(ended);  // events still wait for the listener: not over yet
    }
    if (close_early) sub.close();
    {
      std::lock_guard<std::mutex> lock(mu);
      gate = true;
    }
    cv.notify_all();
    sub.wait();
    std::lock_guard<std::mutex> lock(mu);
    CHECK(ended);
    if (close_early) {
      CHECK(ids.size() < static_cast<std::size_t>(kEvents));  // dropped by the close
    } else {
      REQUIRE(ids.size() == static_cast<std::size_t>(kEvents));
      CHECK(ids_at_end == static_cast<std::size_t>(kEvents));  // the end came after every event
      for (int i = 0; i < kEvents; ++i) CHECK(ids[i] == std::to_string(i + 1));
    }
  }
}
