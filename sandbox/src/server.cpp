#include "server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <openssl/ssl.h>

#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "api.h"
#include "certs.h"
#include "events.h"
#include "oidc.h"
#include "store.h"
#include "uploads.h"
#include "util.h"
#include "webhooks.h"

namespace hues::sandbox {
namespace {

namespace fs = std::filesystem;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

// A streamed request body (a tus PATCH) may take as long as it needs, but not stall longer.
constexpr auto kBodyStallTimeout = std::chrono::seconds(30);
// The memory a streamed body holds at once: a PATCH's, or a response's read from a file.
constexpr std::size_t kBodyPieceSize = 256 * 1024;
// An event stream: a comment after this long without bytes (proxies drop silent
// connections), and a look at the store after this long without a wake (a safety net: each
// commit wakes the streams).
constexpr auto kHeartbeat = std::chrono::seconds(15);
constexpr auto kEventsFallbackPoll = std::chrono::seconds(5);
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
// At stop(), how long open event streams get to send their last chunk (a client that does
// not read may never take it: then its connection is cut).
constexpr auto kStreamsCloseTimeout = std::chrono::seconds(2);

// A connection as the cap sees it: while it waits for a request (a TLS handshake, the first
// byte of the next request) it sits in its io_context's idle list, and may be shed.
struct Conn {
  Conn* prev = nullptr;
  Conn* next = nullptr;
  bool listed = false;
  virtual void shed() = 0;  // closes the socket; the pending read then ends the session
 protected:
  ~Conn() = default;
};

// One io_context's waiting connections, longest-waiting first. Only that io_context's thread
// touches the list; size is read by the acceptor to pick where to shed.
struct IdleList {
  Conn* head = nullptr;
  Conn* tail = nullptr;
  std::atomic<int> size{0};
  void push(Conn* c) {
    if (c->listed) return;
    c->prev = tail;
    c->next = nullptr;
    (tail ? tail->next : head) = c;
    tail = c;
    c->listed = true;
    size.fetch_add(1, std::memory_order_relaxed);
  }
  void remove(Conn* c) {
    if (!c->listed) return;
    (c->prev ? c->prev->next : head) = c->next;
    (c->next ? c->next->prev : tail) = c->prev;
    c->listed = false;
    size.fetch_sub(1, std::memory_order_relaxed);
  }
  void shed_oldest() {
    if (Conn* c = head) {
      remove(c);
      c->shed();
    }
  }
};

// What every session of a server shares about the connection cap.
struct Connections {
  int cap = 0, high_water = 0;  // at cap accepting waits; from high_water each accept sheds one
  std::chrono::milliseconds idle_timeout{30000}, header_timeout{10000};
  std::chrono::milliseconds write_timeout{30000};  // each write of a response (a piece, for a streamed one)
  std::atomic<int> open{0};
  std::atomic<bool> stopping{false}, paused{false};
  std::vector<std::unique_ptr<IdleList>> idle;  // by io_context
  std::vector<net::io_context*> iocs;
  std::function<void()> released;  // a connection closed (runs on its thread)

  // Closes the longest-waiting connection of the io_context holding the most.
  void shed_one() {
    std::size_t best = 0;
    int most = 0;
    for (std::size_t i = 0; i < idle.size(); ++i)
      if (int n = idle[i]->size.load(std::memory_order_relaxed); n > most) most = n, best = i;
    if (most > 0) net::post(*iocs[best], [list = idle[best].get()] { list->shed_oldest(); });
  }
};
constexpr auto kShutdownTimeout = std::chrono::seconds(5);

// One HTTP/1.1 connection: read a request, answer it, repeat while keep-alive holds.
// Derived supplies stream() and do_eof() for plain TCP or TLS (Beast's "flex" pattern).
template <class Derived>
class Session : public Conn {
 public:
  Session(Api& api, const std::string& issuer, std::string client, Connections& conns, IdleList& idle)
      : api_(api), issuer_(issuer), client_(std::move(client)), conns_(conns), idle_(idle) {}
  ~Session() {
    if (waiter_) events_->hub().remove_waiter(waiter_);
    idle_.remove(this);
    conns_.open.fetch_sub(1);
    if (!conns_.stopping) conns_.released();
  }

  Derived& self() { return static_cast<Derived&>(*this); }
  void shed() override {
    beast::error_code ec;
    beast::get_lowest_layer(self().stream()).socket().close(ec);
  }

