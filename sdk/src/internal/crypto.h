// Cryptographic and encoding helpers over OpenSSL, shared by the SDK and the sandbox (with
// the JSON codec, the only code they share): base64 and base64url (RFC 4648, unpadded
// url-safe), SHA-256, HMAC-SHA256, hex, CSPRNG output, PKCE S256 (RFC 7636), constant-time
// comparison.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace hues::internal {

// Standard padded base64 (RFC 4648 §4), e.g. for HTTP Basic credentials.
std::string base64_encode(std::string_view bytes);
// Strict padded standard base64 (RFC 4648 §4): the alphabet, '=' padding to a multiple of 4,
// no whitespace, canonical trailing bits; nullopt otherwise (webhook secrets, bytes fields).
std::optional<std::string> try_base64_decode(std::string_view text);
// Unpadded base64url.
std::string base64url_encode(std::string_view bytes);
// Strict: only the url-safe alphabet, no '=' padding, no whitespace, canonical trailing bits;
// nullopt otherwise.
std::optional<std::string> try_base64url_decode(std::string_view text);
// The same, throwing std::invalid_argument.
std::string base64url_decode(std::string_view text);
// Raw 32-byte digest.
std::string sha256(std::string_view bytes);
// The same, over bytes given in pieces (a file span hashed without holding it).
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void update(std::string_view piece);
  std::string finish();  // raw 32 bytes; once

 private:
  void* ctx_;  // EVP_MD_CTX
};
// HMAC-SHA256(key, data) (RFC 2104), raw 32 bytes: signed sign-in forms, webhook signatures.
std::string hmac_sha256(std::string_view key, std::string_view data);
// Lowercase hex of bytes.
std::string to_hex(std::string_view bytes);
// bytes random bytes from the OpenSSL CSPRNG.
std::string random_bytes(std::size_t bytes);
// ... hex-encoded (request ids) or base64url-encoded (state, nonce, verifier).
std::string random_hex(std::size_t bytes);
std::string random_urlsafe(std::size_t bytes);
// "req_" + 24 hex digits: an X-Request-Id. CSPRNG output too, but drawn from a small
// per-thread buffer (refilled in one RAND_bytes call, dropped in a forked child) because one
// is needed per call; not for secrets, which use the functions above.
std::string new_request_id();
// The S256 code challenge: base64url(SHA-256(verifier)).
std::string pkce_challenge(std::string_view verifier);
// Compares secrets without leaking where they differ; different lengths compare unequal.
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace hues::internal
