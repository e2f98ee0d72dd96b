#include "hues/testing/sandbox.h"

#include "seed.h"
#include "server.h"

namespace hues::testing {

namespace {
sandbox::ServerConfig config_of(const SandboxOptions& o) {
  sandbox::ServerConfig c;
  c.host = o.host;
  c.port = o.port;
  c.tls_port = o.tls_port;
  c.data_dir = o.data_dir;
  c.threads = o.threads;
  c.sign_in.account_failures = o.max_sign_in_failures;
  c.sign_in.address_failures = o.max_sign_in_failures_per_address;
  c.sign_in.user_code_failures = o.max_user_code_failures;
  c.sign_in.lockout_seconds = o.lockout_seconds;
  c.sign_in.window_seconds = o.failure_window_seconds > 0 ? o.failure_window_seconds : o.lockout_seconds;
  c.max_connections = o.max_connections;
  c.idle_timeout_ms = o.idle_timeout_ms;
  c.header_timeout_ms = o.header_timeout_ms;
  c.write_timeout_ms = o.write_timeout_ms;
  c.tls_names = o.tls_names;
  return c;
}
}  // namespace

struct Sandbox::Impl {
  explicit Impl(const SandboxOptions& o) : server(config_of(o)) {}
  sandbox::Server server;
};

Sandbox::Sandbox(SandboxOptions options) : impl_(std::make_unique<Impl>(options)) {}
Sandbox::~Sandbox() = default;  // Server's destructor stops

std::string Sandbox::url() const { return impl_->server.url(); }
std::string Sandbox::tls_url() const { return impl_->server.tls_url(); }
std::string Sandbox::ca_file() const { return impl_->server.ca_file(); }
std::string Sandbox::api_key() const { return sandbox::kSeedApiKey; }
std::string Sandbox::data_dir() const { return impl_->server.data_dir(); }
int Sandbox::port() const { return impl_->server.port(); }
int Sandbox::tls_port() const { return impl_->server.tls_port(); }
void Sandbox::stop() { impl_->server.stop(); }

}  // namespace hues::testing
