#include "internal/crypto.h"
#include "internal/pipeline.h"

#include <openssl/rand.h>
#include <strings.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <deque>
#include <ctime>
#include <iomanip>
#include <mutex>
#include <sstream>

#include "hues/error.h"
#include "hues/identity.h"
#include "internal/runtime.h"

#ifndef HUES_VERSION
#define HUES_VERSION "0.0.0"
#endif

namespace hues::internal {

void Next::operator()(HttpRequest& request, CallStatePtr state, Done done) const {
  try {
    (*policies_)[index_]->send(request, std::move(state), Next(policies_, index_ + 1), done);
  } catch (...) {
    done(std::current_exception(), {});
  }
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

namespace {

// Whether request has a non-empty header name (HttpRequest::header copies the value).
bool has_header(const HttpRequest& request, std::string_view name) {
  for (const auto& [k, v] : request.headers)
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), name.size()) == 0) return !v.empty();
  return false;
}

class RequestIdPolicy final : public Policy {
 public:
  void send(HttpRequest& req, CallStatePtr state, const Next& next, Done done) override {
    if (!has_header(req, "X-Request-Id")) req.set_header("X-Request-Id", new_request_id());
    next(req, std::move(state), std::move(done));
  }
};

class UserAgentPolicy final : public Policy {
 public:
  explicit UserAgentPolicy(const std::string& suffix)
      : value_(std::string("hues-sdk-cpp/") + HUES_VERSION + (suffix.empty() ? "" : " " + suffix)) {}
  void send(HttpRequest& req, CallStatePtr state, const Next& next, Done done) override {
    req.set_header("User-Agent", value_);
    next(req, std::move(state), std::move(done));
  }

 private:
  std::string value_;
};

// Every POST gets a key once per logical call, so each retry of it is the same request.
class IdempotencyPolicy final : public Policy {
 public:
  void send(HttpRequest& req, CallStatePtr state, const Next& next, Done done) override {
    if (req.method == "POST" && req.header("Idempotency-Key").empty()) {
      if (state->idempotency_key.empty()) state->idempotency_key = new_uuid4();
      req.set_header("Idempotency-Key", state->idempotency_key);
    }
    next(req, std::move(state), std::move(done));
  }
};

std::exception_ptr check_live(const CallState& state) {
  if (state.cancel && state.cancel->cancelled())
    return make_error(ErrorType::kCancelled, "the call was cancelled", "cancelled");
  if (Clock::now() >= state.deadline)
    return make_error(ErrorType::kTimeout, "the call's deadline passed", "deadline_exceeded", true);
  return nullptr;
}

// One logical call's attempts. Backoff waits on a runtime timer that a cancel ends at once.
struct RetryOp : std::enable_shared_from_this<RetryOp> {
  RetryOp(HttpRequest& r, CallStatePtr s, Next n, Done d)
      : req(r), state(std::move(s)), next(n), done(std::move(d)), safe(is_retry_safe(r)),
        max_attempts(std::max(1, state->retry.max_attempts)) {}

  void attempt() {
    if (auto error = check_live(*state)) return done(error, {});
    ++state->attempt;
    auto self = shared_from_this();
    next(req, state, [self](std::exception_ptr error, HttpResponse res) { self->on_result(error, std::move(res)); });
  }

  void on_result(std::exception_ptr error, HttpResponse res) {
    if (!error) {
      // A 429 was refused before any work, so it is always safe to resend; 5xx only when the
      // request is idempotent.
      bool retry_status = res.status == 429 || (safe && (res.status == 500 || res.status == 502 ||
                                                         res.status == 503 || res.status == 504));
      if (!retry_status || state->attempt >= max_attempts ||
          !wait_then_retry(parse_retry_after(res.header("Retry-After"))))
        done(nullptr, std::move(res));
      return;
    }
    try {
      std::rethrow_exception(error);
    } catch (const Error& e) {
      // A full queue fails at once: retrying would only add to the pressure.
      if (e.type() == ErrorType::kCancelled || e.type() == ErrorType::kResourceExhausted || !e.retryable() ||
          !safe || state->attempt >= max_attempts || Clock::now() >= state->deadline)
        return done(error, {});
    } catch (...) {
      return done(error, {});
    }
    if (!wait_then_retry(-1)) done(error, {});
  }

