#include "hues/testing/sandbox.h"

#include "seed.h"
#include "server.h"

namespace hues::testing {

struct Sandbox::Impl {
  explicit Impl(const SandboxOptions& o)
      : server(sandbox::ServerConfig{o.host, o.port, o.tls_port, o.data_dir, "", o.threads}) {}
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
