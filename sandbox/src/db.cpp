#include "db.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hues::sandbox {
namespace {
[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
  throw DbError(rc, std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}
}  // namespace

Stmt::Stmt(sqlite3* db, std::string_view sql) {
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                              &s_, nullptr);
  if (rc != SQLITE_OK) fail(db, rc, "prepare");
}

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(s_);
    s_ = o.s_;
    o.s_ = nullptr;
  }
  return *this;
}

Stmt::~Stmt() { sqlite3_finalize(s_); }

Stmt& Stmt::bind(int i, std::string_view v) {
  int rc = sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) fail(sqlite3_db_handle(s_), rc, "bind");
  return *this;
}
Stmt& Stmt::bind(int i, std::int64_t v) {
  int rc = sqlite3_bind_int64(s_, i, v);
  if (rc != SQLITE_OK) fail(sqlite3_db_handle(s_), rc, "bind");
  return *this;
}
Stmt& Stmt::bind(int i, double v) {
  int rc = sqlite3_bind_double(s_, i, v);
  if (rc != SQLITE_OK) fail(sqlite3_db_handle(s_), rc, "bind");
  return *this;
}
Stmt& Stmt::bind_blob(int i, const void* p, std::size_t n) {
  int rc = sqlite3_bind_blob(s_, i, p, static_cast<int>(n), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) fail(sqlite3_db_handle(s_), rc, "bind");
  return *this;
}

bool Stmt::step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(sqlite3_db_handle(s_), rc, "step");
}

void Stmt::reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

std::string_view Stmt::text(int col) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
  return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col))) : std::string_view();
}

std::string_view Stmt::blob(int col) const {
  auto* p = static_cast<const char*>(sqlite3_column_blob(s_, col));
  return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col))) : std::string_view();
}

Db::Db(const std::string& path, bool read_only) {
  // NOMUTEX: each connection is used by one thread at a time (the writer mutex or the
  // reader pool guarantee it), so SQLite's own per-connection mutex is pure overhead.
  int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
              SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw DbError(rc, "cannot open " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 5000);
}

Db::~Db() { sqlite3_close_v2(db_); }

void Db::exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw DbError(rc, msg);
  }
}

std::int64_t Db::pragma_int(const char* pragma) {
  Stmt s(db_, std::string("PRAGMA ") + pragma);
  return s.step() ? s.int64(0) : 0;
}

void make_database_private(const std::string& path) {
  // SQLite's unix VFS gives -wal and -shm the mode of the database file (findCreateFileMode).
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  const bool ok = ::fchmod(fd, 0600) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot make " + path + " private: " + std::strerror(errno));
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    const std::string side = path + suffix;
    if (::chmod(side.c_str(), 0600) != 0 && errno != ENOENT)
      throw std::runtime_error("cannot make " + side + " private: " + std::strerror(errno));
  }
}

Tx::~Tx() {
  if (!done_) {
    try {
      db_.exec("ROLLBACK");
    } catch (...) {
      // The transaction may already be gone (e.g. SQLite rolled it back on an I/O error).
    }
  }
}

void Tx::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace hues::sandbox