  // Starts the backoff; false when it would pass the deadline (the caller then gives up with
  // what it has).
  bool wait_then_retry(long long retry_after_ms) {
    auto until = Clock::now() + backoff_delay(state->retry, state->attempt, retry_after_ms);
    if (until >= state->deadline) return false;
    auto self = shared_from_this();
    std::uint64_t gen;
    {
      std::lock_guard<std::mutex> lock(mu);
      gen = ++wait_gen;
    }
    auto timer = state->runtime->schedule(until, [self, gen](bool fired) {
      std::uint64_t id = 0;
      {
        std::lock_guard<std::mutex> lock(self->mu);
        self->fired_gen = gen;
        if (self->cancel_gen == gen) id = std::exchange(self->cancel_id, 0);
      }
      if (id) self->state->cancel->remove_callback(id);
      if (!fired || self->state->cancel->cancelled())
        return self->done(make_error(ErrorType::kCancelled, "the call was cancelled", "cancelled"), {});
      self->attempt();
    });
    // The timer may already have fired (on another I/O thread) when this returns.
    std::uint64_t id = state->cancel->add_callback([timer] { timer->cancel(); });
    bool fired_already;
    {
      std::lock_guard<std::mutex> lock(mu);
      fired_already = fired_gen >= gen;
      if (!fired_already) {
        cancel_id = id;
        cancel_gen = gen;
      }
    }
    if (fired_already) state->cancel->remove_callback(id);
    return true;
  }

  HttpRequest& req;
  CallStatePtr state;
  Next next;
  Done done;
  bool safe;
  int max_attempts;
  std::mutex mu;  // guards the ones below: the backoff timer fires on any I/O thread
  std::uint64_t wait_gen = 0, fired_gen = 0, cancel_gen = 0;
  std::uint64_t cancel_id = 0;
};

class RetryPolicyStage final : public Policy {
 public:
  void send(HttpRequest& req, CallStatePtr state, const Next& next, Done done) override {
    state->attempt = 0;
    std::make_shared<RetryOp>(req, std::move(state), next, std::move(done))->attempt();
  }
};

// Adds the credential to every attempt. After a 401 the provider may drop its token (say,
// revoked or rotated server-side); then the attempt is repeated once with a fresh one.
// Providers may complete on any thread; the call always goes on from an I/O thread.
class CredentialsPolicy final : public Policy {
 public:
  explicit CredentialsPolicy(std::shared_ptr<CredentialsProvider> credentials)
      : credentials_(std::move(credentials)) {}
  void send(HttpRequest& req, CallStatePtr state, const Next& next, Done done) override {
    if (!credentials_) return next(req, std::move(state), std::move(done));
    auto call = std::make_shared<AuthCall>();
    call->creds = credentials_;
    call->req = &req;
    call->state = std::move(state);
    call->next = next;
    call->done = std::move(done);
    call->authorize(false);
  }

 private:
  // One attempt's authorization, held by its continuations (each captures only this, so no
  // continuation copies the others).
  struct AuthCall : std::enable_shared_from_this<AuthCall> {
    std::shared_ptr<CredentialsProvider> creds;
    HttpRequest* req = nullptr;
    CallStatePtr state;
    Next next{nullptr, 0};
    Done done;
    // The 401 that made the provider renew its credential. When the renewal is refused by the
    // authorization server (a revoked refresh token: invalid_grant), the call ends with that 401
    // (AuthenticationError: sign in again), not with the token endpoint's OAuthError; a renewal
    // that failed in transit keeps its own (retryable) error.
    std::shared_ptr<HttpResponse> refused;

    static bool is_oauth_refusal(const std::exception_ptr& e) {
      try {
        std::rethrow_exception(e);
      } catch (const Error& err) {
        return err.type() == ErrorType::kOAuth;
      } catch (...) {
        return false;
      }
    }

