#include "hues/webhooks.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <mutex>
#include <unordered_map>

#include "hues/error.h"
#include "internal/calls.h"
#include "internal/crypto.h"
#include "internal/json_codec.h"

namespace hues {
namespace {

[[noreturn]] void refuse(const std::string& code, const std::string& message) {
  throw_error(ErrorType::kWebhookVerification, message, 0, code);
}

const std::string* header(const std::map<std::string, std::string>& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (k.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; same && i < k.size(); ++i)
      same = std::tolower(static_cast<unsigned char>(k[i])) == name[i];
    if (same) return &v;
  }
  return nullptr;
}

}  // namespace

struct WebhookVerifier::Impl {
  std::vector<std::string> keys;  // decoded HMAC keys
  std::int64_t tolerance = 300;
  // Ids accepted, until when a replay of them could still pass the timestamp check. Pruned on
  // each verify, so it holds at most the ids of one window; capped in case of a flood.
  mutable std::mutex mu;
  mutable std::unordered_map<std::string, std::int64_t> seen;
  static constexpr std::size_t kMaxSeen = 100000;
};

WebhookVerifier::WebhookVerifier(WebhookVerifierOptions options) : impl_(std::make_shared<Impl>()) {
  if (options.tolerance_seconds < 1 || options.tolerance_seconds > 86400)
    throw_error(ErrorType::kValidation, "tolerance_seconds must be from 1 to 86400", 0, "validation_error", {},
                "tolerance_seconds");
  if (options.secrets.empty())
    throw_error(ErrorType::kValidation, "a webhook verifier needs a secret (whsec_...)", 0, "validation_error", {},
                "secret");
  for (std::size_t i = 0; i < options.secrets.size(); ++i) {
    std::string_view s = options.secrets[i];
    if (s.rfind("whsec_", 0) == 0) s.remove_prefix(6);
    auto key = internal::try_base64_decode(s);
    if (!key || key->empty())  // the message never quotes the secret
      throw_error(ErrorType::kValidation, "secrets[" + std::to_string(i) + "] is not whsec_ followed by base64", 0,
                  "validation_error", {}, "secrets[" + std::to_string(i) + "]");
    impl_->keys.push_back(std::move(*key));
  }
  impl_->tolerance = options.tolerance_seconds;
}

WebhookEvent WebhookVerifier::verify(std::string_view body, const std::map<std::string, std::string>& headers) const {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  return verify_at(body, headers, now);
}

WebhookEvent WebhookVerifier::verify_at(std::string_view body, const std::map<std::string, std::string>& headers,
                                        std::int64_t now) const {
  const std::string* id = header(headers, "webhook-id");
  const std::string* ts = header(headers, "webhook-timestamp");
  const std::string* sig = header(headers, "webhook-signature");
  if (!id || !ts || !sig)
    refuse("missing_header", std::string("the ") + (!id ? "webhook-id" : !ts ? "webhook-timestamp" : "webhook-signature") +
                                 " header is missing");
  if (id->empty() || id->size() > 256) refuse("invalid_header", "webhook-id must have 1 to 256 characters");
  std::int64_t t = 0;
  if (ts->empty() || ts->size() > 12 || !std::all_of(ts->begin(), ts->end(), [](char c) { return c >= '0' && c <= '9'; }))
    refuse("invalid_header", "webhook-timestamp must be unix seconds");
  for (char c : *ts) t = t * 10 + (c - '0');
  if (now - t > impl_->tolerance) refuse("timestamp_too_old", "webhook-timestamp is too far in the past");
  if (t - now > impl_->tolerance) refuse("timestamp_too_new", "webhook-timestamp is too far in the future");

  std::string content;
  content.reserve(id->size() + ts->size() + body.size() + 2);
  content.append(*id).append(".").append(*ts).append(".").append(body);
  bool matched = false;
  for (const auto& key : impl_->keys) {
    const std::string expected = internal::base64_encode(internal::hmac_sha256(key, content));
    std::string_view rest = *sig;
    while (!rest.empty()) {  // "v1,<sig> v1,<sig> v1a,<sig>": other versions are skipped
      const std::size_t sp = rest.find(' ');
      std::string_view entry = rest.substr(0, sp);
      rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
      if (entry.rfind("v1,", 0) != 0) continue;
      matched = internal::constant_time_equals(entry.substr(3), expected) || matched;
    }
  }
  if (!matched) refuse("no_matching_signature", "no webhook-signature matches the secret(s)");

  WebhookEvent event;
  try {
    const auto json = internal::parse_json(body);
    // The spec's rules for the event (required members, their types); the signature is
    // checked first, so this only ever reads what the sender signed.
    if (auto problem = internal::check_WebhookEvent(json, "")) refuse("invalid_payload", "the body is not a webhook event: " + problem->message);
    event = internal::from_json<WebhookEvent>(json);
  } catch (const WebhookVerificationError&) {
    throw;
  } catch (const std::exception& e) {
    refuse("invalid_payload", std::string("the body is not a webhook event: ") + e.what());
  }
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    auto& seen = impl_->seen;
    for (auto it = seen.begin(); it != seen.end();) it = it->second < now ? seen.erase(it) : std::next(it);
    if (auto it = seen.find(*id); it != seen.end()) refuse("replayed", "webhook-id " + *id + " was already verified");
    if (seen.size() >= Impl::kMaxSeen) {
      auto oldest = std::min_element(seen.begin(), seen.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
      seen.erase(oldest);
    }
    seen.emplace(*id, std::max(t, now) + impl_->tolerance);
  }
  return event;
}

}  // namespace hues
