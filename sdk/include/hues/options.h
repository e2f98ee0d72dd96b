// Options for a client and for single calls. Call options override client options, which
// override the defaults below. Durations are milliseconds.
#pragma once

#include "hues/export.h"

#include <cstdint>
#include <memory>
#include <string>

#include "hues/http.h"

namespace hues {

class CredentialsProvider;  // hues/identity.h

// Retries use exponential backoff with full jitter, and wait at least what a 429/503
// Retry-After asks. Only safe calls are retried: GET/HEAD/PUT/DELETE, and POSTs that carry
// an Idempotency-Key (the SDK adds one to every create and reuses it on each retry).
struct RetryPolicy {
  int max_attempts = 3;  // attempts in all, including the first; 1 disables retries
  std::int64_t initial_backoff_ms = 200;
  std::int64_t max_backoff_ms = 10000;
  double multiplier = 2.0;
};

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Receives the SDK's log lines. Lines never contain credentials. Info lines give the method,
// the path (no query), the status and the time; debug lines add the request's and the
// response's headers and the query's parameter names, printing a value only for headers and
// parameters on an allow-list (Content-Type, User-Agent, X-Request-Id, Retry-After, ...;
// limit, cursor, status, ...): Authorization, Proxy-Authorization, X-Api-Key, cookies and
// any header or parameter the SDK does not know are printed as "[redacted]". Bodies are
// never logged. Must be thread-safe.
class HUES_API Logger {
 public:
  virtual ~Logger() = default;
  virtual void log(LogLevel level, const std::string& message) = 0;
};

struct ClientOptions {
  // e.g. "https://api.hue-s.vn" or a sandbox's url(). Required.
  std::string base_url;
  // Partner API key, sent as X-Api-Key.
  std::string api_key;
  // Any other credentials (client credentials, a signed-in user; see hues/identity.h).
  // When set, it is used instead of api_key.
  std::shared_ptr<CredentialsProvider> credentials;

  // Chosen for a phone app: no call holds its caller longer than deadline_ms (60 s), however
  // the network or the server misbehaves. A silent server costs attempt_timeout_ms (20 s) per
  // attempt, at most retry.max_attempts (3) attempts, all inside the deadline. (The same
  // defaults as docs/openapi.yaml's ClientOptions, which every binding's defaults come from.)
  std::int64_t connect_timeout_ms = 10000;  // TCP connect + TLS handshake
  std::int64_t attempt_timeout_ms = 20000;  // one attempt, from connect to last body byte
  std::int64_t deadline_ms = 60000;         // the whole call, across retries and backoff
  RetryPolicy retry;

  // PEM file of extra trusted CAs (e.g. the sandbox's). Empty: the system's CA store.
  std::string ca_file;
  // "http://[user:pass@]host:port". HTTPS goes through it with CONNECT. Empty: no proxy.
  std::string proxy;
  // Appended to "hues-sdk-cpp/<version>" in User-Agent.
  std::string user_agent;

  std::shared_ptr<Logger> logger;
  LogLevel log_level = LogLevel::kInfo;

  std::int64_t max_connections_per_host = 8;
  // Calls waiting for a free connection to one host; one more fails at once with
  // ResourceExhaustedError ("queue_full") instead of piling up without bound. 0: no waiting.
  std::int64_t max_queued_requests = 1024;
  std::int64_t max_response_bytes = 64 * 1024 * 1024;

  // Replaces the HTTP transport (fault injection, custom stacks). Null: the default one.
  std::shared_ptr<Transport> transport;
};

// Per-call overrides; zero or empty means "use the client's".
struct CallOptions {
  std::int64_t attempt_timeout_ms = 0;
  std::int64_t deadline_ms = 0;
  int max_attempts = 0;
  // For creates: the key that makes retries safe. Empty: the SDK generates one per call.
  std::string idempotency_key;
  // Cancel the call from another thread.
  std::shared_ptr<CancellationToken> cancel;
};

}  // namespace hues
