// The default transport: Boost.Beast over TCP or TLS (OpenSSL), with a keep-alive pool,
// fully asynchronous on the runtime's I/O threads.
//
// Each attempt is an Op with its own strand (on a sync loop, the loop's one, which only one
// thread runs): its socket operations, its deadline timer and its cancel all run there, so a
// timeout or a cancel is just "close the socket" and the pending operation ends at once. A host's pool caps connections; further attempts wait in
// a bounded queue and take over a connection (or its slot) when one is released.
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "hues/error.h"
#include "hues/http.h"
#include "hues/options.h"
#include "internal/crypto.h"
#include "internal/pipeline.h"
#include "internal/runtime_asio.h"

namespace hues {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using beast::error_code;
using internal::make_error;
using Strand = asio::strand<asio::io_context::executor_type>;

constexpr auto kMaxIdle = std::chrono::seconds(30);

struct Endpoint {
  std::string scheme;  // "http" or "https"
  std::string host;    // without IPv6 brackets
  std::string port;
  std::string userinfo;  // proxies only, percent-decoded "user:pass"
  std::string target;    // path and query
  std::string pool_key;  // "scheme://authority": which connections it may reuse
  std::string host_header;  // the Host header's value
  bool tls() const { return scheme == "https"; }
  std::string authority() const {
    bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + port;
  }
  void derive() {
    pool_key = scheme + "://" + authority();
    bool default_port = port == (tls() ? "443" : "80");
    host_header = default_port ? host : authority();
  }
};

// RFC 9112 §3.2.1 origin-form (RFC 3986 absolute-path [ "?" query ]), checked with a table:
// cheaper than a URL parse for the path and query of nearly every request.
bool is_origin_form(std::string_view s) {
  static const auto allowed = [] {
    std::array<bool, 256> t{};
    for (unsigned char c : std::string_view("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                            "-._~!$&'()*+,;=:@/"))
      t[c] = true;
    return t;
  }();
  auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  if (s.empty() || s[0] != '/') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (allowed[c] || c == '?') continue;  // the first '?' starts the query, which may hold more
    if (c == '%' && i + 2 < s.size() && hex(s[i + 1]) && hex(s[i + 2])) {
      i += 2;
      continue;
    }
    return false;
  }
  return true;
}

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
  e.derive();
  return e;
}

// A request URL's endpoint, reusing the last one this thread parsed when only the path and
// query differ (nearly every call goes to its client's base URL): the scheme and authority
// are compared as text, and the rest is still validated, as origin-form.
Endpoint parse_request_endpoint(const std::string& url) {
  struct Last {
    std::string prefix;  // "scheme://authority" exactly as it appeared in the URL
    Endpoint endpoint;
  };
  thread_local Last last;
  auto scheme_end = url.find("://");
  auto rest_at = scheme_end == std::string::npos ? std::string::npos : url.find_first_of("/?#", scheme_end + 3);
  if (rest_at != std::string::npos && url[rest_at] == '/' && url.find('#', rest_at) == std::string::npos) {
    std::string_view prefix(url.data(), rest_at), rest(url.data() + rest_at, url.size() - rest_at);
    if (!last.prefix.empty() && prefix == last.prefix && is_origin_form(rest)) {
      const Endpoint& l = last.endpoint;
      Endpoint e{l.scheme, l.host, l.port, l.userinfo, std::string(rest), l.pool_key, l.host_header};
      return e;
    }
    Endpoint e = parse_endpoint(url, "url");
    if (e.userinfo.empty()) {
      last.prefix.assign(prefix.data(), prefix.size());
      last.endpoint = e;
    }
    return e;
  }
  return parse_endpoint(url, "url");
}

// True when s holds none of the bytes of set (a plain loop: std::string::find_first_of with
// a set calls memchr per byte of s).
bool has_none_of(std::string_view s, std::string_view set) {
  for (char c : s)
    for (char bad : set)
      if (c == bad) return false;
  return true;
}

struct Connection {
  // Reads ask the kernel for what the buffer can hold (Beast: its free capacity, at least 512
  // bytes): room for a whole typical response takes it in one recv instead of several.
  static constexpr std::size_t kReadBuffer = 16 << 10;
  explicit Connection(asio::io_context& io) : io(&io), plain(std::in_place, io) { buffer.reserve(kReadBuffer); }
  asio::io_context* io;  // its socket's: only an attempt on the same io_context may use it
  std::optional<tcp::socket> plain;
  std::unique_ptr<ssl::stream<tcp::socket>> secure;
  beast::flat_buffer buffer;
  Clock::time_point idle_since{};

  tcp::socket& lowest() { return secure ? secure->next_layer() : *plain; }
  template <typename F>
  void with_stream(F f) {
    if (secure) f(*secure); else f(*plain);
  }
};

std::exception_ptr transport_error(ErrorType type, const std::string& code, const std::string& what, bool retryable) {
  return make_error(type, what, code, retryable);
}

std::exception_ptr cancelled_error() {
  return make_error(ErrorType::kCancelled, "the call was cancelled", "cancelled");
}

// A response body that never costs much more memory than it holds, and never more than the
// limit: a body that crosses max_response_bytes is refused at that byte.
// http::string_body resizes one std::string, which doubles its capacity and copies: a chunked
// body refused at the 64 MiB default briefly took about twice that. Here a declared
// Content-Length (over the limit: refused before any of the body is read) is reserved once,
// exactly; a body of unknown length is kept in the string up to kContiguous bytes and then in
// blocks mapped from the kernel, which finish() copies into one exact string, unmapping each
// block as soon as it is copied, so the peak stays near the body's own size.
struct BoundedStringBody {
  static constexpr std::size_t kContiguous = 1 << 20;
  static constexpr std::size_t kBlock = 1 << 20;

