// Subscriptions (hues/stream.h): the WHATWG Server-Sent Events parser and the reconnecting
// stream. One connection at a time, each an attempt through ClientCore::send_async with its
// body streamed (AttemptContext::stream); between connections a runtime timer waits out the
// backoff. close() cancels whichever is current, so it ends at once and no thread waits.
#include "internal/stream.h"

#include <openssl/rand.h>

#include <strings.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>

#include "internal/client_core.h"
#include "internal/pipeline.h"
#include "internal/runtime.h"

namespace hues {
namespace internal {

// ---- the parser ----

void SseParser::reset() {
  start_ = true;
  after_cr_ = false;
  bom_.clear();
  pending_.clear();
  data_.clear();
  type_.clear();
  id_buffer_ = last_event_id_;
}

void SseParser::feed(std::string_view bytes, const OnEvent& on_event) {
  if (start_) {  // "One leading U+FEFF BYTE ORDER MARK character must be ignored if any are present."
    static constexpr std::string_view kBom = "\xEF\xBB\xBF";
    std::size_t take = std::min(bytes.size(), kBom.size() - bom_.size());
    bom_.append(bytes.substr(0, take));
    if (kBom.substr(0, bom_.size()) == bom_) {
      bytes.remove_prefix(take);
      if (bom_.size() < kBom.size()) return;  // maybe a BOM still: wait for more
      start_ = false;
    } else {
      start_ = false;
      bytes.remove_prefix(take);
      std::string head = std::move(bom_);
      bom_.clear();
      feed(head, on_event);
    }
    bom_.clear();
  }
  while (!bytes.empty()) {
    if (after_cr_) {
      after_cr_ = false;
      if (bytes.front() == '\n') {
        bytes.remove_prefix(1);
        continue;
      }
    }
    std::size_t end = bytes.find_first_of("\r\n");
    if (end == std::string_view::npos) {
      if (pending_.size() + bytes.size() > max_bytes_)
        throw_error(ErrorType::kProtocol, "an event stream line is over " + std::to_string(max_bytes_) + " bytes", 0,
                    "event_too_large");
      pending_.append(bytes);
      return;
    }
    after_cr_ = bytes[end] == '\r';
    if (pending_.empty()) {
      line(bytes.substr(0, end), on_event);
    } else {
      pending_.append(bytes.substr(0, end));
      std::string text = std::move(pending_);
      pending_.clear();
      line(text, on_event);
    }
    bytes.remove_prefix(end + 1);
  }
}

void SseParser::line(std::string_view raw, const OnEvent& on_event) {
  if (raw.empty()) return dispatch(on_event);
  if (raw.front() == ':') return;  // a comment
  std::string decoded;
  if (!is_valid_utf8(raw)) {  // the stream is UTF-8 decoded: a bad sequence is U+FFFD
    decoded = valid_utf8(raw);
    raw = decoded;
  }
  std::string_view field = raw, value;
  if (auto colon = raw.find(':'); colon != std::string_view::npos) {
    field = raw.substr(0, colon);
    value = raw.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "event") {
    type_.assign(value);
  } else if (field == "data") {
    if (data_.size() + value.size() + 1 > max_bytes_)
      throw_error(ErrorType::kProtocol, "an event's data is over " + std::to_string(max_bytes_) + " bytes", 0,
                  "event_too_large");
    data_.append(value);
    data_.push_back('\n');
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) id_buffer_.assign(value);
  } else if (field == "retry") {
    if (!value.empty() && value.size() <= 18 &&
        std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
      retry_ = std::stoll(std::string(value));
  }
  // any other field is ignored
}

void SseParser::dispatch(const OnEvent& on_event) {
  last_event_id_ = id_buffer_;
  if (data_.empty()) {
    type_.clear();
    return;
  }
  data_.pop_back();  // the final LF
  ServerEvent e;
  e.id = last_event_id_;
  e.type = type_.empty() ? "message" : std::move(type_);
  e.data = std::move(data_);
  data_.clear();
  type_.clear();
  on_event(std::move(e));
}

[[noreturn]] void bad_event(const ServerEvent& e, const FieldError& error) {
  throw_error(ErrorType::kProtocol, "event " + e.id + " does not match the spec: " + error.what(), 0,
              "malformed_event", {}, error.field(), false);
}

}  // namespace internal

// ---- the subscription ----

struct EventSubscription::Impl : std::enable_shared_from_this<EventSubscription::Impl> {
  std::shared_ptr<internal::ClientCore> core;
  HttpRequest request;
  StreamOptions options;
  internal::StreamHandlers handlers;
  internal::SseParser parser;  // touched by the current connection's callbacks only (one at a time)

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::string last_id;                         // under mu
  bool closing = false;                        // under mu
  bool ended = false;                          // under mu
  std::exception_ptr error;                    // under mu: what ended it
  std::shared_ptr<CancellationToken> current;  // under mu: the connection's
  std::shared_ptr<internal::Timer> timer;      // under mu: the backoff's
  int connections = 0;                         // under mu
  // Backpressure (StreamOptions::max_buffered_events): events parsed but not yet handed on
  // wait in `overflow`; handing on stops at the bound, and so does reading (Sink::ready).
  // Under deliver_mu, which also keeps the hand-on order across the I/O and host threads.
  std::mutex deliver_mu;
  std::deque<ServerEvent> overflow;
  int buffered = 0;                            // handed on, not consumed yet
  int buffered_peak = 0;
  bool reading_paused = false;
  bool draining = false;                       // a thread is in drain()
  std::function<void()> resume_reading;        // the paused connection's
  std::exception_ptr poisoned;                 // a malformed event handed on from the host side
  // The server ended it (204, a refusal) while events still wait (in `overflow`, or handed on and
  // not consumed yet): they are all consumed first, then it ends with this.
  bool end_pending = false;
  std::exception_ptr pending_error;
  int failures = 0;                            // connects in a row that got no event stream
  std::int64_t retry_ms = 0;                   // the reconnection time (`retry:`), 0: not sent
  std::atomic<bool> finished{false};

