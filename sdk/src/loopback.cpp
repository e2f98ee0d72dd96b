// The loopback listener for a native app's sign-in redirect (RFC 8252 §7.3), on the runtime's
// I/O threads: an Asio acceptor on a strand, the wait's timeout on a runtime timer (so
// shutdown ends it), a cancel at once. Waiting holds no thread.
#include "hues/identity.h"

#include <fcntl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <optional>
#include <sstream>

#include "internal/once.h"
#include "internal/runtime_asio.h"

namespace hues {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t kMaxHead = 16384;
constexpr auto kReadTimeout = std::chrono::seconds(5);  // a browser that connects and says nothing

std::exception_ptr closed_error() {
  return internal::make_error(ErrorType::kCancelled, "the loopback receiver was closed", "cancelled");
}

}  // namespace

struct LoopbackReceiver::Impl : std::enable_shared_from_this<LoopbackReceiver::Impl> {
  using Strand = asio::strand<asio::io_context::executor_type>;

  // One wait: the connections it reads one after another until the browser's GET /callback.
  struct Wait {
    explicit Wait(const Strand& s) : conn(s), read_timer(s) {}
    std::shared_ptr<internal::Once<std::string>> once;
    std::shared_ptr<internal::Timer> deadline;
    tcp::socket conn;
    asio::steady_timer read_timer;
    bool reading = false;
    bool accepting = false;  // an async_accept into conn is pending
    std::string head;
    std::array<char, 2048> buf{};
    std::string response;
  };

  std::shared_ptr<internal::Runtime> rt;
  Strand strand;
  tcp::acceptor acceptor;  // like everything below, used on the strand only (after the constructor)
  int port = 0;
  std::shared_ptr<Wait> current;
  // A connection accepted for a wait that had just ended (a cancel or timeout raced the
  // accept): kept for the next wait rather than closed, which would reset a browser's redirect.
  std::optional<tcp::socket> handover;
  bool closed = false;

  explicit Impl(std::shared_ptr<internal::Runtime> r)
      : rt(std::move(r)), strand(asio::make_strand(internal::io_context(*rt))), acceptor(strand) {
    boost::system::error_code ec;
    // Loopback only: no other host can answer the redirect.
    tcp::endpoint local(asio::ip::address_v4::loopback(), 0);
    acceptor.open(local.protocol(), ec);
    if (!ec) ::fcntl(acceptor.native_handle(), F_SETFD, FD_CLOEXEC);
    if (!ec) acceptor.bind(local, ec);
    if (!ec) acceptor.listen(8, ec);
    if (!ec) port = acceptor.local_endpoint(ec).port();
    if (ec) throw_error(ErrorType::kConnection, "cannot listen on 127.0.0.1 for the sign-in redirect", 0, "loopback_failed");
  }

