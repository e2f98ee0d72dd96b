#include "internal/pipeline.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <ctime>
#include <iomanip>
#include <mutex>
#include <sstream>

#include "hues/error.h"
#include "hues/identity.h"

#ifndef HUES_VERSION
#define HUES_VERSION "0.0.0"
#endif

namespace hues::internal {

HttpResponse Next::operator()(HttpRequest& request, CallState& state) const {
  return policies_[index_]->send(request, state, Next(policies_, index_ + 1));
}

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1)
    throw std::runtime_error("hues: OpenSSL RAND_bytes failed");
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char b : buf) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

std::string new_uuid4() {
  std::string h = random_hex(16);
  h[12] = '4';                                       // version 4
  h[16] = "89ab"[std::stoi(h.substr(16, 1), nullptr, 16) & 3];  // RFC 4122 variant
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

bool is_retry_safe(const HttpRequest& request) {
  const std::string& m = request.method;
  return m == "GET" || m == "HEAD" || m == "PUT" || m == "DELETE" || m == "OPTIONS" ||
         !request.header("Idempotency-Key").empty();
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry, long long retry_after_ms) {
  double bound = static_cast<double>(policy.initial_backoff_ms) *
                 std::pow(std::max(1.0, policy.multiplier), std::max(0, retry - 1));
  bound = std::min(bound, static_cast<double>(policy.max_backoff_ms));
  unsigned int r = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&r), sizeof r);
  auto jitter = static_cast<long long>(bound * (static_cast<double>(r) / 4294967296.0));
  return std::chrono::milliseconds(std::max(jitter, retry_after_ms));
}

long long parse_retry_after(const std::string& value) {
  if (value.empty()) return -1;
  if (std::all_of(value.begin(), value.end(), ::isdigit)) {
    return value.size() > 9 ? -1 : std::stoll(value) * 1000;
  }
  std::tm tm{};
  std::istringstream in(value);
  in >> std::get_time(&tm, "%a, %d %b %Y %H:%M:%S GMT");
  if (in.fail()) return -1;
  long long delta = static_cast<long long>(timegm(&tm)) - static_cast<long long>(std::time(nullptr));
  return std::max(0LL, delta) * 1000;
}

