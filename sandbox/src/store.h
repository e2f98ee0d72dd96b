// The sandbox's SQLite storage: schema migrations, seed data, API keys, categories and
// reports. One writer connection behind a mutex; readers come from a pool of connections so
// reads never wait for each other (WAL lets them run beside the writer).
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "db.h"
#include "hues/models.h"
#include "util.h"

namespace hues::sandbox {

// A response kept for an Idempotency-Key.
struct StoredResponse {
  int status = 0;
  std::string body;
  std::string location;
};

struct CreateOutcome {
  enum class Kind { kCreated, kReplayed, kKeyReused, kNotCreated };
  Kind kind = Kind::kNotCreated;
  StoredResponse response;  // kCreated and kReplayed
};

// Who is calling /v1: a partner API key, a person (user token) or a client (client
// credentials token).
struct Caller {
  std::optional<std::int64_t> api_key_id;
  std::string principal;  // the person's sub or the client's id; empty for API keys
  std::string client_id;
  std::string role;         // people only: citizen | ioc | agency
  std::string agency_code;  // agency staff
  std::string scope;        // tokens only
  std::string idempotency_owner() const {
    return api_key_id ? "key:" + std::to_string(*api_key_id) : (role.empty() ? "client:" : "sub:") + principal;
  }
};

// A report's JSON with what decides who may see it.
struct StoredReport {
  std::string json;
  bool is_private = false;
  std::string reporter, agency_code;
  bool visible_to(const Caller& c) const {
    return !is_private || (!c.principal.empty() && c.principal == reporter) || c.role == "ioc" ||
           (c.role == "agency" && c.agency_code == agency_code);
  }
};

struct ListQuery {
  std::string status, category;  // empty: any
  bool near = false;
  double lat = 0, lon = 0, radius_m = 0;
  std::int64_t limit = 20;
  std::int64_t before_seq = std::numeric_limits<std::int64_t>::max();  // from the cursor
};

struct ListResult {
  std::vector<Report> items;
  std::int64_t next_seq = 0;  // 0 on the last page
};

class Store {
 public:
  explicit Store(const std::string& db_path);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The id of the API key, or nullopt. Compares SHA-256 digests in constant time.
  std::optional<std::int64_t> authenticate(std::string_view api_key) const;

  const std::string& categories_body() const { return categories_body_; }  // {"items": [...]}
  const Category* category(std::string_view code) const;

  // With an idempotency key: replays or rejects a known key; otherwise, when report is
  // non-null, inserts it together with the key and its response in one transaction.
  // report == nullptr means the request was invalid: only the key lookup happens.
  CreateOutcome create_report(const Caller& caller, std::string_view idempotency_key,
                              const Sha256& body_hash, const NewReport* report);
  // The JSON of one report, or nullptr. Served from a bounded in-memory cache in front of
  // SQLite: every write to a report goes through this class and refreshes its entry.
  std::shared_ptr<const StoredReport> report(std::string_view id);
  // Only the reports caller may see.
  ListResult list_reports(const ListQuery& q, const Caller& caller);
  // The report's status changes, oldest first (callers check visibility first).
  std::vector<TimelineEntry> timeline(std::string_view report_id);
  // Every agency, by code (loaded at start, read-only).
  const std::vector<Agency>& agencies() const { return agencies_; }

 private:
  struct Reader;
  class ReaderLease;
  ReaderLease reader();
  void load_caches();
  void purge_idempotency_keys();

  // Sharded so concurrent GETs only share a lock 1/kShards of the time, and then only a
  // reader lock.
  class ReportCache {
   public:
    std::shared_ptr<const StoredReport> find(std::string_view id);
    void put(std::string_view id, std::shared_ptr<const StoredReport> json);

   private:
    static constexpr std::size_t kShards = 16, kPerShard = 1024;
    struct Shard {
      std::shared_mutex mu;
      std::unordered_map<std::string, std::shared_ptr<const StoredReport>> map;
    };
    Shard& shard(std::string_view id) { return shards_[std::hash<std::string_view>{}(id) % kShards]; }
    std::array<Shard, kShards> shards_;
  };
  ReportCache cache_;

  std::string path_;
  std::mutex write_mu_;  // guards writer_ and the write statements
  Db writer_;
  Stmt find_key_, insert_key_, insert_report_, insert_event_, purge_keys_;
  std::uint64_t creates_ = 0;

  std::mutex pool_mu_;  // guards only the free list, never a query
  std::vector<std::unique_ptr<Reader>> pool_;

  // Loaded at start and read-only afterwards, so lookups need no lock.
  std::vector<std::pair<Sha256, std::int64_t>> api_keys_;
  std::vector<Category> categories_;
  std::unordered_map<std::string_view, const Category*> category_index_;
  std::string categories_body_;
  std::vector<Agency> agencies_;
};

}  // namespace hues::sandbox
