// Media objects over a raw socket (tests/contract/test_media.py covers them in full): the
// magic-number check of an upload's head (415 media_type_mismatch, the chunk discarded),
// executables refused whatever the type, a finished upload's media object (Hues-Media-Id on
// the last PATCH and on HEAD) with its pixel size or duration, and its bytes with Range.
#include <doctest/doctest.h>

#include <boost/json.hpp>

#include "hues/testing/sandbox.h"
#include "test_client.h"
#include "test_media.h"

using namespace sandbox_test;
using hues::testing::Sandbox;


TEST_CASE("media: the head of an upload is sniffed, a finished upload is a media object with its size or duration") {
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
  auto create = [&](const std::string& type, std::size_t length) {
    auto made = c.request(http::verb::post, "/v1/uploads", {},
                          with({{"Upload-Length", std::to_string(length)}, {"Upload-Metadata", "type " + b64(type)}}));
    REQUIRE(made.result_int() == 201);
    const std::string loc = header(made, "Location");
    return loc.substr(loc.find("/v1/uploads/"));
  };
  auto patch = [&](const std::string& path, std::size_t offset, const std::string& data) {
    return c.request(http::verb::patch, path, data,
                     with({{"Upload-Offset", std::to_string(offset)}, {"Content-Type", octet}}));
  };
  auto json = [](const Response& r) { return boost::json::parse(r.body()).as_object(); };

  SUBCASE("a photo: refused heads are discarded, the JPEG's SOF gives its pixel size") {
    const std::string photo = jpeg(640, 480, 5000);
    const std::string path = create("photo", photo.size());
    // A PDF declared as a photo, then an ELF binary: 415 naming the field, nothing kept.
    auto pdf = patch(path, 0, "%PDF-1.7\n" + std::string(100, 'x'));
    CHECK(pdf.result_int() == 415);
    CHECK(json(pdf)["error"].at("code") == "media_type_mismatch");
    CHECK(json(pdf)["error"].at("field") == "type");
    CHECK(patch(path, 0, std::string("\x7F" "ELF\x02\x01\x01", 7) + std::string(100, '\0')).result_int() == 415);
    CHECK(header(c.request(http::verb::head, path, {}, key), "Upload-Offset") == "0");
    // Fewer than 64 bytes decide nothing yet; the chunk that brings them does.
    auto small = patch(path, 0, photo.substr(0, 10));
    CHECK(small.result_int() == 204);
    auto rest = patch(path, 10, photo.substr(10, 1000));
    CHECK(rest.result_int() == 204);
    CHECK(header(rest, "Hues-Media-Id").empty());  // not finished yet
    auto last = patch(path, 1010, photo.substr(1010));
    REQUIRE(last.result_int() == 204);
    const std::string id = header(last, "Hues-Media-Id");
    CHECK(id.rfind("m_", 0) == 0);
    CHECK(header(c.request(http::verb::head, path, {}, key), "Hues-Media-Id") == id);
    auto m = c.request(http::verb::get, "/v1/media/" + id, {}, key);
    REQUIRE(m.result_int() == 200);
    auto o = json(m);
    CHECK(o["type"] == "photo");
    CHECK(o["content_type"] == "image/jpeg");
    CHECK(o["width"] == 640);
    CHECK(o["height"] == 480);
    CHECK(o["size"] == 5000);
    CHECK(!o.contains("duration_ms"));
    // Its bytes, and one range of them.
    auto all = c.request(http::verb::get, "/v1/media/" + id + "/content", {}, key);
    CHECK(all.result_int() == 200);
    CHECK(all.body() == photo);
    CHECK(header(all, "Content-Type") == "image/jpeg");
    auto part = c.request(http::verb::get, "/v1/media/" + id + "/content", {}, with({{"Range", "bytes=100-199"}}));
    CHECK(part.result_int() == 206);
    CHECK(part.body() == photo.substr(100, 100));
    CHECK(header(part, "Content-Range") == "bytes 100-199/5000");
  }

  SUBCASE("a script declared as a document, a WAV declared as video: refused; a WAV and a MOV get their duration") {
    const std::string path = create("document", 200);
    auto sh = patch(path, 0, "#!/bin/sh\nrm -rf /\n" + std::string(181, ' '));
    CHECK(sh.result_int() == 415);
    CHECK(json(sh)["error"].at("code") == "media_type_mismatch");
    const std::string audio = wav(1250);
    const std::string as_video = create("video", audio.size());
    CHECK(patch(as_video, 0, audio).result_int() == 415);
    const std::string a = create("audio", audio.size());
    auto done = patch(a, 0, audio);
    REQUIRE(done.result_int() == 204);
    auto o = json(c.request(http::verb::get, "/v1/media/" + header(done, "Hues-Media-Id"), {}, key));
    CHECK(o["content_type"] == "audio/wav");
    CHECK(o["duration_ms"] == 1250);
    const std::string mov = mp4(600ull * 75 + 300);  // 75.5 s
    const std::string v = create("video", mov.size());
    auto vd = patch(v, 0, mov);
    REQUIRE(vd.result_int() == 204);
    auto vo = json(c.request(http::verb::get, "/v1/media/" + header(vd, "Hues-Media-Id"), {}, key));
    CHECK(vo["content_type"] == "video/quicktime");
    CHECK(vo["duration_ms"] == 75500);
    // Another caller (a bearer token of nobody is 401; an unknown id 404).
    CHECK(c.request(http::verb::get, "/v1/media/m_aaaaaaaaaaaaaaaaaaaaaaaa", {}, key).result_int() == 404);
  }
  CHECK(c.connected());
}