    void authorize(bool again) {
      auto self = shared_from_this();
      try {
        creds->authorize_async(*req, [self, again](std::exception_ptr error) {
          Runtime& rt = *self->state->runtime;
          if (rt.on_io_thread() || rt.in_sync_loop()) return self->authorized(error, again);
          rt.dispatch([self, error, again] { self->authorized(error, again); });
        });
      } catch (...) {
        done(std::current_exception(), {});
      }
    }

    void authorized(std::exception_ptr error, bool again) {
      if (error && again && refused && is_oauth_refusal(error))
        return done(nullptr, std::move(*refused));  // the refresh was refused too: the 401 stands
      if (error) return done(error, {});
      if (again) return next(*req, state, done);
      auto self = shared_from_this();
      next(*req, state, [self](std::exception_ptr e, HttpResponse res) { self->on_response(e, std::move(res)); });
    }

    void on_response(std::exception_ptr error, HttpResponse res) {
      if (error || res.status != 401 || state->reauthorized) return done(error, std::move(res));
      auto self = shared_from_this();
      auto kept = std::make_shared<HttpResponse>(std::move(res));
      try {
        creds->on_unauthorized_async([self, kept](bool retry) {
          self->state->runtime->dispatch([self, kept, retry] {
            if (!retry) return self->done(nullptr, std::move(*kept));
            self->state->reauthorized = true;
            self->refused = kept;
            self->authorize(true);
          });
        });
      } catch (...) {
        done(std::current_exception(), {});
      }
    }
  };

  std::shared_ptr<CredentialsProvider> credentials_;
};

// Hands a logger's lines to the host executor one at a time, in order, so a logger never
// runs on an I/O thread and a slow one only holds up one host thread (and its own calls).
class LogSink : public std::enable_shared_from_this<LogSink> {
 public:
  LogSink(std::shared_ptr<Logger> logger, std::shared_ptr<Runtime> runtime)
      : logger_(std::move(logger)), runtime_(std::move(runtime)) {}

  // after (may be null) runs once the line was logged, or at once if it was dropped.
  void emit(LogLevel level, std::string line, std::function<void()> after = nullptr) {
    bool start = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (lines_.size() >= kMaxQueued && !after) return;  // the host cannot keep up: drop
      lines_.push_back({level, std::move(line), std::move(after)});
      start = !draining_;
      draining_ = true;
    }
    if (start && !runtime_->host().post([self = shared_from_this()] { self->drain(true); })) drain(false);
  }

 private:
  struct Line {
    LogLevel level;
    std::string text;
    std::function<void()> after;
  };
  static constexpr std::size_t kMaxQueued = 10000;

  void drain(bool deliver) {
    for (;;) {
      Line line;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (lines_.empty()) {
          draining_ = false;
          return;
        }
        line = std::move(lines_.front());
        lines_.pop_front();
      }
      if (deliver) {
        try {
          logger_->log(line.level, line.text);
        } catch (...) {  // a failing logger must not fail the call
        }
      }
      if (line.after) line.after();
    }
  }

  std::shared_ptr<Logger> logger_;
  std::shared_ptr<Runtime> runtime_;
  std::mutex mu_;
  std::deque<Line> lines_;
  bool draining_ = false;
};

