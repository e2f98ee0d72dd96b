// Subscriptions: the calls the spec marks `x-hues-stream: sse` (GET /v1/events), as a
// listener and a handle. The generated service starts one:
//
//   hues::StreamOptions so;                                     // generated (docs/openapi.yaml)
//   auto sub = client.events().stream(
//       [](const hues::ReportEvent& e) { std::cout << e.report_id << " " << e.status << "\n"; },
//       {}, saved_last_event_id, so,
//       [](std::exception_ptr end) { /* null: closed; else the error that ended it */ });
//   ...
//   save(sub.last_event_id());  // resume after a restart: pass it as last_event_id
//   sub.close();
//
// A subscription reads a Server-Sent Events stream (WHATWG HTML, parsed exactly) on the
// SDK's I/O threads and calls the listener on the host executor, one event at a time, in
// order, never on an I/O thread and never under an SDK lock. It reconnects by itself after a
// dropped or dead connection (no byte for StreamOptions::idle_timeout_ms), a stream the server
// ended, a 5xx or a 429 (after its Retry-After), waiting a jittered, doubling, capped backoff
// that starts at the server's `retry:`; each reconnect sends Last-Event-ID, so across drops no
// event is lost or repeated. Credentials come from the client's pipeline on every connect
// (refreshed when needed). 400, 401, 403 and 404 end it with their typed error (a revoked token
// ends the stream, and the reconnect's 401 ends the subscription with AuthenticationError).
#pragma once

#include "hues/export.h"

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>

namespace hues {

// One Server-Sent Event as dispatched (WHATWG HTML 9.2.6): its id (the last event ID
// string), its type (`event:`, "message" by default) and its data (the `data:` lines joined
// by "\n").
struct ServerEvent {
  std::string id;
  std::string type;
  std::string data;
};

// How a subscription keeps its stream (the same defaults as docs/openapi.yaml's StreamOptions):
// the wait before a reconnect starts at the server's `retry:` (initial_backoff_ms until it
// sends one), doubles with each failure in a row, is capped at max_backoff_ms and jittered
// (half of it); a 429 waits at least its Retry-After. No byte for idle_timeout_ms (three
// missed 15 s heartbeats) means a dead connection: it reconnects.
struct StreamOptions {
  std::int64_t initial_backoff_ms = 1000;
  std::int64_t max_backoff_ms = 30000;
  std::int64_t idle_timeout_ms = 45000;
  // Backpressure: at most this many events wait for the listener; beyond, the stream is not
  // read (TCP holds the server back) until the listener has caught up with half of them. The
  // events of one read past the bound wait inside the subscription, not for the listener.
  std::int64_t max_buffered_events = 1024;
};

class HUES_API EventSubscription {
 public:
  struct Impl;
  EventSubscription() = default;
  explicit EventSubscription(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  EventSubscription(EventSubscription&&) noexcept = default;
  EventSubscription& operator=(EventSubscription&& other) noexcept;
  EventSubscription(const EventSubscription&) = delete;
  EventSubscription& operator=(const EventSubscription&) = delete;
  // Closes it (see close()).
  ~EventSubscription();

  // Stops the subscription: the connection or the wait for a reconnect is aborted at once; no
  // event reaches the listener after close returns, unless from the listener's own thread
  // (close may be called from the listener). Idempotent; safe from any thread.
  void close();
  // The id of the last event dispatched to the listener ("" before the first, or the
  // last_event_id it was started with): persist it to resume after a restart.
  std::string last_event_id() const;
  // True once it ended: closed, or ended by an error (the on_end callback says which).
  bool ended() const;
  // Waits until it ended; rethrows the error that ended it (returns after close()). Never call
  // it from the listener.
  void wait() const;
  // Like wait() for at most timeout; false when it is still running.
  bool wait_for(std::chrono::milliseconds timeout) const;
  // Connections opened so far (1 + reconnects), for tests and diagnostics.
  int connections() const;
  // Events handed on that the listener has not finished yet, and the most there ever were
  // (at most StreamOptions::max_buffered_events), for tests and diagnostics.
  int buffered_events() const;
  int max_buffered_seen() const;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace hues
