// The default transport: Boost.Beast over TCP or TLS (OpenSSL), with a keep-alive pool.
//
// Each pooled connection owns a small io_context that the calling thread runs for the one
// operation in progress, so a synchronous call needs no hand-off to another thread, every
// socket operation carries the attempt's deadline (tcp_stream expiry), and a cancel from
// another thread is a post() to that io_context.
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "hues/error.h"
#include "hues/http.h"
#include "hues/options.h"
#include "internal/crypto.h"
#include "internal/pipeline.h"

namespace hues {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using beast::error_code;

constexpr auto kMaxIdle = std::chrono::seconds(30);

struct Endpoint {
  std::string scheme;  // "http" or "https"
  std::string host;    // without IPv6 brackets
  std::string port;
  std::string userinfo;  // proxies only, percent-decoded "user:pass"
  std::string target;    // path and query
  bool tls() const { return scheme == "https"; }
  std::string authority() const {
    bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + port;
  }
};

Endpoint parse_endpoint(const std::string& url, const char* field) {
  auto r = boost::urls::parse_uri(url);
  if (!r) throw_error(ErrorType::kValidation, std::string("not a valid URL: ") + field, 0,
                      "invalid_url", {}, field);
  Endpoint e;
  e.scheme = std::string(r->scheme());
  std::transform(e.scheme.begin(), e.scheme.end(), e.scheme.begin(), ::tolower);
  if (e.scheme != "http" && e.scheme != "https")
    throw_error(ErrorType::kValidation, std::string(field) + " must be an http or https URL", 0,
                "invalid_url", {}, field);
  if (r->host_type() == boost::urls::host_type::ipv6) {
    e.host = r->host_ipv6_address().to_string();
  } else {
    e.host = r->host_address();
  }
  if (e.host.empty())
    throw_error(ErrorType::kValidation, std::string(field) + " has no host", 0, "invalid_url", {},
                field);
  e.port = r->has_port() ? std::string(r->port()) : (e.tls() ? "443" : "80");
  if (r->has_userinfo()) e.userinfo = r->userinfo();
  e.target = r->encoded_path().empty() ? "/" : std::string(r->encoded_path());
  if (r->has_query()) e.target += "?" + std::string(r->encoded_query());
  return e;
}

// Thrown when a reused keep-alive connection turned out to be closed by the server before
// it answered anything; the request is resent once on a fresh connection when safe.
struct StaleConnection {};

class Connection {
 public:
  asio::io_context ioc{1};
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  Clock::time_point idle_since{};
  bool reused = false;

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  // Runs the io_context until the started operation (and any posted cancel) completes.
  void run() {
    ioc.restart();
    ioc.run();
  }
};

[[noreturn]] void fail_transport(ErrorType type, const std::string& code, const std::string& what,
                                 bool retryable) {
  throw_error(type, what, 0, code, {}, {}, retryable);
}

class BeastTransport final : public Transport {
 public:
  explicit BeastTransport(const ClientOptions& options)
      : max_idle_per_host_(static_cast<std::size_t>(std::max<std::int64_t>(1, options.max_connections_per_host))),
        max_response_bytes_(static_cast<std::uint64_t>(options.max_response_bytes)),
        tls_(std::make_shared<ssl::context>(ssl::context::tls_client)) {
    SSL_CTX_set_min_proto_version(tls_->native_handle(), TLS1_2_VERSION);
    tls_->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
    tls_->set_verify_mode(ssl::verify_peer);
    error_code ec;
    if (!options.ca_file.empty()) {
      // Like curl --cacert: the given bundle replaces the system store.
      tls_->load_verify_file(options.ca_file, ec);
      if (ec)
        throw_error(ErrorType::kValidation, "cannot load CA file " + options.ca_file + ": " + ec.message(),
                    0, "invalid_ca_file", {}, "ca_file");
    } else {
      tls_->set_default_verify_paths(ec);
    }
    if (!options.proxy.empty()) {
      proxy_ = parse_endpoint(options.proxy, "proxy");
      if (proxy_->tls())
        throw_error(ErrorType::kValidation, "only http:// proxies are supported", 0,
                    "unsupported_proxy", {}, "proxy");
    }
  }