  struct Block {
    char* data = nullptr;
    std::size_t used = 0;
    explicit Block(char* d) : data(d) {}
    Block(Block&& o) noexcept : data(std::exchange(o.data, nullptr)), used(o.used) {}
    Block& operator=(Block&&) = delete;
    ~Block() {
      if (data) ::munmap(data, kBlock);
    }
  };

  struct value_type {
    std::string data;
    std::uint64_t limit = 64 * 1024 * 1024;
    std::vector<Block> blocks;  // only while reading a long body of unknown length
    std::uint64_t size() const {
      std::uint64_t n = data.size();
      for (const auto& b : blocks) n += b.used;
      return n;
    }
  };
  static std::uint64_t size(const value_type& v) { return v.size(); }

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(http::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<std::uint64_t>& length, error_code& ec) {
      ec = {};
      if (!length) return;
      if (*length > body_.limit) {
        ec = http::error::body_limit;
        return;
      }
      body_.data.reserve(static_cast<std::size_t>(*length));
      known_ = true;
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, error_code& ec) {
      std::size_t extra = beast::buffer_bytes(buffers);
      if (extra > body_.limit - std::min(total_, body_.limit)) {
        ec = http::error::body_limit;
        return 0;
      }
      ec = {};
      total_ += extra;
      if (known_ || (body_.blocks.empty() && body_.data.size() + extra <= kContiguous)) {
        std::size_t size = body_.data.size();
        body_.data.resize(size + extra);
        return asio::buffer_copy(asio::buffer(&body_.data[size], extra), buffers);
      }
      std::size_t copied = 0;
      for (const auto buf : beast::buffers_range_ref(buffers)) {
        const char* from = static_cast<const char*>(buf.data());
        std::size_t left = buf.size();
        while (left > 0) {
          if (body_.blocks.empty() || body_.blocks.back().used == kBlock) {
            void* m = ::mmap(nullptr, kBlock, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (m == MAP_FAILED) {
              ec = http::error::body_limit;
              return copied;
            }
            body_.blocks.emplace_back(static_cast<char*>(m));
          }
          auto& b = body_.blocks.back();
          std::size_t n = std::min(kBlock - b.used, left);
          std::memcpy(b.data + b.used, from, n);
          b.used += n;
          from += n;
          left -= n;
          copied += n;
        }
      }
      return copied;
    }

    void finish(error_code& ec) {
      ec = {};
      if (body_.blocks.empty()) return;
      std::string whole;
      whole.reserve(static_cast<std::size_t>(total_));  // pages count once written, block by block
      whole.append(body_.data);
      std::string().swap(body_.data);
      for (auto& b : body_.blocks) {
        whole.append(b.data, b.used);
        ::munmap(std::exchange(b.data, nullptr), kBlock);
      }
      body_.blocks.clear();
      body_.data.swap(whole);
    }

   private:
    value_type& body_;
    std::uint64_t total_ = 0;
    bool known_ = false;
  };
};

class Op;

// An attempt's completion handler: runs on the attempt's strand and tells Asio it continues
// the same chain, so a completion queued by this thread stays on it instead of waking the
// other I/O thread (a context switch per step on a 2-core machine).
template <typename F>
struct OnStrand {
  using executor_type = Strand;
  Strand strand;
  F f;
  executor_type get_executor() const noexcept { return strand; }
  template <typename... Args>
  void operator()(Args&&... args) { f(std::forward<Args>(args)...); }
  friend bool asio_handler_is_continuation(OnStrand*) { return true; }
};
template <typename F>
OnStrand<std::decay_t<F>> on_strand(const Strand& strand, F&& f) {
  return {strand, std::forward<F>(f)};
}

// The attempts' deadlines, in one ordered set behind one timer. Per-attempt timers would be
// cancelled at the end of nearly every attempt, and each cancel wakes another I/O thread to
// run the aborted wait; here a finished attempt just leaves the set, and the timer (armed for
// the earliest deadline, moved earlier only when a new one is earlier) finds it gone.
class Deadlines : public std::enable_shared_from_this<Deadlines> {
 public:
  using Key = std::pair<Clock::time_point, std::uint64_t>;
  // Runtime timers, so shutdown() cancels the pending one with every other timer.
  explicit Deadlines(std::weak_ptr<internal::Runtime> runtime) : runtime_(std::move(runtime)) {}

  Key add(Clock::time_point at, std::weak_ptr<Op> op);
  void remove(const Key& key) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.erase(key);
  }

 private:
  void start_timer(Clock::time_point at, std::uint64_t gen);
  void on_timer(std::uint64_t gen);
  std::weak_ptr<internal::Runtime> runtime_;
  std::mutex mu_;
  std::map<Key, std::weak_ptr<Op>> entries_;
  std::uint64_t next_id_ = 1;
  std::optional<Clock::time_point> armed_;  // what the current timer waits for
  std::uint64_t gen_ = 0;                   // which timer is current
  std::shared_ptr<internal::Timer> timer_;
};