  // Between requests the connection is idle (sheddable, idle timeout) until bytes arrive;
  // from then the whole header must come within the header timeout.
  void do_read() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    // The largest limit (a streamed PATCH, up to the largest upload): Beast checks
    // Content-Length against it in the header; on_header narrows it for everything else.
    parser_->body_limit(max_upload_size());
    if (buffer_.size() > 0) return read_header();  // pipelined: the next request is here
    idle_.push(this);
    beast::get_lowest_layer(self().stream()).expires_after(conns_.idle_timeout);
    self().stream().async_read_some(buffer_.prepare(kReadSize), [self = self().shared_from_this()](beast::error_code ec, std::size_t n) {
      self->idle_.remove(self.get());
      if (ec) return;  // closed, shed, timed out or reset
      self->buffer_.commit(n);
      self->read_header();
    });
  }

  void read_header() {
    beast::get_lowest_layer(self().stream()).expires_after(conns_.header_timeout);
    http::async_read_header(self().stream(), buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_header, self().shared_from_this()));
  }

  // The header decides the rest: over-limit bodies fail here, before the client sends them,
  // and a client that sent "Expect: 100-continue" is told to go on.
  void on_header(beast::error_code ec, std::size_t) {
    if (!ec) {
      std::string reason;
      if (const int status = Api::framing_error(parser_->get(), reason)) {
        api_.reject(status, reason, &parser_->get(), res_);
        return write();
      }
    }
    if (!ec && !is_upload_target(parser_->get().target())) {  // JSON and forms: 1 MiB (tus: 8 MiB POSTs, streamed PATCHes)
      if (const auto length = parser_->content_length(); length && *length > kJsonBodyLimit) {
        api_.reject(413, "the request body exceeds 1 MiB", &parser_->get(), res_);
        return write();
      }
      parser_->body_limit(kJsonBodyLimit);  // what a chunked body may still bring
    } else if (!ec && !Api::streams_body(parser_->get())) {  // a creation-with-upload POST: read whole
      if (const auto length = parser_->content_length(); length && *length > kUploadChunkLimit) {
        api_.reject(413, "a creation-with-upload body exceeds 8 MiB: send the rest with PATCH", &parser_->get(), res_);
        return write();
      }
      parser_->body_limit(kUploadChunkLimit);
    }
    if (ec || parser_->is_done()) return on_read(ec, 0);
    if (Api::streams_body(parser_->get())) return begin_streamed_body();
    if (!api_.admits_body(parser_->get(), res_, issuer_, client_)) return write();  // no 8 MiB for strangers
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
      continue_.emplace(http::status::continue_, 11);
      return http::async_write(self().stream(), *continue_, [self = self().shared_from_this()](beast::error_code e, std::size_t) {
        if (!e) self->read_body();
      });
    }
    read_body();
  }

  void read_body() {
    http::async_read(self().stream(), buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, self().shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) return self().do_eof();
    if (ec == http::error::body_limit) {
      const auto& h = parser_->get();
      api_.reject(413, !is_upload_target(h.target())       ? "the request body exceeds 1 MiB"
                       : h.method() == http::verb::patch ? "the request body exceeds the largest upload (Tus-Max-Size)"
                                                         : "a creation-with-upload body exceeds 8 MiB: send the rest with PATCH",
                  &parser_->get(), res_);
      return write();
    }
    if (ec == http::error::header_limit) {
      // Beast keeps the request line once it is whole: 414 when it never was or its target
      // is over the limit, else the fields are to blame (431).
      const auto target_size = parser_->get().target().size();
      const bool long_target = target_size == 0 || target_size > kTargetLimit;
      api_.reject(long_target ? 414 : 431,
                  long_target ? "the request target exceeds 8 KiB" : "the request header section exceeds 16 KiB",
                  nullptr, res_);
      return write();
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::partial_message) {
      api_.reject(400, ec.message(), nullptr, res_);
      return write();
    }
    if (ec) return;  // timeout, reset or TLS failure: dropping the session closes the socket
    if (Api::is_event_stream(parser_->get())) return open_events();
    api_.handle(parser_->get(), res_, issuer_, client_);
    write();
  }

  // ---- a request body streamed in pieces (a tus PATCH: up to the upload's length) ----

  void begin_streamed_body() {
    streamed_ = api_.begin_body(parser_->get(), res_, issuer_);
    // Refused at the header (401, 404, 409, 413...): answered at once, the body unread, or
    // (a small body of a known caller) answered once the body is read and dropped.
    if (!streamed_ && !res_.keep_alive()) return write();
    const bool expect_continue = beast::iequals(parser_->get()[http::field::expect], "100-continue");
    body_parser_.emplace(std::move(*parser_));  // the header is read: the body goes to a buffer_body
    parser_.reset();
    body_parser_->body_limit(boost::none);  // the upload's own length bounds it (UploadPatch::write)
    if (piece_.size() != kBodyPieceSize) piece_.resize(kBodyPieceSize);
    if (!expect_continue) return read_piece();
    if (!streamed_) {  // refused before its 100-continue: the client may still send the body, unframed for us
      res_.keep_alive(false);
      body_parser_.reset();
      return write();
    }
    continue_.emplace(http::status::continue_, 11);
    http::async_write(self().stream(), *continue_, [self = self().shared_from_this()](beast::error_code e, std::size_t) {
      if (e) return self->end_streamed_body(false);
      self->read_piece();
    });
  }

  void read_piece() {
    auto& body = body_parser_->get().body();
    body.data = piece_.data();
    body.size = piece_.size();
    beast::get_lowest_layer(self().stream()).expires_after(kBodyStallTimeout);
    http::async_read(self().stream(), buffer_, *body_parser_,
                     beast::bind_front_handler(&Session::on_piece, self().shared_from_this()));
  }

  void on_piece(beast::error_code ec, std::size_t) {
    const std::size_t got = piece_.size() - body_parser_->get().body().size;
    if (ec == http::error::need_buffer) ec = {};  // the piece is full
    if (!streamed_) {  // dropping the body of a refused request; res_ is its answer
      if (ec) return;
      if (!body_parser_->is_done()) return read_piece();
      end_streamed_body(false);
      return write();
    }
    if (got > 0 && !api_.body_piece(*streamed_, std::string_view(piece_.data(), got), res_)) {
      end_streamed_body(false);  // refused (413 past Upload-Length): answer, then close
      return write();
    }
    if (ec) return end_streamed_body(false);  // dropped, reset or stalled: keep what came; the socket closes
    if (!body_parser_->is_done()) return read_piece();
    end_streamed_body(true);
    write();
  }

  void end_streamed_body(bool complete) {
    if (streamed_) api_.end_body(*streamed_, complete, res_);
    streamed_.reset();
    body_parser_.reset();
    std::vector<char>().swap(piece_);  // a keep-alive connection holds no piece buffer between uploads
  }

  // ---- GET /v1/events: Server-Sent Events until the client leaves ----
  // The stream has the connection to itself (no keep-alive after it). One read stays
  // pending to see the client close; writes go one at a time: a batch of events, or a
  // heartbeat comment; between them the stream waits on a timer that the hub's wake cancels.

  void open_events() {
    events_ = api_.open_events(parser_->get(), res_, issuer_);
    if (!events_) return write();
    events_chunked_ = parser_->get().version() >= 11;
    events_res_.emplace(res_.base());
    if (events_chunked_) events_res_->chunked(true);
    else events_res_->keep_alive(false);  // HTTP/1.0: the stream ends when the connection does
    events_sr_.emplace(*events_res_);
    events_timer_.emplace(self().stream().get_executor());
    // Wakes come from the writer's thread; each one is posted to this connection's own.
    waiter_ = events_->hub().add_waiter(
        [weak = std::weak_ptr<Derived>(self().shared_from_this()), ex = self().stream().get_executor()] {
          net::post(ex, [weak] {
            if (auto s = weak.lock()) s->events_wake();
          });
        });
    beast::get_lowest_layer(self().stream()).expires_after(conns_.write_timeout);
    http::async_write_header(self().stream(), *events_sr_, [self = self().shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->events_end();
      self->events_watch();
      self->events_send(Api::event_stream_preamble());
    });
  }

  // The client sends nothing on an event stream: a read that ends means it left.
  void events_watch() {
    auto& lowest = beast::get_lowest_layer(self().stream());
    lowest.expires_never();
    watch_buf_.resize(512);
    self().stream().async_read_some(net::buffer(watch_buf_), [self = self().shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec && self->events_finishing_) {  // cancelled by events_finish: close as after a last response
        self->do_eof();  // FIN, or close_notify (written as the shutdown starts)
        return self->events_release();
      }
      if (ec) return self->events_end();
      self->events_watch();  // bytes from a client that should send none: ignored
    });
  }

  void events_send(std::string text) {
    if (events_closed_) return;
    events_out_.clear();
    if (events_chunked_) {
      char size[20];
      std::snprintf(size, sizeof size, "%zx\r\n", text.size());
      events_out_ = size;
    }
    events_out_ += text;
    if (events_chunked_) events_out_ += "\r\n";
    last_sent_ = std::chrono::steady_clock::now();
    beast::get_lowest_layer(self().stream()).expires_after(conns_.write_timeout);  // the pending read keeps no deadline
    net::async_write(self().stream(), net::buffer(events_out_), [self = self().shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->events_end();
      self->events_pump();
    });
  }

  // Sends what was committed since the position, batch by batch, then waits.
  void events_pump() {
    if (events_closed_) return;
    if (events_->hub().closing()) return events_finish();
    std::string text;
    bool more = false;
    try {
      if (!api_.events_authorized(*events_)) return events_end();  // revoked or expired meanwhile
      text = events_->next(more);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "hues-sandbox: event stream failed: %s\n", e.what());
      return events_end();
    }
    if (!text.empty()) return events_send(std::move(text));
    if (more) {  // a batch of rows this caller may not see: go on, letting other work run between
      return net::post(self().stream().get_executor(), [self = self().shared_from_this()] { self->events_pump(); });
    }
    events_wait();
  }

  void events_wait() {
    if (events_->hub().closing()) return events_finish();
    if (events_->hub().latest() > events_->position()) return events_pump();  // committed meanwhile
    const auto now = std::chrono::steady_clock::now();
    const auto heartbeat_at = last_sent_ + kHeartbeat;
    if (now >= heartbeat_at) return events_send(": heartbeat\n\n");
    events_waiting_ = true;
    events_timer_->expires_after(std::min<std::chrono::steady_clock::duration>(heartbeat_at - now, kEventsFallbackPoll));
    events_timer_->async_wait([self = self().shared_from_this()](beast::error_code) {
      self->events_waiting_ = false;
      self->events_wait_over();
    });
  }

  void events_wait_over() {
    if (events_closed_) return;
    if (std::chrono::steady_clock::now() >= last_sent_ + kHeartbeat) return events_send(": heartbeat\n\n");
    events_pump();
  }

  void events_wake() {
    if (events_waiting_ && events_timer_) events_timer_->cancel();
  }

  // The server stops (EventHub::close_all): the last chunk (HTTP/1.1), then the pending read
  // is cancelled and the connection closed as after any last response (FIN, or TLS
  // close_notify), and the hub slot given back: stop() waits for every slot.
  void events_finish() {
    if (events_closed_) return;
    events_closed_ = true;
    if (events_timer_) events_timer_->cancel();
    auto then = [self = self().shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->events_release();  // the socket closes with the session
      self->events_finishing_ = true;
      beast::error_code ignored;
      beast::get_lowest_layer(self->stream()).socket().cancel(ignored);  // the watch then calls do_eof
    };
    if (!events_chunked_) return then({}, 0);
    events_out_ = "0\r\n\r\n";
    beast::get_lowest_layer(self().stream()).expires_after(conns_.write_timeout);
    net::async_write(self().stream(), net::buffer(events_out_), std::move(then));
  }

  void events_release() {
    if (!events_) return;
    if (waiter_) events_->hub().remove_waiter(waiter_);
    waiter_ = 0;
    events_.reset();  // gives the hub slot back
  }

  // The client left or a write failed: close; the session ends with its last handler.
  void events_end() {
    if (events_closed_) return;
    events_closed_ = true;
    if (events_timer_) events_timer_->cancel();
    beast::error_code ignored;
    beast::get_lowest_layer(self().stream()).socket().close(ignored);
  }

  void write() {
    beast::get_lowest_layer(self().stream()).expires_after(conns_.write_timeout);
    if (res_.file) return write_file_header();
    http::async_write(self().stream(), res_, beast::bind_front_handler(&Session::on_write, self().shared_from_this()));
  }

  // ---- a response body read from a file (Response::file): any length, one piece in memory ----
  // The header, then the range piece by piece, each write under the write deadline: a reader
  // that takes nothing for that long is dropped (and its file closed with the session).

  void write_file_header() {
    file_ = std::move(res_.file);
    res_.file.reset();
    file_sr_.emplace(res_);
    http::async_write_header(self().stream(), *file_sr_, [self = self().shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->end_file();
      self->write_file_piece();
    });
  }

  void write_file_piece() {
    if (file_->length == 0) {
      end_file();
      return on_write({}, 0);  // keep-alive as for any response
    }
    if (piece_.size() != kBodyPieceSize) piece_.resize(kBodyPieceSize);
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(file_->length, piece_.size()));
    const std::size_t got = file_->file->read_into(file_->offset, piece_.data(), want);
    if (got == 0) {  // the file is shorter than it was: the response cannot be whole, so close
      std::fprintf(stderr, "hues-sandbox: a response's file ended %llu bytes early\n",
                   static_cast<unsigned long long>(file_->length));
      return end_file();
    }
    beast::get_lowest_layer(self().stream()).expires_after(conns_.write_timeout);
    net::async_write(self().stream(), net::buffer(piece_.data(), got),
                     [self = self().shared_from_this()](beast::error_code ec, std::size_t n) {
                       if (ec) return self->end_file();  // gone, reset or stalled: the socket closes with the session
                       self->file_->offset += n;
                       self->file_->length -= n;
                       self->write_file_piece();
                     });
  }

  void end_file() {
    file_.reset();
    file_sr_.reset();
    std::vector<char>().swap(piece_);  // a keep-alive connection holds no piece buffer between responses
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec) return;
    if (res_.need_eof()) return self().do_eof();
    do_read();
  }

 protected:
  Api& api_;
  std::string issuer_;  // of the listener that accepted this connection
  std::string client_;  // the peer's address (IPv6: its /64), for the sign-in limits
  Connections& conns_;
  IdleList& idle_;  // of this connection's io_context
  static constexpr std::size_t kReadSize = 16 * 1024;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  Response res_;
  // A streamed request body (begin_streamed_body) and the one piece buffer it reads into.
  std::unique_ptr<StreamedBody> streamed_;
  std::optional<http::request_parser<http::buffer_body>> body_parser_;
  std::vector<char> piece_;
  // A response body read from a file (write_file_header) through piece_.
  std::optional<FileBody> file_;
  std::optional<http::response_serializer<http::string_body>> file_sr_;
  // An event stream (open_events).
  std::unique_ptr<EventStream> events_;
  std::uint64_t waiter_ = 0;
  std::optional<http::response<http::empty_body>> events_res_;
  std::optional<http::response_serializer<http::empty_body>> events_sr_;
  std::optional<net::steady_timer> events_timer_;
  std::string events_out_, watch_buf_;
  std::chrono::steady_clock::time_point last_sent_{};
  bool events_chunked_ = false, events_waiting_ = false, events_closed_ = false, events_finishing_ = false;
};

