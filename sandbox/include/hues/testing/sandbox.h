// The Hue-S sandbox in-process: a real HTTP and HTTPS server over a real SQLite database,
// on ephemeral loopback ports, for tests and demos in every language.
//
//   hues::testing::Sandbox sb;            // started
//   hues::ClientOptions o; o.base_url = sb.url(); o.api_key = sb.api_key();
#pragma once

#include <memory>
#include <string>

namespace hues::testing {

struct SandboxOptions {
  std::string host = "127.0.0.1";
  int port = 0;      // plain HTTP; 0 picks a free port
  int tls_port = 0;  // HTTPS; 0 picks a free port; -1 disables TLS
  // Holds sandbox.db and the development CA/certificate. Empty: a fresh temporary
  // directory, removed on stop().
  std::string data_dir;
  int threads = 2;
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
