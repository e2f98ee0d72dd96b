#include "internal/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <ctime>
#include <stdexcept>

#include "hues/error.h"
#include "internal/crypto.h"
#include "internal/json_codec.h"

namespace hues::internal {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
template <typename T, void (*Free)(T*)>
using Owned = std::unique_ptr<T, Deleter<T, Free>>;
using PkeyPtr = Owned<EVP_PKEY, EVP_PKEY_free>;
using BnPtr = Owned<BIGNUM, BN_free>;

constexpr std::size_t kMaxTokenSize = 64 * 1024;

[[noreturn]] void fail(const char* code, const std::string& message) {
  throw_error(ErrorType::kInvalidToken, "ID token rejected: " + message, 0, code);
}

std::string quoted(const std::string& s) { return "'" + s.substr(0, 64) + "'"; }

boost::json::object decode_part(std::string_view part, const char* what) {
  std::string text;
  try {
    text = base64url_decode(part);
  } catch (const std::invalid_argument& e) {
    fail("malformed", std::string(what) + " is not base64url (" + e.what() + ")");
  }
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) fail("malformed", std::string(what) + " is not a JSON object");
  return std::move(v.as_object());
}

// A string member, "" when absent; wrong types are the caller's to judge.
std::string member(const boost::json::object& o, const char* name) {
  const auto* v = o.if_contains(name);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

BnPtr to_bn(const std::string& big_endian) {
  return BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(big_endian.data()),
                         static_cast<int>(big_endian.size()), nullptr));
}

// Builds a public key from OSSL_PARAMs and checks it (an EC point must lie on the curve,
// or invalid-curve attacks become possible). nullptr when OpenSSL refuses it.
PkeyPtr public_key_from(const char* type, OSSL_PARAM_BLD* bld) {
  Owned<OSSL_PARAM, OSSL_PARAM_free> params(OSSL_PARAM_BLD_to_param(bld));
  Owned<EVP_PKEY_CTX, EVP_PKEY_CTX_free> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  PkeyPtr pkey(raw);
  Owned<EVP_PKEY_CTX, EVP_PKEY_CTX_free> check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) pkey.reset();
  ERR_clear_error();
  return pkey;
}

PkeyPtr rsa_key(const boost::json::object& jwk) {
  BnPtr n = to_bn(base64url_decode(member(jwk, "n")));
  BnPtr e = to_bn(base64url_decode(member(jwk, "e")));
  Owned<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free> bld(OSSL_PARAM_BLD_new());
  if (!n || !e || !bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()))
    return nullptr;
  return public_key_from("RSA", bld.get());
}

PkeyPtr ec_p256_key(const boost::json::object& jwk) {
  std::string x = base64url_decode(member(jwk, "x"));
  std::string y = base64url_decode(member(jwk, "y"));
  if (member(jwk, "crv") != "P-256" || x.size() != 32 || y.size() != 32) return nullptr;
  std::string point = "\x04" + x + y;  // SEC 1 uncompressed point
  Owned<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free> bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()))
    return nullptr;
  return public_key_from("EC", bld.get());
}

// JWS carries ECDSA signatures as raw R||S (RFC 7518 §3.4); OpenSSL wants DER. "" if not 64 bytes.
std::string jws_to_der(const std::string& raw) {
  if (raw.size() != 64) return {};
  Owned<ECDSA_SIG, ECDSA_SIG_free> sig(ECDSA_SIG_new());
  BnPtr r = to_bn(raw.substr(0, 32)), s = to_bn(raw.substr(32));
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return {};
  r.release();  // now owned by sig
  s.release();
  int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return {};
  std::string der(static_cast<std::size_t>(len), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  return i2d_ECDSA_SIG(sig.get(), &out) == len ? der : std::string();
}

std::int64_t unix_now(const JwtExpectations& x) {
  return x.now != 0 ? x.now : static_cast<std::int64_t>(std::time(nullptr));
}

bool present(const boost::json::object& o, const char* name) {
  const auto* v = o.if_contains(name);
  return v && !v->is_null();
}

}  // namespace

