// Media objects over a raw socket (tests/contract/test_media.py covers them in full): the
// magic-number check of an upload's head (415 media_type_mismatch, the chunk discarded),
// executables refused whatever the type, a finished upload's media object (Hues-Media-Id on
// the last PATCH and on HEAD) with its pixel size or duration, and its bytes with Range,
// streamed from the file over HTTP and HTTPS under the write deadline.
#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <thread>

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
  const Headers key = tus_headers(sb.api_key());
  auto with = [&](const Headers& extra) { return tus_headers(sb.api_key(), extra); };
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

namespace {

// A socket with a small receive buffer (no autotuning), so that a client that stops reading
// stops the server's writes soon; reads with a deadline.
struct SlowReader {
  explicit SlowReader(int port) : fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    REQUIRE(fd >= 0);
    int small = 64 * 1024;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    timeval tv{15, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~SlowReader() { ::close(fd); }
  void send_all(const std::string& s) { REQUIRE(::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size())); }
  // Bytes until the server closes (0: EOF; -1: reset or the deadline).
  std::size_t drain(ssize_t& last) {
    std::size_t total = 0;
    char buf[65536];
    while ((last = ::recv(fd, buf, sizeof buf, 0)) > 0) total += static_cast<std::size_t>(last);
    return total;
  }
  int fd;
};

}  // namespace

TEST_CASE("media: downloads stream from the file over HTTP and HTTPS; keep-alive holds; a stalled reader is dropped") {
  TempDir dir;
  auto o = options_with(0, dir.path, 2);
  o.write_timeout_ms = 1000;
  Sandbox sb(o);
  Client c(sb.port());
  const Headers key = {{"X-Api-Key", sb.api_key()}};
  // A 12 MiB video whose bytes differ everywhere (a misplaced piece would show).
  std::string data(12u << 20, '\0');
  std::uint64_t x = 0x9E3779B97F4A7C15ull;
  for (auto& ch : data) x ^= x << 13, x ^= x >> 7, x ^= x << 17, ch = static_cast<char>(x);
  data.replace(0, kMp4Head.size(), kMp4Head);
  const std::string path = create_upload(c, sb.api_key(), data.size());
  c.write_bytes(patch_head(path, sb.api_key(), 0, data.size()));
  c.write_bytes(data);
  auto done = c.read_response();
  REQUIRE(done.result_int() == 204);
  const std::string target = "/v1/media/" + header(done, "Hues-Media-Id") + "/content";

  TlsOptions tls;
  tls.ca_file = sb.ca_file();
  Client secure(sb.tls_port(), tls);
  for (Client* cl : {&c, &secure}) {
    CAPTURE(cl == &secure);
    auto whole = cl->request(http::verb::get, target, {}, key);
    CHECK(whole.result_int() == 200);
    CHECK(header(whole, "Content-Length") == std::to_string(data.size()));
    CHECK(whole.body() == data);
    auto part = cl->request(http::verb::get, target, {}, {{"X-Api-Key", sb.api_key()}, {"Range", "bytes=5000001-"}});
    CHECK(part.result_int() == 206);
    CHECK(header(part, "Content-Range") == "bytes 5000001-" + std::to_string(data.size() - 1) + "/" + std::to_string(data.size()));
    CHECK(part.body() == data.substr(5000001));
    auto head = cl->request(http::verb::head, target, {}, key);
    CHECK(header(head, "Content-Length") == std::to_string(data.size()));
    CHECK(head.body().empty());
    CHECK(cl->request(http::verb::get, "/healthz").result_int() == 200);  // the same connection, after each body
    CHECK(cl->connected());
  }

  // Reads a little, then nothing for three write deadlines: the server drops the connection
  // (what its buffers held still arrives, then the end), and serves everyone else meanwhile.
  SlowReader slow(sb.port());
  slow.send_all("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: " + sb.api_key() + "\r\n\r\n");
  char first[1024];
  REQUIRE(::recv(slow.fd, first, sizeof first, 0) > 0);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  CHECK(c.request(http::verb::get, "/healthz").result_int() == 200);
  ssize_t last = 0;
  const std::size_t got = slow.drain(last) + sizeof first;
  CHECK(got < data.size());
  CHECK(last <= 0);
  // The same reader that resumes in time gets every byte.
  SlowReader brief(sb.port());
  brief.send_all("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: " + sb.api_key() + "\r\nConnection: close\r\n\r\n");
  REQUIRE(::recv(brief.fd, first, 1, 0) == 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const std::size_t all = brief.drain(last) + 1;
  CHECK(last == 0);
  CHECK(all > data.size());  // the header and every byte of the body
}
