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
  const Headers key = tus_headers(sb.api_key());
  auto with = [&](const Headers& extra) { return tus_headers(sb.api_key(), extra); };
  const std::string octet = "application/offset+octet-stream";

  auto opt = c.request(http::verb::options, "/v1/uploads");
  CHECK(opt.result_int() == 204);
  CHECK(header(opt, "Tus-Version") == "1.0.0");
  CHECK(header(opt, "Tus-Extension") ==
        "creation,creation-with-upload,creation-defer-length,termination,checksum,expiration");
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

namespace {

// A deferred-length upload (creation-defer-length) of `type`; its path.
std::string create_deferred(Client& c, const std::string& key, const std::string& type, std::string body = {},
                            Headers extra = {}) {
  Headers h = {{"X-Api-Key", key}, {"Tus-Resumable", "1.0.0"}, {"Upload-Defer-Length", "1"},
               {"Upload-Metadata", "type " + b64(type)}};
  if (!body.empty()) h.push_back({"Content-Type", "application/offset+octet-stream"});
  h.insert(h.end(), extra.begin(), extra.end());
  auto made = c.request(http::verb::post, "/v1/uploads", std::move(body), h);
  REQUIRE(made.result_int() == 201);
  const std::string loc = header(made, "Location");
  return loc.substr(loc.find("/v1/uploads/"));
}

}  // namespace

