// The request pipeline: small policies, each owning one concern, ending in the transport.
// Order (outermost first): request id, user agent, idempotency key, retry, auth, logging,
// transport. Everything before retry runs once per logical call; the rest once per attempt.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hues/http.h"
#include "hues/options.h"
#include "internal/crypto.h"  // random_hex

namespace hues::internal {

using Clock = std::chrono::steady_clock;

class Runtime;

// What one logical call needs besides the request: its limits, cancel token, progress. It
// lives on the heap for the whole call: every continuation holds it.
struct CallState {
  HttpRequest request;                   // the policies edit it in place
  Clock::time_point deadline;            // overall, across retries
  std::chrono::milliseconds attempt_timeout{30000};
  std::chrono::milliseconds connect_timeout{10000};
  RetryPolicy retry;
  std::string idempotency_key;
  std::shared_ptr<CancellationToken> cancel;  // the call's own token (never null in a call)
  std::shared_ptr<Runtime> runtime;
  std::shared_ptr<const void> keep_alive;     // the pipeline, while the call is in flight
  int attempt = 0;  // 1-based once the retry policy starts
  bool reauthorized = false;  // the credentials were renewed once after a 401
  std::shared_ptr<ResponseStream> stream;  // a streamed body (AttemptContext::stream)
  std::chrono::milliseconds stream_idle_timeout{0};
};
using CallStatePtr = std::shared_ptr<CallState>;

// Runs once with the response (any status) or a hues::Error.
using Done = std::function<void(std::exception_ptr, HttpResponse)>;

class Policy;

// A transport that reads the request in place (the SDK's own: it serializes the request when
// the attempt starts and keeps only what a resend needs), so the pipeline need not copy the
// request for each attempt as Transport::send_async's by-value request does.
class InPlaceTransport {
 public:
  virtual ~InPlaceTransport() = default;
  // As Transport::send_async; request is only read during the call. done runs on one of the
  // runtime's I/O threads (or its sync loop).
  virtual void send_in_place(const HttpRequest& request, AttemptContext ctx, Transport::Completion done) = 0;
  virtual const Runtime* runtime() const = 0;
};

// The rest of the pipeline after a policy.
class Next {
 public:
  Next(const std::vector<std::unique_ptr<Policy>>* policies, std::size_t index)
      : policies_(policies), index_(index) {}
  // Never throws: a policy that throws before passing the call on fails it through done.
  void operator()(HttpRequest& request, CallStatePtr state, Done done) const;

 private:
  const std::vector<std::unique_ptr<Policy>>* policies_;
  std::size_t index_;
};

// Continuation-passing: send() starts its part and returns; it calls next to go on and done
// (exactly once, on an I/O thread) to end. It must not throw after handing the call on.
class Policy {
 public:
  virtual ~Policy() = default;
  virtual void send(HttpRequest& request, CallStatePtr state, const Next& next, Done done) = 0;
};

class Pipeline {
 public:
  Pipeline(const ClientOptions& options, std::shared_ptr<Transport> transport, std::shared_ptr<Runtime> runtime);
  void send(CallStatePtr state, Done done) const {
    HttpRequest& request = state->request;
    Next(&policies_, 0)(request, std::move(state), std::move(done));
  }

 private:
  std::vector<std::unique_ptr<Policy>> policies_;
};

// Random identifiers from OpenSSL's CSPRNG.
std::string new_uuid4();

// True for methods that may be repeated, or a request carrying an Idempotency-Key.
bool is_retry_safe(const HttpRequest& request);

// Wait before retry number `retry` (1-based): full jitter over the exponential bound,
// and never less than what Retry-After asked (in ms, -1 when absent).
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry, long long retry_after_ms);

// Parses Retry-After (delta-seconds or HTTP-date) into milliseconds; -1 when absent/invalid.
long long parse_retry_after(const std::string& value);

}  // namespace hues::internal
