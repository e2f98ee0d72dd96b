// The tus 1.0.0 server at /v1/uploads over a raw socket (tests/contract/test_uploads.py
// covers the protocol in full): offsets, 409, 460 discarding the chunk, 412, 415, 413, 404
// for another caller, termination, and a keep-alive connection across all of it.
#include <doctest/doctest.h>

#include <openssl/evp.h>

#include <fstream>
#include <sstream>

#include "hues/testing/sandbox.h"
#include "test_client.h"

using namespace sandbox_test;
using hues::testing::Sandbox;

namespace {

std::string b64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string sha256_b64(const std::string& data) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(data.data(), data.size(), d, &n, EVP_sha256(), nullptr);
  return b64(std::string(reinterpret_cast<char*>(d), n));
}

std::string header(const Response& r, const char* name) {
  auto it = r.find(name);
  return it == r.end() ? std::string() : std::string(it->value());
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

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