class BeastTransport final : public Transport,
                             public internal::InPlaceTransport,
                             public std::enable_shared_from_this<BeastTransport> {
 public:
  BeastTransport(const ClientOptions& options, std::shared_ptr<internal::Runtime> runtime)
      : runtime_(std::move(runtime)),
        max_per_host_(static_cast<std::size_t>(std::max<std::int64_t>(1, options.max_connections_per_host))),
        max_queued_(static_cast<std::size_t>(std::max<std::int64_t>(0, options.max_queued_requests))),
        max_response_bytes_(static_cast<std::uint64_t>(options.max_response_bytes)),
        tls_(std::make_shared<ssl::context>(ssl::context::tls_client)),
        deadlines_(std::make_shared<Deadlines>(runtime_)) {
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

  // Start-then-wait. Must not be called on an I/O thread (it would wait for itself).
  HttpResponse send(const HttpRequest& request, const AttemptContext& ctx) override {
    return internal::wait_for<HttpResponse>(runtime_.get(), [&](Completion done) { send_async(request, ctx, std::move(done)); });
  }

  void send_async(HttpRequest request, AttemptContext ctx, Completion done) override;
  void send_in_place(const HttpRequest& request, AttemptContext ctx, Completion done) override;
  const internal::Runtime* runtime() const override { return runtime_.get(); }

  // What acquire() found for an attempt.
  enum class Slot { kIdle, kNew, kQueued, kFull };
  Slot acquire(const std::string& key, const std::shared_ptr<Op>& op, std::unique_ptr<Connection>& conn);
  // Gives back the attempt's slot, with its connection when it can be reused; the first
  // waiting attempt takes over both.
  void release(const std::string& key, std::unique_ptr<Connection> conn);
  // Removes a waiting attempt; false when it was already handed a slot.
  bool dequeue(const std::string& key, const Op* op);

  asio::io_context& io() { return internal::io_context(*runtime_); }
  Deadlines& deadlines() { return *deadlines_; }
  const std::optional<Endpoint>& proxy() const { return proxy_; }
  ssl::context& tls() { return *tls_; }
  std::uint64_t max_response_bytes() const { return max_response_bytes_; }

  // The request head and body in one buffer, written with one call: cheaper than Beast's
  // serializer for the small JSON requests that are nearly all of our traffic.
  std::string serialize(const Endpoint& target, const HttpRequest& request) const {
    std::string wire;
    wire.reserve(256 + request.body.size() * !request.shared_body);
    wire.append(request.method).append(" ").append(proxy_ && !target.tls() ? request.url : target.target)
        .append(" HTTP/1.1\r\n");
    bool has_host = false;
    for (const auto& [name, value] : request.headers) {
      // A CR or LF would let a value smuggle in extra headers.
      if (name.empty() || !has_none_of(name, ":\r\n ") || !has_none_of(value, "\r\n"))
        throw_error(ErrorType::kValidation, "invalid HTTP header " + name, 0, "invalid_header", {}, "headers");
      if (beast::iequals(name, "Content-Length")) continue;
      has_host = has_host || beast::iequals(name, "Host");
      wire.append(name).append(": ").append(value).append("\r\n");
    }
    if (!has_host) wire.append("Host: ").append(target.host_header).append("\r\n");
    if (proxy_ && !target.tls() && !proxy_->userinfo.empty())
      wire.append("Proxy-Authorization: Basic ").append(internal::base64_encode(proxy_->userinfo)).append("\r\n");
    const std::string& body = request.body_bytes();
    const auto length = request.body_reader ? static_cast<std::uint64_t>(request.body_length) : body.size();
    if (length > 0 || request.method == "POST" || request.method == "PUT" || request.method == "PATCH")
      wire.append("Content-Length: ").append(std::to_string(length)).append("\r\n");
    wire.append("\r\n");
    if (!request.shared_body) wire.append(body);  // a shared body is written from where it is (Op::write)
    return wire;
  }

 private:
  struct HostPool {
    std::vector<std::unique_ptr<Connection>> idle;
    std::size_t busy = 0;  // connections checked out, or slots of attempts connecting
    std::deque<std::shared_ptr<Op>> waiting;
  };
  std::shared_ptr<internal::Runtime> runtime_;
  std::size_t max_per_host_;
  std::size_t max_queued_;
  std::uint64_t max_response_bytes_;
  std::shared_ptr<ssl::context> tls_;
  std::shared_ptr<Deadlines> deadlines_;
  std::optional<Endpoint> proxy_;
  std::mutex mu_;
  std::unordered_map<std::string, HostPool> pools_;
};

// One attempt: queue or connect (resolve, TCP, CONNECT tunnel, TLS), write, read.
class Op : public std::enable_shared_from_this<Op> {
 public:
  enum class Phase { kStart, kQueued, kResolving, kConnecting, kTunnel, kHandshake, kWrite, kRead, kDone };

  // io: where the attempt runs, the I/O threads' io_context or a sync waiter's loop; its
  // connections come from (and go back to) that io_context's pool.
  // strand: the sync loop's (internal::current_sync_strand) for an attempt there, else its own.
  Op(std::shared_ptr<BeastTransport> t, asio::io_context& io, Strand strand, AttemptContext c, Transport::Completion d)
      : transport_(std::move(t)), io_(io), strand_(std::move(strand)), ctx_(std::move(c)), done_(std::move(d)) {}

  const Strand& strand() const { return strand_; }
  asio::io_context& io() const { return io_; }

  // Reads the request in place, before start(): its target and its bytes on the wire, and of
  // the rest only what the attempt still needs (a shared or produced body, whether it may be
  // resent). A request that cannot be sent fails in start().
  void prepare(const HttpRequest& request) {
    try {
      target_ = parse_request_endpoint(request.url);
      wire_ = transport_->serialize(target_, request);
    } catch (...) {
      prepare_error_ = std::current_exception();
    }
    head_ = request.method == "HEAD";
    request_.shared_body = request.shared_body;
    request_.body_reader = request.body_reader;
    request_.body_length = request.body_length;
    retry_safe_ = internal::is_retry_safe(request);
  }

  void start() {
    if (ctx_.cancel && ctx_.cancel->cancelled()) return finish(cancelled_error());
    if (prepare_error_) return finish(prepare_error_);
    key_ = std::move(target_.pool_key);
    if (ctx_.cancel) {
      std::weak_ptr<Op> weak = shared_from_this();
      // Runs under the token's lock: only post, never touch the socket from here.
      cancel_id_ = ctx_.cancel->add_callback([weak] {
        if (auto self = weak.lock()) asio::post(self->strand_, [self] { self->abort(cancelled_error()); });
      });
      if (finished_) return;
    }
    arm(ctx_.deadline);
    std::unique_ptr<Connection> conn;
    switch (transport_->acquire(key_, shared_from_this(), conn)) {
      case BeastTransport::Slot::kIdle: return on_slot(std::move(conn));
      case BeastTransport::Slot::kNew: return on_slot(nullptr);
      case BeastTransport::Slot::kQueued: phase_ = Phase::kQueued; return;
      case BeastTransport::Slot::kFull:
        return finish(transport_error(ErrorType::kResourceExhausted, "queue_full",
                                      "too many requests waiting for a connection to " + target_.authority(), true));
    }
  }

  // On the strand: the attempt now holds a pool slot, with a kept-alive connection or not.
  void on_slot(std::unique_ptr<Connection> conn) {
    has_slot_ = true;
    if (finished_) {  // cannot happen (a queued attempt only ends through dequeue), but be safe
      transport_->release(key_, std::move(conn));
      has_slot_ = false;
      return;
    }
    if (abort_error_) {
      conn_ = std::move(conn);
      reusable_ = conn_ != nullptr;
      return finish(abort_error_);
    }
    if (conn) {
      conn_ = std::move(conn);
      reused_ = true;
      return write();
    }
    connect();
  }

 private:
  // --- connecting ---

  Clock::time_point connect_deadline() const { return std::min(ctx_.deadline, Clock::now() + ctx_.connect_timeout); }

  void connect() {
    const Endpoint& hop = transport_->proxy() ? *transport_->proxy() : target_;
    arm(connect_deadline());
    error_code ec;
    auto addr = asio::ip::make_address(hop.host, ec);
    unsigned long port = 0;
    try {
      port = std::stoul(hop.port);
    } catch (...) {
    }
    if (port == 0 || port > 65535)
      return finish(transport_error(ErrorType::kConnection, "connect_failed", "invalid port in " + hop.authority(), false));
    if (!ec) {
      return tcp_connect(tcp::resolver::results_type::create(tcp::endpoint(addr, static_cast<unsigned short>(port)),
                                                             hop.host, hop.port));
    }
    phase_ = Phase::kResolving;
    auto self = shared_from_this();
    rare().resolver.emplace(strand_);  // only when a name must be resolved: most attempts reuse a connection
    rare_->resolver->async_resolve(hop.host, hop.port,
                            on_strand(strand_, [self](error_code rec, tcp::resolver::results_type results) {
                              if (self->finished_) return;
                              if (self->abort_error_) return self->finish(self->abort_error_);
                              const Endpoint& h = self->transport_->proxy() ? *self->transport_->proxy() : self->target_;
                              if (rec)
                                return self->finish(transport_error(ErrorType::kConnection, "dns_failure",
                                                                    "cannot resolve " + h.host + ": " + rec.message(), true));
                              self->tcp_connect(std::move(results));
                            }));
  }

  void tcp_connect(tcp::resolver::results_type endpoints) {
    phase_ = Phase::kConnecting;
    conn_ = std::make_unique<Connection>(io_);
    auto self = shared_from_this();
    asio::async_connect(*conn_->plain, endpoints, on_strand(strand_, [self](error_code ec, const tcp::endpoint&) {
      if (self->finished_) return;
      if (self->abort_error_) return self->finish(self->abort_error_);
      const Endpoint& hop = self->transport_->proxy() ? *self->transport_->proxy() : self->target_;
      if (ec == asio::error::connection_refused)
        return self->finish(transport_error(ErrorType::kConnection, "connection_refused",
                                            "connection refused by " + hop.authority(), true));
      if (ec)
        return self->finish(transport_error(ErrorType::kConnection, "connect_failed",
                                            "cannot connect to " + hop.authority() + ": " + ec.message(), true));
      self->conn_->plain->set_option(tcp::no_delay(true), ec);
      if (self->transport_->proxy() && self->target_.tls()) return self->open_tunnel();
      if (self->target_.tls()) return self->handshake();
      self->write();
    }));
  }

  void open_tunnel() {
    phase_ = Phase::kTunnel;
    const auto& proxy = *transport_->proxy();
    auto& connect_req = rare().connect_req;
    connect_req.emplace(http::verb::connect, target_.authority(), 11);
    connect_req->set(http::field::host, target_.authority());
    if (!proxy.userinfo.empty())
      connect_req->set(http::field::proxy_authorization, "Basic " + internal::base64_encode(proxy.userinfo));
    auto self = shared_from_this();
    http::async_write(*conn_->plain, *connect_req, on_strand(strand_, [self](error_code ec, std::size_t) {
      if (self->finished_) return;
      if (self->abort_error_) return self->finish(self->abort_error_);
      if (ec) return self->finish(transport_error(ErrorType::kConnection, "proxy_failed", "proxy tunnel failed: " + ec.message(), true));
      auto& connect_parser = self->rare_->connect_parser;
      connect_parser.emplace();
      connect_parser->skip(true);  // a 2xx answer to CONNECT has no body: the tunnel starts right after
      http::async_read(*self->conn_->plain, self->conn_->buffer, *connect_parser,
                       on_strand(self->strand_, [self](error_code ec2, std::size_t) { self->on_tunnel(ec2); }));
    }));
  }

  void on_tunnel(error_code ec) {
    if (finished_) return;
    if (abort_error_) return finish(abort_error_);
    if (ec) return finish(transport_error(ErrorType::kConnection, "proxy_failed", "proxy tunnel failed: " + ec.message(), true));
    unsigned status = rare_->connect_parser->get().result_int();
    if (status == 407)
      return finish(transport_error(ErrorType::kConnection, "proxy_auth_required",
                                    "the proxy requires (other) credentials", false));
    if (status / 100 != 2)
      return finish(transport_error(ErrorType::kConnection, "proxy_refused",
                                    "the proxy refused the tunnel with status " + std::to_string(status), false));
    handshake();
  }

  void handshake() {
    phase_ = Phase::kHandshake;
    conn_->secure = std::make_unique<ssl::stream<tcp::socket>>(std::move(*conn_->plain), transport_->tls());
    conn_->plain.reset();
    SSL* ssl = conn_->secure->native_handle();
    error_code ec;
    asio::ip::make_address(target_.host, ec);
    if (ec) {  // a name: send SNI and check it against the certificate's DNS names
      SSL_set_tlsext_host_name(ssl, target_.host.c_str());
      SSL_set1_host(ssl, target_.host.c_str());
    } else {  // an address: check the certificate's IP SANs
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), target_.host.c_str());
    }
    auto self = shared_from_this();
    conn_->secure->async_handshake(ssl::stream_base::client, on_strand(strand_, [self](error_code hec) {
      if (self->finished_) return;
      if (self->abort_error_) return self->finish(self->abort_error_);
      if (hec) {
        long verify = SSL_get_verify_result(self->conn_->secure->native_handle());
        if (verify != X509_V_OK)
          return self->finish(transport_error(ErrorType::kTls, "certificate_verify_failed",
                                              "TLS certificate of " + self->target_.host + " not trusted: " +
                                                  X509_verify_cert_error_string(verify), false));
        return self->finish(transport_error(ErrorType::kTls, "tls_handshake_failed",
                                            "TLS handshake with " + self->target_.host + " failed: " + hec.message(), false));
      }
      self->write();
    }));
  }

  // --- the exchange ---

  void write() {
    phase_ = Phase::kWrite;
    arm(ctx_.deadline);
    std::array<asio::const_buffer, 2> out{asio::buffer(wire_), request_.shared_body ? asio::buffer(*request_.shared_body)
                                                                                    : asio::const_buffer()};
    if (!conn_->secure) {
      // Plain TCP: the request (nearly always a few hundred bytes into an empty send buffer)
      // goes out now, in one non-blocking send, and the read starts at once; only what the
      // kernel did not take waits for the socket, below. An async write would complete
      // through the scheduler, one more turn (and epoll_wait) per request.
      error_code ec;
      auto& sock = *conn_->plain;
      if (!sock.non_blocking()) sock.non_blocking(true, ec);
      std::size_t n = ec ? 0 : sock.write_some(out, ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
      if (ec) {
        if (reused_) return stale();
        return finish(classify_io_error(ec, "sending the request"));
      }
      if (n == asio::buffer_size(out)) {
        if (request_.body_reader) return write_produced(0);
        return written();
      }
      auto rest = beast::buffers_suffix<std::array<asio::const_buffer, 2>>(out);
      rest.consume(n);
      auto self = shared_from_this();
      asio::async_write(sock, rest, on_strand(strand_, [self](error_code ec2, std::size_t) { self->on_written(ec2); }));
      return;
    }
    auto self = shared_from_this();
    conn_->with_stream([&](auto& stream) {
      asio::async_write(stream, out, on_strand(strand_, [self](error_code ec, std::size_t) {
        if (self->finished_) return;
        if (self->abort_error_) return self->finish(self->abort_error_);
        if (ec && self->reused_) return self->stale();
        if (ec) return self->finish(classify_io_error(ec, "sending the request"));
        if (self->request_.body_reader) return self->write_produced(0);
        self->written();
      }));
    });
  }

  void on_written(error_code ec) {
    if (finished_) return;
    if (abort_error_) return finish(abort_error_);
    if (ec && reused_) return stale();
    if (ec) return finish(classify_io_error(ec, "sending the request"));
    if (request_.body_reader) return write_produced(0);
    written();
  }

  // Written: the caller may reuse its buffer, unless a stale connection could make us resend it.
  void written() {
    if (!retry_safe_) {
      request_.shared_body.reset();
      request_.body_reader = nullptr;
    }
    read();
  }

  // A produced body (HttpRequest::body_reader) from `at`, one piece of at most kPiece bytes at
  // a time through one buffer, so a large span of a file never sits in memory.
  void write_produced(std::int64_t at) {
    static constexpr std::size_t kPiece = 256 << 10;
    if (at >= request_.body_length) {
      std::unique_ptr<char[]>().swap(piece_);
      return written();
    }
    if (!piece_) piece_ = std::make_unique<char[]>(kPiece);
    std::size_t n = 0;
    try {
      n = request_.body_reader(at, piece_.get(), std::min<std::uint64_t>(kPiece, request_.body_length - at));
      if (n == 0) throw_error(ErrorType::kValidation, "the request body ended before its length", 0, "body_too_short");
    } catch (...) {
      return finish(std::current_exception());
    }
    auto self = shared_from_this();
    conn_->with_stream([&](auto& stream) {
      asio::async_write(stream, asio::buffer(piece_.get(), n), on_strand(strand_, [self, at, n](error_code ec, std::size_t) {
        if (self->finished_) return;
        if (self->abort_error_) return self->finish(self->abort_error_);
        if (ec) return self->finish(classify_io_error(ec, "sending the request"));
        self->write_produced(at + static_cast<std::int64_t>(n));
      }));
    });
  }

  void read() {
    phase_ = Phase::kRead;
    parser_.emplace();
    parser_->body_limit(transport_->max_response_bytes());
    parser_->get().body().limit = transport_->max_response_bytes();
    parser_->header_limit(64 * 1024);
    if (head_) parser_->skip(true);
    auto self = shared_from_this();
    if (ctx_.stream) {  // the head first: a 2xx body goes to the stream as it arrives
      parser_->body_limit(boost::none);
      conn_->with_stream([&](auto& stream) {
        http::async_read_header(stream, conn_->buffer, *parser_, on_strand(strand_, [self](error_code ec, std::size_t) {
          self->on_stream_head(ec);
        }));
      });
      return;
    }
    read_rest();
  }

  void read_rest() {
    auto self = shared_from_this();
    conn_->with_stream([&](auto& stream) {
      http::async_read(stream, conn_->buffer, *parser_, on_strand(strand_, [self](error_code ec, std::size_t) {
        self->on_read(ec);
      }));
    });
  }

  HttpResponse head_of(const http::response<BoundedStringBody>& res) const {
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    out.headers.reserve(std::distance(res.begin(), res.end()));
    for (const auto& field : res) out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    return out;
  }

  // --- a streamed body (AttemptContext::stream): each piece to the stream, each read under the
  // idle timeout instead of the attempt's deadline ---

  void on_stream_head(error_code ec) {
    if (finished_) return;
    if (abort_error_) return finish(abort_error_);
    if (ec && reused_ && !parser_->got_some() && conn_->buffer.size() == 0) return stale();
    if (ec) return finish(classify_io_error(ec, parser_->got_some() ? "reading the response" : "waiting for the response"));
    int status = static_cast<int>(parser_->get().result_int());
    if (status < 200 || status > 299 || parser_->is_done()) {  // an error's body is read whole, as ever
      parser_->body_limit(transport_->max_response_bytes());
      return read_rest();
    }
    parser_->get().body().limit = std::numeric_limits<std::uint64_t>::max();
    reusable_ = false;  // a stream ends with its connection
    streamed_ = true;
    ctx_.stream->resume = [weak = weak_from_this()] {
      if (auto self = weak.lock()) asio::post(self->strand_, [self] { self->resume_stream(); });
    };
    try {
      ctx_.stream->on_head(head_of(parser_->get()));
    } catch (...) {
      return finish(std::current_exception());
    }
    read_stream();
  }

  void read_stream() {
    if (ctx_.stream_idle_timeout.count() > 0) arm(Clock::now() + ctx_.stream_idle_timeout);
    auto self = shared_from_this();
    conn_->with_stream([&](auto& stream) {
      http::async_read_some(stream, conn_->buffer, *parser_, on_strand(strand_, [self](error_code ec, std::size_t) {
        self->on_stream_data(ec);
      }));
    });
  }

  void on_stream_data(error_code ec) {
    if (finished_) return;
    auto& body = parser_->get().body();
    if (!body.data.empty() && !abort_error_) {
      try {
        ctx_.stream->on_data(body.data.data(), body.data.size());
      } catch (...) {
        return finish(std::current_exception());
      }
      body.data.clear();
    }
    if (abort_error_) return finish(abort_error_);
    if (ec) return finish(classify_io_error(ec, "reading the stream"));
    if (parser_->is_done()) return finish(nullptr, head_of(parser_->get()));
    if (!ctx_.stream->ready()) {  // the consumer is behind: leave the socket unread until resume
      paused_ = true;
      paused_self_ = shared_from_this();  // no pending read holds it meanwhile
      if (deadline_key_) transport_->deadlines().remove(*deadline_key_);
      deadline_key_.reset();
      return;
    }
    read_stream();
  }

  void resume_stream() {
    auto keep = std::move(paused_self_);
    if (finished_ || !paused_) return;
    paused_ = false;
    if (abort_error_) return finish(abort_error_);
    read_stream();
  }

  void on_read(error_code ec) {
    if (finished_) return;
    if (abort_error_) return finish(abort_error_);
    if (ec && reused_ && !parser_->got_some() && conn_->buffer.size() == 0) return stale();
    if (ec) return finish(classify_io_error(ec, parser_->got_some() ? "reading the response" : "waiting for the response"));
    auto res = parser_->release();
    reusable_ = res.keep_alive();
    HttpResponse out = head_of(res);
    out.body = std::move(res.body().data);
    finish(nullptr, std::move(out));
  }

  // A reused keep-alive connection turned out closed by the server before it answered
  // anything: resend once on a fresh connection when that is safe.
  void stale() {
    if (!retry_safe_)
      return finish(transport_error(ErrorType::kConnection, "connection_reset",
                                    "the server closed a kept-alive connection", true));
    conn_.reset();
    reused_ = false;
    connect();
  }

  static std::exception_ptr classify_io_error(const error_code& ec, const std::string& phase) {
    if (ec == http::error::body_limit || ec == http::error::header_limit || ec == http::error::buffer_overflow)
      return transport_error(ErrorType::kProtocol, "response_too_large", "response too large while " + phase, false);
    if (ec == http::error::partial_message || ec == ssl::error::stream_truncated)
      return transport_error(ErrorType::kProtocol, "truncated_response", "response truncated while " + phase, true);
    if (ec.category() == http::make_error_code(http::error::bad_version).category())
      return transport_error(ErrorType::kProtocol, "malformed_response",
                             "malformed HTTP response while " + phase + ": " + ec.message(), true);
    if (ec == http::error::end_of_stream || ec == asio::error::eof)
      return transport_error(ErrorType::kConnection, "connection_closed", "connection closed while " + phase, true);
    return transport_error(ErrorType::kConnection, "connection_reset",
                           "connection failed while " + phase + ": " + ec.message(), true);
  }

  // --- deadline, abort, completion ---

  // Sets the attempt's deadline (in the transport's deadline set; see Deadlines).
  void arm(Clock::time_point at) {
    if (deadline_key_ && deadline_key_->first == at) return;  // already that instant
    if (deadline_key_) transport_->deadlines().remove(*deadline_key_);
    deadline_key_ = transport_->deadlines().add(at, weak_from_this());
  }

 public:
  // On the strand, from Deadlines: the deadline set by the last arm() has passed.
  void on_deadline(Clock::time_point at) {
    if (finished_ || !deadline_key_ || deadline_key_->first != at) return;
    deadline_key_.reset();
    abort(timeout_error());
  }

 private:
  std::exception_ptr timeout_error() const {
    const Endpoint& hop = transport_->proxy() ? *transport_->proxy() : target_;
    switch (phase_) {
      case Phase::kQueued:
        return transport_error(ErrorType::kTimeout, "timeout", "timed out waiting for a free connection to " + target_.authority(), true);
      case Phase::kResolving:
        return transport_error(ErrorType::kTimeout, "timeout", "timed out resolving " + hop.host, true);
      case Phase::kConnecting:
        return transport_error(ErrorType::kTimeout, "connect_timeout", "timed out connecting to " + hop.authority(), true);
      case Phase::kTunnel:
        return transport_error(ErrorType::kTimeout, "proxy_timeout", "timed out opening a tunnel through the proxy", true);
      case Phase::kHandshake:
        return transport_error(ErrorType::kTimeout, "tls_timeout", "timed out in the TLS handshake with " + target_.host, true);
      case Phase::kWrite:
        return transport_error(ErrorType::kTimeout, "timeout", "timed out sending the request", true);
      default:
        if (streamed_)
          return transport_error(ErrorType::kTimeout, "stream_idle",
                                 "no byte on the stream for " + std::to_string(ctx_.stream_idle_timeout.count()) + " ms",
                                 true);
        return transport_error(ErrorType::kTimeout, "timeout",
                               parser_ && parser_->got_some() ? "timed out reading the response"
                                                              : "timed out waiting for the response", true);
    }
  }

  // On the strand: a timeout or a cancel. Closing the socket ends the pending operation,
  // whose handler then reports error.
  void abort(std::exception_ptr error) {
    if (finished_ || abort_error_) return;
    abort_error_ = std::move(error);
    switch (phase_) {
      case Phase::kQueued:
        // Not found: a release already handed this attempt a slot; on_slot() will finish it.
        if (transport_->dequeue(key_, this)) finish(abort_error_);
        return;
      case Phase::kResolving:
      case Phase::kStart:
        return finish(abort_error_);
      default:
        if (conn_) {
          error_code ignored;
          conn_->lowest().close(ignored);
        }
        if (paused_) finish(abort_error_);  // a paused stream has no pending read to report it
        return;
    }
  }

  void finish(std::exception_ptr error, HttpResponse response = {}) {
    if (finished_) return;
    finished_ = true;
    phase_ = Phase::kDone;
    auto keep = std::move(paused_self_);
    if (deadline_key_) transport_->deadlines().remove(*deadline_key_);
    deadline_key_.reset();
    if (rare_ && rare_->resolver) rare_->resolver->cancel();
    if (ctx_.cancel && cancel_id_) ctx_.cancel->remove_callback(cancel_id_);
    if (has_slot_) {
      has_slot_ = false;
      if (!reusable_) conn_.reset();
      transport_->release(key_, std::move(conn_));
    }
    auto done = std::move(done_);
    if (done) done(error, std::move(response));
  }

  std::shared_ptr<BeastTransport> transport_;
  asio::io_context& io_;
  Strand strand_;
  // What only some attempts need (a name to resolve, a proxy tunnel), apart: an Op small
  // enough for the allocator's per-thread cache is cheaper to make and free.
  struct Rare {
    std::optional<tcp::resolver> resolver;
    std::optional<http::request<http::empty_body>> connect_req;
    std::optional<http::response_parser<http::empty_body>> connect_parser;
  };
  Rare& rare() {
    if (!rare_) rare_ = std::make_unique<Rare>();
    return *rare_;
  }
  std::unique_ptr<Rare> rare_;
  std::optional<Deadlines::Key> deadline_key_;
  // What prepare() kept of the request: a shared or produced body.
  struct Body {
    std::shared_ptr<const std::string> shared_body;
    std::function<std::size_t(std::int64_t, char*, std::size_t)> body_reader;
    std::int64_t body_length = 0;
  } request_;
  std::exception_ptr prepare_error_;
  bool retry_safe_ = false;
  bool head_ = false;
  AttemptContext ctx_;
  Transport::Completion done_;
  Endpoint target_;
  std::string key_;
  std::string wire_;
  std::unique_ptr<char[]> piece_;  // write_produced's buffer, while it writes
  std::unique_ptr<Connection> conn_;
  std::optional<http::response_parser<BoundedStringBody>> parser_;
  Phase phase_ = Phase::kStart;
  std::exception_ptr abort_error_;
  std::uint64_t cancel_id_ = 0;
  bool finished_ = false;
  bool has_slot_ = false;
  bool reused_ = false;
  bool reusable_ = false;
  bool streamed_ = false;
  bool paused_ = false;  // a stream whose consumer is behind (ResponseStream::ready)
  std::shared_ptr<void> paused_self_;  // this, while paused
};