DecodedJwt decode_jwt(const std::string& token) {
  if (token.size() > kMaxTokenSize) fail("malformed", "token longer than 64 KiB");
  auto dot1 = token.find('.');
  auto dot2 = dot1 == std::string::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string::npos || token.find('.', dot2 + 1) != std::string::npos)
    fail("malformed", "a JWS has exactly three dot-separated parts");
  DecodedJwt jwt;
  std::string_view view(token);
  jwt.header = decode_part(view.substr(0, dot1), "header");
  jwt.payload = decode_part(view.substr(dot1 + 1, dot2 - dot1 - 1), "payload");
  jwt.signing_input = token.substr(0, dot2);
  try {
    jwt.signature = base64url_decode(view.substr(dot2 + 1));
  } catch (const std::invalid_argument& e) {
    fail("malformed", std::string("signature is not base64url (") + e.what() + ")");
  }
  for (const char* name : {"alg", "kid"}) {
    if (present(jwt.header, name) && !jwt.header.at(name).is_string())
      fail("malformed", std::string("header ") + name + " is not a string");
  }
  // We implement no JWS extension, so any critical one must be refused (RFC 7515 §4.1.11).
  if (jwt.header.contains("crit")) fail("malformed", "header has critical extensions (crit)");
  jwt.alg = member(jwt.header, "alg");
  jwt.kid = member(jwt.header, "kid");
  return jwt;
}

struct Jwks::Key {
  std::string kty;  // "RSA" or "EC" (P-256 only)
  std::string alg;  // the JWK's alg, "" when it names none
  int bits = 0;
  PkeyPtr pkey;
};

Jwks::Jwks(const boost::json::value& jwks_document) {
  const auto* doc = jwks_document.if_object();
  const auto* keys = doc ? doc->if_contains("keys") : nullptr;
  if (!keys || !keys->is_array())
    throw_error(ErrorType::kProtocol, "the JWKS document has no \"keys\" array", 0, "jwks");
  for (const auto& entry : keys->get_array()) {
    const auto* jwk = entry.if_object();
    if (!jwk) continue;
    std::string kid = member(*jwk, "kid"), kty = member(*jwk, "kty");
    if (kid.empty() || (present(*jwk, "use") && member(*jwk, "use") != "sig")) continue;
    PkeyPtr pkey;
    try {
      if (kty == "RSA") pkey = rsa_key(*jwk);
      if (kty == "EC") pkey = ec_p256_key(*jwk);
    } catch (const std::invalid_argument&) {
      continue;  // a broken entry must not hide the provider's other keys
    }
    if (!pkey) continue;  // "oct" and other key types never verify anything
    int bits = EVP_PKEY_get_bits(pkey.get());
    keys_.emplace(kid, std::make_unique<Key>(Key{kty, member(*jwk, "alg"), bits, std::move(pkey)}));
  }
}

Jwks::~Jwks() = default;
Jwks::Jwks(Jwks&&) noexcept = default;
Jwks& Jwks::operator=(Jwks&&) noexcept = default;

bool Jwks::has_kid(const std::string& kid) const { return keys_.count(kid) != 0; }
std::size_t Jwks::size() const { return keys_.size(); }

std::string Jwks::key_mismatch(const DecodedJwt& jwt) const {
  auto it = keys_.find(jwt.kid);
  if (it == keys_.end()) return "no key " + quoted(jwt.kid) + " in the JWKS";
  const Key& key = *it->second;
  std::string name = "key " + quoted(jwt.kid);
  if (!key.alg.empty() && key.alg != jwt.alg) return name + " is for " + key.alg + ", not " + quoted(jwt.alg);
  if (jwt.alg == "RS256") {
    if (key.kty != "RSA") return name + " is " + key.kty + ", RS256 needs RSA";
    // RFC 7518 §3.3: RS256 keys MUST be 2048 bits or larger.
    if (key.bits < 2048) return name + " has " + std::to_string(key.bits) + " bits, RS256 needs 2048 or more";
    return {};
  }
  if (jwt.alg == "ES256") return key.kty == "EC" ? std::string() : name + " is " + key.kty + ", ES256 needs EC P-256";
  return "algorithm " + quoted(jwt.alg) + " is not supported";
}