  // Gives the stream's body to the parser; holds the subscription weakly (the connection's
  // attempt may outlive it by a moment).
  struct Sink final : ResponseStream {
    std::weak_ptr<Impl> impl;
    bool head = false;
    void on_head(const HttpResponse& res) override {
      head = true;
      if (auto s = impl.lock()) s->opened(res);
    }
    void on_data(const char* data, std::size_t size) override {
      if (auto s = impl.lock()) s->received(std::string_view(data, size));
    }
    bool ready() override {
      auto s = impl.lock();
      return !s || s->ready(resume);
    }
  };

  std::size_t bound() const { return static_cast<std::size_t>(std::max<std::int64_t>(1, options.max_buffered_events)); }

  // Hands waiting events on while the listener is below the bound; lock holds deliver_mu.
  // One thread at a time does it (the others' events wait in `overflow` for it), and never
  // under deliver_mu, so a listener that runs inline and reports back does not deadlock.
  void drain(std::unique_lock<std::mutex>& lock) {
    if (draining) return;
    draining = true;
    while (!overflow.empty() && static_cast<std::size_t>(buffered) < bound()) {
      ServerEvent e = std::move(overflow.front());
      overflow.pop_front();
      ++buffered;
      buffered_peak = std::max(buffered_peak, buffered);
      lock.unlock();
      bool stop = false;
      {
        std::lock_guard<std::mutex> guard(mu);
        stop = closing;
        if (!stop) last_id = e.id;
      }
      try {
        if (!stop) handlers.on_event(std::move(e));  // may throw (a malformed event)
      } catch (...) {
        lock.lock();
        draining = false;
        throw;
      }
      lock.lock();
      if (stop) {
        overflow.clear();
        break;
      }
    }
    draining = false;
  }

