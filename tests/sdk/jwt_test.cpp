// ID-token verification core: crypto vectors, then valid RS256/ES256 tokens and the attacks
// a relying party must refuse. Keys are generated and tokens signed here with OpenSSL.
#include <doctest/doctest.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <memory>
#include <string>

#include "hues/error.h"
#include "internal/crypto.h"
#include "internal/jwt.h"

namespace json = boost::json;
using namespace hues::internal;

namespace {

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) out += {digits[c >> 4], digits[c & 15]};
  return out;
}

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string bn_param(EVP_PKEY* key, const char* name, int pad = 0) {
  BIGNUM* bn = nullptr;
  REQUIRE(EVP_PKEY_get_bn_param(key, name, &bn) == 1);
  std::string out(pad ? pad : BN_num_bytes(bn), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  BN_free(bn);
  return out;
}

json::object rsa_jwk(EVP_PKEY* key, const std::string& kid) {
  return {{"kty", "RSA"}, {"use", "sig"}, {"alg", "RS256"}, {"kid", kid},
          {"n", base64url_encode(bn_param(key, OSSL_PKEY_PARAM_RSA_N))},
          {"e", base64url_encode(bn_param(key, OSSL_PKEY_PARAM_RSA_E))}};
}

json::object ec_jwk(EVP_PKEY* key, const std::string& kid) {
  return {{"kty", "EC"}, {"use", "sig"}, {"alg", "ES256"}, {"crv", "P-256"}, {"kid", kid},
          {"x", base64url_encode(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, 32))},
          {"y", base64url_encode(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32))}};
}

// SHA-256 signature as OpenSSL makes it: PKCS#1 v1.5 for RSA, DER ECDSA-Sig-Value for EC.
std::string openssl_sign(EVP_PKEY* key, const std::string& input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::size_t len = 0;
  REQUIRE(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1);
  REQUIRE(EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1);
  std::string sig(len, '\0');
  REQUIRE(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                         reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1);
  EVP_MD_CTX_free(ctx);
  sig.resize(len);
  return sig;
}

// DER ECDSA-Sig-Value -> JWS R||S, each left-padded to 32 bytes (RFC 7518 §3.4).
std::string der_to_jws(const std::string& der) {
  auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  REQUIRE(sig != nullptr);
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return raw;
}

std::string hmac_sha256(const std::string& secret, const std::string& input) {
  unsigned char out[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string public_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  REQUIRE(PEM_write_bio_PUBKEY(bio, key) == 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return pem;
}

std::string b64json(const json::object& o) { return base64url_encode(json::serialize(o)); }

constexpr std::int64_t kNow = 1750000000;
const std::string kIssuer = "https://id.hue-s.vn";
const std::string kClient = "hues-citizen-app";
const std::string kName = "Nguyễn Văn An";

// One RSA-2048, one EC P-256 and one weak RSA-1024 key, generated once for all cases.
struct Keys {
  Pkey rsa{EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048))};
  Pkey ec{EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")};
  Pkey weak{EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(1024))};
  json::value document{{"keys", json::array{rsa_jwk(rsa.get(), "rsa-1"), ec_jwk(ec.get(), "ec-1"),
                                            rsa_jwk(weak.get(), "rsa-weak")}}};
  Jwks jwks{document};

  static Keys& get() {
    static Keys keys;
    return keys;
  }
};

json::object claims() {
  return {{"iss", kIssuer}, {"sub", "citizen-0042"}, {"aud", kClient}, {"azp", kClient},
          {"exp", kNow + 600}, {"iat", kNow - 5}, {"auth_time", kNow - 30}, {"nonce", "n-0S6_WzA2Mj"},
          {"name", kName}, {"role", "citizen"}, {"verification_level", 2}};
}

JwtExpectations expect() {
  JwtExpectations x;
  x.issuer = kIssuer;
  x.audience = kClient;
  x.nonce = "n-0S6_WzA2Mj";
  x.now = kNow;
  return x;
}