class PlainSession : public Session<PlainSession>, public std::enable_shared_from_this<PlainSession> {
 public:
  PlainSession(tcp::socket&& socket, Api& api, const std::string& issuer, std::string client, Connections& conns,
               IdleList& idle)
      : Session(api, issuer, std::move(client), conns, idle), stream_(std::move(socket)) {}
  beast::tcp_stream& stream() { return stream_; }
  void run() { net::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::do_read, shared_from_this())); }
  // FIN after the last response, then drain what the client still sends for a moment:
  // closing with unread bytes would send an RST that can destroy the response in flight.
  void do_eof() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(kShutdownTimeout);
    drain();
  }

 private:
  void drain() {
    stream_.async_read_some(buffer_.prepare(16 * 1024), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->drained_ += n;
      if (!ec && self->drained_ < kMaxDrain) self->drain();
    });
  }
  static constexpr std::size_t kMaxDrain = 8 * 1024 * 1024;
  beast::tcp_stream stream_;
  std::size_t drained_ = 0;
};

class TlsSession : public Session<TlsSession>, public std::enable_shared_from_this<TlsSession> {
 public:
  TlsSession(tcp::socket&& socket, ssl::context& ctx, Api& api, const std::string& issuer, std::string client,
             Connections& conns, IdleList& idle)
      : Session(api, issuer, std::move(client), conns, idle), stream_(std::move(socket), ctx) {}
  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }
  void run() { net::dispatch(stream_.get_executor(), beast::bind_front_handler(&TlsSession::handshake, shared_from_this())); }
  void do_eof() {
    beast::get_lowest_layer(stream_).expires_after(kShutdownTimeout);
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});  // close_notify
  }

 private:
  void handshake() {  // a handshake not yet done counts as idle: it may be shed
    idle_.push(this);
    beast::get_lowest_layer(stream_).expires_after(kHandshakeTimeout);
    stream_.async_handshake(ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
      self->idle_.remove(self.get());
      if (!ec) self->do_read();
    });
  }
  beast::ssl_stream<beast::tcp_stream> stream_;
};