  bool ready(const std::function<void()>& resume) {
    std::lock_guard<std::mutex> lock(deliver_mu);
    if (overflow.empty() && static_cast<std::size_t>(buffered) < bound()) return true;
    reading_paused = true;
    resume_reading = resume;
    return false;
  }

  // The host consumed one event: hand on more; resume reading once half the bound is free.
  void consumed(std::uint32_t n = 1) {
    std::function<void()> resume;
    std::shared_ptr<CancellationToken> cut;
    bool finish_now = false;
    std::exception_ptr finish_error;
    {
      std::unique_lock<std::mutex> lock(deliver_mu);
      buffered -= static_cast<int>(std::min<std::uint32_t>(n, static_cast<std::uint32_t>(std::max(buffered, 0))));
      try {
        drain(lock);
      } catch (...) {
        overflow.clear();
        if (!poisoned) poisoned = std::current_exception();
        if (end_pending) pending_error = poisoned;  // no connection left to cut: it ends below
        std::lock_guard<std::mutex> lock2(mu);
        cut = current;  // ends the connection; disconnected() ends the subscription with it
      }
      if (reading_paused && overflow.empty() && static_cast<std::size_t>(buffered) <= bound() / 2) {
        reading_paused = false;
        resume = std::move(resume_reading);
        resume_reading = nullptr;
      }
      if (end_pending && overflow.empty() && buffered == 0) {
        end_pending = false;
        finish_now = true;
        finish_error = pending_error;
      }
    }
    if (cut) cut->cancel();
    if (resume) resume();
    if (finish_now) end(finish_error);
  }

  // The server ended the subscription (or refused to go on): the events parsed before are still
  // handed on, in order, then it ends. A close meanwhile ends it at once (see close()).
  void finish(std::exception_ptr e) {
    {
      std::lock_guard<std::mutex> deliver(deliver_mu);
      bool closed;
      {
        std::lock_guard<std::mutex> lock(mu);
        closed = closing;
      }
      if (!closed && (!overflow.empty() || buffered > 0)) {
        end_pending = true;
        pending_error = e;
        return;
      }
    }
    end(e);
  }

  void connect() {
    auto sink = std::make_shared<Sink>();
    sink->impl = weak_from_this();
    auto cancel = std::make_shared<CancellationToken>();
    HttpRequest req = request;
    {
      std::unique_lock<std::mutex> lock(mu);
      if (closing) {
        lock.unlock();
        return end(nullptr);
      }
      current = cancel;
      timer.reset();
      ++connections;
    }
    // The last event parsed (those still waiting in `overflow` are handed on all the same).
    if (!parser.last_event_id().empty()) req.set_header("Last-Event-ID", parser.last_event_id());
    req.set_header("Accept", "text/event-stream");
    req.set_header("Cache-Control", "no-store");
    CallOptions call;
    call.cancel = cancel;
    call.max_attempts = 1;                         // reconnects are this object's
    call.deadline_ms = 10LL * 365 * 24 * 3600 * 1000;  // the stream's: reads have the idle timeout
    auto self = shared_from_this();
    core->send_async(std::move(req), call, sink, std::chrono::milliseconds(options.idle_timeout_ms),
                     [self, sink](std::exception_ptr e, HttpResponse res) { self->disconnected(e, std::move(res), *sink); });
  }

  void opened(const HttpResponse&) {
    parser.reset();
    failures = 0;
  }

