// The offline outbox (hues/outbox.h): a SQLite queue and a sender on the SDK's runtime.
//
// Why SQLite: a commit is atomic and durable (WAL + synchronous=FULL fsyncs it), so an item
// is either wholly queued or not at all whatever instant the process dies; the sandbox already
// links it; and a later migration can add the media rows (tus upload URLs and offsets) of an
// item in the same transactions as the item's own state.
//
// The sender takes one item at a time, oldest first. Its steps (pick the head and mark it
// `sending`, store the outcome, tell the listener) run on the runtime's host executor, so no
// fsync and no host code ever runs on an I/O thread; waits between attempts are runtime
// timers. Only the HTTP exchange runs on the I/O threads, through the client's pipeline.
#include "hues/outbox.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <condition_variable>
#include <deque>
#include <ctime>
#include <mutex>
#include <random>
#include <vector>

#include "internal/calls.h"
#include "internal/client_core.h"
#include "internal/json_codec.h"
#include "internal/pipeline.h"
#include "internal/service_support.h"

namespace hues {

namespace {

using internal::Runtime;
using Clock = std::chrono::steady_clock;

[[noreturn]] void bad_path(const std::string& message) {
  throw_error(ErrorType::kValidation, message, 0, "invalid_option", {}, "path");
}

std::string utc_now() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

// ---- a minimal SQLite wrapper (the sandbox has its own; the SDK shares nothing with it) ----
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK) fail("prepare");
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& blob(int i, const std::string& v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  bool step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail("step");
  }
  void run() {
    while (step()) {
    }
  }
  std::int64_t i64(int c) { return sqlite3_column_int64(s_, c); }
  std::string text(int c) {
    auto* p = static_cast<const char*>(sqlite3_column_blob(s_, c));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, c))) : std::string();
  }

 private:
  [[noreturn]] void fail(const char* what) {
    int rc = sqlite3_extended_errcode(db_);
    std::string msg = std::string("outbox database ") + what + ": " + sqlite3_errmsg(db_);
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
      bad_path("the outbox file is open in another process (" + msg + ")");
    throw_error(ErrorType::kStorage, msg, 0, "outbox_storage");
  }
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

void exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "error";
    sqlite3_free(err);
    int rc = sqlite3_extended_errcode(db) & 0xff;
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) bad_path("the outbox file is open in another process (" + msg + ")");
    if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT) bad_path("the outbox file is not an outbox: " + msg);
    throw_error(ErrorType::kStorage, "outbox database: " + msg, 0, "outbox_storage");
  }
}

// Schema steps, PRAGMA user_version counting them; a released step is never edited.
// Step 1: reports. A later step adds the media of an item (a table `item_media` keyed by
// (item, position) with the file, its tus upload URL and offset, and the media id once
// finished); `kind` leaves room for other item kinds (comments, responses).
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE items (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,   -- the order of delivery; local_id is obx_<seq>
  kind TEXT NOT NULL DEFAULT 'report',
  created_at TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,           -- made at enqueue, sent with every attempt
  body BLOB NOT NULL,                      -- the exact request body, so a replay matches
  state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  error_field TEXT NOT NULL DEFAULT '',
  report_id TEXT NOT NULL DEFAULT '',
  updated_at TEXT NOT NULL
);
CREATE INDEX items_open ON items (state, seq);
)sql",
};
constexpr int kSchemaVersion = static_cast<int>(sizeof kMigrations / sizeof kMigrations[0]);

std::string error_text(const std::exception_ptr& e, std::string* field) {
  try {
    std::rethrow_exception(e);
  } catch (const Error& err) {
    if (field) *field = err.field();
    std::string s = to_string(err.type());
    if (err.http_status()) s += " " + std::to_string(err.http_status());
    if (!err.code().empty()) s += " " + err.code();
    return s + ": " + err.message();
  } catch (const std::exception& ex) {
    return std::string("error: ") + ex.what();
  } catch (...) {
    return "error: unknown";
  }
}

}  // namespace

struct Outbox::Impl : std::enable_shared_from_this<Outbox::Impl> {
  std::shared_ptr<internal::ClientCore> core;
  std::shared_ptr<Runtime> rt;
  OutboxOptions opts;