// Whom the sign-in limits count: the address, or for IPv6 its /64 (one host's usual share).
std::string client_key(const tcp::socket& socket) {
  beast::error_code ec;
  auto a = socket.remote_endpoint(ec).address();
  if (ec) return "?";
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6());
  if (!a.is_v6()) return a.to_string();
  auto bytes = a.to_v6().to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return net::ip::address_v6(bytes).to_string() + "/64";
}

// Sets done once ex's queue has been gone round `left` times (each round posts the next).
void after_rounds(net::io_context::executor_type ex, int left, std::shared_ptr<std::promise<void>> done) {
  if (left == 0) return done->set_value();
  net::post(ex, [ex, left, done = std::move(done)]() mutable { after_rounds(ex, left - 1, std::move(done)); });
}

std::string url_host(const std::string& host) {
  if (host == "0.0.0.0") return "127.0.0.1";  // connectable form of "any address"
  if (host == "::") return "[::1]";
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

}  // namespace

struct Server::Impl {
  class Listener;

  ServerConfig cfg;
  bool owns_dir = false;
  CertFiles certs;
  std::unique_ptr<Store> store;
  std::unique_ptr<Oidc> oidc;
  std::unique_ptr<Uploads> uploads;
  std::unique_ptr<Webhooks> webhooks;
  std::unique_ptr<EventHub> events;  // outlives the store, whose commits wake it
  std::unique_ptr<Api> api;
  ssl::context tls{ssl::context::tls_server};
  // One single-threaded io_context per thread: a connection lives on one of them, so no
  // strands or cross-thread locking on the hot path.
  std::vector<std::unique_ptr<net::io_context>> iocs;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
  std::vector<std::shared_ptr<Listener>> listeners;
  std::vector<std::thread> threads;
  std::atomic<std::size_t> next_ioc{0};
  int port = 0, tls_port = -1;
  std::mutex stop_mu;
  bool stopped = false;
  std::optional<net::steady_timer> purge_timer;  // expired sign-in limits, codes, device grants
  Connections conns;  // outlives every session: they leave its lists when destroyed