  void received(std::string_view bytes) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (closing) return;
    }
    std::unique_lock<std::mutex> deliver(deliver_mu);
    parser.feed(bytes, [this](ServerEvent&& e) { overflow.push_back(std::move(e)); });
    drain(deliver);  // may throw (a malformed event): ends the attempt, then this
    std::lock_guard<std::mutex> lock(mu);
    // An id may also be set by an empty event (no data): it is resumed from all the same.
    if (!closing && overflow.empty()) last_id = parser.last_event_id();
    if (auto r = parser.take_retry()) retry_ms = *r;
  }

  void disconnected(std::exception_ptr e, HttpResponse res, Sink& sink) {
    bool stop;
    {
      std::lock_guard<std::mutex> lock(mu);
      current.reset();
      stop = closing;
    }
    if (stop) return end(nullptr);  // closed: what still waits is dropped
    {
      std::lock_guard<std::mutex> lock(deliver_mu);
      reading_paused = false;
      resume_reading = nullptr;
      if (poisoned) e = poisoned;
    }
    long long retry_after = -1;
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const Error& err) {
        bool transient = err.type() == ErrorType::kConnection || err.type() == ErrorType::kTimeout ||
                         err.type() == ErrorType::kResourceExhausted ||
                         (err.type() == ErrorType::kProtocol && err.retryable());
        if (!transient) return finish(e);
      } catch (...) {
        return finish(e);
      }
    } else if (res.status >= 200 && res.status <= 299) {
      if (res.status == 204) return finish(nullptr);  // WHATWG: 204 No Content stops reconnecting
      if (!sink.head && !res.body.empty()) {         // a transport that does not stream: the whole body
        try {
          opened(res);
          received(res.body);
        } catch (...) {
          return finish(std::current_exception());
        }
      }
    } else if (res.status == 429 || res.status >= 500) {
      retry_after = internal::parse_retry_after(res.header("Retry-After"));
      ++failures;
    } else {
      try {
        internal::raise_for_status(res, res.header("X-Request-Id"));
      } catch (...) {
        return finish(std::current_exception());
      }
    }
    if (e) ++failures;
    reconnect_later(retry_after);
  }

  // The wait before the next connect: the server's retry (or initial_backoff_ms), doubled per
  // failure in a row, capped at max_backoff_ms, half of it jittered; at least a Retry-After.
  void reconnect_later(long long retry_after_ms) {
    std::int64_t base = retry_ms > 0 ? retry_ms : options.initial_backoff_ms;
    std::int64_t cap = std::max<std::int64_t>(1, options.max_backoff_ms);
    double bound = std::min<double>(static_cast<double>(cap),
                                    static_cast<double>(base) * std::pow(2.0, std::max(0, failures - 1)));
    unsigned int r = 0;
    RAND_bytes(reinterpret_cast<unsigned char*>(&r), sizeof r);
    auto delay = static_cast<long long>(bound / 2 + bound / 2 * (static_cast<double>(r) / 4294967296.0));
    delay = std::max<long long>(delay, std::min<long long>(retry_after_ms, 600000));
    auto self = shared_from_this();
    auto t = core->runtime()->schedule(std::chrono::steady_clock::now() + std::chrono::milliseconds(delay),
                                       [self](bool fired) {
                                         if (!fired) return self->end(nullptr);
                                         self->connect();
                                       });
    std::lock_guard<std::mutex> lock(mu);
    if (closing) {
      t->cancel();
      return;
    }
    timer = t;
  }

  void close() {
    std::shared_ptr<CancellationToken> c;
    std::shared_ptr<internal::Timer> t;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (closing) return;
      closing = true;
      c = current;
      t = timer;
    }
    if (c) c->cancel();
    if (t) t->cancel();
    // Neither (between a connection's end and its timer, or before the first): whoever is
    // about to connect sees `closing` and ends it. Or the server's end waits for the events
    // still queued: they are dropped, it ends now.
    bool pending;
    {
      std::lock_guard<std::mutex> deliver(deliver_mu);
      pending = end_pending;
    }
    if (pending) end(nullptr);
  }

  void end(std::exception_ptr e) {
    if (finished.exchange(true)) return;
    {
      std::lock_guard<std::mutex> lock(mu);
      closing = true;
    }
    auto self = shared_from_this();
    auto settle = [self, e] {
      {
        std::lock_guard<std::mutex> lock(self->mu);
        self->ended = true;
        self->error = e;
      }
      self->cv.notify_all();
    };
    if (!handlers.on_end) return settle();
    try {
      handlers.on_end(e, settle);
    } catch (...) {
      settle();
    }
  }
};