  mutable std::mutex mu;  // guards everything below; never held across host code or I/O waits
  sqlite3* db = nullptr;
  bool closed = false;
  bool busy = false;           // the head item is being sent
  std::uint64_t generation = 0;  // of the backoff wait, so a stale timer does nothing
  std::shared_ptr<internal::Timer> timer;
  std::shared_ptr<CancellationToken> send_cancel;
  int failures = 0;  // consecutive retryable failures of the head: the backoff's exponent
  std::mt19937_64 rng{std::random_device{}()};
  struct IdleWaiter {
    std::function<void(bool)> done;
    std::shared_ptr<internal::Timer> timeout;
  };
  std::vector<IdleWaiter> idle_waiters;
  // Listener calls in the order the outcomes were stored, one at a time: whoever stores an
  // outcome while nobody is draining drains (outside the lock), so a slow listener never
  // sees the next item's event first, nor two at once.
  std::deque<std::pair<bool, OutboxItem>> events;  // (delivered?, item)
  bool draining = false;

  ~Impl() { close_db(); }

  void close_db() {
    if (db) {
      sqlite3_close_v2(db);
      db = nullptr;
    }
  }

  void open() {
    if (opts.path.empty()) bad_path("path is required");
    if (opts.initial_backoff_ms <= 0)
      throw_error(ErrorType::kValidation, "initial_backoff_ms must be greater than 0", 0, "invalid_option", {},
                  "initial_backoff_ms");
    if (opts.max_backoff_ms <= 0)
      throw_error(ErrorType::kValidation, "max_backoff_ms must be greater than 0", 0, "invalid_option", {},
                  "max_backoff_ms");
    if (opts.send_deadline_ms < 0)
      throw_error(ErrorType::kValidation, "send_deadline_ms must not be negative", 0, "invalid_option", {},
                  "send_deadline_ms");
    // Created owner-only before SQLite sees it; SQLite gives its WAL file the same mode.
    int fd = ::open(opts.path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) bad_path("cannot open " + opts.path + ": " + std::strerror(errno));
    ::fchmod(fd, 0600);
    ::close(fd);
    if (sqlite3_open_v2(opts.path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
      std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
      close_db();
      bad_path("cannot open " + opts.path + ": " + msg);
    }
    try {
      sqlite3_busy_timeout(db, 2000);
      // One process at a time: the exclusive lock is taken by the first write below and
      // held until close (the OS drops it when a killed process goes). In exclusive mode
      // WAL needs no shared-memory file.
      exec(db, "PRAGMA locking_mode=EXCLUSIVE");
      exec(db, "PRAGMA journal_mode=WAL");
      exec(db, "PRAGMA synchronous=FULL");
      exec(db, "BEGIN IMMEDIATE");
      int version = 0;
      {
        Stmt v(db, "PRAGMA user_version");
        if (v.step()) version = static_cast<int>(v.i64(0));
      }
      if (version > kSchemaVersion) {
        exec(db, "ROLLBACK");
        bad_path(opts.path + " was written by a newer SDK (outbox schema " + std::to_string(version) + ")");
      }
      for (int i = version; i < kSchemaVersion; ++i) exec(db, kMigrations[i]);
      exec(db, ("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
      // A crash while sending: the create may or may not have reached the server; sending it
      // again with its stored key gets the server's replay in the first case.
      Stmt(db, "UPDATE items SET state='pending' WHERE state='sending'").run();
      exec(db, "COMMIT");
    } catch (...) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      close_db();
      throw;
    }
  }

  static std::string local_id(std::int64_t seq) { return "obx_" + std::to_string(seq); }
  static std::int64_t seq_of(const std::string& id) {
    if (id.rfind("obx_", 0) != 0 || id.size() < 5 || id.size() > 24) return -1;
    std::int64_t v = 0;
    for (std::size_t i = 4; i < id.size(); ++i) {
      if (id[i] < '0' || id[i] > '9') return -1;
      v = v * 10 + (id[i] - '0');
    }
    return v;
  }

  void require_open() const {
    if (closed || !db) throw_error(ErrorType::kCancelled, "the outbox is closed", 0, "closed");
  }

  static OutboxItem row_item(Stmt& s) {
    // columns: seq, created_at, attempts, state, last_error, error_field, report_id, body
    OutboxItem it;
    it.local_id = local_id(s.i64(0));
    it.created_at = s.text(1);
    it.attempts = s.i64(2);
    it.state = OutboxItemState(s.text(3));
    it.last_error = s.text(4);
    it.error_field = s.text(5);
    it.report_id = s.text(6);
    try {
      it.report = internal::from_json_string<NewReport>(s.text(7));
    } catch (const std::exception&) {
      // Written by us: cannot happen short of a damaged file; keep the item listed.
    }
    return it;
  }

  static constexpr const char* kColumns =
      "seq, created_at, attempts, state, last_error, error_field, report_id, body";

  OutboxItem item_locked(std::int64_t seq) const {
    Stmt s(db, (std::string("SELECT ") + kColumns + " FROM items WHERE seq=?").c_str());
    s.bind(1, seq);
    if (!s.step()) throw_error(ErrorType::kNotFound, "no outbox item " + local_id(seq), 0, "not_found", {}, "local_id");
    return row_item(s);
  }

  OutboxItem enqueue(const NewReport& report) {
    // The generated validator of Outbox.enqueue's arguments: the same rules as reports.create.
    boost::json::object args{{"report", internal::to_json(report)}};
    if (auto problem = internal::validate_args(internal::call_id::kOutboxEnqueue, args))
      throw_error(ErrorType::kValidation, problem->message, 0, "validation_error", {}, problem->field);
    // The body exactly as reports.create would send it, kept byte for byte.
    boost::json::object create_args{{"body", args["report"]}};
    HttpRequest prepared = internal::prepare_request(internal::call_id::kReportsCreate, create_args);
    std::string key = internal::new_uuid4();
    std::string now = utc_now();
    std::int64_t seq;
    {
      std::lock_guard<std::mutex> lock(mu);
      require_open();
      Stmt ins(db,
               "INSERT INTO items (created_at, idempotency_key, body, state, updated_at) VALUES (?, ?, ?, 'pending', ?)");
      ins.bind(1, now).bind(2, key).blob(3, prepared.body).bind(4, now).run();  // autocommit: fsynced
      seq = sqlite3_last_insert_rowid(db);
    }
    kick();
    OutboxItem it;
    it.local_id = local_id(seq);
    it.created_at = now;
    it.attempts = 0;
    it.state = OutboxItemState::kPending;
    it.report = report;
    return it;
  }

  OutboxItemList items() const {
    std::lock_guard<std::mutex> lock(mu);
    require_open();
    OutboxItemList out;
    Stmt s(db, (std::string("SELECT ") + kColumns + " FROM items ORDER BY seq").c_str());
    while (s.step()) out.items.push_back(row_item(s));
    return out;
  }

  bool cancel(const std::string& id) {
    std::int64_t seq = seq_of(id);
    std::lock_guard<std::mutex> lock(mu);
    require_open();
    if (seq < 0) throw_error(ErrorType::kNotFound, "no outbox item " + id, 0, "not_found", {}, "local_id");
    Stmt s(db, "SELECT state FROM items WHERE seq=?");
    s.bind(1, seq);
    if (!s.step()) throw_error(ErrorType::kNotFound, "no outbox item " + id, 0, "not_found", {}, "local_id");
    if (s.text(0) != "pending") return false;
    // Pending and not in flight: the sender marks an item `sending` under this lock first.
    Stmt d(db, "DELETE FROM items WHERE seq=? AND state='pending'");
    d.bind(1, seq).run();
    return sqlite3_changes(db) > 0;
  }

  std::int64_t purge() {
    std::lock_guard<std::mutex> lock(mu);
    require_open();
    Stmt(db, "DELETE FROM items WHERE state IN ('delivered', 'failed')").run();
    return sqlite3_changes(db);
  }

  void flush() {
    std::shared_ptr<internal::Timer> t;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (closed) return;
      ++generation;
      t = std::move(timer);
      failures = 0;
    }
    if (t) t->cancel();
    kick();
  }

  // Schedules a sender step on the host executor (never runs it inline: the caller may hold
  // anything, or be an I/O thread).
  void kick() {
    auto self = shared_from_this();
    rt->host().post([self] { self->step(); });
  }

  void step() {
    std::int64_t seq = 0;
    std::string key, body;
    std::vector<IdleWaiter> idle;
    std::shared_ptr<CancellationToken> cancel;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (closed || busy || timer) return;
      try {
        Stmt s(db, "SELECT seq, idempotency_key, body FROM items WHERE state IN ('pending', 'sending') ORDER BY seq LIMIT 1");
        if (!s.step()) {
          idle.swap(idle_waiters);
        } else {
          seq = s.i64(0);
          key = s.text(1);
          body = s.text(2);
          Stmt u(db, "UPDATE items SET state='sending', attempts=attempts+1, updated_at=? WHERE seq=?");
          u.bind(1, utc_now()).bind(2, seq).run();
          busy = true;
          send_cancel = cancel = std::make_shared<CancellationToken>();
        }
      } catch (const std::exception&) {
        // The disk refused (full, I/O error): try again later rather than lose anything.
        schedule_retry_locked(-1);
        return;
      }
    }
    for (auto& w : idle) finish_waiter(w, true);
    if (seq) send(seq, key, body, cancel);
  }

