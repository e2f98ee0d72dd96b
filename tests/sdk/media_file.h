// Test media of a given length: n pseudo-random bytes (seeded) after an MP4 ftyp box, so that a
// server that sniffs (the sandbox does) takes them as the video they are declared as. One
// helper for the upload tests and the upload benchmark.
#pragma once

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <random>
#include <string>

namespace hues_test {

inline std::string mp4_bytes(std::int64_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::string data(static_cast<std::size_t>(n), '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  static constexpr char kFtyp[] = "\0\0\0\x18" "ftypisom" "\0\0\x02\0" "isomiso2";
  const std::size_t head = std::min<std::size_t>(data.size(), sizeof kFtyp - 1);
  data.replace(0, head, kFtyp, head);
  return data;
}

// Writes mp4_bytes(n, seed) to path and returns them.
inline std::string make_file(const std::string& path, std::int64_t n, unsigned seed) {
  std::string data = mp4_bytes(n, seed);
  std::ofstream(path, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
  return data;
}

}  // namespace hues_test