// Logs one line per attempt and per outcome. Only allow-listed headers are printed, so
// credentials (X-Api-Key, Authorization, cookies, proxy auth) never reach a log. An attempt's
// result goes on once its line was logged, so a call never returns before its log lines.
class LoggingPolicy final : public Policy {
 public:
  LoggingPolicy(std::shared_ptr<Logger> logger, LogLevel level, std::shared_ptr<Runtime> runtime)
      : sink_(logger ? std::make_shared<LogSink>(std::move(logger), std::move(runtime)) : nullptr), level_(level) {}
  void send(HttpRequest& req, CallStatePtr state, const Next& next, Done done) override {
    if (!sink_) return next(req, std::move(state), std::move(done));
    std::string what = req.method + " " + strip_query(req.url) + " request_id=" + req.header("X-Request-Id") +
                       " attempt=" + std::to_string(state->attempt);
    bool debug = LogLevel::kDebug >= level_;
    if (debug)
      sink_->emit(LogLevel::kDebug, "hues: -> " + req.method + " " + redact_url(req.url) + " request_id=" +
                                        req.header("X-Request-Id") + " attempt=" + std::to_string(state->attempt) +
                                        " headers: " + describe_headers(req.headers));
    auto start = Clock::now();
    auto sink = sink_;
    auto min_level = level_;
    auto rt = state->runtime;
    auto deadline = state->deadline;
    next(req, state, [sink, min_level, rt, what, start, deadline, done, debug](std::exception_ptr error, HttpResponse res) {
      LogLevel level;
      std::string line;
      if (!error) {
        level = res.status >= 400 ? LogLevel::kWarning : LogLevel::kInfo;
        line = "hues: <- " + std::to_string(res.status) + " " + what + " in " + elapsed(start);
        if (debug) line += " headers: " + describe_headers(res.headers);
      } else {
        level = LogLevel::kWarning;
        try {
          std::rethrow_exception(error);
        } catch (const Error& e) {
          line = std::string("hues: !! ") + to_string(e.type()) + " (" + e.code() + ") " + what + " after " +
                 elapsed(start) + ": " + e.message();
        } catch (const std::exception& e) {
          line = std::string("hues: !! ") + what + " after " + elapsed(start) + ": " + e.what();
        }
      }
      if (level < min_level) return done(error, std::move(res));
      // The attempt goes on once its line was logged, or at the call's deadline if the logger
      // is that far behind: a slow logger never costs a call its result.
      struct Outcome {
        std::atomic<bool> taken{false};
        Done done;
        std::exception_ptr error;
        HttpResponse res;
        std::mutex mu;  // the timer may fire before schedule() has returned it
        std::shared_ptr<Timer> timer;
        void finish() {
          if (taken.exchange(true)) return;
          std::shared_ptr<Timer> t;
          {
            std::lock_guard<std::mutex> lock(mu);
            t = std::move(timer);
          }
          if (t) t->cancel();
          done(error, std::move(res));
        }
        void set_timer(std::shared_ptr<Timer> t) {
          {
            std::lock_guard<std::mutex> lock(mu);
            if (!taken) {
              timer = std::move(t);
              return;
            }
          }
          t->cancel();
        }
      };
      auto outcome = std::make_shared<Outcome>();
      outcome->done = done;
      outcome->error = error;
      outcome->res = std::move(res);
      outcome->set_timer(rt->schedule(deadline, [outcome](bool fired) {
        if (fired) outcome->finish();
      }));
      sink->emit(level, std::move(line), [rt, outcome] {
        if (!rt->post([outcome] { outcome->finish(); })) outcome->finish();
      });
    });
  }

