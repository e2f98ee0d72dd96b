/* The sandbox in-process, for every language's testing package: libhues_sandbox (its own
 * library, never linked into the SDK modules an app ships). Plain C, like hues/c_api.h.
 *
 * config JSON (all optional): {"host": "127.0.0.1", "port": 0, "tls_port": 0 (-1: no TLS),
 *   "data_dir": "" (a fresh temporary directory, removed on stop), "threads": 2,
 *   "tls_names": ["localhost", "127.0.0.1", "::1"] (what the TLS certificate names; another
 *   name gives a certificate a client of localhost must refuse), "max_connections": 0 (from
 *   the descriptor limit), "idle_timeout_ms": 30000, "header_timeout_ms": 10000,
 *   "write_timeout_ms": 30000 (a response's write, each 256 KiB piece of a streamed one),
 *   "max_sign_in_failures": 5, "max_sign_in_failures_per_address": 30,
 *   "max_user_code_failures": 5, "lockout_seconds": 900,
 *   "failure_window_seconds": lockout_seconds (the window failures are counted in),
 *   "webhook_retry_base_ms": 5000, "webhook_max_attempts": 10,
 *   "webhook_secret_grace_seconds": 86400, "webhook_timeout_ms": 15000 (Standard Webhooks delivery)}
 * info JSON: {"url", "tls_url", "ca_file", "api_key", "admin_key", "data_dir", "port",
 *   "tls_port"}
 * error JSON: {"type": "sandbox", "message"}
 */
#ifndef HUES_SANDBOX_C_API_H
#define HUES_SANDBOX_C_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HUES_SANDBOX_EXPORT __attribute__((visibility("default")))

typedef struct hues_sandbox_bytes {
  uint8_t* data;
  size_t len;
} hues_sandbox_bytes;

/* Starts serving before returning. 0 on success (*out set, *info = info JSON), else non-zero
 * with *info = error JSON. Free *info with hues_sandbox_bytes_free. */
HUES_SANDBOX_EXPORT int hues_sandbox_start(const uint8_t* config, size_t config_len, uint64_t* out,
                                           hues_sandbox_bytes* info);
/* Stops accepting, closes connections and the database; removes a temporary data_dir.
 * Idempotent; the handle is invalid afterwards. */
HUES_SANDBOX_EXPORT void hues_sandbox_stop(uint64_t sandbox);
HUES_SANDBOX_EXPORT void hues_sandbox_bytes_free(hues_sandbox_bytes* bytes);

#ifdef __cplusplus
}
#endif

#endif /* HUES_SANDBOX_C_API_H */