  HttpResponse send(const HttpRequest& request, const AttemptContext& ctx) override {
    Endpoint target = parse_endpoint(request.url, "url");
    std::string key = target.scheme + "://" + target.authority();
    for (int round = 0;; ++round) {
      std::unique_ptr<Connection> conn = round == 0 ? acquire(key) : nullptr;
      if (!conn) conn = connect(target, ctx);
      try {
        bool keep_alive = false;
        HttpResponse response = exchange(*conn, target, request, ctx, keep_alive);
        if (keep_alive) release(key, std::move(conn));
        return response;
      } catch (const StaleConnection&) {
        if (!internal::is_retry_safe(request))
          fail_transport(ErrorType::kConnection, "connection_reset",
                         "the server closed a kept-alive connection", true);
      }
    }
  }

 private:
  std::unique_ptr<Connection> acquire(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& idle = idle_[key];
    while (!idle.empty()) {
      auto conn = std::move(idle.back());
      idle.pop_back();
      if (Clock::now() - conn->idle_since < kMaxIdle) {
        conn->reused = true;
        return conn;
      }
    }
    return nullptr;
  }

  void release(const std::string& key, std::unique_ptr<Connection> conn) {
    conn->lowest().expires_never();
    conn->idle_since = Clock::now();
    std::lock_guard<std::mutex> lock(mu_);
    auto& idle = idle_[key];
    if (idle.size() < max_idle_per_host_) idle.push_back(std::move(conn));
  }