Deadlines::Key Deadlines::add(Clock::time_point at, std::weak_ptr<Op> op) {
  Key key;
  std::shared_ptr<internal::Timer> old;
  std::uint64_t gen = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    key = {at, next_id_++};
    entries_.emplace(key, std::move(op));
    if (!armed_ || at < *armed_) {  // rare: a new earliest deadline
      armed_ = at;
      gen = ++gen_;
      old = std::move(timer_);
    }
  }
  if (old) old->cancel();
  if (gen) start_timer(at, gen);
  return key;
}

void Deadlines::start_timer(Clock::time_point at, std::uint64_t gen) {
  auto rt = runtime_.lock();
  if (!rt) return;
  auto timer = rt->schedule(at, [self = shared_from_this(), gen](bool fired) {
    if (fired) self->on_timer(gen);
  });
  bool stale;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stale = gen != gen_;
    if (!stale) timer_ = timer;
  }
  if (stale) timer->cancel();
}

void Deadlines::on_timer(std::uint64_t gen) {
  std::vector<std::pair<Clock::time_point, std::weak_ptr<Op>>> expired;
  std::optional<Clock::time_point> next;
  std::uint64_t next_gen = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (gen != gen_) return;  // superseded by an earlier deadline
    timer_.reset();
    auto now = Clock::now();
    auto it = entries_.begin();
    for (; it != entries_.end() && it->first.first <= now; ++it) expired.emplace_back(it->first.first, it->second);
    entries_.erase(entries_.begin(), it);
    armed_.reset();
    if (it != entries_.end()) {
      next = it->first.first;
      armed_ = next;
      next_gen = ++gen_;
    }
  }
  for (auto& [at, weak] : expired)
    if (auto op = weak.lock()) asio::post(op->strand(), [op, at = at] { op->on_deadline(at); });
  if (next_gen) start_timer(*next, next_gen);
}