// Signs payload with the test key for kid under alg (RS256/ES256, or "none"), header as given.
std::string sign(const json::object& header, const json::object& payload) {
  std::string input = b64json(header) + "." + b64json(payload);
  std::string alg(header.at("alg").as_string());
  const auto* named = header.if_contains("kid");
  std::string kid = named && named->is_string() ? std::string(named->get_string()) : "rsa-1";
  Keys& k = Keys::get();
  EVP_PKEY* key = kid == "ec-1" ? k.ec.get() : kid == "rsa-weak" ? k.weak.get() : k.rsa.get();
  std::string sig = alg == "none" ? "" : openssl_sign(key, input);
  if (alg == "ES256") sig = der_to_jws(sig);
  return input + "." + base64url_encode(sig);
}

std::string token(const std::string& alg, const std::string& kid, const json::object& payload = claims()) {
  return sign({{"alg", alg}, {"kid", kid}, {"typ", "JWT"}}, payload);
}

// "" when the token validates, else the InvalidTokenError code.
std::string refusal(const std::string& jwt, const JwtExpectations& x = expect()) {
  try {
    validate_id_token(decode_jwt(jwt), Keys::get().jwks, x);
    return "";
  } catch (const hues::InvalidTokenError& e) {
    CHECK(e.type() == hues::ErrorType::kInvalidToken);
    CHECK(!e.message().empty());
    return e.code();
  }
}

std::string part(const std::string& jwt, int index) {
  auto a = jwt.find('.'), b = jwt.find('.', a + 1);
  return index == 0 ? jwt.substr(0, a) : index == 1 ? jwt.substr(a + 1, b - a - 1) : jwt.substr(b + 1);
}

}  // namespace

