// The HTTP layer under every call, public so tests and apps can wrap or replace the
// transport (fault injection, a custom network stack) without a mock server.
#pragma once

#include "hues/export.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace hues {

struct ClientOptions;

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HUES_API HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string url;     // absolute: https://host:port/path?query
  Headers headers;
  std::string body;
  // A body shared instead of copied (an upload's chunk buffer): when set, it is the body and
  // `body` is ignored; the pipeline's attempts and the built-in transport only share it. A
  // transport that overrides send() alone gets it copied into `body`.
  std::shared_ptr<const std::string> shared_body;
  const std::string& body_bytes() const { return shared_body ? *shared_body : body; }
  // A body produced in pieces instead (an upload's span of a file, sent without holding it):
  // when body_reader is set, the body is body_length bytes, and body_reader(at, buf, n) puts
  // the bytes from `at` in buf (at most n, at least 1 while at < body_length) and returns how
  // many, or throws. The built-in transport calls it on its I/O thread, piece by piece into a
  // buffer of its own, from 0 again if it resends; a transport that overrides send() alone
  // gets the whole body read into `body`.
  std::int64_t body_length = 0;
  std::function<std::size_t(std::int64_t at, char* buf, std::size_t n)> body_reader;
  // Case-insensitive header lookup; empty when absent.
  std::string header(const std::string& name) const;
  void set_header(const std::string& name, std::string value);
};

struct HUES_API HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;
  std::string header(const std::string& name) const;
};

// Lets a caller stop a call in flight from another thread. Cancelling ends the call
// promptly with hues::CancelledError; cancelling twice is harmless.
class HUES_API CancellationToken {
 public:
  void cancel();
  bool cancelled() const noexcept { return cancelled_.load(); }
  // Registers fn to run once on cancel (at once if already cancelled). Returns an id for
  // remove_callback. Used by transports to abort blocking I/O.
  std::uint64_t add_callback(std::function<void()> fn);
  void remove_callback(std::uint64_t id);

 private:
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::uint64_t next_id_ = 1;
  std::vector<std::pair<std::uint64_t, std::function<void()>>> callbacks_;
};

// Takes a 2xx response's body as it arrives instead of in HttpResponse::body (a Server-Sent
// Events stream, hues/stream.h). A transport that streams calls on_head once with the status
// and headers, then on_data for each piece, on its I/O thread (keep them short), then completes
// with the head and an empty body when the body ends (or with the error that cut it). A
// transport that does not stream just completes with the whole body, which works too for a
// body that ends.
class HUES_API ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  virtual void on_head(const HttpResponse& head) = 0;
  virtual void on_data(const char* data, std::size_t size) = 0;
  // Backpressure (optional): after each on_data the transport asks ready(); false stops
  // reading (the socket stays unread, so TCP slows the sender; the idle timeout does not run)
  // until the consumer calls resume, which the transport sets before on_head (from any
  // thread; a no-op once the attempt ended). Always ready by default.
  virtual bool ready() { return true; }
  std::function<void()> resume;
};

// Limits that apply to one attempt.
struct AttemptContext {
  std::chrono::steady_clock::time_point deadline;  // the attempt must end by then (a stream: its head)
  std::chrono::milliseconds connect_timeout{10000};
  std::shared_ptr<CancellationToken> cancel;       // may be null
  std::shared_ptr<ResponseStream> stream;          // null: read the body whole
  std::chrono::milliseconds stream_idle_timeout{0};  // a stream with no byte for this long times out
};

// Sends one HTTP request and returns the response, whatever its status. Throws
// hues::TransportError subclasses (timeout, TLS, connection, protocol) or CancelledError.
// Must be thread-safe.
class HUES_API Transport {
 public:
  using Completion = std::function<void(std::exception_ptr error, HttpResponse response)>;
  virtual ~Transport() = default;
  virtual HttpResponse send(const HttpRequest& request, const AttemptContext& context) = 0;
  // Starts the request and returns at once; done runs exactly once, with the response or a
  // hues::Error. The default runs send() on the SDK's host executor (a small blocking pool),
  // so transports that only implement send keep working. Keep the transport alive until done.
  virtual void send_async(HttpRequest request, AttemptContext context, Completion done);
};

// The SDK's own transport (Boost.Beast + OpenSSL, pooled keep-alive connections, TLS 1.2+
// with verification, CA file, HTTP proxy with CONNECT), configured from options. It is
// asynchronous underneath (send_async); send() starts the request and waits for it.
HUES_API std::shared_ptr<Transport> make_default_transport(const ClientOptions& options);

}  // namespace hues