TEST_CASE("tus creation-defer-length: the length comes with a PATCH, once, and the upload completes") {
  TempDir dir;
  Sandbox sb(options_with(-1, dir.path, 2));
  Client c(sb.port());
  const Headers key = tus_headers(sb.api_key());
  auto with = [&](const Headers& extra) { return tus_headers(sb.api_key(), extra); };
  const std::string octet = "application/offset+octet-stream";
  auto patch = [&](const std::string& path, std::uint64_t off, std::string body, Headers extra = {}) {
    Headers h = with({{"Upload-Offset", std::to_string(off)}, {"Content-Type", octet}});
    h.insert(h.end(), extra.begin(), extra.end());
    return c.request(http::verb::patch, path, std::move(body), h);
  };
  const std::string photo = jpeg(640, 480, 3000);

  SUBCASE("creation: only Upload-Defer-Length: 1, never with Upload-Length") {
    for (const char* v : {"0", "2", "yes", ""}) {
      auto r = c.request(http::verb::post, "/v1/uploads", {},
                         with({{"Upload-Defer-Length", v}, {"Upload-Metadata", "type " + b64("photo")}}));
      CHECK(r.result_int() == 400);
      CHECK(error_code_of(r) == "validation_error");
    }
    CHECK(c.request(http::verb::post, "/v1/uploads", {},
                    with({{"Upload-Defer-Length", "1"}, {"Upload-Length", "10"}, {"Upload-Metadata", "type " + b64("photo")}}))
              .result_int() == 400);
    CHECK(c.request(http::verb::post, "/v1/uploads", {}, with({{"Upload-Metadata", "type " + b64("photo")}}))
              .result_int() == 400);  // neither
  }

  SUBCASE("HEAD answers Upload-Defer-Length: 1 until a PATCH declares the length; then it is complete") {
    const std::string path = create_deferred(c, sb.api_key(), "photo");
    auto h = c.request(http::verb::head, path, {}, key);
    CHECK(h.result_int() == 200);
    CHECK(header(h, "Upload-Defer-Length") == "1");
    CHECK(header(h, "Upload-Length").empty());
    CHECK(header(h, "Upload-Offset") == "0");
    CHECK(!header(h, "Upload-Expires").empty());

    auto p1 = patch(path, 0, photo.substr(0, 1000));
    CHECK(p1.result_int() == 204);
    CHECK(header(p1, "Upload-Offset") == "1000");
    CHECK(header(p1, "Hues-Media-Id").empty());
    h = c.request(http::verb::head, path, {}, key);
    CHECK(header(h, "Upload-Defer-Length") == "1");
    CHECK(header(h, "Upload-Offset") == "1000");

    // A declared length under the offset, or over the photo limit, is refused: still deferred.
    CHECK(patch(path, 1000, photo.substr(1000), {{"Upload-Length", "999"}}).result_int() == 400);
    auto big = patch(path, 1000, photo.substr(1000), {{"Upload-Length", std::to_string((25u << 20) + 1)}});
    CHECK(big.result_int() == 413);
    CHECK(error_code_of(big) == "payload_too_large");
    CHECK(patch(path, 1000, photo.substr(1000), {{"Upload-Length", "x"}}).result_int() == 400);
    CHECK(header(c.request(http::verb::head, path, {}, key), "Upload-Defer-Length") == "1");

    // The length with the chunk that ends the upload: complete, sniffed whole, a media object.
    auto last = patch(path, 1000, photo.substr(1000), {{"Upload-Length", std::to_string(photo.size())}});
    REQUIRE(last.result_int() == 204);
    CHECK(header(last, "Upload-Offset") == std::to_string(photo.size()));
    const std::string media_id = header(last, "Hues-Media-Id");
    REQUIRE(!media_id.empty());
    h = c.request(http::verb::head, path, {}, key);
    CHECK(header(h, "Upload-Length") == std::to_string(photo.size()));
    CHECK(header(h, "Upload-Defer-Length").empty());
    CHECK(header(h, "Upload-Expires").empty());
    CHECK(header(h, "Hues-Media-Id") == media_id);
    auto m = json_of(c.request(http::verb::get, "/v1/media/" + media_id, {}, key));
    CHECK(m.at("content_type") == "image/jpeg");
    CHECK(m.at("size") == photo.size());
    CHECK(m.at("width") == 640);
    CHECK(file_bytes(dir.path + "/uploads/" + path.substr(path.rfind('/') + 1) + ".bin") == photo);
  }

  SUBCASE("the length on an empty PATCH after the last byte; once set it cannot change") {
    const std::string path = create_deferred(c, sb.api_key(), "photo", photo.substr(0, 2000));
    CHECK(header(c.request(http::verb::head, path, {}, key), "Upload-Offset") == "2000");
    CHECK(patch(path, 2000, photo.substr(2000)).result_int() == 204);  // every byte, length unknown
    CHECK(header(c.request(http::verb::head, path, {}, key), "Hues-Media-Id").empty());
    auto decl = patch(path, photo.size(), {}, {{"Upload-Length", std::to_string(photo.size())}});
    REQUIRE(decl.result_int() == 204);
    CHECK(header(decl, "Upload-Offset") == std::to_string(photo.size()));
    CHECK(!header(decl, "Hues-Media-Id").empty());
    // The same length again is no change; another is 400.
    CHECK(patch(path, photo.size(), {}, {{"Upload-Length", std::to_string(photo.size())}}).result_int() == 204);
    auto changed = patch(path, photo.size(), {}, {{"Upload-Length", std::to_string(photo.size() + 1)}});
    CHECK(changed.result_int() == 400);
    CHECK(error_code_of(changed) == "validation_error");
    CHECK(header(c.request(http::verb::head, path, {}, key), "Upload-Length") == std::to_string(photo.size()));
  }

  SUBCASE("a length set mid-upload bounds the rest, and a known length cannot be changed") {
    const std::string path = create_deferred(c, sb.api_key(), "photo");
    CHECK(patch(path, 0, photo.substr(0, 100), {{"Upload-Length", std::to_string(photo.size())}}).result_int() == 204);
    auto h = c.request(http::verb::head, path, {}, key);
    CHECK(header(h, "Upload-Length") == std::to_string(photo.size()));
    CHECK(header(h, "Upload-Defer-Length").empty());
    CHECK(patch(path, 100, photo.substr(100) + "x").result_int() == 413);  // past the declared length
    CHECK(patch(path, 100, photo.substr(100), {{"Upload-Length", std::to_string(photo.size() - 1)}}).result_int() ==
          400);
    // A fixed-length upload refuses another Upload-Length too.
    const std::string fixed = create_upload(c, sb.api_key(), 10, "photo");
    CHECK(patch(fixed, 0, photo.substr(0, 5), {{"Upload-Length", "11"}}).result_int() == 400);
    CHECK(patch(fixed, 0, photo.substr(0, 5), {{"Upload-Length", "10"}}).result_int() == 204);
  }

  SUBCASE("a PATCH that does not count (checksum mismatch, wrong type) leaves the length deferred") {
    const std::string path = create_deferred(c, sb.api_key(), "photo");
    auto bad = patch(path, 0, photo, {{"Upload-Length", std::to_string(photo.size())}, {"Upload-Checksum", "sha256 " + sha256_b64("x")}});
    CHECK(bad.result_int() == 460);
    auto h = c.request(http::verb::head, path, {}, key);
    CHECK(header(h, "Upload-Defer-Length") == "1");
    CHECK(header(h, "Upload-Offset") == "0");
    const std::string wav_bytes = wav(100);
    CHECK(patch(path, 0, wav_bytes, {{"Upload-Length", std::to_string(wav_bytes.size())}}).result_int() == 415);
    CHECK(header(c.request(http::verb::head, path, {}, key), "Upload-Defer-Length") == "1");
    // Too short to be a photo, found when an empty PATCH declares the length.
    CHECK(patch(path, 0, photo.substr(0, 1)).result_int() == 204);
    CHECK(patch(path, 1, {}, {{"Upload-Length", "1"}}).result_int() == 415);
    CHECK(header(c.request(http::verb::head, path, {}, key), "Upload-Defer-Length") == "1");
  }

  SUBCASE("a deferred upload of nothing: Upload-Length: 0 on an empty PATCH") {
    const std::string path = create_deferred(c, sb.api_key(), "document");
    auto r = patch(path, 0, {}, {{"Upload-Length", "0"}});
    // An empty document is too short to be one (as with Upload-Length: 0 on the POST).
    CHECK(r.result_int() == 415);
    CHECK(header(c.request(http::verb::head, path, {}, key), "Upload-Defer-Length") == "1");
  }
  CHECK(c.connected());
}