void BeastTransport::send_async(HttpRequest request, AttemptContext ctx, Completion done) {
  send_in_place(request, std::move(ctx), std::move(done));
}

void BeastTransport::send_in_place(const HttpRequest& request, AttemptContext ctx, Completion done) {
  if (runtime_->stopping()) return done(cancelled_error(), {});
  bool local = runtime_->in_sync_loop();
  auto& io = internal::io_context_here(*runtime_);
  auto op = std::make_shared<Op>(shared_from_this(), io, local ? internal::current_sync_strand() : asio::make_strand(io),
                                std::move(ctx), std::move(done));
  op->prepare(request);
  // From an I/O thread (the pipeline) this starts at once: a post would cost a scheduler round
  // trip, often a wake-up of the other I/O thread. From any other thread it is a post. On a
  // sync loop's thread it starts at once too, even outside the loop's run (the waiter starting
  // its call): only that thread runs the loop, so nothing of this attempt can run meanwhile.
  if (local) return op->start();
  asio::dispatch(op->strand(), [op] { op->start(); });
}

BeastTransport::Slot BeastTransport::acquire(const std::string& key, const std::shared_ptr<Op>& op,
                                             std::unique_ptr<Connection>& conn) {
  std::vector<std::unique_ptr<Connection>> expired;  // closed outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  auto& pool = pools_[key];
  auto now = Clock::now();
  for (auto it = pool.idle.begin(); it != pool.idle.end();) {
    if (now - (*it)->idle_since < kMaxIdle) {
      ++it;
    } else {
      expired.push_back(std::move(*it));
      it = pool.idle.erase(it);
    }
  }
  // The most recently used idle connection of the attempt's io_context (the I/O threads' or
  // the sync loop's: a socket belongs to one). The cap counts every connection, busy or idle,
  // of either; an idle one of the other io_context gives way to a new one when at the cap.
  for (auto it = pool.idle.rbegin(); it != pool.idle.rend(); ++it) {
    if ((*it)->io != &op->io()) continue;
    conn = std::move(*it);
    pool.idle.erase(std::next(it).base());
    ++pool.busy;
    return Slot::kIdle;
  }
  if (pool.busy + pool.idle.size() < max_per_host_) {
    ++pool.busy;
    return Slot::kNew;
  }
  if (!pool.idle.empty()) {
    expired.push_back(std::move(pool.idle.front()));
    pool.idle.erase(pool.idle.begin());
    ++pool.busy;
    return Slot::kNew;
  }
  if (pool.waiting.size() >= max_queued_) return Slot::kFull;
  pool.waiting.push_back(op);
  return Slot::kQueued;
}