  // Starts op on the connection, runs it to completion under the cancel token, and returns
  // its error. A cancel closes the socket, so the pending operation ends at once.
  template <typename StartOp>
  error_code run_op(Connection& conn, const AttemptContext& ctx, StartOp start) {
    if (ctx.cancel && ctx.cancel->cancelled()) throw_cancelled();
    error_code result;
    bool done = false;
    std::uint64_t cb = 0;
    if (ctx.cancel) {
      cb = ctx.cancel->add_callback([&conn] {
        asio::post(conn.ioc, [&conn] {
          error_code ignored;
          conn.lowest().socket().close(ignored);
        });
      });
    }
    start([&](error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    conn.run();
    if (ctx.cancel) ctx.cancel->remove_callback(cb);
    if (ctx.cancel && ctx.cancel->cancelled()) throw_cancelled();
    if (!done) result = asio::error::operation_aborted;
    return result;
  }

  [[noreturn]] static void throw_cancelled() {
    throw_error(ErrorType::kCancelled, "the call was cancelled", 0, "cancelled");
  }

  static Clock::time_point connect_deadline(const AttemptContext& ctx) {
    return std::min(ctx.deadline, Clock::now() + ctx.connect_timeout);
  }

  // Name resolution runs on a detached thread: getaddrinfo cannot be interrupted, and the
  // caller must still get its timeout at the deadline.
  tcp::resolver::results_type resolve(const Endpoint& e, const AttemptContext& ctx) {
    error_code ec;
    auto addr = asio::ip::make_address(e.host, ec);
    if (!ec) {
      auto port = static_cast<unsigned short>(std::stoul(e.port));
      return tcp::resolver::results_type::create(tcp::endpoint(addr, port), e.host, e.port);
    }
    struct State {
      std::mutex mu;
      std::condition_variable cv;
      bool done = false;
      tcp::resolver::results_type results;
      error_code ec;
    };
    auto state = std::make_shared<State>();
    std::thread([state, host = e.host, port = e.port] {
      asio::io_context io;
      tcp::resolver resolver(io);
      error_code rec;
      auto results = resolver.resolve(host, port, rec);
      std::lock_guard<std::mutex> lock(state->mu);
      state->results = std::move(results);
      state->ec = rec;
      state->done = true;
      state->cv.notify_all();
    }).detach();
    auto deadline = connect_deadline(ctx);
    std::unique_lock<std::mutex> lock(state->mu);
    while (!state->done) {
      if (ctx.cancel && ctx.cancel->cancelled()) throw_cancelled();
      if (Clock::now() >= deadline)
        fail_transport(ErrorType::kTimeout, "timeout", "timed out resolving " + e.host, true);
      state->cv.wait_until(lock, std::min(deadline, Clock::now() + std::chrono::milliseconds(20)));
    }
    if (state->ec)
      fail_transport(ErrorType::kConnection, "dns_failure",
                     "cannot resolve " + e.host + ": " + state->ec.message(), true);
    return state->results;
  }

  std::unique_ptr<Connection> connect(const Endpoint& target, const AttemptContext& ctx) {
    auto conn = std::make_unique<Connection>();
    conn->plain = std::make_unique<beast::tcp_stream>(conn->ioc);
    const Endpoint& hop = proxy_ ? *proxy_ : target;
    auto endpoints = resolve(hop, ctx);
    conn->plain->expires_at(connect_deadline(ctx));
    error_code ec = run_op(*conn, ctx, [&](auto handler) {
      conn->plain->async_connect(endpoints, handler);
    });
    if (ec == beast::error::timeout)
      fail_transport(ErrorType::kTimeout, "connect_timeout", "timed out connecting to " + hop.authority(), true);
    if (ec == asio::error::connection_refused)
      fail_transport(ErrorType::kConnection, "connection_refused",
                     "connection refused by " + hop.authority(), true);
    if (ec)
      fail_transport(ErrorType::kConnection, "connect_failed",
                     "cannot connect to " + hop.authority() + ": " + ec.message(), true);
    conn->plain->socket().set_option(tcp::no_delay(true), ec);
    if (proxy_ && target.tls()) open_tunnel(*conn, target, ctx);
    if (target.tls()) handshake(*conn, target, ctx);
    return conn;
  }

  void open_tunnel(Connection& conn, const Endpoint& target, const AttemptContext& ctx) {
    http::request<http::empty_body> req{http::verb::connect, target.authority(), 11};
    req.set(http::field::host, target.authority());
    if (!proxy_->userinfo.empty())
      req.set(http::field::proxy_authorization, "Basic " + internal::base64_encode(proxy_->userinfo));
    conn.plain->expires_at(connect_deadline(ctx));
    error_code ec = run_op(conn, ctx, [&](auto handler) { http::async_write(*conn.plain, req, handler); });
    http::response_parser<http::empty_body> parser;
    parser.skip(true);  // a 2xx answer to CONNECT has no body: the tunnel starts right after
    if (!ec)
      ec = run_op(conn, ctx, [&](auto handler) {
        http::async_read(*conn.plain, conn.buffer, parser, handler);
      });
    if (ec == beast::error::timeout)
      fail_transport(ErrorType::kTimeout, "proxy_timeout", "timed out opening a tunnel through the proxy", true);
    if (ec)
      fail_transport(ErrorType::kConnection, "proxy_failed", "proxy tunnel failed: " + ec.message(), true);
    unsigned status = parser.get().result_int();
    if (status == 407)
      fail_transport(ErrorType::kConnection, "proxy_auth_required",
                     "the proxy requires (other) credentials", false);
    if (status / 100 != 2)
      fail_transport(ErrorType::kConnection, "proxy_refused",
                     "the proxy refused the tunnel with status " + std::to_string(status), false);
  }

  void handshake(Connection& conn, const Endpoint& target, const AttemptContext& ctx) {
    conn.secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(*conn.plain), *tls_);
    conn.plain.reset();
    SSL* ssl = conn.secure->native_handle();
    error_code ec;
    asio::ip::make_address(target.host, ec);
    if (ec) {  // a name: send SNI and check it against the certificate's DNS names
      SSL_set_tlsext_host_name(ssl, target.host.c_str());
      SSL_set1_host(ssl, target.host.c_str());
    } else {  // an address: check the certificate's IP SANs
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), target.host.c_str());
    }
    conn.lowest().expires_at(connect_deadline(ctx));
    ec = run_op(conn, ctx, [&](auto handler) {
      conn.secure->async_handshake(ssl::stream_base::client, handler);
    });
    if (ec == beast::error::timeout)
      fail_transport(ErrorType::kTimeout, "tls_timeout", "timed out in the TLS handshake with " + target.host, true);
    if (ec) {
      long verify = SSL_get_verify_result(ssl);
      if (verify != X509_V_OK)
        fail_transport(ErrorType::kTls, "certificate_verify_failed",
                       "TLS certificate of " + target.host + " not trusted: " +
                           X509_verify_cert_error_string(verify), false);
      fail_transport(ErrorType::kTls, "tls_handshake_failed",
                     "TLS handshake with " + target.host + " failed: " + ec.message(), false);
    }
  }

