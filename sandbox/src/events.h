// GET /v1/events: the caller's visible report changes as Server-Sent Events (the WHATWG
// HTML "Server-sent events" format). Transport-free: the server (server.cpp) writes what an
// EventStream produces and waits on the hub between batches.
//
// Each row of report_events is one event: `id:` its seq (opaque to clients), `event:`
// report.created (the first row of a report) or report.status_changed, `data:` one line of
// JSON (docs/openapi.yaml, ReportEvent). Who sees a row: the rules of GET /v1/reports/{id}
// applied to the report as it was at that change (public reports: anyone; private ones: the
// reporter, the IOC, and the staff of the agency it was with after or before the change), so
// the events a caller gets after an id are always the same ones, whenever they ask: that is
// what makes Last-Event-ID resume without a loss or a repeat.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "store.h"

namespace hues::sandbox {

// The streams open now (caps per caller and in total) and the last event's seq.
class EventHub {
 public:
  EventHub(int max_streams, int max_per_caller) : max_(max_streams), max_per_caller_(max_per_caller) {}

  // A slot for one more stream of `who`, or false (429) at a cap. release() gives it back.
  bool acquire(const std::string& who);
  void release(const std::string& who);

  // The store committed the row `seq`: remember it and wake every waiting stream (the
  // server's wake function posts to each stream's own thread).
  void published(std::int64_t seq);
  std::int64_t latest() const { return latest_.load(std::memory_order_acquire); }
  void set_latest(std::int64_t seq) { latest_.store(seq, std::memory_order_release); }

  // Streams waiting for the next event; wake is called (from the writer's thread) after each
  // published row, until remove(id).
  std::uint64_t add_waiter(std::function<void()> wake);
  void remove_waiter(std::uint64_t id);

  int max_per_caller() const { return max_per_caller_; }

  // Server shutdown: from now on every stream ends cleanly (its last chunk, then a close) at
  // its next step, and no new one opens; wakes them all. wait_closed then waits until every
  // slot is back or the timeout passes; false: some stream (a client not reading) is still open.
  void close_all();
  bool closing() const { return closing_.load(std::memory_order_acquire); }
  bool wait_closed(std::chrono::milliseconds timeout);

 private:
  const int max_, max_per_caller_;
  std::mutex mu_;
  int open_ = 0;
  std::map<std::string, int> per_caller_;
  std::map<std::uint64_t, std::function<void()>> waiters_;
  std::uint64_t next_waiter_ = 1;
  std::atomic<std::int64_t> latest_{0};
  std::atomic<bool> closing_{false};
  std::condition_variable released_;
};

// One open stream: the caller, the position (the last seq looked at) and its hub slot.
class EventStream {
 public:
  EventStream(Store& store, EventHub& hub, Caller caller, std::string who, std::int64_t after)
      : store_(store), hub_(hub), caller_(std::move(caller)), who_(std::move(who)), after_(after) {}
  ~EventStream() { hub_.release(who_); }
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // The SSE text of the next visible events after the position (looking at up to kBatch
  // rows), and whether rows may remain (false: caught up with what was committed).
  std::string next(bool& more);
  std::int64_t position() const { return after_; }
  EventHub& hub() { return hub_; }
  // The credentials the stream was opened with (never logged), checked again before each
  // batch so that a revoked or expired token stops listening (Api::events_authorized).
  struct Credentials {
    std::string authorization, api_key, issuer;
  };
  void set_credentials(Credentials c) { credentials_ = std::move(c); }
  const Credentials& credentials() const { return credentials_; }

  static constexpr std::size_t kBatch = 256;

 private:
  Store& store_;
  EventHub& hub_;
  Caller caller_;
  std::string who_;
  std::int64_t after_;
  Credentials credentials_;
};

// Whether caller may see the change (see above).
bool event_visible_to(const StoredEvent& e, const Caller& caller);
// The event's `data:` JSON as caller sees it (present(): no reporter for agency staff on
// an anonymous report).
std::string event_json(const StoredEvent& e, const Caller& caller);
const char* event_type(const StoredEvent& e);

}  // namespace hues::sandbox
