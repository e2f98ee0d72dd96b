// Verifying Standard Webhooks deliveries (standard-webhooks spec 1.0.0, "Verifying
// signatures"): what a partner backend calls on each webhook it receives from Hue-S.
#pragma once

#include "hues/export.h"
#include "hues/models.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hues {

struct WebhookVerifierOptions {
  // The endpoint's secrets, `whsec_<base64>` (the prefix may be left out): one, or the new
  // and the old while a rotation's grace runs. Never logged or printed.
  std::vector<std::string> secrets;
  // How far webhook-timestamp may be from now, in either direction (1 to 86400).
  std::int64_t tolerance_seconds = 300;
};

// Thread-safe; copies share the seen-id cache. Throws ValidationError (field "secrets[i]" or
// "tolerance_seconds") for a secret that is not base64 or a tolerance out of range.
class HUES_API WebhookVerifier {
 public:
  explicit WebhookVerifier(WebhookVerifierOptions options);

  // body: the raw bytes as received, before any JSON parsing; headers: names in any case.
  // Checks, in order: the three headers are there (code missing_header) and well formed
  // (invalid_header); the timestamp is within the tolerance (timestamp_too_old,
  // timestamp_too_new); one v1 signature matches one secret, compared in constant time
  // (no_matching_signature); the webhook-id was not accepted within the window (replayed);
  // the body is a WebhookEvent (invalid_payload). Throws WebhookVerificationError.
  WebhookEvent verify(std::string_view body, const std::map<std::string, std::string>& headers) const;
  // The same at a given unix time (tests; the clock is otherwise the system's).
  WebhookEvent verify_at(std::string_view body, const std::map<std::string, std::string>& headers,
                         std::int64_t now_unix) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace hues
