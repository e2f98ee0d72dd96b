// The offline outbox (hues/outbox.h): a SQLite queue and a sender on the SDK's runtime.
//
// Why SQLite: a commit is atomic and durable (WAL + synchronous=FULL fsyncs it), so an item
// is either wholly queued or not at all whatever instant the process dies; the sandbox already
// links it; and the media rows of an item (their tus upload URLs, offsets and media ids, schema
// step 2) commit in the same transactions as the item's own state.
//
// The sender takes one item at a time, oldest first. Its steps (pick the head and mark it
// `sending`, store the outcome, tell the listener) run on the runtime's host executor, so no
// fsync and no host code ever runs on an I/O thread; waits between attempts are runtime
// timers. Only the HTTP exchange runs on the I/O threads, through the client's pipeline.
// An item with media uploads each file first (hues::Upload, with an UploadStore that is the
// item's own row), stores each media id, appends the ids to the stored body once, then
// creates the report: see docs/outbox.md, "Media".
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
#include <map>
#include <ctime>
#include <mutex>
#include <random>
#include <vector>

#include <dirent.h>

#include "hues/upload.h"
#include "internal/calls.h"
#include "internal/client_core.h"
#include "internal/json_codec.h"
#include "internal/pipeline.h"
#include "internal/service_support.h"
#include "internal/upload.h"

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
    // Step 2: the media of an item, one row per file, written in the item's own transaction.
    // tus_url is kept until media_id is stored (so a kill after the server finished the upload
    // finds it again by HEAD, which answers Hues-Media-Id, instead of uploading twice);
    // media_pending is 1 until the media ids are in the stored body (then it never changes).
    R"sql(
CREATE TABLE item_media (
  item_seq INTEGER NOT NULL,
  position INTEGER NOT NULL,
  source_path TEXT NOT NULL,               -- as the app gave it
  path TEXT NOT NULL,                      -- the file read: source_path, or the outbox's copy
  copied INTEGER NOT NULL DEFAULT 0,
  media_type TEXT NOT NULL,
  filename TEXT NOT NULL DEFAULT '',
  filetype TEXT NOT NULL DEFAULT '',
  size INTEGER NOT NULL,                   -- at enqueue: a file that changed fails the item
  mtime_ns INTEGER NOT NULL,
  tus_url TEXT NOT NULL DEFAULT '',
  uploaded INTEGER NOT NULL DEFAULT 0,
  media_id TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (item_seq, position)
);
ALTER TABLE items ADD COLUMN media_pending INTEGER NOT NULL DEFAULT 0;
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

// A file's identity at enqueue: a later size or mtime differs when it was changed.
struct FileStamp {
  std::int64_t size = 0;
  std::int64_t mtime_ns = 0;
};

// 0, or the errno (EISDIR for a file that is not a regular one).
int stamp_of(const std::string& path, FileStamp& out) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno;
  if (!S_ISREG(st.st_mode)) return EISDIR;
  out.size = static_cast<std::int64_t>(st.st_size);
  out.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return 0;
}

std::string media_field(std::size_t i, const char* member) {
  return "media[" + std::to_string(i) + "]" + (member && *member ? std::string(".") + member : std::string());
}

[[noreturn]] void bad_media(std::size_t i, const std::string& message, const char* code) {
  const std::string field = media_field(i, "path");
  throw_error(ErrorType::kValidation, field + ": " + message, 0, code, {}, field);
}

[[noreturn]] void storage_error(const std::string& message) {
  throw_error(ErrorType::kStorage, message, 0, "outbox_storage");
}

