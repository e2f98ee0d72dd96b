// What the sandbox media and upload tests share: base64 and digests, the heads of real
// formats (the sandbox sniffs and probes them: JPEG, WAV, MP4), tus requests, and the
// process's peak resident memory.
#pragma once

#include <doctest/doctest.h>

#include <openssl/evp.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "test_client.h"

namespace sandbox_test {

inline std::string b64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// SHA-256 over data, fed in as many pieces as the caller likes.
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256& add(std::string_view data) {
    EVP_DigestUpdate(ctx_, data.data(), data.size());
    return *this;
  }
  std::string raw() {
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_DigestFinal_ex(ctx_, d, &n);
    return std::string(reinterpret_cast<char*>(d), n);
  }

 private:
  EVP_MD_CTX* ctx_;
};

inline std::string sha256_b64(const std::string& data) { return b64(Sha256().add(data).raw()); }

// A tus request's headers: the caller's API key and Tus-Resumable, then extra.
inline Headers tus_headers(const std::string& api_key, const Headers& extra = {}) {
  Headers h = {{"X-Api-Key", api_key}, {"Tus-Resumable", "1.0.0"}};
  h.insert(h.end(), extra.begin(), extra.end());
  return h;
}

inline std::string header(const Response& r, const char* name) {
  auto it = r.find(name);
  return it == r.end() ? std::string() : std::string(it->value());
}

inline std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// This process's peak resident memory (the client and an in-process sandbox), in KiB.
inline long vm_hwm_kib() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

inline std::string be16(unsigned v) { return {static_cast<char>(v >> 8), static_cast<char>(v & 0xFF)}; }
inline std::string be32(std::uint32_t v) { return be16(v >> 16) + be16(v & 0xFFFF); }
inline std::string le16(unsigned v) { return {static_cast<char>(v & 0xFF), static_cast<char>(v >> 8)}; }
inline std::string le32(std::uint32_t v) { return le16(v & 0xFFFF) + le16(v >> 16); }

// The first box of an MP4 (ftyp, brand isom): enough for the sandbox to sniff a video.
inline const std::string kMp4Head("\0\0\0\x18" "ftypisom" "\0\0\x02\0" "isomiso2", 24);

// A JPEG's markers up to its first scan: SOI, APP0 (JFIF), SOF0 of width x height; then filler.
inline std::string jpeg(unsigned width, unsigned height, std::size_t size) {
  std::string j("\xFF\xD8", 2);
  j += std::string("\xFF\xE0", 2) + be16(16) + std::string("JFIF\0\x01\x01\0\0\x01\0\x01\0\0", 14);
  j += std::string("\xFF\xC0", 2) + be16(11) + std::string("\x08", 1) + be16(height) + be16(width) +
       std::string("\x01\x01\x11\x00", 4);
  j += std::string("\xFF\xDA", 2) + be16(8) + std::string("\x01\x01\x00\x00\x3F\x00", 6);
  while (j.size() < size) j.push_back(static_cast<char>(j.size() * 13));
  return j;
}

inline std::string wav(unsigned ms) {
  const std::uint32_t rate = 8000;
  const std::string data(rate * 2 * ms / 1000, '\0');
  const std::string fmt = le16(1) + le16(1) + le32(rate) + le32(rate * 2) + le16(2) + le16(16);
  return "RIFF" + le32(static_cast<std::uint32_t>(4 + 8 + fmt.size() + 8 + data.size())) + "WAVE" + "fmt " +
         le32(static_cast<std::uint32_t>(fmt.size())) + fmt + "data" + le32(static_cast<std::uint32_t>(data.size())) + data;
}

// ftyp, mdat, then moov with a version-1 mvhd (64-bit fields) of timescale 600.
inline std::string mp4(std::uint64_t duration_600ths) {
  auto box = [](const std::string& type, const std::string& body) {
    return be32(static_cast<std::uint32_t>(8 + body.size())) + type + body;
  };
  const std::string mvhd = box("mvhd", std::string("\x01\0\0\0", 4) + std::string(16, '\0') + be32(600) +
                                           be32(static_cast<std::uint32_t>(duration_600ths >> 32)) +
                                           be32(static_cast<std::uint32_t>(duration_600ths)) + std::string(80, '\0'));
  return box("ftyp", "qt  " + std::string(4, '\0') + "qt  ") + box("mdat", std::string(500, '\x22')) + box("moov", mvhd);
}

// A tus upload of `length` bytes declared `type`; its path (/v1/uploads/<id>).
inline std::string create_upload(Client& c, const std::string& key, std::uint64_t length, const std::string& type = "video") {
  auto made = c.request(http::verb::post, "/v1/uploads", {},
                        {{"X-Api-Key", key}, {"Tus-Resumable", "1.0.0"}, {"Upload-Length", std::to_string(length)},
                         {"Upload-Metadata", "type " + b64(type)}});
  REQUIRE(made.result_int() == 201);
  const std::string loc = header(made, "Location");
  return loc.substr(loc.find("/v1/uploads/"));
}

// A PATCH's header, its body to follow.
inline std::string patch_head(const std::string& path, const std::string& key, std::uint64_t offset, std::uint64_t length,
                              const std::string& extra = {}) {
  return "PATCH " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: " + key +
         "\r\nTus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: " +
         std::to_string(offset) + "\r\nContent-Length: " + std::to_string(length) + "\r\n" + extra + "\r\n";
}

}  // namespace sandbox_test
