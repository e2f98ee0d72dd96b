// The sandbox's JOSE and password crypto on OpenSSL 3: signing keys (RSA-2048 for RS256,
// P-256 for ES256), JWKs with RFC 7638 thumbprints as kid, compact JWS signing, PKCE S256
// and PBKDF2-HMAC-SHA256 password hashes.
#pragma once

#include <boost/json/object.hpp>

#include "internal/crypto.h"

#include <memory>
#include <string>
#include <string_view>

typedef struct evp_pkey_st EVP_PKEY;

namespace hues::sandbox {

using PKey = std::shared_ptr<EVP_PKEY>;

// A new private key for alg ("RS256" or "ES256") as PKCS#8 PEM.
std::string generate_key_pem(std::string_view alg);
PKey load_private_key(const std::string& pem);
// The public JWK (kty, crv/x/y or n/e) without kid/use/alg.
boost::json::object public_jwk(EVP_PKEY* key);
// RFC 7638: base64url(SHA-256(the required members, sorted, no whitespace)).
std::string jwk_thumbprint(const boost::json::object& jwk);
// header.payload.signature; ES256 signatures are the raw 64-byte R||S of RFC 7518 §3.4.
std::string sign_jwt(EVP_PKEY* key, std::string_view alg, std::string_view kid, const boost::json::object& claims);

// "pbkdf2-sha256$<iterations>$<salt>$<hash>" (base64url) at OWASP's PBKDF2-HMAC-SHA256 count
// (600,000), and its constant-time check at whatever count the stored hash names.
inline constexpr int kPbkdf2Iterations = 600000;
std::string hash_password(std::string_view password);
bool verify_password(std::string_view password, std::string_view stored);
// True when stored was made with fewer iterations than kPbkdf2Iterations (rehash it on the
// next successful sign-in).
bool password_needs_rehash(std::string_view stored);

using internal::hmac_sha256;  // the shared library's (sdk/src/internal/crypto.h)

}  // namespace hues::sandbox