  void send(std::int64_t seq, const std::string& key, const std::string& body,
            const std::shared_ptr<CancellationToken>& cancel) {
    HttpRequest request;
    try {
      // The client's reports.create path: its call table, validator and pipeline.
      boost::json::object args{{"body", internal::parse_json(body)}};
      request = internal::prepare_request(internal::call_id::kReportsCreate, args);
      request.body = body;  // the stored bytes, so the server's replay check sees the same body
    } catch (...) {
      return on_result(seq, std::current_exception(), {});
    }
    CallOptions call;
    call.idempotency_key = key;
    call.deadline_ms = opts.send_deadline_ms;
    call.cancel = cancel;
    auto self = shared_from_this();
    core->send_async(std::move(request), call, [self, seq](std::exception_ptr error, HttpResponse res) {
      // An I/O thread: the outcome is stored on the host executor.
      auto moved = std::make_shared<HttpResponse>(std::move(res));
      if (!self->rt->host().post([self, seq, error, moved] { self->on_result(seq, error, std::move(*moved)); })) {
        std::lock_guard<std::mutex> lock(self->mu);
        self->busy = false;  // shutting down: the item stays `sending` and is resent on reopen
      }
    });
  }

  enum class Outcome { kDelivered, kFailed, kRetry };

  void on_result(std::int64_t seq, std::exception_ptr error, HttpResponse res) {
    Outcome outcome = Outcome::kRetry;
    std::string last_error, field, report_id;
    long long retry_after_ms = -1;
    if (error) {
      // Nothing usable came back (transport, timeout, the credentials could not refresh):
      // the item waits its turn again; it is never dropped for a local or network reason.
      last_error = error_text(error, nullptr);
    } else if (res.status >= 200 && res.status <= 299) {
      try {
        auto doc = internal::parse_json(res.body);
        if (auto* o = doc.if_object())
          if (auto* id = o->if_contains("id"); id && id->is_string()) report_id = std::string(id->get_string());
      } catch (...) {
      }
      if (report_id.empty()) last_error = "protocol: the create's response has no report id";
      else outcome = Outcome::kDelivered;
    } else {
      std::exception_ptr e;
      try {
        internal::raise_for_status(res, "");
      } catch (...) {
        e = std::current_exception();
      }
      last_error = error_text(e, &field);
      // 401: the token expired while offline and the credentials could not give a new one
      // yet: wait (backing off) instead of failing. 408, 429 and 5xx: the server may take it
      // later. Any other 4xx refuses this very request: retrying cannot change the answer.
      bool retry = res.status == 401 || res.status == 408 || res.status == 429 || res.status >= 500;
      if (retry) {
        field.clear();
        const std::string ra = res.header("Retry-After");
        if (!ra.empty() && std::all_of(ra.begin(), ra.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
            ra.size() < 7)
          retry_after_ms = std::stoll(ra) * 1000;
      } else {
        outcome = Outcome::kFailed;
      }
    }
    OutboxItem event;
    {
      std::lock_guard<std::mutex> lock(mu);
      busy = false;
      send_cancel.reset();
      if (closed) return;  // left `sending` on disk: resent with its key on reopen
      try {
        const char* state = outcome == Outcome::kDelivered ? "delivered" : outcome == Outcome::kFailed ? "failed" : "pending";
        Stmt u(db, "UPDATE items SET state=?, last_error=?, error_field=?, report_id=?, updated_at=? WHERE seq=?");
        u.bind(1, std::string(state)).bind(2, last_error).bind(3, field).bind(4, report_id).bind(5, utc_now()).bind(6, seq);
        u.run();
        if (outcome != Outcome::kRetry) event = item_locked(seq);
      } catch (const std::exception&) {
        outcome = Outcome::kRetry;  // not stored: it stays `sending` and is sent again (replayed)
      }
      if (outcome == Outcome::kRetry) {
        schedule_retry_locked(retry_after_ms);
      } else {
        failures = 0;
        if (opts.listener) events.emplace_back(outcome == Outcome::kDelivered, std::move(event));
      }
    }
    if (outcome != Outcome::kRetry) {
      kick();  // the next item goes while the listener hears of this one
      drain_events();
    }
  }

  // Outside the lock, on the host executor: the app's listener, in order.
  void drain_events() {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (draining || events.empty()) return;
      draining = true;
    }
    for (;;) {
      std::pair<bool, OutboxItem> ev;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (events.empty() || closed) {
          events.clear();
          draining = false;
          return;
        }
        ev = std::move(events.front());
        events.pop_front();
      }
      try {
        if (ev.first) opts.listener->delivered(ev.second);
        else opts.listener->failed(ev.second);
      } catch (...) {
      }
    }
  }

  void schedule_retry_locked(long long retry_after_ms) {
    double base = static_cast<double>(opts.initial_backoff_ms) * std::pow(2.0, std::min(failures, 30));
    ++failures;
    double cap = static_cast<double>(opts.max_backoff_ms);
    double d = std::min(base, cap);
    // Equal jitter: half fixed, half random, so many devices coming back online spread out.
    std::uniform_real_distribution<double> jitter(0.0, d / 2);
    auto delay = static_cast<long long>(d / 2 + jitter(rng));
    delay = std::max(delay, retry_after_ms);
    std::uint64_t gen = ++generation;
    auto self = shared_from_this();
    timer = rt->schedule(Clock::now() + std::chrono::milliseconds(delay), [self, gen](bool fired) {
      // Not fired: cancelled, or the runtime is closed (then this runs inline, under mu).
      if (!fired) return;
      {
        std::lock_guard<std::mutex> lock(self->mu);
        if (self->generation != gen) return;  // flushed or closed meanwhile
        self->timer.reset();
      }
      self->kick();
    });
  }

  static void finish_waiter(IdleWaiter& w, bool idle) {
    w.done(idle);  // once: done is guarded by its own once_flag
    if (w.timeout) w.timeout->cancel();
  }

  void wait_idle_async(std::int64_t timeout_ms, Async<bool> done) {
    auto once = std::make_shared<std::once_flag>();
    auto finish = [done, once](bool idle) {
      std::call_once(*once, [&] { done(nullptr, idle); });
    };
    bool was_closed;
    {
      std::lock_guard<std::mutex> lock(mu);
      was_closed = closed;
    }
    if (was_closed) return done(internal::make_error(ErrorType::kCancelled, "the outbox is closed", "closed"), false);
    {
      std::lock_guard<std::mutex> lock(mu);
      IdleWaiter w;
      w.done = finish;
      // Only a timer that fires ends the wait with false; a cancelled one (the wait ended
      // otherwise) does nothing.
      w.timeout = rt->schedule(Clock::now() + std::chrono::milliseconds(std::max<std::int64_t>(timeout_ms, 0)),
                               [finish](bool fired) {
                                 if (fired) finish(false);
                               });
      idle_waiters.push_back(std::move(w));
    }
    flush();  // the step finds the queue empty (idle) or sends the head at once
  }

  void close() {
    std::shared_ptr<internal::Timer> t;
    std::shared_ptr<CancellationToken> c;
    std::vector<IdleWaiter> idle;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (closed) return;
      closed = true;
      ++generation;
      t = std::move(timer);
      c = std::move(send_cancel);
      idle.swap(idle_waiters);
      close_db();  // releases the exclusive lock: another Outbox may open the file now
    }
    if (t) t->cancel();
    if (c) c->cancel();
    for (auto& w : idle) finish_waiter(w, false);
  }
};