bool Jwks::verify(const DecodedJwt& jwt) const {
  if (!key_mismatch(jwt).empty()) return false;
  const Key& key = *keys_.at(jwt.kid);
  std::string sig = jwt.alg == "ES256" ? jws_to_der(jwt.signature) : jwt.signature;
  if (sig.empty()) return false;
  Owned<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.pkey.get()) == 1 &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(jwt.signing_input.data()),
                             jwt.signing_input.size()) == 1;
  ERR_clear_error();  // a failed verify must not leave errors for the TLS code on this thread
  return ok;
}

IdTokenClaims validate_id_token(const DecodedJwt& jwt, const Jwks& jwks, const JwtExpectations& x) {
  const auto& allowed = x.allowed_algorithms;
  if (jwt.alg.empty() || std::find(allowed.begin(), allowed.end(), jwt.alg) == allowed.end())
    fail("alg", "algorithm " + quoted(jwt.alg) + " is not allowed");
  if (jwt.alg != "RS256" && jwt.alg != "ES256") fail("alg", "algorithm " + quoted(jwt.alg) + " is not supported");
  if (jwt.kid.empty()) fail("kid", "the header names no key (kid)");
  if (!jwks.has_kid(jwt.kid)) fail("kid", "no key " + quoted(jwt.kid) + " in the provider's JWKS");
  if (auto why = jwks.key_mismatch(jwt); !why.empty()) fail("alg", why);
  if (!jwks.verify(jwt)) fail("signature", "the signature does not verify");

  const auto& p = jwt.payload;
  for (const char* name : {"iss", "sub", "aud", "exp", "iat"})
    if (!present(p, name)) fail("malformed", std::string("required claim ") + name + " is missing");
  std::vector<std::string> audiences;
  if (p.at("aud").is_string()) {
    audiences.emplace_back(p.at("aud").get_string());
  } else if (p.at("aud").is_array()) {
    for (const auto& a : p.at("aud").get_array()) {
      if (!a.is_string()) fail("malformed", "claim aud holds a non-string");
      audiences.emplace_back(a.get_string());
    }
  } else {
    fail("malformed", "claim aud is neither a string nor an array");
  }
  IdTokenClaims claims;
  boost::json::object fields = p;
  fields.erase("aud");  // checked above; the codec would want one string
  try {
    claims = from_json<IdTokenClaims>(fields);
  } catch (const FieldError& e) {
    fail("malformed", std::string("claim ") + e.what());
  }
  if (claims.sub.empty()) fail("malformed", "claim sub is empty");

  if (claims.iss != x.issuer) fail("iss", "issuer " + quoted(claims.iss) + " is not " + quoted(x.issuer));
  if (std::find(audiences.begin(), audiences.end(), x.audience) == audiences.end())
    fail("aud", "the token is not meant for client " + quoted(x.audience));
  // With several audiences the token must say it was issued to us (OIDC Core §3.1.3.7).
  if ((audiences.size() > 1 || !claims.azp.empty()) && claims.azp != x.audience)
    fail("azp", "authorized party " + quoted(claims.azp) + " is not " + quoted(x.audience));
  claims.aud = x.audience;

  const std::int64_t now = unix_now(x), skew = x.clock_skew_seconds;
  if (now - skew > claims.exp) fail("exp", "the token expired at " + std::to_string(claims.exp));
  if (present(p, "nbf") && now + skew < claims.nbf)
    fail("nbf", "the token is not valid before " + std::to_string(claims.nbf));
  if (claims.iat > now + skew) fail("iat", "the token was issued in the future");
  if (x.max_age_seconds > 0 && now - skew - x.max_age_seconds > claims.iat)
    fail("iat", "the token was issued more than " + std::to_string(x.max_age_seconds) + " s ago");
  if (!x.nonce.empty()) {
    if (!present(p, "nonce")) fail("nonce", "the token carries no nonce");
    if (!constant_time_equals(claims.nonce, x.nonce)) fail("nonce", "the nonce does not match this sign-in");
  }
  return claims;
}

}  // namespace hues::internal
