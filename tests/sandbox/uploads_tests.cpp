// The tus 1.0.0 server at /v1/uploads over a raw socket (tests/contract/test_uploads.py
// covers the protocol in full): offsets, 409, 460 discarding the chunk, 412, 415, 413, 404
// for another caller, termination, and a keep-alive connection across all of it.
#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "hues/testing/sandbox.h"
#include "test_client.h"
#include "test_media.h"

using namespace sandbox_test;
using hues::testing::Sandbox;


TEST_CASE("tus core: offsets, conflicts, checksums and ownership on one connection") {
  TempDir dir;
  Sandbox sb(options_with(-1, dir.path, 2));
  Client c(sb.port());
  c.connect();
  const Headers key = {{"X-Api-Key", sb.api_key()}, {"Tus-Resumable", "1.0.0"}};
  auto with = [&](Headers extra) {
    Headers h = key;
    h.insert(h.end(), extra.begin(), extra.end());
    return h;
  };
  const std::string octet = "application/offset+octet-stream";

  auto opt = c.request(http::verb::options, "/v1/uploads");
  CHECK(opt.result_int() == 204);
  CHECK(header(opt, "Tus-Version") == "1.0.0");
  CHECK(header(opt, "Tus-Extension") == "creation,creation-with-upload,termination,checksum,expiration");
  CHECK(header(opt, "Tus-Resumable").empty());

  auto made = c.request(http::verb::post, "/v1/uploads", {},
                        with({{"Upload-Length", "10"}, {"Upload-Metadata", "type " + b64("photo")}}));
  REQUIRE(made.result_int() == 201);
  CHECK(header(made, "Tus-Resumable") == "1.0.0");
  const std::string loc = header(made, "Location");
  const std::string path = loc.substr(loc.find("/v1/uploads/"));
  const std::string id = path.substr(path.rfind('/') + 1);

  // A JPEG's first bytes: the server sniffs the upload's head against its declared type.
  const std::string jpeg_head("\xFF\xD8\xFF\xE0\x00", 5);
  auto p1 = c.request(http::verb::patch, path, jpeg_head, with({{"Upload-Offset", "0"}, {"Content-Type", octet}}));
  CHECK(p1.result_int() == 204);
  CHECK(header(p1, "Upload-Offset") == "5");
  auto h = c.request(http::verb::head, path, {}, key);
  CHECK(h.result_int() == 200);
  CHECK(header(h, "Upload-Offset") == "5");
  CHECK(header(h, "Upload-Length") == "10");
  CHECK(header(h, "Cache-Control") == "no-store");

  CHECK(c.request(http::verb::patch, path, "56789", with({{"Upload-Offset", "4"}, {"Content-Type", octet}})).result_int() == 409);
  CHECK(c.request(http::verb::patch, path, "56789", with({{"Upload-Offset", "5"}, {"Content-Type", "text/plain"}})).result_int() == 415);
  auto v = c.request(http::verb::patch, path, "56789",
                     {{"X-Api-Key", sb.api_key()}, {"Tus-Resumable", "0.2.2"}, {"Upload-Offset", "5"}, {"Content-Type", octet}});
  CHECK(v.result_int() == 412);
  CHECK(header(v, "Tus-Version") == "1.0.0");
  auto bad = c.request(http::verb::patch, path, "56789",
                       with({{"Upload-Offset", "5"}, {"Content-Type", octet}, {"Upload-Checksum", "sha256 " + sha256_b64("5678x")}}));
  CHECK(bad.result_int() == 460);
  CHECK(header(c.request(http::verb::head, path, {}, key), "Upload-Offset") == "5");  // discarded
  CHECK(c.request(http::verb::patch, path, "567890", with({{"Upload-Offset", "5"}, {"Content-Type", octet}})).result_int() == 413);
  auto good = c.request(http::verb::patch, path, "56789",
                        with({{"Upload-Offset", "5"}, {"Content-Type", octet}, {"Upload-Checksum", "sha256 " + sha256_b64("56789")}}));
  CHECK(good.result_int() == 204);
  CHECK(header(good, "Upload-Offset") == "10");
  CHECK(file_bytes(dir.path + "/uploads/" + id + ".bin") == jpeg_head + "56789");

  // Over the photo limit; another caller (a bearer token of nobody) and an unknown id.
  CHECK(c.request(http::verb::post, "/v1/uploads", {},
                  with({{"Upload-Length", std::to_string(26 << 20)}, {"Upload-Metadata", "type " + b64("photo")}}))
            .result_int() == 413);
  CHECK(c.request(http::verb::head, "/v1/uploads/upl_aaaaaaaaaaaaaaaaaaaaaaaa", {}, key).result_int() == 404);
  CHECK(c.request(http::verb::head, path, {}, {{"Tus-Resumable", "1.0.0"}}).result_int() == 401);

  CHECK(c.request(http::verb::delete_, path, {}, key).result_int() == 204);
  CHECK(c.request(http::verb::head, path, {}, key).result_int() == 404);
  CHECK(c.connected());
}

