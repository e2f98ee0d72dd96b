#include "internal/crypto.h"

#include "hues/error.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <pthread.h>

#include <atomic>
#include <cstring>
#include <stdexcept>

namespace hues::internal {
namespace {

bool is_url_safe(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');  // EVP_EncodeBlock adds a NUL
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string base64url_encode(std::string_view bytes) {
  std::string out = base64_encode(bytes);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::optional<std::string> try_base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;  // no encoding ends with a lone 6-bit group
  std::string b64(text);
  for (char& c : b64) {
    // Checked here because EVP_DecodeBlock would skip whitespace and accept '=' and '+/'.
    if (!is_url_safe(c)) return std::nullopt;
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  std::size_t pad = (4 - b64.size() % 4) % 4;
  b64.append(pad, '=');
  std::string out(b64.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);  // EVP_DecodeBlock counts the padding as zero bytes
  // One byte string has one encoding: refuse set bits in the unused tail (malleable tokens).
  if (base64url_encode(out) != text) return std::nullopt;
  return out;
}

std::optional<std::string> try_base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t pad = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '=') {
      if (i + 2 < text.size()) return std::nullopt;  // '=' only in the last two places
      ++pad;
    } else if (pad || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
                        c == '/')) {
      return std::nullopt;
    }
  }
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);
  if (base64_encode(out) != text) return std::nullopt;
  return out;
}

std::string base64url_decode(std::string_view text) {
  auto out = try_base64url_decode(text);
  if (!out) throw std::invalid_argument("base64url: not a canonical unpadded base64url string");
  return std::move(*out);
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  std::size_t len = 0;
  if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                 reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, sizeof out, &len))
    hues::throw_error(hues::ErrorType::kTls, "OpenSSL HMAC-SHA256 failed", 0, "crypto_failure");
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string sha256(std::string_view bytes) {
  // Fetched once: OpenSSL 3's implicit fetch in EVP_sha256() costs more than hashing a key.
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  std::string out(32, '\0');
  unsigned int len = 0;
  if (!md || !EVP_Digest(bytes.data(), bytes.size(), reinterpret_cast<unsigned char*>(out.data()), &len, md, nullptr) ||
      len != out.size())
    hues::throw_error(hues::ErrorType::kTls, "OpenSSL SHA-256 failed", 0, "crypto_failure");
  return out;
}

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (!ctx_ || !md || !EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), md, nullptr)) {
    EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
    hues::throw_error(hues::ErrorType::kTls, "OpenSSL SHA-256 failed", 0, "crypto_failure");
  }
}

Sha256Stream::~Sha256Stream() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256Stream::update(std::string_view piece) {
  if (!EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), piece.data(), piece.size()))
    hues::throw_error(hues::ErrorType::kTls, "OpenSSL SHA-256 failed", 0, "crypto_failure");
}

std::string Sha256Stream::finish() {
  std::string out(32, '\0');
  unsigned int len = 0;
  if (!EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), reinterpret_cast<unsigned char*>(out.data()), &len) ||
      len != out.size())
    hues::throw_error(hues::ErrorType::kTls, "OpenSSL SHA-256 failed", 0, "crypto_failure");
  return out;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kHex[b >> 4];
    out[2 * i + 1] = kHex[b & 15];
  }
  return out;
}

std::string random_bytes(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(raw.size())) != 1)
    hues::throw_error(hues::ErrorType::kTls, "OpenSSL's random number generator failed", 0, "rng_failure");
  return raw;
}

std::string random_hex(std::size_t bytes) { return to_hex(random_bytes(bytes)); }

std::string random_urlsafe(std::size_t bytes) { return base64url_encode(random_bytes(bytes)); }

namespace {
std::atomic<unsigned> fork_generation{0};
void on_fork_child() { fork_generation.fetch_add(1, std::memory_order_relaxed); }
}  // namespace

std::string new_request_id() {
  constexpr std::size_t kId = 12, kPool = 32 * kId;
  struct Pool {
    unsigned char bytes[kPool];
    std::size_t used = kPool;  // empty
    unsigned generation = 0;
  };
  static const bool registered = [] { return pthread_atfork(nullptr, nullptr, on_fork_child) == 0; }();
  (void)registered;
  thread_local Pool pool;
  unsigned gen = fork_generation.load(std::memory_order_relaxed);
  if (pool.used + kId > kPool || pool.generation != gen) {  // a child must not repeat its parent's ids
    if (RAND_bytes(pool.bytes, static_cast<int>(kPool)) != 1)
      hues::throw_error(hues::ErrorType::kTls, "OpenSSL's random number generator failed", 0, "rng_failure");
    pool.used = 0;
    pool.generation = gen;
  }
  static const char* hex = "0123456789abcdef";
  std::string id(4 + 2 * kId, '\0');
  std::memcpy(id.data(), "req_", 4);
  for (std::size_t i = 0; i < kId; ++i) {
    unsigned char b = pool.bytes[pool.used + i];
    id[4 + 2 * i] = hex[b >> 4];
    id[5 + 2 * i] = hex[b & 15];
  }
  std::memset(pool.bytes + pool.used, 0, kId);
  pool.used += kId;
  return id;
}

std::string pkce_challenge(std::string_view verifier) { return base64url_encode(sha256(verifier)); }

bool constant_time_equals(std::string_view a, std::string_view b) {
  // Lengths of our secrets (nonces, states, MACs) are public; only their bytes are compared blind.
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace hues::internal