  void schedule_purge() {
    purge_timer->expires_after(std::chrono::seconds(60));
    purge_timer->async_wait([this](beast::error_code ec) {
      if (ec) return;
      oidc->purge_expired();
      uploads->purge_expired();
      schedule_purge();
    });
  }

  explicit Impl(ServerConfig c) : cfg(std::move(c)) {}
  void start();
  void stop();
};

class Server::Impl::Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(Server::Impl& server, const tcp::endpoint& ep, bool tls)
      : server_(server), acceptor_(*server.iocs[0]), retry_(*server.iocs[0]), tls_(tls) {
    acceptor_.open(ep.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }
  int port() const { return acceptor_.local_endpoint().port(); }
  std::string issuer;  // set once the port is known, before accepting
  // At the cap accepting waits (new clients queue in the backlog) until a connection closes,
  // and the connection that has waited longest for a request is shed to make room.
  void accept() {
    auto& conns = server_.conns;
    if (conns.open.load() >= conns.cap) {
      paused_ = true;
      conns.paused = true;
      if (conns.open.load() >= conns.cap) {
        conns.shed_one();
        // Nothing may be sheddable yet (sessions just accepted are not listed idle before their
        // first read starts), or the one picked went busy: look again shortly rather than wait
        // for some connection's own timeout. A close meanwhile resumes at once (released).
        retry_.expires_after(std::chrono::milliseconds(20));
        retry_.async_wait([self = shared_from_this()](beast::error_code e) {
          if (!e) self->resume();
        });
        return;
      }
      // A connection closed meanwhile: go on, unless its release already posted resume().
      if (conns.paused.exchange(false)) resume();
      return;
    }
    ioc_index_ = server_.next_ioc++ % server_.iocs.size();
    acceptor_.async_accept(*server_.iocs[ioc_index_], beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
  }
  void resume() {
    if (!paused_) return;
    paused_ = false;
    accept();
  }
  void close() {
    beast::error_code ec;
    acceptor_.close(ec);
  }

 private:
  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted) return;
    if (ec) {  // e.g. out of file descriptors: shed an idle connection, back off instead of spinning
      if (ec == net::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system)
        server_.conns.shed_one();
      retry_.expires_after(std::chrono::milliseconds(100));
      retry_.async_wait([self = shared_from_this()](beast::error_code e) {
        if (!e) self->accept();
      });
      return;
    }
    socket.set_option(tcp::no_delay(true), ec);
    std::string client = client_key(socket);
    auto& conns = server_.conns;
    IdleList& idle = *conns.idle[ioc_index_];
    conns.open.fetch_add(1);
    if (tls_)
      std::make_shared<TlsSession>(std::move(socket), server_.tls, *server_.api, issuer, std::move(client), conns, idle)->run();
    else
      std::make_shared<PlainSession>(std::move(socket), *server_.api, issuer, std::move(client), conns, idle)->run();
    if (conns.open.load() >= conns.high_water) conns.shed_one();  // near the cap: keep room for new clients
    accept();
  }

  Server::Impl& server_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_;
  bool tls_;
  bool paused_ = false;  // both only on iocs[0], the acceptor's
  std::size_t ioc_index_ = 0;
};

