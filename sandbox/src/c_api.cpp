// hues/sandbox_c_api.h: the sandbox in-process for every language's testing package.
// Handles are ids into a table (never pointers), so a stale or double stop is harmless.
#include "hues/sandbox_c_api.h"

#include <boost/json.hpp>

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "internal/json_codec.h"
#include "seed.h"
#include "server.h"

namespace {

std::mutex g_mu;
std::map<std::uint64_t, std::shared_ptr<hues::sandbox::Server>> g_servers;
std::uint64_t g_next = 1;

void put(hues_sandbox_bytes* out, const std::string& text) {
  if (!out) return;
  out->data = static_cast<uint8_t*>(std::malloc(text.size() ? text.size() : 1));
  out->len = out->data ? text.size() : 0;
  if (out->data) std::memcpy(out->data, text.data(), text.size());
}

std::string error_json(const std::string& message) {
  return hues::internal::serialize_json(boost::json::object{{"type", "sandbox"}, {"message", message}});
}

std::string text_member(const boost::json::object& o, const char* name, const std::string& fallback) {
  const auto* v = o.if_contains(name);
  if (!v || v->is_null()) return fallback;
  if (!v->is_string()) throw std::invalid_argument(std::string(name) + " must be a string");
  return std::string(v->get_string());
}

int int_member(const boost::json::object& o, const char* name, int fallback) {
  const auto* v = o.if_contains(name);
  if (!v || v->is_null()) return fallback;
  std::int64_t n = 0;
  if (v->is_int64()) n = v->get_int64();
  else if (v->is_uint64() && v->get_uint64() < 65536) n = static_cast<std::int64_t>(v->get_uint64());
  else throw std::invalid_argument(std::string(name) + " must be an integer");
  if (n < -1 || n > 65535) throw std::invalid_argument(std::string(name) + " is out of range");
  return static_cast<int>(n);
}

int count_member(const boost::json::object& o, const char* name, int fallback, std::int64_t min, std::int64_t max) {
  const auto* v = o.if_contains(name);
  if (!v || v->is_null()) return fallback;
  if (!v->is_int64() || v->get_int64() < min || v->get_int64() > max)
    throw std::invalid_argument(std::string(name) + " must be an integer from " + std::to_string(min) + " to " +
                                std::to_string(max));
  return static_cast<int>(v->get_int64());
}

std::vector<std::string> names_member(const boost::json::object& o, const char* name) {
  std::vector<std::string> out;
  const auto* v = o.if_contains(name);
  if (!v || v->is_null()) return out;
  if (!v->is_array()) throw std::invalid_argument(std::string(name) + " must be an array of strings");
  for (const auto& x : v->get_array()) {
    if (!x.is_string()) throw std::invalid_argument(std::string(name) + " must be an array of strings");
    out.emplace_back(x.get_string());
  }
  return out;
}

}  // namespace

extern "C" {

HUES_SANDBOX_EXPORT int hues_sandbox_start(const uint8_t* config, size_t config_len, uint64_t* out,
                                           hues_sandbox_bytes* info) {
  try {
    if (!out) throw std::invalid_argument("out must not be null");
    boost::json::object cfg_json;
    if (config && config_len) {
      auto v = hues::internal::parse_json(std::string_view(reinterpret_cast<const char*>(config), config_len));
      if (!v.is_object()) throw std::invalid_argument("config must be a JSON object");
      cfg_json = std::move(v.as_object());
    }
    hues::sandbox::ServerConfig cfg;
    cfg.host = text_member(cfg_json, "host", cfg.host);
    cfg.port = int_member(cfg_json, "port", cfg.port);
    cfg.tls_port = int_member(cfg_json, "tls_port", cfg.tls_port);
    cfg.data_dir = text_member(cfg_json, "data_dir", "");
    cfg.threads = int_member(cfg_json, "threads", cfg.threads);
    cfg.tls_names = names_member(cfg_json, "tls_names");
    cfg.max_connections = count_member(cfg_json, "max_connections", cfg.max_connections, 0, 1000000);
    cfg.idle_timeout_ms = count_member(cfg_json, "idle_timeout_ms", cfg.idle_timeout_ms, 1, 86400000);
    cfg.header_timeout_ms = count_member(cfg_json, "header_timeout_ms", cfg.header_timeout_ms, 1, 86400000);
    cfg.write_timeout_ms = count_member(cfg_json, "write_timeout_ms", cfg.write_timeout_ms, 1, 86400000);
    auto& li = cfg.sign_in;
    li.account_failures = count_member(cfg_json, "max_sign_in_failures", li.account_failures, 1, 1000000);
    li.address_failures = count_member(cfg_json, "max_sign_in_failures_per_address", li.address_failures, 1, 1000000);
    li.user_code_failures = count_member(cfg_json, "max_user_code_failures", li.user_code_failures, 1, 1000000);
    li.window_seconds = li.lockout_seconds = count_member(cfg_json, "lockout_seconds", li.lockout_seconds, 1, 86400 * 365);
    li.window_seconds = count_member(cfg_json, "failure_window_seconds", li.window_seconds, 1, 86400 * 365);
    cfg.webhook_retry_base_ms = count_member(cfg_json, "webhook_retry_base_ms", cfg.webhook_retry_base_ms, 1, 3600000);
    cfg.webhook_max_attempts = count_member(cfg_json, "webhook_max_attempts", cfg.webhook_max_attempts, 1, 100);
    cfg.webhook_secret_grace_seconds =
        count_member(cfg_json, "webhook_secret_grace_seconds", cfg.webhook_secret_grace_seconds, 0, 86400 * 30);
    cfg.webhook_timeout_ms = count_member(cfg_json, "webhook_timeout_ms", cfg.webhook_timeout_ms, 1, 600000);
    if (cfg.port < 0) throw std::invalid_argument("port must be 0 or a port number");
    if (cfg.threads < 1) throw std::invalid_argument("threads must be at least 1");
    auto server = std::make_shared<hues::sandbox::Server>(cfg);
    boost::json::object result{
        {"url", server->url()},
        {"tls_url", server->tls_url()},
        {"ca_file", server->ca_file()},
        {"api_key", hues::sandbox::kSeedApiKey},
        {"admin_key", hues::sandbox::kAdminKey},
        {"data_dir", server->data_dir()},
        {"port", server->port()},
        {"tls_port", server->tls_port()},
    };
    {
      std::lock_guard<std::mutex> lk(g_mu);
      *out = g_next++;
      g_servers.emplace(*out, std::move(server));
    }
    put(info, hues::internal::serialize_json(result));
    return 0;
  } catch (const std::exception& e) {
    put(info, error_json(e.what()));
  } catch (...) {
    put(info, error_json("unknown error"));
  }
  return 1;
}

HUES_SANDBOX_EXPORT void hues_sandbox_stop(uint64_t sandbox) {
  std::shared_ptr<hues::sandbox::Server> server;
  {
    std::lock_guard<std::mutex> lk(g_mu);
    auto it = g_servers.find(sandbox);
    if (it == g_servers.end()) return;
    server = std::move(it->second);
    g_servers.erase(it);
  }
  try {
    server->stop();  // outside the lock: stopping joins the server's threads
  } catch (...) {
    // A C caller cannot take an exception; the handle is gone either way.
  }
}

HUES_SANDBOX_EXPORT void hues_sandbox_bytes_free(hues_sandbox_bytes* bytes) {
  if (!bytes) return;
  std::free(bytes->data);
  bytes->data = nullptr;
  bytes->len = 0;
}

}  // extern "C"
