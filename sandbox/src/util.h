// Small helpers shared by the sandbox's storage and HTTP layers: randomness, encodings,
// hashes, time and distance.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "internal/crypto.h"
#include "internal/json_codec.h"

namespace hues::sandbox {

using Sha256 = std::array<unsigned char, 32>;

// `prefix` + n lowercase base32 characters drawn from OpenSSL's CSPRNG ("rpt_k3...").
std::string random_id(std::string_view prefix, std::size_t n);
// "req_" + 20 base32 characters, unique in practice; cheap enough for every request.
std::string request_id();
// The shared helpers (sdk/src/internal/crypto.h, json_codec.h) in the sandbox's shapes.
inline Sha256 sha256(std::string_view data) {
  const std::string d = internal::sha256(data);
  Sha256 out{};
  std::copy(d.begin(), d.end(), out.begin());
  return out;
}
inline std::string_view bytes_of(const Sha256& h) { return {reinterpret_cast<const char*>(h.data()), h.size()}; }
inline bool equal_secret(const Sha256& a, const Sha256& b) { return internal::constant_time_equals(bytes_of(a), bytes_of(b)); }
using internal::base64url_encode;
using internal::constant_time_equals;
using internal::utf8_length;
// Strict: nullopt on any character outside the unpadded base64url alphabet.
inline std::optional<std::string> base64url_decode(std::string_view text) { return internal::try_base64url_decode(text); }

// text as valid UTF-8 (each ill-formed sequence becomes U+FFFD), shared with the SDK.
using internal::valid_utf8;

// RFC 3339 UTC with second precision: "2026-11-28T09:16:16Z".
std::string rfc3339(std::time_t t);
std::time_t now();
// The UTC time of a calendar date and time of day; nullopt when it names none (month 13,
// 30 February, 24:00).
std::optional<std::time_t> utc_time(int y, int mo, int d, int h, int mi, int s);

// A file read by position (pread), shared by the threads that read it; throws
// std::runtime_error naming the path when it cannot be opened.
class PositionalFile {
 public:
  explicit PositionalFile(const std::string& path);
  ~PositionalFile();
  PositionalFile(const PositionalFile&) = delete;
  PositionalFile& operator=(const PositionalFile&) = delete;
  std::uint64_t size() const { return size_; }  // when opened
  // Up to n bytes at offset into out (fewer at the end of the file); how many were read.
  std::size_t read_into(std::uint64_t offset, char* out, std::size_t n) const;
  std::string read(std::uint64_t offset, std::size_t n) const;

 private:
  int fd_;
  std::uint64_t size_ = 0;
};

// Great-circle distance in metres on the mean Earth sphere.
double haversine_m(double lat1, double lon1, double lat2, double lon2);
constexpr double kEarthRadiusM = 6371008.8;

}  // namespace hues::sandbox