void BeastTransport::release(const std::string& key, std::unique_ptr<Connection> conn) {
  std::shared_ptr<Op> next;
  std::unique_ptr<Connection> other;  // closed outside the lock
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& pool = pools_[key];
    if (!pool.waiting.empty()) {
      next = std::move(pool.waiting.front());
      pool.waiting.pop_front();
      if (conn && conn->io != &next->io()) other = std::move(conn);  // the waiter gets the slot only
    } else {
      --pool.busy;
      if (conn) {
        conn->idle_since = Clock::now();
        pool.idle.push_back(std::move(conn));
      }
      return;
    }
  }
  // The slot (and the connection, if any) moves to the first waiter, on its strand.
  asio::post(next->strand(), [next, c = std::move(conn)]() mutable { next->on_slot(std::move(c)); });
}

bool BeastTransport::dequeue(const std::string& key, const Op* op) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& waiting = pools_[key].waiting;
  auto it = std::find_if(waiting.begin(), waiting.end(), [op](const auto& w) { return w.get() == op; });
  if (it == waiting.end()) return false;
  waiting.erase(it);
  return true;
}

}  // namespace

namespace internal {
std::shared_ptr<Transport> make_beast_transport(const ClientOptions& options, std::shared_ptr<Runtime> rt) {
  return std::make_shared<BeastTransport>(options, std::move(rt));
}
}  // namespace internal

std::shared_ptr<Transport> make_default_transport(const ClientOptions& options) {
  return internal::make_beast_transport(options, internal::Runtime::global());
}

}  // namespace hues
