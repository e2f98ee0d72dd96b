// Thin RAII wrappers over the SQLite C API: a connection, a prepared statement with typed
// bind/column helpers, and a transaction that rolls back unless committed.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace hues::sandbox {

class DbError : public std::runtime_error {
 public:
  DbError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, std::string_view sql);
  Stmt(Stmt&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  ~Stmt();

  // Binds by 1-based index or by ":name"; binding a name the SQL lacks is a no-op.
  Stmt& bind(int i, std::string_view v);
  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, double v);
  Stmt& bind_blob(int i, const void* p, std::size_t n);
  template <typename T>
  Stmt& bind(const char* name, const T& v) {
    if (int i = sqlite3_bind_parameter_index(s_, name)) bind(i, v);
    return *this;
  }

  bool step();  // true while a row is available; throws on error
  void exec() { step(); reset(); }
  void reset();  // also clears bindings so a reused statement starts clean

  std::string_view text(int col) const;
  std::int64_t int64(int col) const { return sqlite3_column_int64(s_, col); }
  double real(int col) const { return sqlite3_column_double(s_, col); }
  std::string_view blob(int col) const;
  bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

 private:
  sqlite3_stmt* s_ = nullptr;
};

// Resets a statement when a scope ends, so an exception never leaves it mid-step.
class StmtScope {
 public:
  explicit StmtScope(Stmt& s) : s_(s) {}
  ~StmtScope() { s_.reset(); }
  StmtScope(const StmtScope&) = delete;
  StmtScope& operator=(const StmtScope&) = delete;

 private:
  Stmt& s_;
};

class Db {
 public:
  Db() = default;
  Db(const std::string& path, bool read_only);
  Db(Db&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  Db& operator=(Db&&) = delete;
  ~Db();

  sqlite3* get() const { return db_; }
  void exec(const char* sql);  // one or more statements, no results
  std::int64_t pragma_int(const char* pragma);
  Stmt prepare(std::string_view sql) { return Stmt(db_, sql); }

 private:
  sqlite3* db_ = nullptr;
};

// The database and what SQLite keeps beside it (-wal, -shm, -journal) hold signing keys and
// password hashes: creates the database file owner-only (0600) before SQLite first opens it,
// so the -wal and -shm SQLite derives from it are 0600 from the start, and makes any of them
// left by an older version or a kill -9 owner-only again. Throws std::runtime_error.
void make_database_private(const std::string& path);

// BEGIN IMMEDIATE (takes the write lock up front, so no upgrade deadlock) ... COMMIT.
class Tx {
 public:
  explicit Tx(Db& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }
  ~Tx();
  void commit();
  Tx(const Tx&) = delete;
  Tx& operator=(const Tx&) = delete;

 private:
  Db& db_;
  bool done_ = false;
};

}  // namespace hues::sandbox
