// A raw HTTP/1.1 client on Boost.Beast for the sandbox tests: one connection (plain or
// TLS), explicit requests, and a deadline on every operation so a broken server fails a
// test instead of hanging it.
#pragma once

#include <doctest/doctest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <openssl/ssl.h>

#include <hues/testing/sandbox.h>

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sandbox_test {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using Headers = std::vector<std::pair<std::string, std::string>>;
using Response = http::response<http::string_body>;

struct TlsOptions {
  std::string ca_file;               // empty: trust nothing (verification must fail)
  std::string verify_host = "localhost";
  int min_version = 0, max_version = 0;  // e.g. TLS1_1_VERSION; 0 = library default
  bool allow_legacy = false;         // security level 0, so the client can even offer TLS 1.1
};

class Client {
 public:
  static constexpr std::chrono::milliseconds kTimeout{15000};  // each operation's deadline

  explicit Client(int port, std::optional<TlsOptions> tls = std::nullopt, std::string host = "127.0.0.1")
      : port_(port), host_(std::move(host)), tls_options_(std::move(tls)) {}

  // Connects (and handshakes); throws boost::system::system_error on failure.
  void connect() {
    tcp::resolver resolver(ioc_);
    auto endpoints = resolver.resolve(host_, std::to_string(port_));
    if (!tls_options_) {
      plain_.emplace(ioc_);
      plain_->expires_after(kTimeout);
      run([&](auto h) { plain_->async_connect(endpoints, h); });
      return;
    }
    const auto& o = *tls_options_;
    ctx_.set_verify_mode(ssl::verify_peer);
    if (!o.ca_file.empty()) ctx_.load_verify_file(o.ca_file);
    if (o.allow_legacy) {
      SSL_CTX_set_security_level(ctx_.native_handle(), 0);
      SSL_CTX_set_cipher_list(ctx_.native_handle(), "DEFAULT:@SECLEVEL=0");
    }
    if (o.min_version) SSL_CTX_set_min_proto_version(ctx_.native_handle(), o.min_version);
    if (o.max_version) SSL_CTX_set_max_proto_version(ctx_.native_handle(), o.max_version);
    tls_.emplace(ioc_, ctx_);
    SSL_set_tlsext_host_name(tls_->native_handle(), o.verify_host.c_str());
    tls_->set_verify_callback(ssl::host_name_verification(o.verify_host));
    beast::get_lowest_layer(*tls_).expires_after(kTimeout);
    run([&](auto h) { beast::get_lowest_layer(*tls_).async_connect(endpoints, h); });
    run([&](auto h) { tls_->async_handshake(ssl::stream_base::client, h); });
  }

  Response request(http::verb method, const std::string& target, std::string body = {}, const Headers& headers = {}) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, host_);
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() || method == http::verb::post) {
      if (req.find(http::field::content_type) == req.end()) req.set(http::field::content_type, "application/json");
      req.body() = std::move(body);
      req.prepare_payload();
    }
    write_raw_message(req);
    return read_response(method == http::verb::head);
  }

  template <class Message>
  void write_raw_message(Message& m) {
    if (!connected()) connect();
    with_stream([&](auto& s) {
      beast::get_lowest_layer(s).expires_after(kTimeout);
      run([&](auto h) { http::async_write(s, m, h); });
    });
  }

  void write_bytes(const std::string& bytes) {
    if (!connected()) connect();
    with_stream([&](auto& s) {
      beast::get_lowest_layer(s).expires_after(kTimeout);
      run([&](auto h) { net::async_write(s, net::buffer(bytes), h); });
    });
  }

  // to_head: the answer to a HEAD, whose Content-Length announces no body (RFC 9110 §9.3.2).
  Response read_response(bool to_head = false) {
    Response res;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    parser.skip(to_head);
    with_stream([&](auto& s) {
      beast::get_lowest_layer(s).expires_after(kTimeout);
      run([&](auto h) { http::async_read(s, buffer_, parser, h); });
    });
    return parser.release();
  }

  // The bytes that come next (what the buffer holds, else one read of up to 64 KiB), within
  // timeout; throws boost::system::system_error (net::error::eof once the server closed).
  std::string read_some(std::chrono::milliseconds timeout = kTimeout) {
    if (!connected()) connect();
    if (buffer_.size() == 0) {
      with_stream([&](auto& s) {
        beast::get_lowest_layer(s).expires_after(timeout);
        std::size_t got = 0;
        run([&](auto h) {
          s.async_read_some(buffer_.prepare(64 * 1024), [h, &got](beast::error_code ec, std::size_t n) mutable {
            got = n;
            h(ec);
          });
        });
        buffer_.commit(got);
      });
    }
    std::string out(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    buffer_.consume(buffer_.size());
    return out;
  }

  // True when the server has closed its side (EOF on the next read).
  bool peer_closed() {
    beast::error_code result = net::error::would_block;
    with_stream([&](auto& s) {
      beast::get_lowest_layer(s).expires_after(kTimeout);
      buffer_.consume(buffer_.size());
      s.async_read_some(buffer_.prepare(1),
                        [&](beast::error_code ec, std::size_t) { result = ec ? ec : net::error::would_block; });
      ioc_.restart();
      ioc_.run();
    });
    return result == net::error::eof || result == net::error::connection_reset ||
           result == ssl::error::stream_truncated;
  }

  bool connected() const { return plain_.has_value() || tls_.has_value(); }

 private:
  template <class F>
  void with_stream(F&& f) {
    if (plain_) f(*plain_);
    else f(*tls_);
  }

  // Runs one async operation to completion; throws its error.
  template <class Start>
  void run(Start&& start) {
    beast::error_code result = net::error::would_block;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc_.restart();
    ioc_.run();
    if (result) throw beast::system_error(result);
  }

  int port_;
  std::string host_;
  std::optional<TlsOptions> tls_options_;
  net::io_context ioc_;
  ssl::context ctx_{ssl::context::tls_client};
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
};