TEST_CASE("base64url follows RFC 4648 and refuses anything but the canonical url-safe form") {
  const char* vectors[][2] = {{"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"},
                              {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (auto& v : vectors) {
    CHECK(base64url_encode(v[0]) == v[1]);
    CHECK(base64url_decode(v[1]) == v[0]);
  }
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("\xfb\xff\xbf") == "+/+/");
  CHECK(base64url_encode("\xfb\xff\xbf") == "-_-_");
  CHECK(base64url_decode("-_-_") == "\xfb\xff\xbf");
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  CHECK(base64url_decode(base64url_encode(all)) == all);
  for (const char* bad : {"Zg==", "Zm8=", "Zm9v+", "Zm9v/", "Zm 9v", "Zm9v\n", "Z", "Zh", "Zm9", "Zm.9"})
    CHECK_THROWS_AS(base64url_decode(bad), std::invalid_argument);
}

TEST_CASE("SHA-256, PKCE S256 and random tokens") {
  CHECK(hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 7636 Appendix B.
  CHECK(pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  std::string a = random_urlsafe(32), b = random_urlsafe(32);
  CHECK(a.size() == 43);
  CHECK(base64url_decode(a).size() == 32);
  CHECK(a != b);
}

TEST_CASE("HMAC-SHA256 (RFC 4231 test cases 2 and 6)") {
  using hues::internal::hmac_sha256;
  CHECK(hex(hmac_sha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // A key longer than the block size is hashed first.
  CHECK(hex(hmac_sha256(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First")) ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_CASE("constant_time_equals") {
  CHECK(constant_time_equals("nonce-1", "nonce-1"));
  CHECK(constant_time_equals("", ""));
  CHECK_FALSE(constant_time_equals("nonce-1", "nonce-2"));
  CHECK_FALSE(constant_time_equals("nonce", "nonce-1"));
  CHECK_FALSE(constant_time_equals("nonce-1", "nonce"));
  CHECK_FALSE(constant_time_equals("", "x"));
}

TEST_CASE("valid RS256 and ES256 ID tokens pass with their claims") {
  for (const char* kid : {"rsa-1", "ec-1"}) {
    CAPTURE(kid);
    std::string alg = std::string(kid) == "ec-1" ? "ES256" : "RS256";
    auto jwt = decode_jwt(token(alg, kid));
    CHECK(jwt.alg == alg);
    CHECK(jwt.kid == kid);
    CHECK(jwt.signature.size() == (alg == "ES256" ? 64u : 256u));
    CHECK(Keys::get().jwks.verify(jwt));
    auto c = validate_id_token(jwt, Keys::get().jwks, expect());
    CHECK(c.iss == kIssuer);
    CHECK(c.sub == "citizen-0042");
    CHECK(c.aud == kClient);
    CHECK(c.azp == kClient);
    CHECK(c.nonce == "n-0S6_WzA2Mj");
    CHECK(c.name == kName);  // Vietnamese UTF-8 round-trips byte for byte
    CHECK(c.role == "citizen");
    CHECK(c.verification_level == 2);
    CHECK(c.exp == kNow + 600);
    CHECK(c.iat == kNow - 5);
    CHECK(c.auth_time == kNow - 30);
  }
  auto payload = claims();
  payload["aud"] = json::array{"hues-other-app", kClient};  // several audiences, azp is us
  CHECK(validate_id_token(decode_jwt(token("RS256", "rsa-1", payload)), Keys::get().jwks, expect()).aud == kClient);
  payload = claims();
  payload.erase("nonce");
  auto x = expect();
  x.nonce.clear();  // no nonce expected (e.g. a refresh): not checked
  CHECK(refusal(token("ES256", "ec-1", payload), x) == "");
  CHECK(Keys::get().jwks.size() == 3);
}

TEST_CASE("algorithm attacks are refused before any key is used") {
  auto& k = Keys::get();
  std::string input = b64json({{"alg", "none"}, {"kid", "rsa-1"}}) + "." + b64json(claims());
  CHECK(refusal(input + ".") == "alg");
  auto x = expect();
  x.allowed_algorithms = {"none", "RS256"};  // even a careless allow-list cannot enable "none"
  CHECK(refusal(input + ".", x) == "alg");

  // HS256 with the RSA public key (PEM, or the raw modulus) as the HMAC secret.
  for (const std::string& secret : {public_pem(k.rsa.get()), bn_param(k.rsa.get(), OSSL_PKEY_PARAM_RSA_N)}) {
    std::string hs = b64json({{"alg", "HS256"}, {"kid", "rsa-1"}}) + "." + b64json(claims());
    std::string forged = hs + "." + base64url_encode(hmac_sha256(secret, hs));
    CHECK(refusal(forged) == "alg");
    x.allowed_algorithms = {"HS256", "RS256", "ES256"};
    CHECK(refusal(forged, x) == "alg");
    CHECK_FALSE(k.jwks.verify(decode_jwt(forged)));
  }
  // An algorithm that does not fit the key named by kid.
  std::string rs_on_ec = b64json({{"alg", "RS256"}, {"kid", "ec-1"}}) + "." + b64json(claims());
  CHECK(refusal(rs_on_ec + "." + base64url_encode(openssl_sign(k.rsa.get(), rs_on_ec))) == "alg");
  std::string es_on_rsa = b64json({{"alg", "ES256"}, {"kid", "rsa-1"}}) + "." + b64json(claims());
  CHECK(refusal(es_on_rsa + "." + base64url_encode(der_to_jws(openssl_sign(k.ec.get(), es_on_rsa)))) == "alg");
  x = expect();
  x.allowed_algorithms = {"ES256"};
  CHECK(refusal(token("RS256", "rsa-1"), x) == "alg");
  CHECK(refusal(sign({{"kid", "rsa-1"}, {"alg", "RS512"}}, claims())) == "alg");
}

TEST_CASE("a 1024-bit RSA key in the JWKS verifies nothing") {
  auto& k = Keys::get();
  std::string weak = token("RS256", "rsa-weak");
  CHECK(k.jwks.has_kid("rsa-weak"));
  CHECK(refusal(weak) == "alg");  // RFC 7518 §3.3: RS256 keys are 2048 bits or more
  CHECK(k.jwks.key_mismatch(decode_jwt(weak)).find("1024") != std::string::npos);
  CHECK_FALSE(k.jwks.verify(decode_jwt(weak)));
}

TEST_CASE("kid missing or unknown") {
  CHECK(refusal(sign({{"alg", "RS256"}}, claims())) == "kid");
  CHECK(refusal(token("RS256", "rsa-2")) == "kid");
  CHECK(refusal(token("RS256", "")) == "kid");
}

TEST_CASE("tampered tokens fail the signature check") {
  for (const char* kid : {"rsa-1", "ec-1"}) {
    CAPTURE(kid);
    std::string alg = std::string(kid) == "ec-1" ? "ES256" : "RS256";
    std::string good = token(alg, kid);
    REQUIRE(refusal(good) == "");
    auto payload = claims();
    payload["sub"] = "citizen-0001";  // one claim changed after signing
    CHECK(refusal(part(good, 0) + "." + b64json(payload) + "." + part(good, 2)) == "signature");
    std::string sig = base64url_decode(part(good, 2));
    sig[sig.size() / 2] ^= 0x01;
    CHECK(refusal(part(good, 0) + "." + part(good, 1) + "." + base64url_encode(sig)) == "signature");
    CHECK(refusal(part(good, 0) + "." + part(good, 1) + ".") == "signature");
  }
  // ES256 signature in OpenSSL's DER form instead of JWS R||S.
  std::string input = b64json({{"alg", "ES256"}, {"kid", "ec-1"}}) + "." + b64json(claims());
  std::string der = openssl_sign(Keys::get().ec.get(), input);
  CHECK(refusal(input + "." + base64url_encode(der)) == "signature");
  CHECK(refusal(input + "." + base64url_encode(der_to_jws(der))) == "");
}

TEST_CASE("malformed tokens") {
  std::string good = token("RS256", "rsa-1");
  CHECK(refusal("") == "malformed");
  CHECK(refusal(part(good, 0) + "." + part(good, 1)) == "malformed");
  CHECK(refusal(good + ".") == "malformed");
  CHECK(refusal(good + "." + part(good, 2)) == "malformed");
  CHECK(refusal("!!." + part(good, 1) + "." + part(good, 2)) == "malformed");
  CHECK(refusal(base64url_encode("not json") + "." + part(good, 1) + "." + part(good, 2)) == "malformed");
  CHECK(refusal(part(good, 0) + "." + base64url_encode("[1,2]") + "." + part(good, 2)) == "malformed");
  CHECK(refusal(part(good, 0) + "." + part(good, 1) + "." + part(good, 2) + "==") == "malformed");  // padded
  CHECK(part(good, 2).size() % 4 != 0);  // so the padding above is real base64 padding
  CHECK(refusal(part(good, 0) + "=." + part(good, 1) + "." + part(good, 2)) == "malformed");
  CHECK(refusal(sign({{"alg", "RS256"}, {"kid", 7}}, claims())) == "malformed");
  CHECK(refusal(sign({{"alg", "RS256"}, {"kid", "rsa-1"}, {"crit", json::array{"exp"}}}, claims())) == "malformed");
  CHECK(refusal(std::string(70000, 'a') + ".e30.e30") == "malformed");
  // Required claims missing or of the wrong type, in a validly signed token.
  for (const char* name : {"iss", "sub", "aud", "exp", "iat"}) {
    CAPTURE(name);
    auto payload = claims();
    payload.erase(name);
    CHECK(refusal(token("RS256", "rsa-1", payload)) == "malformed");
  }
  auto payload = claims();
  payload["exp"] = "tomorrow";
  CHECK(refusal(token("RS256", "rsa-1", payload)) == "malformed");
  payload = claims();
  payload["aud"] = json::array{kClient, 42};
  CHECK(refusal(token("RS256", "rsa-1", payload)) == "malformed");
  payload = claims();
  payload["sub"] = "";
  CHECK(refusal(token("ES256", "ec-1", payload)) == "malformed");
}

TEST_CASE("issuer, audience and authorized party") {
  auto payload = claims();
  payload["iss"] = kIssuer + "/";  // exact match only
  CHECK(refusal(token("RS256", "rsa-1", payload)) == "iss");
  payload = claims();
  payload["aud"] = "hues-other-app";
  payload.erase("azp");
  CHECK(refusal(token("RS256", "rsa-1", payload)) == "aud");
  payload["aud"] = json::array{"hues-other-app", "hues-third-app"};
  CHECK(refusal(token("RS256", "rsa-1", payload)) == "aud");
  payload["aud"] = json::array{"hues-other-app", kClient};  // several audiences, no azp
  CHECK(refusal(token("RS256", "rsa-1", payload)) == "azp");
  payload["azp"] = "hues-other-app";
  CHECK(refusal(token("ES256", "ec-1", payload)) == "azp");
  payload["aud"] = json::array{kClient};  // a one-element array is fine
  payload.erase("azp");
  CHECK(refusal(token("ES256", "ec-1", payload)) == "");
}

TEST_CASE("time claims honour the clock skew") {
  auto x = expect();
  auto payload = claims();
  payload["exp"] = kNow - 61;
  CHECK(refusal(token("RS256", "rsa-1", payload)) == "exp");
  payload["exp"] = kNow - 59;  // within the 60 s skew
  CHECK(refusal(token("RS256", "rsa-1", payload)) == "");
  x.clock_skew_seconds = 0;
  CHECK(refusal(token("RS256", "rsa-1", payload), x) == "exp");

  payload = claims();
  payload["nbf"] = kNow + 120;
  CHECK(refusal(token("ES256", "ec-1", payload)) == "nbf");
  payload["nbf"] = kNow + 30;
  CHECK(refusal(token("ES256", "ec-1", payload)) == "");

  payload = claims();
  payload["iat"] = kNow + 300;
  CHECK(refusal(token("RS256", "rsa-1", payload)) == "iat");
  payload["iat"] = kNow - 3600;
  CHECK(refusal(token("RS256", "rsa-1", payload)) == "");
  x = expect();
  x.max_age_seconds = 600;
  CHECK(refusal(token("RS256", "rsa-1", payload), x) == "iat");
}

TEST_CASE("nonce must be present and equal when expected") {
  auto x = expect();
  x.nonce = "n-other";
  CHECK(refusal(token("RS256", "rsa-1"), x) == "nonce");
  x.nonce = "n-0S6_WzA2M";  // a prefix of the token's nonce
  CHECK(refusal(token("RS256", "rsa-1"), x) == "nonce");
  auto payload = claims();
  payload.erase("nonce");
  CHECK(refusal(token("ES256", "ec-1", payload)) == "nonce");
}

TEST_CASE("JWKS keeps only usable signing keys") {
  auto& k = Keys::get();
  json::object bad_ec = ec_jwk(k.ec.get(), "ec-off-curve");
  bad_ec["y"] = base64url_encode(std::string(32, '\x02'));  // a point not on P-256
  json::object p384 = ec_jwk(k.ec.get(), "ec-p384");
  p384["crv"] = "P-384";
  json::object enc = rsa_jwk(k.rsa.get(), "rsa-enc");
  enc["use"] = "enc";
  json::object broken = rsa_jwk(k.rsa.get(), "rsa-broken");
  broken["n"] = "not base64url!";
  json::object no_kid = rsa_jwk(k.rsa.get(), "");
  json::value doc{{"keys", json::array{json::object{{"kty", "oct"}, {"kid", "hmac"}, {"k", "c2VjcmV0"}},
                                       bad_ec, p384, enc, broken, no_kid, 42, rsa_jwk(k.rsa.get(), "rsa-1")}}};
  Jwks jwks(doc);
  CHECK(jwks.size() == 1);
  CHECK(jwks.has_kid("rsa-1"));
  for (const char* kid : {"hmac", "ec-off-curve", "ec-p384", "rsa-enc", "rsa-broken", ""}) CHECK_FALSE(jwks.has_kid(kid));
  auto x = expect();
  x.allowed_algorithms = {"HS256"};
  std::string hs = b64json({{"alg", "HS256"}, {"kid", "hmac"}}) + "." + b64json(claims());
  try {
    validate_id_token(decode_jwt(hs + "." + base64url_encode(hmac_sha256("secret", hs))), jwks, x);
    FAIL("an HS256 token validated");
  } catch (const hues::InvalidTokenError& e) {
    CHECK(e.code() == "alg");
  }
  CHECK_THROWS_AS(Jwks(json::value{{"kids", json::array{}}}), hues::ProtocolError);
  CHECK_THROWS_AS(Jwks(json::value(json::array{})), hues::ProtocolError);
}