  void begin(const std::shared_ptr<internal::Once<std::string>>& once, std::int64_t timeout_ms) {
    if (closed) return once->fail(closed_error());
    if (current && current->once->finished()) end(current);  // its end is still queued
    if (current)
      return once->fail(internal::make_error(ErrorType::kValidation, "this receiver is already waiting for a redirect",
                                             "wait_in_progress"));
    auto w = std::make_shared<Wait>(strand);
    w->once = once;
    w->deadline = rt->schedule(std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max<std::int64_t>(0, timeout_ms)),
                               [once](bool fired) {
                                 if (fired)
                                   once->fail(internal::make_error(ErrorType::kTimeout,
                                                                   "no sign-in redirect arrived in time", "timeout"));
                                 else  // the runtime is shutting down (or the wait already ended)
                                   once->fail(internal::make_error(ErrorType::kCancelled, "the SDK is shutting down",
                                                                   "cancelled"));
                               });
    current = w;
    auto self = shared_from_this();
    once->on_finish([self, w] { asio::post(self->strand, [self, w] { self->end(w); }); });
    accept(w);
  }

  // The wait is over (result, timeout, cancel or close): stop what it still runs.
  void end(const std::shared_ptr<Wait>& w) {
    boost::system::error_code ec;
    w->deadline->cancel();
    w->read_timer.cancel();
    if (!w->accepting) w->conn.close(ec);  // an accept in flight may still bring a connection: keep it
    if (current == w) {
      acceptor.cancel(ec);  // the pending accept is this wait's
      current.reset();
    }
  }

  void accept(const std::shared_ptr<Wait>& w) {
    auto self = shared_from_this();
    if (handover) {  // a connection that arrived for the wait before this one
      w->conn = std::move(*handover);
      handover.reset();
      return asio::post(strand, [self, w] { self->on_accepted(w, {}); });
    }
    w->accepting = true;
    acceptor.async_accept(w->conn, [self, w](const boost::system::error_code& ec) {
      w->accepting = false;
      self->on_accepted(w, ec);
    });
  }

  void on_accepted(const std::shared_ptr<Wait>& w, const boost::system::error_code& ec) {
    auto self = shared_from_this();
    if (w->once->finished()) {
      if (!ec && !closed && w->conn.is_open()) {
        handover.emplace(std::move(w->conn));
        // The next wait may have started accepting before this completion ran (the browser
        // connected between a wait's end and its acceptor.cancel()): end that accept, so the
        // wait takes this connection instead of waiting on the backlog while it hangs here.
        boost::system::error_code ignored;
        if (current && current != w && current->accepting) acceptor.cancel(ignored);
      }
      return;
    }
    if (ec == asio::error::operation_aborted && handover && !closed) return accept(w);  // see above
    if (ec)
      return w->once->fail(internal::make_error(ErrorType::kConnection,
                                                "the sign-in redirect listener failed: " + ec.message(),
                                                "loopback_failed"));
    ::fcntl(w->conn.native_handle(), F_SETFD, FD_CLOEXEC);
    w->head.clear();
    w->reading = true;
    w->read_timer.expires_after(kReadTimeout);
    w->read_timer.async_wait([w](const boost::system::error_code& tec) {
      boost::system::error_code ignored;
      if (!tec && w->reading) w->conn.cancel(ignored);  // answer what arrived so far
    });
    self->read(w);
  }

  void read(const std::shared_ptr<Wait>& w) {
    auto self = shared_from_this();
    w->conn.async_read_some(asio::buffer(w->buf), [self, w](const boost::system::error_code& ec, std::size_t n) {
      if (w->once->finished()) return;
      if (!ec) {
        w->head.append(w->buf.data(), n);
        if (w->head.find("\r\n\r\n") == std::string::npos && w->head.size() < kMaxHead) return self->read(w);
      }
      self->respond(w);
    });
  }

  // Only the browser's GET of /callback... ends the wait; anything else gets a 404 and the
  // wait goes on with the next connection.
  void respond(const std::shared_ptr<Wait>& w) {
    w->reading = false;
    w->read_timer.cancel();
    std::istringstream line(w->head.substr(0, w->head.find("\r\n")));
    std::string method, target;
    line >> method >> target;
    bool ours = method == "GET" && target.rfind("/callback", 0) == 0;
    std::string page = ours ? "<!doctype html><meta charset=utf-8><title>Hue-S</title>"
                              "<p>Đăng nhập xong, bạn có thể đóng cửa sổ này. Signed in: you can close this window.</p>"
                            : "not found";
    w->response = std::string(ours ? "HTTP/1.1 200 OK" : "HTTP/1.1 404 Not Found") +
                  "\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\nConnection: close"
                  "\r\nContent-Length: " + std::to_string(page.size()) + "\r\n\r\n" + page;
    std::string url = ours ? "http://127.0.0.1:" + std::to_string(port) + target : std::string();
    auto self = shared_from_this();
    asio::async_write(w->conn, asio::buffer(w->response),
                      [self, w, url](const boost::system::error_code&, std::size_t) {
                        boost::system::error_code ignored;
                        w->conn.shutdown(tcp::socket::shutdown_both, ignored);
                        w->conn.close(ignored);
                        if (w->once->finished()) return;
                        if (!url.empty()) return (*w->once)(nullptr, url);
                        self->accept(w);
                      });
  }

  void close() {
    closed = true;
    if (current) current->once->fail(closed_error());
    boost::system::error_code ec;
    acceptor.close(ec);
    handover.reset();
  }
};

LoopbackReceiver::LoopbackReceiver() : impl_(std::make_shared<Impl>(internal::Runtime::global())) {}

LoopbackReceiver::~LoopbackReceiver() {
  auto impl = impl_;
  asio::post(impl->strand, [impl] { impl->close(); });
}

std::string LoopbackReceiver::redirect_uri() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port) + "/callback";
}

void LoopbackReceiver::wait_async(std::int64_t timeout_ms, Async<std::string> done, const CallOptions& options) {
  auto impl = impl_;
  auto once = internal::Once<std::string>::make(impl->rt, std::move(done), options);
  if (impl->rt->stopping()) return once->fail(internal::make_error(ErrorType::kCancelled, "the SDK is shut down", "cancelled"));
  asio::post(impl->strand, [impl, once, timeout_ms] { impl->begin(once, timeout_ms); });
}

std::string LoopbackReceiver::wait(std::int64_t timeout_ms) {
  return internal::wait_for<std::string>([&](auto done) { wait_async(timeout_ms, done); });
}

}  // namespace hues