 private:
  // Query strings can carry user data and, in OAuth redirects, codes and tokens: the info
  // lines drop them; debug lines keep each parameter's name and only allow-listed values.
  static std::string strip_query(const std::string& url) { return without_userinfo(url.substr(0, url.find('?'))); }
  // "https://user:pass@host/..." -> "https://[redacted]@host/...": a base URL may carry them.
  static std::string without_userinfo(std::string url) {
    auto scheme = url.find("://");
    if (scheme == std::string::npos) return url;
    auto authority_end = url.find_first_of("/?#", scheme + 3);
    auto at = url.rfind('@', authority_end == std::string::npos ? std::string::npos : authority_end - 1);
    if (at == std::string::npos || at < scheme + 3) return url;
    return url.replace(scheme + 3, at - scheme - 3, "[redacted]");
  }
  static std::string redact_url(const std::string& full) {
    std::string url = without_userinfo(full);
    auto q = url.find('?');
    if (q == std::string::npos) return url;
    std::string out = url.substr(0, q + 1);
    std::string_view query(url.data() + q + 1, url.size() - q - 1);
    query = query.substr(0, query.find('#'));
    bool first = true;
    while (!query.empty()) {
      auto amp = query.find('&');
      std::string_view param = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      auto eq = param.find('=');
      std::string_view name = param.substr(0, eq);
      if (!first) out += '&';
      first = false;
      out.append(name);
      if (eq != std::string_view::npos) {
        out += '=';
        if (loggable_query(name)) out.append(param.substr(eq + 1));
        else out += "[redacted]";
      }
    }
    return out;
  }
  // Query parameters of the API's own lists, whose values are filters, never secrets.
  static bool loggable_query(std::string_view name) {
    for (std::string_view ok : {"limit", "cursor", "status", "category", "kind", "ward", "agency", "sort", "overdue"})
      if (name == ok) return true;
    return false;
  }
  // Headers whose values are logged as they are; every other header (Authorization,
  // Proxy-Authorization, X-Api-Key, Cookie, Set-Cookie, and any the SDK does not know) is
  // logged by name with its value redacted. An allow-list, so a new secret header is safe.
  static bool loggable_header(std::string_view name) {
    for (std::string_view ok :
         {"accept", "accept-encoding", "accept-language", "cache-control", "connection", "content-encoding",
          "content-length", "content-type", "date", "etag", "expires", "host", "idempotency-key", "if-match",
          "if-none-match", "last-modified", "location", "pragma", "retry-after", "server", "transfer-encoding",
          "user-agent", "vary", "x-request-id", "tus-resumable", "upload-offset", "upload-length"})
      if (name.size() == ok.size() && strncasecmp(name.data(), ok.data(), ok.size()) == 0) return true;
    return false;
  }
  static std::string describe_headers(const std::vector<std::pair<std::string, std::string>>& headers) {
    std::string out;
    for (const auto& [name, value] : headers) {
      if (!out.empty()) out += ", ";
      out.append(name).append(": ").append(loggable_header(name) ? value : std::string("[redacted]"));
    }
    return out.empty() ? "(none)" : out;
  }
  static std::string elapsed(Clock::time_point start) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count()) + " ms";
  }
  std::shared_ptr<LogSink> sink_;
  LogLevel level_;
};

class TransportStage final : public Policy {
 public:
  explicit TransportStage(std::shared_ptr<Transport> transport)
      : transport_(std::move(transport)), in_place_(dynamic_cast<InPlaceTransport*>(transport_.get())) {}
  void send(HttpRequest& req, CallStatePtr state, const Next&, Done done) override {
    AttemptContext ctx;
    ctx.deadline = std::min(state->deadline, Clock::now() + state->attempt_timeout);
    ctx.connect_timeout = state->connect_timeout;
    ctx.cancel = state->cancel;
    ctx.stream = state->stream;
    ctx.stream_idle_timeout = state->stream_idle_timeout;
    auto rt = state->runtime;
    // User transports may complete on any thread; the call goes on from an I/O thread.
    // The SDK's transport on the call's runtime completes on its I/O threads already.
    if (in_place_ && in_place_->runtime() == state->runtime.get())
      return in_place_->send_in_place(req, std::move(ctx), std::move(done));
    transport_->send_async(req, ctx, [rt, done](std::exception_ptr error, HttpResponse res) {
      if (rt->on_io_thread() || rt->in_sync_loop()) return done(error, std::move(res));
      auto shared_res = std::make_shared<HttpResponse>(std::move(res));
      rt->dispatch([done, error, shared_res] { done(error, std::move(*shared_res)); });
    });
  }

 private:
  std::shared_ptr<Transport> transport_;
  InPlaceTransport* in_place_;  // transport_, when it is one
};

}  // namespace

Pipeline::Pipeline(const ClientOptions& options, std::shared_ptr<Transport> transport,
                   std::shared_ptr<Runtime> runtime) {
  policies_.push_back(std::make_unique<RequestIdPolicy>());
  policies_.push_back(std::make_unique<UserAgentPolicy>(options.user_agent));
  policies_.push_back(std::make_unique<IdempotencyPolicy>());
  policies_.push_back(std::make_unique<RetryPolicyStage>());
  auto credentials = options.credentials;
  if (!credentials && !options.api_key.empty()) credentials = api_key_credentials(options.api_key);
  policies_.push_back(std::make_unique<CredentialsPolicy>(std::move(credentials)));
  policies_.push_back(std::make_unique<LoggingPolicy>(options.logger, options.log_level, std::move(runtime)));
  policies_.push_back(std::make_unique<TransportStage>(std::move(transport)));
}

}  // namespace hues::internal