TEST_CASE("tus creation-defer-length: while the length is unknown the type's limit bounds the bytes") {
  TempDir dir;
  Sandbox sb(options_with(-1, dir.path, 2));
  Client c(sb.port());
  const Headers key = {{"X-Api-Key", sb.api_key()}, {"Tus-Resumable", "1.0.0"}};
  const std::string path = create_deferred(c, sb.api_key(), "photo");
  constexpr std::uint64_t kLimit = 25ull << 20;
  const std::string head = jpeg(64, 64, 1000);
  std::string first = head + std::string(kLimit - 4096 - head.size(), '\x5a');
  auto p1 = c.request(http::verb::patch, path, first,
                      {{"X-Api-Key", sb.api_key()}, {"Tus-Resumable", "1.0.0"}, {"Upload-Offset", "0"},
                       {"Content-Type", "application/offset+octet-stream"}});
  REQUIRE(p1.result_int() == 204);
  const std::string at = std::to_string(first.size());
  first = std::string();

  SUBCASE("a Content-Length past the limit is refused at the header") {
    Client s(sb.port());
    // (A small body of a known caller is read and dropped before the answer.)
    s.write_bytes(patch_head(path, sb.api_key(), kLimit - 4096, 4097) + std::string(4097, 'a'));
    auto r = s.read_response();
    CHECK(r.result_int() == 413);
    CHECK(error_code_of(r) == "payload_too_large");
  }
  SUBCASE("a chunked body that passes the limit is refused and none of it kept") {
    Client s(sb.port());
    std::string h = patch_head(path, sb.api_key(), kLimit - 4096, 0);
    h.replace(h.find("Content-Length: 0\r\n"), 19, "Transfer-Encoding: chunked\r\n");
    s.write_bytes(h);
    const std::string piece(3000, 'b');
    s.write_bytes("bb8\r\n" + piece + "\r\n");  // 3000 bytes: within the limit
    s.write_bytes("bb8\r\n" + piece + "\r\n0\r\n\r\n");  // 6000: past it
    auto r = s.read_response();
    CHECK(r.result_int() == 413);
  }
  CHECK(offset_once(c, path, sb.api_key(), at) == at);  // the refused chunk committed nothing
  auto h = c.request(http::verb::head, path, {}, key);
  CHECK(header(h, "Upload-Offset") == at);
  CHECK(header(h, "Upload-Defer-Length") == "1");
  // Exactly the limit, declared with its last chunk: complete.
  auto last = c.request(http::verb::patch, path, std::string(4096, 'c'),
                        {{"X-Api-Key", sb.api_key()}, {"Tus-Resumable", "1.0.0"}, {"Upload-Offset", at},
                         {"Content-Type", "application/offset+octet-stream"}, {"Upload-Length", std::to_string(kLimit)}});
  CHECK(last.result_int() == 204);
  CHECK(header(last, "Upload-Offset") == std::to_string(kLimit));
  CHECK(!header(last, "Hues-Media-Id").empty());
}

TEST_CASE("tus creation-defer-length: a deferred upload survives a restart; an old .meta still loads") {
  TempDir dir;
  std::string path, old_path;
  const std::string photo = jpeg(32, 32, 800);
  {
    Sandbox sb(options_with(-1, dir.path, 2));
    Client c(sb.port());
    path = create_deferred(c, sb.api_key(), "photo", photo.substr(0, 300));
    old_path = create_upload(c, sb.api_key(), photo.size(), "photo");
  }
  // A .meta written before creation-defer-length: a length, no "deferred" key.
  const std::string old_meta = dir.path + "/uploads/" + old_path.substr(old_path.rfind('/') + 1) + ".meta";
  CHECK(file_bytes(old_meta).find("\"deferred\"") == std::string::npos);
  CHECK(file_bytes(old_meta).find("\"length\":" + std::to_string(photo.size())) != std::string::npos);
  Sandbox sb(options_with(-1, dir.path, 2));
  Client c(sb.port());
  const Headers key = {{"X-Api-Key", sb.api_key()}, {"Tus-Resumable", "1.0.0"}};
  auto h = c.request(http::verb::head, path, {}, key);
  REQUIRE(h.result_int() == 200);
  CHECK(header(h, "Upload-Defer-Length") == "1");
  CHECK(header(h, "Upload-Offset") == "300");
  CHECK(header(c.request(http::verb::head, old_path, {}, key), "Upload-Length") == std::to_string(photo.size()));
  auto last = c.request(http::verb::patch, path, photo.substr(300),
                        {{"X-Api-Key", sb.api_key()}, {"Tus-Resumable", "1.0.0"}, {"Upload-Offset", "300"},
                         {"Content-Type", "application/offset+octet-stream"},
                         {"Upload-Length", std::to_string(photo.size())}});
  CHECK(last.result_int() == 204);
  CHECK(!header(last, "Hues-Media-Id").empty());
}
