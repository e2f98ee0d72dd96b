// ID-token (JWS compact serialization) decoding, JWKS keys and OpenID Connect ID-token
// validation (OIDC Core §3.1.3.7). Internal to the SDK; failures throw InvalidTokenError
// whose code() names the failed check.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hues/models.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace hues::internal {

struct JwtExpectations {
  std::string issuer;
  std::string audience;  // the client_id
  std::string nonce;     // empty: not checked
  std::vector<std::string> allowed_algorithms{"RS256", "ES256"};
  std::int64_t clock_skew_seconds = 60;
  std::int64_t now = 0;              // Unix seconds; 0 = time(nullptr)
  std::int64_t max_age_seconds = 0;  // when > 0, iat may not be older than this
};

struct DecodedJwt {
  boost::json::object header;
  boost::json::object payload;
  std::string signing_input;  // "header.payload" exactly as received
  std::string signature;      // raw bytes
  std::string kid;
  std::string alg;
};

// Splits and decodes a compact JWS; InvalidTokenError "malformed" unless it has 3 parts of
// strict base64url whose header and payload are JSON objects.
DecodedJwt decode_jwt(const std::string& token);

// The signing keys of a provider's JWKS document (RFC 7517). Keeps RSA and EC P-256 keys
// meant for signatures; skips others (symmetric "oct" keys above all) and broken entries.
class Jwks {
 public:
  // Throws ProtocolError when the document has no "keys" array.
  explicit Jwks(const boost::json::value& jwks_document);
  ~Jwks();
  Jwks(Jwks&&) noexcept;
  Jwks& operator=(Jwks&&) noexcept;

  bool has_kid(const std::string& kid) const;
  std::size_t size() const;
  // Why the key named by jwt.kid cannot verify jwt.alg (wrong key type, curve or JWK alg,
  // RSA under 2048 bits), or "" when it can.
  std::string key_mismatch(const DecodedJwt& jwt) const;
  // True when jwt.signature is a valid signature of jwt.signing_input by the key of jwt.kid
  // under jwt.alg (RS256: RSASSA-PKCS1-v1_5 SHA-256; ES256: ECDSA P-256 SHA-256, raw R||S).
  bool verify(const DecodedJwt& jwt) const;

 private:
  struct Key;
  std::map<std::string, std::unique_ptr<Key>> keys_;  // by kid; the first of duplicates wins
};

// Checks, in this order and throwing InvalidTokenError with the code in brackets: alg in
// the allow-list and fit for the key [alg], kid known [kid], signature [signature], required
// claims iss/sub/aud/exp/iat present and typed [malformed], iss [iss], aud [aud], azp when
// several audiences [azp], exp [exp], nbf [nbf], iat [iat], nonce [nonce].
IdTokenClaims validate_id_token(const DecodedJwt& jwt, const Jwks& jwks, const JwtExpectations& expected);

}  // namespace hues::internal