bool sleep_until(Clock::time_point until, const std::shared_ptr<CancellationToken>& cancel) {
  std::mutex mu;
  std::condition_variable cv;
  bool woken = false;
  std::uint64_t id = 0;
  if (cancel) id = cancel->add_callback([&] {
    std::lock_guard<std::mutex> lock(mu);
    woken = true;
    cv.notify_all();
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_until(lock, until, [&] { return woken; });
  }
  if (cancel) cancel->remove_callback(id);
  return !(cancel && cancel->cancelled());
}

namespace {

class RequestIdPolicy final : public Policy {
 public:
  HttpResponse send(HttpRequest& req, CallState& state, const Next& next) override {
    if (req.header("X-Request-Id").empty()) req.set_header("X-Request-Id", "req_" + random_hex(12));
    return next(req, state);
  }
};

class UserAgentPolicy final : public Policy {
 public:
  explicit UserAgentPolicy(const std::string& suffix)
      : value_(std::string("hues-sdk-cpp/") + HUES_VERSION + (suffix.empty() ? "" : " " + suffix)) {}
  HttpResponse send(HttpRequest& req, CallState& state, const Next& next) override {
    req.set_header("User-Agent", value_);
    return next(req, state);
  }

 private:
  std::string value_;
};

// Every POST gets a key once per logical call, so each retry of it is the same request.
class IdempotencyPolicy final : public Policy {
 public:
  HttpResponse send(HttpRequest& req, CallState& state, const Next& next) override {
    if (req.method == "POST" && req.header("Idempotency-Key").empty()) {
      if (state.idempotency_key.empty()) state.idempotency_key = new_uuid4();
      req.set_header("Idempotency-Key", state.idempotency_key);
    }
    return next(req, state);
  }
};

class RetryPolicyStage final : public Policy {
 public:
  HttpResponse send(HttpRequest& req, CallState& state, const Next& next) override {
    const bool safe = is_retry_safe(req);
    const int max_attempts = std::max(1, state.retry.max_attempts);
    for (state.attempt = 1;; ++state.attempt) {
      check_live(state);
      long long retry_after = -1;
      try {
        HttpResponse res = next(req, state);
        // A 429 was refused before any work, so it is always safe to resend; 5xx only when the
        // request is idempotent.
        bool retry_status = res.status == 429 || (safe && (res.status == 500 || res.status == 502 ||
                                                           res.status == 503 || res.status == 504));
        if (!retry_status || state.attempt >= max_attempts) return res;
        retry_after = parse_retry_after(res.header("Retry-After"));
        if (!wait_before_retry(state, retry_after)) return res;
      } catch (const Error& e) {
        if (e.type() == ErrorType::kCancelled || !e.retryable() || !safe ||
            state.attempt >= max_attempts || Clock::now() >= state.deadline)
          throw;
        if (!wait_before_retry(state, -1)) throw;
      }
    }
  }

 private:
  static void check_live(const CallState& state) {
    if (state.cancel && state.cancel->cancelled())
      throw_error(ErrorType::kCancelled, "the call was cancelled", 0, "cancelled");
    if (Clock::now() >= state.deadline)
      throw_error(ErrorType::kTimeout, "the call's deadline passed", 0, "deadline_exceeded", {}, {}, true);
  }

  // Sleeps the backoff; false when it would pass the deadline (then the caller gives up with
  // what it has). A cancel wakes the sleep at once.
  static bool wait_before_retry(const CallState& state, long long retry_after_ms) {
    auto delay = backoff_delay(state.retry, state.attempt, retry_after_ms);
    auto until = Clock::now() + delay;
    if (until >= state.deadline) return false;
    sleep_until(until, state.cancel);
    check_live(state);
    return true;
  }
};

// Adds the credential to every attempt. After a 401 the provider may drop its token (say,
// revoked or rotated server-side); then the attempt is repeated once with a fresh one.
class CredentialsPolicy final : public Policy {
 public:
  explicit CredentialsPolicy(std::shared_ptr<CredentialsProvider> credentials)
      : credentials_(std::move(credentials)) {}
  HttpResponse send(HttpRequest& req, CallState& state, const Next& next) override {
    if (!credentials_) return next(req, state);
    credentials_->authorize(req);
    HttpResponse res = next(req, state);
    if (res.status == 401 && !state.reauthorized && credentials_->on_unauthorized()) {
      state.reauthorized = true;
      credentials_->authorize(req);
      return next(req, state);
    }
    return res;
  }

 private:
  std::shared_ptr<CredentialsProvider> credentials_;
};

// Logs one line per attempt and per outcome. Only allow-listed headers are printed, so
// credentials (X-Api-Key, Authorization, cookies, proxy auth) never reach a log.
class LoggingPolicy final : public Policy {
 public:
  LoggingPolicy(std::shared_ptr<Logger> logger, LogLevel level) : logger_(std::move(logger)), level_(level) {}
  HttpResponse send(HttpRequest& req, CallState& state, const Next& next) override {
    if (!logger_) return next(req, state);
    std::string what = req.method + " " + strip_query(req.url) + " request_id=" + req.header("X-Request-Id") +
                       " attempt=" + std::to_string(state.attempt);
    emit(LogLevel::kDebug, "hues: -> " + what);
    auto start = Clock::now();
    try {
      HttpResponse res = next(req, state);
      emit(res.status >= 400 ? LogLevel::kWarning : LogLevel::kInfo,
           "hues: <- " + std::to_string(res.status) + " " + what + " in " + elapsed(start));
      return res;
    } catch (const Error& e) {
      emit(LogLevel::kWarning, std::string("hues: !! ") + to_string(e.type()) + " (" + e.code() + ") " + what +
                                   " after " + elapsed(start) + ": " + e.message());
      throw;
    }
  }

 private:
  // Query strings can carry user data; the path identifies the call well enough.
  static std::string strip_query(const std::string& url) { return url.substr(0, url.find('?')); }
  static std::string elapsed(Clock::time_point start) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count()) + " ms";
  }
  void emit(LogLevel level, const std::string& line) {
    if (level < level_) return;
    try {
      logger_->log(level, line);
    } catch (...) {  // a failing logger must not fail the call
    }
  }
  std::shared_ptr<Logger> logger_;
  LogLevel level_;
};

class TransportStage final : public Policy {
 public:
  explicit TransportStage(std::shared_ptr<Transport> transport) : transport_(std::move(transport)) {}
  HttpResponse send(HttpRequest& req, CallState& state, const Next&) override {
    AttemptContext ctx;
    ctx.deadline = std::min(state.deadline, Clock::now() + state.attempt_timeout);
    ctx.connect_timeout = state.connect_timeout;
    ctx.cancel = state.cancel;
    return transport_->send(req, ctx);
  }

 private:
  std::shared_ptr<Transport> transport_;
};

}  // namespace

Pipeline::Pipeline(const ClientOptions& options, std::shared_ptr<Transport> transport) {
  policies_.push_back(std::make_unique<RequestIdPolicy>());
  policies_.push_back(std::make_unique<UserAgentPolicy>(options.user_agent));
  policies_.push_back(std::make_unique<IdempotencyPolicy>());
  policies_.push_back(std::make_unique<RetryPolicyStage>());
  auto credentials = options.credentials;
  if (!credentials && !options.api_key.empty()) credentials = api_key_credentials(options.api_key);
  policies_.push_back(std::make_unique<CredentialsPolicy>(std::move(credentials)));
  policies_.push_back(std::make_unique<LoggingPolicy>(options.logger, options.log_level));
  policies_.push_back(std::make_unique<TransportStage>(std::move(transport)));
}

}  // namespace hues::internal
