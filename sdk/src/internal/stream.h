// Subscriptions (hues/stream.h) inside the SDK: the Server-Sent Events parser and the
// reconnecting stream the generated services and the C boundary (bridge.cpp) start.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "hues/http.h"
#include "hues/stream.h"
#include "internal/client_core.h"
#include "internal/host_chain.h"
#include "internal/json_codec.h"

namespace hues::internal {

// The event stream interpretation of WHATWG HTML ("Server-sent events", 9.2.6), exactly:
// one leading BOM is dropped; lines end at CRLF, LF or CR (a CR at the end of one piece and
// an LF at the start of the next are one line end); an empty line dispatches; a line starting
// with ':' is a comment; "field: value" drops one space after the colon, a line without a
// colon is a field with an empty value; `data` appends value + LF, `event` sets the type,
// `id` sets the last event ID buffer unless the value contains NUL, `retry` with only ASCII
// digits sets the reconnection time; other fields are ignored. Dispatch sets the last event ID
// string (even when no event is fired), then fires nothing if the data buffer is empty, else
// drops the data's final LF and fires {last event ID, type or "message", data}. Bytes that are
// not UTF-8 decode as U+FFFD. A pending event at the end of a connection is discarded
// (reset()).
class SseParser {
 public:
  using OnEvent = std::function<void(ServerEvent&&)>;
  // A line (or an event's data) longer than max_bytes is a ProtocolError.
  explicit SseParser(std::size_t max_bytes = 16u << 20) : max_bytes_(max_bytes) {}

  // Feeds the next bytes of the stream; on_event runs for each dispatched event, in order.
  void feed(std::string_view bytes, const OnEvent& on_event);
  // A new connection: the pending line, data and type are dropped and a BOM may come again;
  // the last event ID string stays (it is what the reconnect sends).
  void reset();

  const std::string& last_event_id() const { return last_event_id_; }
  void set_last_event_id(std::string id) { last_event_id_ = id_buffer_ = std::move(id); }
  // The reconnection time a `retry:` field set, if one did since the last call.
  std::optional<std::int64_t> take_retry() { return std::exchange(retry_, std::nullopt); }

 private:
  void line(std::string_view text, const OnEvent& on_event);
  void dispatch(const OnEvent& on_event);

  std::size_t max_bytes_;
  bool start_ = true;     // no byte of this connection yet: a BOM may come
  bool after_cr_ = false;  // the last byte was a CR: a following LF ends nothing more
  std::string bom_;       // the first bytes, while they may still be a BOM
  std::string pending_;   // the current line, without its end
  std::string data_;
  std::string type_;
  std::string id_buffer_;
  std::string last_event_id_;
  std::optional<std::int64_t> retry_;
};

// What a stream call needs from its caller. on_event runs on an I/O thread, in order, one at
// a time (keep it short: hand the event on); on_end runs once, after the last on_event, with
// null (closed, or the server answered 204: nothing more) or the error that ended it.
struct StreamHandlers {
  std::function<void(ServerEvent&&)> on_event;
  // settle() marks the subscription ended (wait() returns): call it once the end was handed on.
  std::function<void(std::exception_ptr error, std::function<void()> settle)> on_end;
};

// True once close() was called (or it ended): events still queued for a listener are dropped.
bool stream_closing(const EventSubscription::Impl& impl);
// EventSubscription::close() for holders of the Impl (the C boundary).
void close_stream(EventSubscription::Impl& impl);
// Every event handed to on_event must be reported once it was consumed (the listener ran or
// skipped it; the host took it from its sink): the backpressure bound counts the others.
void stream_consumed(EventSubscription::Impl& impl, std::uint32_t n = 1);

// A subscription as its events' consumers see it: an event may be consumed (or, across the C
// boundary, acknowledged) before start_stream has returned the subscription; those count once
// it is known, so none is lost to the backpressure bound.
class StreamRef {
 public:
  void consumed(std::uint32_t n = 1);
  void set(const std::shared_ptr<EventSubscription::Impl>& impl);
  std::shared_ptr<EventSubscription::Impl> lock() const;

 private:
  mutable std::mutex mu_;
  std::weak_ptr<EventSubscription::Impl> impl_;  // under mu_
  bool known_ = false;                           // under mu_
  std::uint32_t early_ = 0;                      // under mu_: consumed before it was known
};

// Starts a subscription: request (method, URL relative to the base URL or absolute, headers
// such as the call's query) is sent through the client's pipeline, again on each reconnect
// with Last-Event-ID set to the last event's id (last_event_id to begin with, when not empty).
std::shared_ptr<EventSubscription::Impl> start_stream(std::shared_ptr<ClientCore> core, HttpRequest request,
                                                      std::string last_event_id, const StreamOptions& options,
                                                      StreamHandlers handlers);

// An event's data as T; a ProtocolError naming the field when it does not decode.
[[noreturn]] void bad_event(const ServerEvent& e, const FieldError& error);
template <typename T>
T decode_event(const ServerEvent& e) {
  try {
    return from_json_string<T>(e.data);
  } catch (const FieldError& error) {
    bad_event(e, error);
  }
}

// Validates and builds an HTTP call's request (internal/service_support.h).
HttpRequest prepare_request(int call_id, const boost::json::object& args);

// The generated services' form: args validated and built into the request by the call
// table (ValidationError naming the field, thrown here), each event's data decoded as T (a
// ProtocolError naming the field ends the subscription), the listener and on_end run on the
// host executor through one ordered chain, so on_end comes after the last event.
template <typename T>
EventSubscription start_typed_stream(const std::shared_ptr<ClientCore>& core, int call_id,
                                     const boost::json::object& args, const StreamOptions& options,
                                     std::function<void(const T&)> on_event,
                                     std::function<void(std::exception_ptr)> on_end) {
  HttpRequest request = prepare_request(call_id, args);
  std::string last = request.header("Last-Event-ID");
  auto chain = std::make_shared<HostChain>(core->runtime());
  auto self = std::make_shared<StreamRef>();  // set once started
  StreamHandlers h;
  h.on_event = [chain, self, on_event = std::move(on_event)](ServerEvent&& e) {
    T value = decode_event<T>(e);
    chain->post([self, on_event, value = std::move(value)] {
      auto impl = self->lock();
      if (!impl || !stream_closing(*impl)) {  // closed meanwhile: nothing after close()
        try {
          if (on_event) on_event(value);
        } catch (...) {
          // A failing listener must not end the subscription it listens to.
        }
      }
      self->consumed(1);
    });
  };
  h.on_end = [chain, on_end = std::move(on_end)](std::exception_ptr error, std::function<void()> settle) {
    chain->post([on_end, error, settle] {
      try {
        if (on_end) on_end(error);
      } catch (...) {
      }
      settle();
    });
  };
  auto impl = start_stream(core, std::move(request), std::move(last), options, std::move(h));
  self->set(impl);
  return EventSubscription(std::move(impl));
}

}  // namespace hues::internal