// Copies src to dst (created 0600, fsynced): the outbox's own copy of a media file.
void copy_file(std::size_t i, const std::string& src, const std::string& dst) {
  int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) bad_media(i, "cannot read " + src + ": " + std::strerror(errno), "file_unreadable");
  int out = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) {
    int e = errno;
    ::close(in);
    storage_error("cannot copy a media file into " + dst + ": " + std::strerror(e));
  }
  std::vector<char> buf(1 << 20);
  bool read_failed = false, write_failed = false;
  for (;;) {
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) read_failed = true;
    if (n <= 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::write(out, buf.data() + off, static_cast<std::size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        write_failed = true;
        break;
      }
      off += w;
    }
    if (write_failed) break;
  }
  if (!write_failed && ::fsync(out) != 0) write_failed = true;
  ::close(in);
  ::close(out);
  if (read_failed || write_failed) ::unlink(dst.c_str());
  if (read_failed) bad_media(i, "cannot read " + src, "file_unreadable");
  if (write_failed) storage_error("cannot copy a media file into " + dst + " (disk full?)");
}

void fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
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
  std::int64_t active_seq = 0;  // the item being sent (uploading its media or creating)
  std::string media_dir;        // <path>.media: copies (copy_media)
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
    if (opts.media_chunk_size < 1 || opts.media_chunk_size > (256ll << 20))
      throw_error(ErrorType::kValidation, "media_chunk_size must be between 1 and 268435456 bytes", 0,
                  "invalid_option", {}, "media_chunk_size");
    media_dir = opts.path + ".media";
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
    remove_stray_copies();
  }

  // A kill between copying a file and committing its item leaves a copy no row names.
  void remove_stray_copies() {
    DIR* d = ::opendir(media_dir.c_str());
    if (!d) return;
    std::vector<std::string> names;
    while (auto* e = ::readdir(d))
      if (e->d_name[0] != '.') names.push_back(media_dir + "/" + e->d_name);
    ::closedir(d);
    for (const auto& f : names) {
      Stmt q(db, "SELECT 1 FROM item_media WHERE copied=1 AND path=?");
      q.bind(1, f);
      if (!q.step()) ::unlink(f.c_str());
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

  // Fills items' media and progress from item_media (seq 0: every item's).
  void attach_media_locked(std::vector<OutboxItem>& items, std::int64_t seq) const {
    std::map<std::int64_t, OutboxItem*> by_seq;
    for (auto& it : items) by_seq[seq_of(it.local_id)] = &it;
    Stmt m(db, seq ? "SELECT item_seq, source_path, media_type, size, uploaded, media_id, copied FROM item_media "
                     "WHERE item_seq=? ORDER BY position"
                   : "SELECT item_seq, source_path, media_type, size, uploaded, media_id, copied FROM item_media "
                     "ORDER BY item_seq, position");
    if (seq) m.bind(1, seq);
    while (m.step()) {
      auto found = by_seq.find(m.i64(0));
      if (found == by_seq.end()) continue;
      OutboxItemMedia x;
      x.path = m.text(1);
      x.media_type = MediaType(m.text(2));
      x.size = m.i64(3);
      x.media_id = m.text(5);
      x.uploaded = x.media_id.empty() ? std::min(m.i64(4), x.size) : x.size;
      x.copied = m.i64(6) != 0;
      found->second->media_sent += x.uploaded;
      found->second->media_total += x.size;
      found->second->media.push_back(std::move(x));
    }
  }

  OutboxItem item_locked(std::int64_t seq) const {
    Stmt s(db, (std::string("SELECT ") + kColumns + " FROM items WHERE seq=?").c_str());
    s.bind(1, seq);
    if (!s.step()) throw_error(ErrorType::kNotFound, "no outbox item " + local_id(seq), 0, "not_found", {}, "local_id");
    std::vector<OutboxItem> one{row_item(s)};
    attach_media_locked(one, seq);
    return std::move(one[0]);
  }

  struct NewMedia {
    OutboxMedia given;
    std::string path;  // what the sender reads: the given path, or the copy
    bool copied = false;
    FileStamp stamp;
  };

  OutboxItem enqueue(const NewReport& report, const std::vector<OutboxMedia>& media) {
    // The generated validator of Outbox.enqueue's arguments: the same rules as reports.create
    // for the report, OutboxMedia's for each file (media[i].path, media[i].media_type).
    boost::json::array media_json;
    for (const auto& m : media) media_json.push_back(internal::to_json(m));
    boost::json::object args{{"report", internal::to_json(report)}, {"media", std::move(media_json)}};
    if (auto problem = internal::validate_args(internal::call_id::kOutboxEnqueue, args))
      throw_error(ErrorType::kValidation, problem->message, 0, "validation_error", {}, problem->field);
    // The body exactly as reports.create would send it, kept byte for byte (an item with media
    // gets its media ids appended once, when they are all uploaded).
    boost::json::object create_args{{"body", args["report"]}};
    HttpRequest prepared = internal::prepare_request(internal::call_id::kReportsCreate, create_args);
    std::vector<NewMedia> files;
    for (std::size_t i = 0; i < media.size(); ++i) {
      NewMedia f;
      f.given = media[i];
      f.path = media[i].path;
      int err = stamp_of(f.path, f.stamp);
      if (err == ENOENT || err == ENOTDIR) bad_media(i, "no such file: " + f.path, "file_not_found");
      if (err == EISDIR) bad_media(i, "not a regular file: " + f.path, "not_a_file");
      if (err) bad_media(i, "cannot read " + f.path + ": " + std::strerror(err), "file_unreadable");
      int fd = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) bad_media(i, "cannot read " + f.path + ": " + std::strerror(errno), "file_unreadable");
      ::close(fd);
      if (f.given.filename.empty()) {  // the server sees the app's name, not the copy's
        auto slash = f.path.rfind('/');
        f.given.filename = slash == std::string::npos ? f.path : f.path.substr(slash + 1);
      }
      files.push_back(std::move(f));
    }
    std::vector<std::string> copies;
    auto drop_copies = [&copies] {
      for (const auto& c : copies) ::unlink(c.c_str());
    };
    if (opts.copy_media && !files.empty()) {
      try {
        if (::mkdir(media_dir.c_str(), 0700) != 0 && errno != EEXIST)
          storage_error("cannot create " + media_dir + ": " + std::strerror(errno));
        for (std::size_t i = 0; i < files.size(); ++i) {
          std::string copy = media_dir + "/" + internal::new_uuid4();
          copy_file(i, files[i].path, copy);
          copies.push_back(copy);
          files[i].path = copy;
          files[i].copied = true;
          if (int err = stamp_of(copy, files[i].stamp)) storage_error("cannot read the copy " + copy + ": " + std::strerror(err));
        }
        fsync_dir(media_dir);
      } catch (...) {
        drop_copies();
        throw;
      }
    }
    std::string key = internal::new_uuid4();
    std::string now = utc_now();
    std::int64_t seq;
    try {
      std::lock_guard<std::mutex> lock(mu);
      require_open();
      // One transaction: the item and its media rows are queued together or not at all.
      exec(db, "BEGIN IMMEDIATE");
      try {
        Stmt ins(db,
                 "INSERT INTO items (created_at, idempotency_key, body, state, updated_at, media_pending) "
                 "VALUES (?, ?, ?, 'pending', ?, ?)");
        ins.bind(1, now).bind(2, key).blob(3, prepared.body).bind(4, now).bind(5, std::int64_t(files.empty() ? 0 : 1)).run();
        seq = sqlite3_last_insert_rowid(db);
        for (std::size_t i = 0; i < files.size(); ++i) {
          const auto& f = files[i];
          Stmt m(db,
                 "INSERT INTO item_media (item_seq, position, source_path, path, copied, media_type, filename, filetype, "
                 "size, mtime_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
          m.bind(1, seq).bind(2, static_cast<std::int64_t>(i)).bind(3, f.given.path).bind(4, f.path);
          m.bind(5, std::int64_t(f.copied ? 1 : 0)).bind(6, f.given.media_type.str()).bind(7, f.given.filename);
          m.bind(8, f.given.filetype).bind(9, f.stamp.size).bind(10, f.stamp.mtime_ns).run();
        }
        exec(db, "COMMIT");  // fsynced
      } catch (...) {
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
    } catch (...) {
      drop_copies();
      throw;
    }
    kick();
    OutboxItem it;
    it.local_id = local_id(seq);
    it.created_at = now;
    it.attempts = 0;
    it.state = OutboxItemState::kPending;
    it.report = report;
    for (const auto& f : files) {
      OutboxItemMedia x;
      x.path = f.given.path;
      x.media_type = f.given.media_type;
      x.size = f.stamp.size;
      x.uploaded = 0;
      x.copied = f.copied;
      it.media_total += x.size;
      it.media.push_back(std::move(x));
    }
    return it;
  }

  OutboxItemList items() const {
    std::lock_guard<std::mutex> lock(mu);
    require_open();
    OutboxItemList out;
    Stmt s(db, (std::string("SELECT ") + kColumns + " FROM items ORDER BY seq").c_str());
    while (s.step()) out.items.push_back(row_item(s));
    attach_media_locked(out.items, 0);
    return out;
  }

  // Deletes the items `where` selects and their media rows in one transaction; returns how
  // many items went, and (out) the copies to unlink and unfinished tus URLs to terminate.
  std::int64_t delete_items_locked(const std::string& where, std::int64_t seq, std::vector<std::string>& copies,
                                   std::vector<std::string>& urls) {
    const std::string media_of = "SELECT seq FROM items WHERE " + where;
    exec(db, "BEGIN IMMEDIATE");
    std::int64_t n = 0;
    try {
      {
        Stmt q(db, ("SELECT path, copied, tus_url, media_id FROM item_media WHERE item_seq IN (" + media_of + ")").c_str());
        if (seq) q.bind(1, seq);
        while (q.step()) {
          if (q.i64(1)) copies.push_back(q.text(0));
          if (!q.text(2).empty() && q.text(3).empty()) urls.push_back(q.text(2));
        }
      }
      Stmt dm(db, ("DELETE FROM item_media WHERE item_seq IN (" + media_of + ")").c_str());
      if (seq) dm.bind(1, seq);
      dm.run();
      Stmt di(db, ("DELETE FROM items WHERE " + where).c_str());
      if (seq) di.bind(1, seq);
      di.run();
      n = sqlite3_changes(db);
      exec(db, "COMMIT");
    } catch (...) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      copies.clear();
      urls.clear();
      throw;
    }
    return n;
  }

  // Outside the lock: the copies go, and unfinished uploads are ended on the server (tus
  // termination; a server without it answers 404 or 405 and its expiry cleans up).
  void discard(const std::vector<std::string>& copies, const std::vector<std::string>& urls) {
    for (const auto& c : copies) ::unlink(c.c_str());
    for (const auto& u : urls) terminate_upload(u);
  }

  void terminate_upload(const std::string& url) {
    HttpRequest del;
    del.method = "DELETE";
    del.url = url;
    del.set_header("Tus-Resumable", "1.0.0");
    CallOptions call;
    call.deadline_ms = 10000;
    core->send_async(std::move(del), call, [](std::exception_ptr, HttpResponse) {});
  }

  // An item's state on disk; NotFoundError (field local_id) when there is none. Under mu.
  std::string state_locked(const std::string& id, std::int64_t seq) {
    require_open();
    if (seq < 0) throw_error(ErrorType::kNotFound, "no outbox item " + id, 0, "not_found", {}, "local_id");
    Stmt s(db, "SELECT state FROM items WHERE seq=?");
    s.bind(1, seq);
    if (!s.step()) throw_error(ErrorType::kNotFound, "no outbox item " + id, 0, "not_found", {}, "local_id");
    return s.text(0);
  }

  bool cancel(const std::string& id) {
    std::int64_t seq = seq_of(id);
    std::vector<std::string> copies, urls;
    std::shared_ptr<CancellationToken> running;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (state_locked(id, seq) != "pending") return false;
      // Pending: not created yet (the sender marks an item `sending` under this lock before
      // its create goes out), though its media may be uploading: that upload is aborted.
      if (delete_items_locked("seq=? AND state='pending'", seq, copies, urls) == 0) return false;
      if (active_seq == seq) running = send_cancel;
    }
    if (running) running->cancel();
    discard(copies, urls);
    return true;
  }

  bool retry(const std::string& id) {
    std::int64_t seq = seq_of(id);
    {
      std::lock_guard<std::mutex> lock(mu);
      if (state_locked(id, seq) != "failed") return false;
      // One transaction: the item is pending again with a fresh key and its unfinished media
      // start over (their tus uploads were terminated when it failed), or nothing changed.
      exec(db, "BEGIN IMMEDIATE");
      try {
        Stmt u(db,
               "UPDATE items SET state='pending', attempts=0, last_error='', error_field='', idempotency_key=?, "
               "updated_at=? WHERE seq=? AND state='failed'");
        u.bind(1, internal::new_uuid4()).bind(2, utc_now()).bind(3, seq).run();
        Stmt m(db, "UPDATE item_media SET tus_url='', uploaded=0 WHERE item_seq=? AND media_id=''");
        m.bind(1, seq).run();
        exec(db, "COMMIT");  // fsynced
      } catch (...) {
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
    }
    flush();
    return true;
  }

  std::int64_t purge() {
    std::vector<std::string> copies, urls;
    std::int64_t n;
    {
      std::lock_guard<std::mutex> lock(mu);
      require_open();
      n = delete_items_locked("state IN ('delivered', 'failed')", 0, copies, urls);
    }
    discard(copies, urls);
    return n;
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

  enum class Outcome { kDelivered, kFailed, kRetry };

  void step() {
    std::int64_t seq = 0;
    bool uploads = false;
    std::vector<IdleWaiter> idle;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (closed || busy || timer) return;
      try {
        Stmt s(db, "SELECT seq, media_pending FROM items WHERE state IN ('pending', 'sending') ORDER BY seq LIMIT 1");
        if (!s.step()) {
          idle.swap(idle_waiters);
        } else {
          seq = s.i64(0);
          uploads = s.i64(1) != 0;
          Stmt u(db, "UPDATE items SET attempts=attempts+1, updated_at=? WHERE seq=?");
          u.bind(1, utc_now()).bind(2, seq).run();
          busy = true;
          active_seq = seq;
          send_cancel = std::make_shared<CancellationToken>();
        }
      } catch (const std::exception&) {
        // The disk refused (full, I/O error): try again later rather than lose anything.
        schedule_retry_locked(-1);
        return;
      }
    }
    for (auto& w : idle) finish_waiter(w, true);
    if (!seq) return;
    if (uploads) upload_next(seq);
    else create(seq);
  }

  // ---- media: each file of the head item is uploaded (tus) before its create ----

  // The item's tus state for hues::Upload: the row's URL, so a restarted upload resumes by
  // HEAD. Called on the upload's host chain (the host executor), never on an I/O thread.
  struct MediaStore final : UploadStore {
    std::weak_ptr<Impl> impl;
    std::int64_t seq = 0, position = 0;
    UploadRecord load(const std::string&) override {
      UploadRecord r;
      auto self = impl.lock();
      if (!self) return r;
      std::lock_guard<std::mutex> lock(self->mu);
      self->require_open();
      Stmt q(self->db, "SELECT tus_url, size, path FROM item_media WHERE item_seq=? AND position=?");
      q.bind(1, seq).bind(2, position);
      if (q.step()) {
        r.url = q.text(0);
        r.size = q.i64(1);
        r.path = q.text(2);
      }
      return r;
    }
    void save(const std::string&, const UploadRecord& record) override {
      auto self = impl.lock();
      if (!self) return;
      bool gone;
      {
        std::lock_guard<std::mutex> lock(self->mu);
        self->require_open();
        Stmt u(self->db, "UPDATE item_media SET tus_url=?, uploaded=0 WHERE item_seq=? AND position=? AND media_id=''");
        u.bind(1, record.url).bind(2, seq).bind(3, position).run();
        gone = sqlite3_changes(self->db) == 0;
      }
      if (gone) self->terminate_upload(record.url);  // cancelled meanwhile: end what was just made
    }
    // Kept until the media id is stored (with it, the URL no longer matters): a kill after the
    // server finished the upload then resumes it by HEAD, which answers the id.
    void remove(const std::string&) override {}
  };

  struct MediaProgress final : UploadProgressListener {
    std::weak_ptr<Impl> impl;
    std::int64_t seq = 0, position = 0;
    void on_progress(const UploadProgress& p) override {
      auto self = impl.lock();
      if (!self) return;
      std::lock_guard<std::mutex> lock(self->mu);
      if (self->closed || !self->db) return;
      try {
        Stmt u(self->db, "UPDATE item_media SET uploaded=? WHERE item_seq=? AND position=? AND media_id=''");
        u.bind(1, p.uploaded).bind(2, seq).bind(3, position).run();
      } catch (const std::exception&) {
        // Progress only: the upload itself goes on.
      }
    }
  };

  void upload_next(std::int64_t seq) {
    std::int64_t position = -1;
    UploadOptions uo;
    std::string problem;
    std::shared_ptr<CancellationToken> cancel;
    try {
      std::lock_guard<std::mutex> lock(mu);
      if (closed) return end_turn_locked();
      cancel = send_cancel;
      Stmt q(db,
             "SELECT position, path, media_type, filename, filetype, size, mtime_ns, source_path, copied FROM item_media "
             "WHERE item_seq=? AND media_id='' ORDER BY position LIMIT 1");
      q.bind(1, seq);
      if (q.step()) {
        position = q.i64(0);
        uo.path = q.text(1);
        uo.media_type = q.text(2);
        uo.filename = q.text(3);
        uo.filetype = q.text(4);
        FileStamp then{q.i64(5), q.i64(6)}, now;
        const std::string shown = q.text(7);
        const bool copied = q.i64(8) != 0;
        int err = stamp_of(uo.path, now);
        if (err == ENOENT || err == ENOTDIR)
          problem = copied ? "the outbox's copy of " + shown + " is gone (" + uo.path + ")"
                           : "the file " + shown + " was deleted after enqueue";
        else if (err)
          problem = "cannot read " + shown + ": " + std::strerror(err);
        else if (now.size != then.size || now.mtime_ns != then.mtime_ns)
          problem = "the file " + shown + " was changed after enqueue (size or modification time differ)";
      } else {
        Stmt item(db, "SELECT 1 FROM items WHERE seq=?");
        item.bind(1, seq);
        if (!item.step()) return end_turn_locked(true);  // cancelled meanwhile
      }
    } catch (...) {
      return on_outcome(seq, Outcome::kRetry, error_text(std::current_exception(), nullptr), {}, {}, -1);
    }
    if (position < 0) return finalize_body(seq);
    const std::string field = media_field(static_cast<std::size_t>(position), "path");
    if (!problem.empty()) return on_outcome(seq, Outcome::kFailed, "validation: " + field + ": " + problem, field, {}, -1);
    auto store = std::make_shared<MediaStore>();
    store->impl = weak_from_this();
    store->seq = seq;
    store->position = position;
    auto progress = std::make_shared<MediaProgress>();
    progress->impl = weak_from_this();
    progress->seq = seq;
    progress->position = position;
    uo.store = store;
    uo.progress = progress;
    uo.chunk_size = opts.media_chunk_size;
    // An orphan upload could only ever be an empty one: the POST carries no bytes.
    uo.creation_with_upload = false;
    // The outbox's own backoff takes over after a few quick tries (resuming by the stored URL).
    uo.max_retries = 2;
    uo.retry_backoff_ms = std::min<std::int64_t>(opts.initial_backoff_ms, 250);
    std::shared_ptr<Upload> upload;
    try {
      upload = internal::UploadFactory::make(core, std::move(uo));
    } catch (...) {
      std::string f;
      auto text = error_text(std::current_exception(), &f);
      return on_outcome(seq, Outcome::kFailed, text, media_field(static_cast<std::size_t>(position), "media_type"), {}, -1);
    }
    CallOptions call;
    call.cancel = cancel;  // no deadline for the whole file: each request has the client's
    auto self = shared_from_this();
    upload->start_async(
        [self, upload, seq, position](std::exception_ptr error, UploadResult result) {
          // On the upload's host chain (the host executor).
          self->on_upload(seq, position, error, result);
        },
        call);
  }

  // How an upload's error ends the attempt, and which field of the item it names.
  static Outcome upload_outcome(const std::exception_ptr& e, std::int64_t position, std::string& field) {
    try {
      std::rethrow_exception(e);
    } catch (const Error& err) {
      const int st = err.http_status();
      const auto i = static_cast<std::size_t>(position);
      if (err.field() == "type" || st == 415) field = media_field(i, "media_type");
      else if (err.field() == "filetype") field = media_field(i, "filetype");
      else field = media_field(i, "path");
      // Transient in tus (offset mismatch, checksum mismatch, locked) or anywhere.
      if (st == 401 || st == 408 || st == 409 || st == 423 || st == 429 || st == 460 || st >= 500) return Outcome::kRetry;
      if (st >= 400) return Outcome::kFailed;  // 413, 415, 400, 403, ...: the same file gets the same answer
      // No answer from the server: a file that cannot be read is for good, the rest is not.
      if (err.type() == ErrorType::kValidation) return Outcome::kFailed;
      return Outcome::kRetry;
    } catch (...) {
      return Outcome::kRetry;
    }
  }

  void on_upload(std::int64_t seq, std::int64_t position, std::exception_ptr error, const UploadResult& result) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (closed) return end_turn_locked();
      bool gone = false;
      try {
        Stmt item(db, "SELECT 1 FROM items WHERE seq=?");
        item.bind(1, seq);
        gone = !item.step();
      } catch (...) {
      }
      if (gone) return end_turn_locked(true);  // cancelled: its upload was aborted and terminated
    }
    if (error) {
      std::string field;
      Outcome o = upload_outcome(error, position, field);
      std::string text = error_text(error, nullptr);
      if (o == Outcome::kRetry) field.clear();
      return on_outcome(seq, o, text, field, {}, -1);
    }
    if (!result.complete)
      return on_outcome(seq, Outcome::kRetry, "the upload stopped before its end", {}, {}, -1);
    if (result.media_id.empty()) {
      const std::string field = media_field(static_cast<std::size_t>(position), "path");
      return on_outcome(seq, Outcome::kFailed,
                        "protocol: the upload server gave no media id (Hues-Media-Id) to attach", field, {}, -1);
    }
    try {
      std::lock_guard<std::mutex> lock(mu);
      if (closed) return end_turn_locked();
      // Stored before the create goes out: a kill after this never uploads this file again.
      Stmt u(db, "UPDATE item_media SET media_id=?, uploaded=size WHERE item_seq=? AND position=?");
      u.bind(1, result.media_id).bind(2, seq).bind(3, position).run();
      if (sqlite3_changes(db) == 0) return end_turn_locked(true);
    } catch (...) {
      return on_outcome(seq, Outcome::kRetry, error_text(std::current_exception(), nullptr), {}, {}, -1);
    }
    upload_next(seq);
  }

  // Every file is uploaded: their ids go into the stored body once (then it never changes,
  // so every create attempt, before or after a crash, sends the same bytes with the same key).
  void finalize_body(std::int64_t seq) {
    try {
      std::lock_guard<std::mutex> lock(mu);
      if (closed) return end_turn_locked();
      Stmt b(db, "SELECT body FROM items WHERE seq=?");
      b.bind(1, seq);
      if (!b.step()) return end_turn_locked(true);
      auto report = internal::from_json_string<NewReport>(b.text(0));
      Stmt m(db, "SELECT media_id FROM item_media WHERE item_seq=? ORDER BY position");
      m.bind(1, seq);
      while (m.step()) report.media.push_back(m.text(0));
      boost::json::object args{{"body", internal::to_json(report)}};
      HttpRequest prepared = internal::prepare_request(internal::call_id::kReportsCreate, args);
      Stmt u(db, "UPDATE items SET body=?, media_pending=0, updated_at=? WHERE seq=?");
      u.blob(1, prepared.body).bind(2, utc_now()).bind(3, seq).run();
    } catch (const Error& e) {
      if (e.type() == ErrorType::kStorage)
        return on_outcome(seq, Outcome::kRetry, error_text(std::current_exception(), nullptr), {}, {}, -1);
      std::string field;
      auto text = error_text(std::current_exception(), &field);
      return on_outcome(seq, Outcome::kFailed, text, field, {}, -1);
    } catch (...) {
      return on_outcome(seq, Outcome::kRetry, error_text(std::current_exception(), nullptr), {}, {}, -1);
    }
    create(seq);
  }

  // The turn ends with nothing stored (closed, or the item was cancelled): the next item goes.
  void end_turn_locked(bool next = false) {
    busy = false;
    active_seq = 0;
    send_cancel.reset();
    if (next && !closed) kick();
  }

  // Marks the item `sending` (a commit) and sends its create with the stored key and body.
  void create(std::int64_t seq) {
    std::string key, body;
    std::shared_ptr<CancellationToken> cancel;
    try {
      std::lock_guard<std::mutex> lock(mu);
      if (closed) return end_turn_locked();
      Stmt s(db, "SELECT idempotency_key, body FROM items WHERE seq=?");
      s.bind(1, seq);
      if (!s.step()) return end_turn_locked(true);
      key = s.text(0);
      body = s.text(1);
      Stmt u(db, "UPDATE items SET state='sending', updated_at=? WHERE seq=?");
      u.bind(1, utc_now()).bind(2, seq).run();
      cancel = send_cancel;
    } catch (...) {
      return on_outcome(seq, Outcome::kRetry, error_text(std::current_exception(), nullptr), {}, {}, -1);
    }
    send(seq, key, body, cancel);
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
    on_outcome(seq, outcome, last_error, field, report_id, retry_after_ms);
  }

  // Stores how the head item's turn ended, then tells the listener (delivered, failed) or
  // waits to try again (retry). Any step of the turn ends here.
  void on_outcome(std::int64_t seq, Outcome outcome, const std::string& last_error, std::string field,
                  const std::string& report_id, long long retry_after_ms) {
    OutboxItem event;
    std::vector<std::string> copies, urls;
    {
      std::lock_guard<std::mutex> lock(mu);
      busy = false;
      active_seq = 0;
      send_cancel.reset();
      if (closed) return;  // left `sending` on disk: resent with its key on reopen
      try {
        const char* state = outcome == Outcome::kDelivered ? "delivered" : outcome == Outcome::kFailed ? "failed" : "pending";
        Stmt u(db, "UPDATE items SET state=?, last_error=?, error_field=?, report_id=?, updated_at=? WHERE seq=?");
        u.bind(1, std::string(state)).bind(2, last_error).bind(3, field).bind(4, report_id).bind(5, utc_now()).bind(6, seq);
        u.run();
        if (outcome != Outcome::kRetry) {
          event = item_locked(seq);
          // Delivered: the server holds the media, the copies can go. Failed: uploads never
          // to be finished are ended (the copies stay until purge, for the app to look at).
          Stmt q(db, "SELECT path, copied, tus_url, media_id FROM item_media WHERE item_seq=?");
          q.bind(1, seq);
          while (q.step()) {
            if (outcome == Outcome::kDelivered && q.i64(1)) copies.push_back(q.text(0));
            if (outcome == Outcome::kFailed && !q.text(2).empty() && q.text(3).empty()) urls.push_back(q.text(2));
          }
        }
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
      discard(copies, urls);
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

OutboxItem Outbox::enqueue(const NewReport& report, const std::vector<OutboxMedia>& media) {
  return impl_->enqueue(report, media);
}
OutboxItemList Outbox::items() const { return impl_->items(); }
bool Outbox::cancel(const std::string& local_id) { return impl_->cancel(local_id); }
bool Outbox::retry(const std::string& local_id) { return impl_->retry(local_id); }
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