inline boost::json::object json_of(const Response& r) { return boost::json::parse(r.body()).as_object(); }

inline std::string error_code_of(const Response& r) {
  return std::string(json_of(r).at("error").at("code").as_string());
}

inline std::string error_field_of(const Response& r) {
  const auto body = json_of(r);
  const auto& err = body.at("error").as_object();
  return err.contains("field") ? std::string(err.at("field").as_string()) : std::string();
}

// A create response's body without its last member, possible_duplicates (only the create
// response has it): byte for byte the report's JSON as a read returns it.
inline std::string without_hints(const std::string& created) {
  const auto at = created.rfind(",\"possible_duplicates\":[");
  CHECK(at != std::string::npos);
  return at == std::string::npos ? created : created.substr(0, at) + "}";
}

// What schema steps v12 (webhooks), v11 (media) and v10 (search) add, dropped again: tests that take a
// database back to an older schema run this first.
inline constexpr const char* kUndoSearchStep =
    "DROP TABLE webhook_cursors; DROP TABLE webhook_attempts; DROP TABLE webhook_messages; DROP TABLE webhook_endpoints;"
    "DROP TABLE media_links; DROP TABLE media;"
    "DROP TRIGGER reports_fts_insert; DROP TRIGGER reports_fts_update; DROP TRIGGER reports_fts_delete;"
    "DROP TABLE reports_fts; DROP INDEX reports_due; DROP INDEX reports_ward; DROP INDEX reports_category_geo;";

// A fresh directory under /tmp, removed with everything in it at scope end.
struct TempDir {
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "hues-sandbox-test-XXXXXX").string();
    REQUIRE(mkdtemp(t.data()) != nullptr);
    path = t;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string path;
};

// SandboxOptions with these members set and the rest left at their defaults.
inline hues::testing::SandboxOptions options_with(int tls_port, const std::string& data_dir, int threads) {
  hues::testing::SandboxOptions o;
  o.tls_port = tls_port;
  o.data_dir = data_dir;
  o.threads = threads;
  return o;
}

}  // namespace sandbox_test
