// The sandbox server behind hues::testing::Sandbox and the hues-sandbox executable:
// HTTP and HTTPS listeners on Boost.Beast, the API, and the SQLite store. No Boost here.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "throttle.h"

namespace hues::sandbox {

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 0;      // 0: an ephemeral port
  int tls_port = 0;  // 0: an ephemeral port; -1: no TLS
  std::string data_dir;  // empty: a temporary directory, removed on stop()
  std::string db_path;   // empty: data_dir/sandbox.db
  int threads = 2;
  SignInLimits sign_in;  // wrong passwords and device codes per account and per address
  // Open connections at most (0: from RLIMIT_NOFILE). Near it, the connections idle longest
  // (between requests, or before their first byte) are closed to make room.
  int max_connections = 0;
  int idle_timeout_ms = 30000;    // a keep-alive connection waiting for its next request
  int header_timeout_ms = 10000;  // from a request's first byte to the end of its header
  // A response's write (for a streamed body, each piece of 256 KiB): a client that reads
  // nothing for this long is dropped.
  int write_timeout_ms = 30000;
  // The names and addresses the TLS certificate is for; empty: localhost, 127.0.0.1, ::1.
  std::vector<std::string> tls_names;
  // An unfinished tus upload (/v1/uploads) expires this long after its last PATCH.
  int upload_ttl_seconds = 86400;
  // Standard Webhooks delivery (webhooks.h): the retry schedule's first delay (5 s; the rest
  // scale with it), attempts per message, a rotated secret's grace, one attempt's deadline.
  int webhook_retry_base_ms = 5000;
  int webhook_max_attempts = 10;
  int webhook_secret_grace_seconds = 86400;
  int webhook_timeout_ms = 15000;
  // GET /v1/events: Server-Sent Event streams open at once, in all and per caller (429 beyond).
  int max_event_streams = 256;
  int max_event_streams_per_caller = 8;
};

class Server {
 public:
  // Binds both listeners and starts serving before returning; throws std::runtime_error.
  explicit Server(ServerConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::string url() const;
  std::string tls_url() const;  // empty without TLS
  std::string ca_file() const;  // empty without TLS
  std::string data_dir() const;
  std::string db_path() const;
  int port() const;
  int tls_port() const;  // -1 without TLS

  // Closes the listeners and every connection, joins the threads, closes the database and
  // removes a temporary data directory. Idempotent; must not run on a server thread.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hues::sandbox
