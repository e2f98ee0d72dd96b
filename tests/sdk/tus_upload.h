// A raw tus 1.0.0 upload (one creation-with-upload POST over a Beast socket), for tests that
// need real media ids: attachments must name finished media objects of the caller's.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/evp.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace hues_test {

// A JPEG's markers up to its first scan (SOI, APP0, SOF0 of width x height), then filler.
inline std::string jpeg_head(unsigned width, unsigned height, std::size_t size = 2000) {
  auto be16 = [](unsigned v) { return std::string{static_cast<char>(v >> 8), static_cast<char>(v & 0xFF)}; };
  std::string j("\xFF\xD8\xFF\xE0", 4);
  j += be16(16) + std::string("JFIF\0\x01\x01\0\0\x01\0\x01\0\0", 14);
  j += std::string("\xFF\xC0", 2) + be16(11) + std::string("\x08", 1) + be16(height) + be16(width) +
       std::string("\x01\x01\x11\x00", 4);
  j += std::string("\xFF\xDA", 2) + be16(8) + std::string("\x01\x01\x00\x00\x3F\x00", 6);
  while (j.size() < size) j.push_back(static_cast<char>(j.size() * 13));
  return j;
}

// The media object's id; auth is ("X-Api-Key", key) or ("Authorization", "Bearer ...").
// With ca_file, over TLS to "localhost" (a token is good only on the listener that issued it).
inline std::string tus_upload(int port, const std::string& data, const std::string& type,
                              const std::string& auth_name, const std::string& auth_value,
                              const std::string& ca_file = {}) {
  namespace http = boost::beast::http;
  namespace ssl = boost::asio::ssl;
  boost::asio::io_context io;
  ssl::context ctx(ssl::context::tls_client);
  if (!ca_file.empty()) {
    ctx.load_verify_file(ca_file);
    ctx.set_verify_mode(ssl::verify_peer);
  }
  boost::beast::ssl_stream<boost::beast::tcp_stream> tls(io, ctx);
  boost::beast::tcp_stream& s = boost::beast::get_lowest_layer(tls);
  s.expires_after(std::chrono::seconds(10));
  s.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  if (!ca_file.empty()) {
    SSL_set_tlsext_host_name(tls.native_handle(), "localhost");
    tls.set_verify_callback(ssl::host_name_verification("localhost"));
    tls.handshake(ssl::stream_base::client);
  }
  std::string b64(4 * ((type.size() + 2) / 3), '\0');
  b64.resize(static_cast<std::size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                                      reinterpret_cast<const unsigned char*>(type.data()),
                                                      static_cast<int>(type.size()))));
  http::request<http::string_body> req{http::verb::post, "/v1/uploads", 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(auth_name, auth_value);
  req.set("Tus-Resumable", "1.0.0");
  req.set("Upload-Length", std::to_string(data.size()));
  req.set("Upload-Metadata", "type " + b64);
  req.set(http::field::content_type, "application/offset+octet-stream");
  req.body() = data;
  req.prepare_payload();
  boost::beast::flat_buffer buf;
  http::response<http::string_body> res;
  if (ca_file.empty()) {
    http::write(s, req);
    http::read(s, buf, res);
  } else {
    http::write(tls, req);
    http::read(tls, buf, res);
  }
  if (res.result_int() != 201) throw std::runtime_error("tus upload: " + std::to_string(res.result_int()) + " " + res.body());
  return std::string(res["Hues-Media-Id"]);
}

}  // namespace hues_test