namespace {

// Deterministic bytes that differ everywhere (a repeated pattern would hide misplaced pieces).
std::string piece_of(std::size_t index, std::size_t size) {
  std::string out(size, '\0');
  std::uint64_t x = 0x9E3779B97F4A7C15ull * (index + 1);
  for (auto& ch : out) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    ch = static_cast<char>(x);
  }
  // Each piece starts as an MP4 does, so the first one sniffs as the video it is declared as.
  out.replace(0, std::min(out.size(), kMp4Head.size()), kMp4Head, 0, std::min(out.size(), kMp4Head.size()));
  return out;
}

// HEAD until the offset is `want` (the server commits a dropped PATCH once it sees the
// connection end), for at most 10 s; returns the last offset seen.
std::string offset_once(Client& c, const std::string& path, const std::string& key, const std::string& want) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string got;
  do {
    got = header(c.request(http::verb::head, path, {}, {{"X-Api-Key", key}, {"Tus-Resumable", "1.0.0"}}), "Upload-Offset");
    if (got == want) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  return got;
}

}  // namespace

TEST_CASE("tus: one PATCH streams 64 MiB to disk with bounded memory") {
  TempDir dir;
  Sandbox sb(options_with(-1, dir.path, 2));
  Client c(sb.port());
  constexpr std::size_t kPiece = 1 << 20, kPieces = 64;
  const std::string path = create_upload(c, sb.api_key(), kPiece * kPieces);
  Sha256 digest;
  for (std::size_t i = 0; i < kPieces; ++i) digest.add(piece_of(i, kPiece));
  const std::string sum = b64(digest.raw());
  const long before = vm_hwm_kib();  // this process: the client and the in-process server
  c.write_bytes(patch_head(path, sb.api_key(), 0, kPiece * kPieces, "Upload-Checksum: sha256 " + sum + "\r\n"));
  for (std::size_t i = 0; i < kPieces; ++i) c.write_bytes(piece_of(i, kPiece));
  auto done = c.read_response();
  const long after = vm_hwm_kib();
  CHECK(done.result_int() == 204);
  CHECK(header(done, "Upload-Offset") == std::to_string(kPiece * kPieces));
  CHECK(after - before < 16 * 1024);  // far below the 64 MiB that went through
  // The file holds every piece in its place.
  std::ifstream in(dir.path + "/uploads/" + path.substr(path.rfind('/') + 1) + ".bin", std::ios::binary);
  std::string buf(kPiece, '\0');
  for (std::size_t i = 0; i < kPieces; ++i) {
    in.read(buf.data(), static_cast<std::streamsize>(kPiece));
    REQUIRE(in.gcount() == static_cast<std::streamsize>(kPiece));
    CHECK(buf == piece_of(i, kPiece));
  }
  CHECK(c.connected());  // keep-alive after a streamed body
  CHECK(c.request(http::verb::get, "/healthz").result_int() == 200);
}

TEST_CASE("tus: a PATCH cut off mid-body keeps what arrived, and the upload resumes") {
  TempDir dir;
  Sandbox sb(options_with(-1, dir.path, 2));
  Client c(sb.port());
  const std::string data = piece_of(7, 700000);
  const std::string path = create_upload(c, sb.api_key(), data.size());
  {
    Client dropped(sb.port());
    dropped.write_bytes(patch_head(path, sb.api_key(), 0, data.size()) + data.substr(0, 300001));
  }  // closed mid-body
  CHECK(offset_once(c, path, sb.api_key(), "300001") == "300001");
  auto rest = c.request(http::verb::patch, path, data.substr(300001),
                        {{"X-Api-Key", sb.api_key()}, {"Tus-Resumable", "1.0.0"}, {"Upload-Offset", "300001"},
                         {"Content-Type", "application/offset+octet-stream"}});
  CHECK(rest.result_int() == 204);
  CHECK(file_bytes(dir.path + "/uploads/" + path.substr(path.rfind('/') + 1) + ".bin") == data);

  // A stranger's PATCH is answered at the header and its connection closes, body unread.
  Client stranger(sb.port());
  stranger.write_bytes(patch_head(path, "hk_nobody", 0, 1 << 30));
  auto no = stranger.read_response();
  CHECK(no.result_int() == 401);
  CHECK(stranger.peer_closed());
}
