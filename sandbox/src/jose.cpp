#include "jose.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <boost/json/serialize.hpp>

#include <charconv>
#include <stdexcept>
#include <vector>

#include "util.h"

namespace hues::sandbox {
namespace {

[[noreturn]] void fail(const char* what) { throw std::runtime_error(std::string("OpenSSL: ") + what + " failed"); }

struct BioFree { void operator()(BIO* b) const { BIO_free(b); } };
struct CtxFree { void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); } };
struct BnFree { void operator()(BIGNUM* b) const { BN_free(b); } };

std::string bn_param(EVP_PKEY* key, const char* name, int pad) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) fail("EVP_PKEY_get_bn_param");
  std::unique_ptr<BIGNUM, BnFree> bn(raw);
  std::string out(pad ? static_cast<std::size_t>(pad) : static_cast<std::size_t>(BN_num_bytes(bn.get())), '\0');
  // Unsigned big-endian; EC coordinates keep their fixed 32-byte width (RFC 7518 §6.2.1.2).
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size())) < 0)
    fail("BN_bn2binpad");
  return base64url_encode(out);
}

}  // namespace

std::string generate_key_pem(std::string_view alg) {
  EVP_PKEY* raw = alg == "RS256" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048))
                  : alg == "ES256" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                                   : throw std::invalid_argument("unsupported alg");
  if (!raw) fail("EVP_PKEY_Q_keygen");
  PKey key(raw, EVP_PKEY_free);
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    fail("PEM_write_bio_PrivateKey");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

PKey load_private_key(const std::string& pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (!key) fail("PEM_read_bio_PrivateKey");
  return PKey(key, EVP_PKEY_free);
}

boost::json::object public_jwk(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "RSA"))
    return {{"kty", "RSA"}, {"n", bn_param(key, OSSL_PKEY_PARAM_RSA_N, 0)}, {"e", bn_param(key, OSSL_PKEY_PARAM_RSA_E, 0)}};
  return {{"kty", "EC"}, {"crv", "P-256"}, {"x", bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, 32)},
          {"y", bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32)}};
}

std::string jwk_thumbprint(const boost::json::object& jwk) {
  auto s = [&](const char* k) { return boost::json::serialize(jwk.at(k)); };  // JSON strings, quoted
  const std::string canonical =
      jwk.at("kty") == "RSA" ? R"({"e":)" + s("e") + R"(,"kty":"RSA","n":)" + s("n") + "}"
                             : R"({"crv":)" + s("crv") + R"(,"kty":"EC","x":)" + s("x") + R"(,"y":)" + s("y") + "}";
  const Sha256 h = sha256(canonical);
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(h.data()), h.size()));
}

std::string sign_jwt(EVP_PKEY* key, std::string_view alg, std::string_view kid, const boost::json::object& claims) {
  const boost::json::object header{{"alg", alg}, {"typ", "JWT"}, {"kid", kid}};
  const std::string input =
      base64url_encode(boost::json::serialize(header)) + "." + base64url_encode(boost::json::serialize(claims));
  std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  std::size_t len = 0;
  if (!ctx || EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, key, nullptr) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    fail("EVP_DigestSignInit");
  std::vector<unsigned char> sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    fail("EVP_DigestSign");
  sig.resize(len);
  std::string out(sig.begin(), sig.end());
  if (alg == "ES256") {  // OpenSSL yields DER ECDSA-Sig-Value; JWS wants R||S, 32 bytes each
    const unsigned char* p = sig.data();
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    if (!es) fail("d2i_ECDSA_SIG");
    const BIGNUM *r = nullptr, *s = nullptr;
    ECDSA_SIG_get0(es, &r, &s);
    out.assign(64, '\0');
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    const bool ok = BN_bn2binpad(r, o, 32) == 32 && BN_bn2binpad(s, o + 32, 32) == 32;
    ECDSA_SIG_free(es);
    if (!ok) fail("BN_bn2binpad");
  }
  return input + "." + base64url_encode(out);
}

namespace {
std::string pbkdf2(std::string_view password, std::string_view salt, int iterations) {
  std::string out(32, '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), iterations,
                        EVP_sha256(), 32, reinterpret_cast<unsigned char*>(out.data())) != 1)
    fail("PKCS5_PBKDF2_HMAC");
  return out;
}
}  // namespace

std::string hash_password(std::string_view password) {
  std::string salt(16, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), 16) != 1) fail("RAND_bytes");
  return "pbkdf2-sha256$" + std::to_string(kPbkdf2Iterations) + "$" + base64url_encode(salt) + "$" +
         base64url_encode(pbkdf2(password, salt, kPbkdf2Iterations));
}

namespace {
// The iteration count of a well-formed stored hash, else 0.
int stored_iterations(std::string_view stored, std::string* salt, std::string* hash) {
  constexpr std::string_view kPrefix = "pbkdf2-sha256$";
  if (stored.substr(0, kPrefix.size()) != kPrefix) return 0;
  stored.remove_prefix(kPrefix.size());
  const auto d1 = stored.find('$'), d2 = stored.find('$', d1 + 1);
  if (d1 == std::string_view::npos || d2 == std::string_view::npos) return 0;
  int iterations = 0;
  auto [end, ec] = std::from_chars(stored.data(), stored.data() + d1, iterations);
  auto s = base64url_decode(stored.substr(d1 + 1, d2 - d1 - 1));
  auto h = base64url_decode(stored.substr(d2 + 1));
  // 1,000 to 10,000,000 iterations: anything else is not a hash this server made.
  if (ec != std::errc() || end != stored.data() + d1 || iterations < 1000 || iterations > 10000000 || !s || !h ||
      h->size() != 32)
    return 0;
  if (salt) *salt = std::move(*s);
  if (hash) *hash = std::move(*h);
  return iterations;
}
}  // namespace

bool verify_password(std::string_view password, std::string_view stored) {
  std::string salt, expected;
  const int iterations = stored_iterations(stored, &salt, &expected);
  if (!iterations) return false;
  return constant_time_equals(pbkdf2(password, salt, iterations), expected);
}

bool password_needs_rehash(std::string_view stored) {
  return stored_iterations(stored, nullptr, nullptr) < kPbkdf2Iterations;
}

}  // namespace hues::sandbox
