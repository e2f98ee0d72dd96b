// Small cryptographic helpers over OpenSSL: base64url (RFC 4648 §5, unpadded), SHA-256,
// random tokens, PKCE S256 (RFC 7636) and constant-time comparison. Internal to the SDK.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hues::internal {

// Standard padded base64 (RFC 4648 §4), e.g. for HTTP Basic credentials.
std::string base64_encode(std::string_view bytes);
// Unpadded base64url.
std::string base64url_encode(std::string_view bytes);
// Strict: only the url-safe alphabet, no '=' padding, no whitespace, canonical trailing bits.
// Throws std::invalid_argument otherwise.
std::string base64url_decode(std::string_view text);
// Raw 32-byte digest.
std::string sha256(std::string_view bytes);
// bytes random bytes from the OpenSSL CSPRNG, base64url-encoded (state, nonce, verifier).
std::string random_urlsafe(std::size_t bytes);
// The S256 code challenge: base64url(SHA-256(verifier)).
std::string pkce_challenge(std::string_view verifier);
// Compares secrets without leaking where they differ; different lengths compare unequal.
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace hues::internal