  // The request head and body in one buffer, written with one call: cheaper than Beast's
  // serializer for the small JSON requests that are nearly all of our traffic.
  std::string serialize(const Endpoint& target, const HttpRequest& request) const {
    std::string wire;
    wire.reserve(256 + request.body.size());
    wire.append(request.method).append(" ").append(proxy_ && !target.tls() ? request.url : target.target)
        .append(" HTTP/1.1\r\n");
    bool has_host = false;
    for (const auto& [name, value] : request.headers) {
      // A CR or LF would let a value smuggle in extra headers.
      if (name.empty() || name.find_first_of(":\r\n ") != std::string::npos ||
          value.find_first_of("\r\n") != std::string::npos)
        throw_error(ErrorType::kValidation, "invalid HTTP header " + name, 0, "invalid_header", {}, "headers");
      if (beast::iequals(name, "Content-Length")) continue;
      has_host = has_host || beast::iequals(name, "Host");
      wire.append(name).append(": ").append(value).append("\r\n");
    }
    if (!has_host) {
      bool default_port = target.port == (target.tls() ? "443" : "80");
      wire.append("Host: ").append(default_port ? target.host : target.authority()).append("\r\n");
    }
    if (proxy_ && !target.tls() && !proxy_->userinfo.empty())
      wire.append("Proxy-Authorization: Basic ").append(internal::base64_encode(proxy_->userinfo)).append("\r\n");
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT" || request.method == "PATCH")
      wire.append("Content-Length: ").append(std::to_string(request.body.size())).append("\r\n");
    wire.append("\r\n").append(request.body);
    return wire;
  }

  HttpResponse exchange(Connection& conn, const Endpoint& target, const HttpRequest& request,
                        const AttemptContext& ctx, bool& keep_alive) {
    std::string wire = serialize(target, request);
    conn.lowest().expires_at(ctx.deadline);
    error_code ec = run_op(conn, ctx, [&](auto handler) {
      if (conn.secure) asio::async_write(*conn.secure, asio::buffer(wire), handler);
      else asio::async_write(*conn.plain, asio::buffer(wire), handler);
    });
    if (ec && ec != beast::error::timeout && conn.reused) throw StaleConnection{};
    if (ec) classify_io_error(ec, "sending the request");

    http::response_parser<http::string_body> parser;
    parser.body_limit(max_response_bytes_);
    parser.header_limit(64 * 1024);
    if (request.method == "HEAD") parser.skip(true);
    ec = run_op(conn, ctx, [&](auto handler) {
      if (conn.secure) http::async_read(*conn.secure, conn.buffer, parser, handler);
      else http::async_read(*conn.plain, conn.buffer, parser, handler);
    });
    if (ec && ec != beast::error::timeout && conn.reused && !parser.got_some() &&
        conn.buffer.size() == 0)
      throw StaleConnection{};
    if (ec) classify_io_error(ec, parser.got_some() ? "reading the response" : "waiting for the response");

    auto res = parser.release();
    keep_alive = res.keep_alive();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    out.headers.reserve(std::distance(res.begin(), res.end()));
    for (const auto& field : res) out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    out.body = std::move(res.body());
    return out;
  }

  [[noreturn]] void classify_io_error(const error_code& ec, const std::string& phase) {
    if (ec == beast::error::timeout)
      fail_transport(ErrorType::kTimeout, "timeout", "timed out " + phase, true);
    if (ec == http::error::body_limit || ec == http::error::header_limit || ec == http::error::buffer_overflow)
      fail_transport(ErrorType::kProtocol, "response_too_large", "response too large while " + phase, false);
    if (ec == http::error::partial_message || ec == ssl::error::stream_truncated)
      fail_transport(ErrorType::kProtocol, "truncated_response", "response truncated while " + phase, true);
    if (ec.category() == http::make_error_code(http::error::bad_version).category())
      fail_transport(ErrorType::kProtocol, "malformed_response", "malformed HTTP response while " + phase + ": " + ec.message(), true);
    if (ec == http::error::end_of_stream || ec == asio::error::eof)
      fail_transport(ErrorType::kConnection, "connection_closed", "connection closed while " + phase, true);
    fail_transport(ErrorType::kConnection, "connection_reset", "connection failed while " + phase + ": " + ec.message(), true);
  }

  std::size_t max_idle_per_host_;
  std::uint64_t max_response_bytes_;
  std::shared_ptr<ssl::context> tls_;
  std::optional<Endpoint> proxy_;
  std::mutex mu_;
  std::unordered_map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;
};

}  // namespace

std::shared_ptr<Transport> make_default_transport(const ClientOptions& options) {
  return std::make_shared<BeastTransport>(options);
}

}  // namespace hues