namespace internal {

void close_stream(EventSubscription::Impl& impl) { impl.close(); }

void stream_consumed(EventSubscription::Impl& impl, std::uint32_t n) { impl.consumed(n); }

void StreamRef::consumed(std::uint32_t n) {
  std::shared_ptr<EventSubscription::Impl> s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!known_) {
      early_ += n;
      return;
    }
    s = impl_.lock();
  }
  if (s) s->consumed(n);
}

void StreamRef::set(const std::shared_ptr<EventSubscription::Impl>& impl) {
  std::uint32_t n;
  {
    std::lock_guard<std::mutex> lock(mu_);
    impl_ = impl;
    known_ = true;
    n = early_;
    early_ = 0;
  }
  if (n && impl) impl->consumed(n);
}

std::shared_ptr<EventSubscription::Impl> StreamRef::lock() const {
  std::lock_guard<std::mutex> lock(mu_);
  return impl_.lock();
}

bool stream_closing(const EventSubscription::Impl& impl) {
  std::lock_guard<std::mutex> lock(impl.mu);
  return impl.closing;
}

std::shared_ptr<EventSubscription::Impl> start_stream(std::shared_ptr<ClientCore> core, HttpRequest request,
                                                      std::string last_event_id, const StreamOptions& options,
                                                      StreamHandlers handlers) {
  auto impl = std::make_shared<EventSubscription::Impl>();
  impl->core = std::move(core);
  impl->request = std::move(request);
  impl->request.headers.erase(std::remove_if(impl->request.headers.begin(), impl->request.headers.end(),
                                             [](const auto& h) { return strcasecmp(h.first.c_str(), "Last-Event-ID") == 0; }),
                              impl->request.headers.end());
  impl->options = options;
  impl->handlers = std::move(handlers);
  impl->last_id = last_event_id;
  impl->parser.set_last_event_id(std::move(last_event_id));
  auto self = impl;
  if (!impl->core->runtime()->post([self] { self->connect(); }))
    impl->end(make_error(ErrorType::kCancelled, "the SDK was shut down", "shutdown"));
  return impl;
}

}  // namespace internal

EventSubscription& EventSubscription::operator=(EventSubscription&& other) noexcept {
  if (this != &other) {
    if (impl_) impl_->close();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

EventSubscription::~EventSubscription() {
  if (impl_) impl_->close();
}

void EventSubscription::close() {
  if (impl_) impl_->close();
}

std::string EventSubscription::last_event_id() const {
  if (!impl_) return {};
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->last_id;
}

bool EventSubscription::ended() const {
  if (!impl_) return true;
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->ended;
}

int EventSubscription::connections() const {
  if (!impl_) return 0;
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->connections;
}

int EventSubscription::buffered_events() const {
  if (!impl_) return 0;
  std::lock_guard<std::mutex> lock(impl_->deliver_mu);
  return impl_->buffered;
}

int EventSubscription::max_buffered_seen() const {
  if (!impl_) return 0;
  std::lock_guard<std::mutex> lock(impl_->deliver_mu);
  return impl_->buffered_peak;
}

bool EventSubscription::wait_for(std::chrono::milliseconds timeout) const {
  if (!impl_) return true;
  std::unique_lock<std::mutex> lock(impl_->mu);
  if (!impl_->cv.wait_for(lock, timeout, [&] { return impl_->ended; })) return false;
  if (impl_->error) std::rethrow_exception(impl_->error);
  return true;
}

void EventSubscription::wait() const {
  if (!impl_) return;
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->cv.wait(lock, [&] { return impl_->ended; });
  if (impl_->error) std::rethrow_exception(impl_->error);
}

}  // namespace hues