void Server::Impl::start() {
  if (cfg.data_dir.empty() && !cfg.db_path.empty()) {
    cfg.data_dir = fs::path(cfg.db_path).parent_path().string();
    if (cfg.data_dir.empty()) cfg.data_dir = ".";  // a bare file name lives in the working directory
  }
  if (cfg.data_dir.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "hues-sandbox-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary data directory");
    cfg.data_dir = tmpl;  // mkdtemp: 0700
    owns_dir = true;
  } else if (!fs::exists(cfg.data_dir)) {
    fs::create_directories(cfg.data_dir);
    fs::permissions(cfg.data_dir, fs::perms::owner_all);  // a directory we make is ours alone
  }
  if (cfg.db_path.empty()) cfg.db_path = (fs::path(cfg.data_dir) / "sandbox.db").string();

  store = std::make_unique<Store>(cfg.db_path);
  oidc = std::make_unique<Oidc>(cfg.db_path, cfg.sign_in);  // after the Store: it migrates the schema
  api = std::make_unique<Api>(*store, *oidc);
  uploads = std::make_unique<Uploads>((fs::path(cfg.data_dir) / "uploads").string(), cfg.upload_ttl_seconds);
  api->set_uploads(uploads.get());
  webhooks = std::make_unique<Webhooks>(
      cfg.db_path, *store,
      WebhookOptions{cfg.webhook_retry_base_ms, cfg.webhook_max_attempts, cfg.webhook_secret_grace_seconds,
                     cfg.webhook_timeout_ms});
  api->set_webhooks(webhooks.get());
  events = std::make_unique<EventHub>(std::max(1, cfg.max_event_streams), std::max(1, cfg.max_event_streams_per_caller));
  events->set_latest(store->last_event_seq());
  store->add_event_listener([hub = events.get()](std::int64_t seq) { hub->published(seq); });
  store->add_event_listener([w = webhooks.get()](std::int64_t) { w->wake(); });  // deliver at once, not at the next poll
  api->set_events(events.get());
  if (cfg.tls_port >= 0) {
    certs = ensure_dev_certificates(cfg.data_dir, cfg.tls_names);
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    if (SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION) != 1)
      throw std::runtime_error("cannot require TLS 1.2");
    tls.use_certificate_chain_file(certs.server_cert);
    tls.use_private_key_file(certs.server_key, ssl::context::pem);
  }

  const int n = std::max(1, cfg.threads);
  for (int i = 0; i < n; ++i) {
    iocs.push_back(std::make_unique<net::io_context>(1));
    guards.push_back(net::make_work_guard(*iocs.back()));
    conns.iocs.push_back(iocs.back().get());
    conns.idle.push_back(std::make_unique<IdleList>());
  }
  conns.cap = cfg.max_connections;
  if (conns.cap <= 0) {  // leave descriptors for the database, certificates and the host process
    rlimit rl{};
    const long soft = getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ? 65536 : static_cast<long>(rl.rlim_cur);
    conns.cap = static_cast<int>(std::clamp(soft - std::max(64L, soft / 8), 16L, 100000L));
  }
  conns.high_water = conns.cap - std::max(1, conns.cap / 16);
  conns.idle_timeout = std::chrono::milliseconds(std::max(1, cfg.idle_timeout_ms));
  conns.header_timeout = std::chrono::milliseconds(std::max(1, cfg.header_timeout_ms));
  conns.write_timeout = std::chrono::milliseconds(std::max(1, cfg.write_timeout_ms));
  conns.released = [this] {
    if (conns.paused.exchange(false))
      net::post(*iocs[0], [this] {
        for (auto& l : listeners) l->resume();
      });
  };
  beast::error_code ec;
  auto address = net::ip::make_address(cfg.host, ec);
  if (ec) {  // a host name such as "localhost": listen on its first address
    tcp::resolver resolver(*iocs[0]);
    auto results = resolver.resolve(cfg.host, "0");
    if (results.empty()) throw std::runtime_error("cannot resolve " + cfg.host);
    address = results.begin()->endpoint().address();
  }
  try {
    listeners.push_back(std::make_shared<Listener>(*this, tcp::endpoint(address, static_cast<unsigned short>(cfg.port)), false));
    port = listeners.back()->port();
    if (cfg.tls_port >= 0) {
      listeners.push_back(
          std::make_shared<Listener>(*this, tcp::endpoint(address, static_cast<unsigned short>(cfg.tls_port)), true));
      tls_port = listeners.back()->port();
    }
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("hues-sandbox: cannot listen on " + cfg.host + ": " + e.code().message());
  }
  listeners[0]->issuer = "http://" + url_host(cfg.host) + ":" + std::to_string(port);
  if (tls_port >= 0) listeners[1]->issuer = "https://localhost:" + std::to_string(tls_port);
  for (auto& l : listeners) l->accept();
  purge_timer.emplace(*iocs[0]);
  schedule_purge();

  // Server threads must not take the host process's signals (SIGINT belongs to its main thread).
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  for (auto& ioc : iocs)
    threads.emplace_back([ioc = ioc.get()] {
      for (;;) {
        try {
          ioc->run();
          return;
        } catch (const std::exception& e) {
          std::fprintf(stderr, "hues-sandbox: handler failed: %s\n", e.what());
        }
      }
    });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void Server::Impl::stop() {
  std::lock_guard<std::mutex> lk(stop_mu);
  for (auto& t : threads)  // joining itself would never return
    if (t.get_id() == std::this_thread::get_id()) throw std::logic_error("Sandbox::stop() called from a server thread");
  if (stopped) return;
  stopped = true;
  if (events && !threads.empty()) {  // event streams end with their last chunk, not a cut connection
    events->close_all();
    if (events->wait_closed(kStreamsCloseTimeout)) {
      // Their closes are started; let each thread run what they queued before the threads
      // stop: a TLS close_notify may wait for its socket to poll writable, then for the I/O
      // that the poll queued. A few rounds of each io_context's queue, the reactor between.
      std::vector<std::future<void>> rounds;
      for (auto& ioc : iocs) {
        auto done = std::make_shared<std::promise<void>>();
        rounds.push_back(done->get_future());
        after_rounds(ioc->get_executor(), 4, std::move(done));
      }
      for (auto& r : rounds) r.wait_for(std::chrono::milliseconds(500));
    }
  }
  conns.stopping = true;
  for (auto& ioc : iocs) ioc->stop();
  for (auto& t : threads) t.join();
  for (auto& l : listeners) l->close();
  listeners.clear();
  purge_timer.reset();
  guards.clear();
  iocs.clear();  // destroys the pending handlers and with them every open connection
  if (webhooks) webhooks->stop();  // before the Store it reads goes
  api.reset();
  webhooks.reset();
  uploads.reset();
  oidc.reset();
  store.reset();  // closes SQLite (the last connection checkpoints the WAL)
  events.reset();
  if (owns_dir) {
    std::error_code ec;
    fs::remove_all(cfg.data_dir, ec);
  }
}

Server::Server(ServerConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {
  try {
    impl_->start();
  } catch (...) {
    impl_->stop();
    throw;
  }
}

Server::~Server() { stop(); }
void Server::stop() { impl_->stop(); }

std::string Server::url() const { return "http://" + url_host(impl_->cfg.host) + ":" + std::to_string(impl_->port); }
std::string Server::tls_url() const {
  return impl_->tls_port < 0 ? std::string() : "https://localhost:" + std::to_string(impl_->tls_port);
}
std::string Server::ca_file() const { return impl_->certs.ca; }
std::string Server::data_dir() const { return impl_->cfg.data_dir; }
std::string Server::db_path() const { return impl_->cfg.db_path; }
int Server::port() const { return impl_->port; }
int Server::tls_port() const { return impl_->tls_port; }

}  // namespace hues::sandbox
