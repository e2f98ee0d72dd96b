// Small helpers shared by the sandbox's storage and HTTP layers: randomness, encodings,
// hashes, time and distance.
#pragma once

#include <array>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace hues::sandbox {

using Sha256 = std::array<unsigned char, 32>;

// `prefix` + n lowercase base32 characters drawn from OpenSSL's CSPRNG ("rpt_k3...").
std::string random_id(std::string_view prefix, std::size_t n);
// "req_" + 20 base32 characters, unique in practice; cheap enough for every request.
std::string request_id();
Sha256 sha256(std::string_view data);
bool equal_secret(const Sha256& a, const Sha256& b);  // constant time
std::string to_hex(const unsigned char* data, std::size_t n);

std::string base64url_encode(std::string_view data);
// Strict: nullopt on any character outside the unpadded base64url alphabet.
std::optional<std::string> base64url_decode(std::string_view text);

// RFC 3339 UTC with second precision: "2026-11-28T09:16:16Z".
std::string rfc3339(std::time_t t);
std::time_t now();

// Number of code points in valid UTF-8 text.
std::size_t utf8_length(std::string_view text);

// Great-circle distance in metres on the mean Earth sphere.
double haversine_m(double lat1, double lon1, double lat2, double lon2);
constexpr double kEarthRadiusM = 6371008.8;

}  // namespace hues::sandbox
