// The Hue-S sandbox in-process: a real HTTP and HTTPS server over a real SQLite database,
// on ephemeral loopback ports, for tests and demos in every language.
//
//   hues::testing::Sandbox sb;            // started
//   hues::ClientOptions o; o.base_url = sb.url(); o.api_key = sb.api_key();
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace hues::testing {

struct SandboxOptions {
  std::string host = "127.0.0.1";
  int port = 0;      // plain HTTP; 0 picks a free port
  int tls_port = 0;  // HTTPS; 0 picks a free port; -1 disables TLS
  // Holds sandbox.db and the development CA/certificate. Empty: a fresh temporary
  // directory, removed on stop().
  std::string data_dir;
  int threads = 2;
  // Guessing limits of the sign-in pages: wrong passwords per account and per client address,
  // wrong device user codes per account (twice that per address), counted over
  // failure_window_seconds (0: lockout_seconds); reaching one answers 429 with Retry-After
  // for lockout_seconds.
  int max_sign_in_failures = 5;
  int max_sign_in_failures_per_address = 30;
  int max_user_code_failures = 5;
  int lockout_seconds = 900;
  int failure_window_seconds = 0;
  // Open connections at most (0: from the descriptor limit); idle ones are shed first.
  int max_connections = 0;
  int idle_timeout_ms = 30000;    // keep-alive wait for the next request
  int header_timeout_ms = 10000;  // first byte to end of header
  int write_timeout_ms = 30000;   // a response's write (each piece of a streamed one)
  // Host names / IP addresses the TLS certificate names; empty: localhost, 127.0.0.1, ::1.
  // Another name makes a certificate that clients connecting to localhost must refuse.
  std::vector<std::string> tls_names;
};

class Sandbox {
 public:
  // Starts serving before returning. Throws std::runtime_error if it cannot.
  explicit Sandbox(SandboxOptions options = {});
  ~Sandbox();  // stops
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  std::string url() const;      // "http://127.0.0.1:PORT"
  std::string tls_url() const;  // "https://localhost:PORT"; empty when TLS is off
  std::string ca_file() const;  // PEM of the development CA that signed the TLS certificate
  std::string api_key() const;  // the seeded partner test key
  std::string data_dir() const;
  int port() const;
  int tls_port() const;

  // Stops accepting, closes connections, closes the database. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hues::testing