namespace {
std::shared_ptr<Outbox::Impl> open_impl(std::shared_ptr<internal::ClientCore> core, OutboxOptions options) {
  auto impl = std::make_shared<Outbox::Impl>();
  impl->core = std::move(core);
  impl->rt = impl->core->runtime();
  impl->opts = std::move(options);
  impl->open();
  impl->kick();
  return impl;
}
}  // namespace

Outbox::Outbox(const Client& client, OutboxOptions options) : impl_(open_impl(client.core_, std::move(options))) {}

Outbox::~Outbox() {
  if (impl_) impl_->close();
}

OutboxItem Outbox::enqueue(const NewReport& report) { return impl_->enqueue(report); }
OutboxItemList Outbox::items() const { return impl_->items(); }
bool Outbox::cancel(const std::string& local_id) { return impl_->cancel(local_id); }
void Outbox::flush() { impl_->flush(); }
std::int64_t Outbox::purge() { return impl_->purge(); }
void Outbox::close() { impl_->close(); }

void Outbox::wait_idle_async(std::int64_t timeout_ms, Async<bool> done) {
  impl_->wait_idle_async(timeout_ms, std::move(done));
}

bool Outbox::wait_idle(std::int64_t timeout_ms) {
  return internal::wait_for<bool>(impl_->rt.get(), [&](Async<bool> done) { wait_idle_async(timeout_ms, std::move(done)); });
}

namespace internal {
std::shared_ptr<Outbox> open_outbox(std::shared_ptr<ClientCore> core, OutboxOptions options) {
  auto impl = open_impl(std::move(core), std::move(options));  // may throw: no Outbox yet
  std::shared_ptr<Outbox> outbox(new Outbox());
  outbox->impl_ = std::move(impl);
  return outbox;
}
}  // namespace internal

}  // namespace hues
