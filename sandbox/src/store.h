// The sandbox's SQLite storage: schema migrations, seed data, API keys, categories and
// reports. One writer connection behind a mutex; readers come from a pool of connections so
// reads never wait for each other (WAL lets them run beside the writer).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
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

// A report with what decides who may see it and what they see.
struct StoredReport {
  Report report;  // as stored: overdue unset, reporter absent (see present())
  bool is_private = false;
  std::string reporter, agency_code;
  bool visible_to(const Caller& c) const {
    return !is_private || (!c.principal.empty() && c.principal == reporter) || c.role == "ioc" ||
           (c.role == "agency" && c.agency_code == agency_code);
  }
};

// The report as caller sees it at now_rfc3339: overdue computed; the reporter's sub shown to
// the reporter and the IOC, and to the assigned agency only when the report is not anonymous.
void present(Report& r, const std::string& reporter, const Caller& caller, const std::string& now_rfc3339);
// A timeline as caller sees it: agency staff never see who reported an anonymous report.
void present(std::vector<TimelineEntry>& t, const StoredReport& r, const Caller& caller);

// Comments as caller sees them: agency staff never see who reported an anonymous report.
void present(std::vector<Comment>& c, const StoredReport& r, const Caller& caller);

// One step of a report's life (docs/openapi.yaml, ReportStatus): the action's call, the
// caller, the If-Match it sent (any: "*") and the action's fields.
struct Transition {
  enum class Action {
    kReceive, kAssign, kReject, kMarkDuplicate, kAccept, kRespond, kRequestTransfer, kApproveTransfer,
    kApprove, kReturn, kRate, kDeclineTransfer
  };
  Action action;
  bool any_version = false;                   // If-Match: *
  std::vector<std::int64_t> if_match;         // the strong entity tags' versions
  std::string note;                           // note, reason, answer or rating comment
  std::vector<std::string> attachments;
  std::string agency_code;                    // assign, approve_transfer
  std::string original_id;                    // mark_duplicate
  bool satisfied = false;                     // rate
};

struct TransitionOutcome {
  enum class Kind { kDone, kNotFound, kRoleNotAllowed, kInvalidState, kStale, kInvalidField };
  Kind kind = Kind::kNotFound;
  std::string message;
  std::string field;  // kInvalidField
  std::shared_ptr<const StoredReport> report;  // kDone: the new one; kStale and kInvalidState: the current one
};

// The rules of the lifecycle as data: which role may take an action from which states, and
// the state it leads to. Tests walk this table to try every forbidden (state, role) pair.
struct TransitionRule {
  Transition::Action action;
  const char* name;    // the SDK method
  const char* role;    // ioc | agency (of the assigned agency) | reporter
  std::vector<const char*> from;
  const char* to;
};
const std::vector<TransitionRule>& transition_rules();

// GET /v1/reports: the filters (empty or unset: any), the order and the cursor's position.
struct ListQuery {
  std::string status, category, agency, ward;
  std::string created_from, created_to;  // whole-second RFC 3339: from <= created_at < to
  std::optional<bool> overdue;
  bool near = false;
  double lat = 0, lon = 0, radius_m = 0;
  std::string fts;  // an FTS5 MATCH expression built by fts_match(), never the user's text
  bool sort_due = false;  // false: newest first (seq descending); true: due_at, then seq
  std::int64_t limit = 20;
  std::int64_t before_seq = std::numeric_limits<std::int64_t>::max();  // newest: from the cursor
  std::string after_due;       // due: from the cursor; "" on the first page
  std::int64_t after_seq = 0;
};

// The folding the search index uses (store.cpp, the v8 step's triggers): đ/Đ -> d/D;
// unicode61 with remove_diacritics 2 then drops the other marks and the case.
std::string fold_for_search(std::string_view text);
// User text -> an FTS5 expression: folded, split into words at ASCII non-alphanumerics,
// each word a quoted term (so no FTS5 syntax of the user's survives), all ANDed; nullopt
// when no word is left.
std::optional<std::string> fts_match(std::string_view user_text);

// GET /v1/agencies/{code}/inbox: by due time, then creation; the cursor is the last row's.
struct InboxFilter {
  std::string agency_code;
  std::optional<bool> overdue;
  std::int64_t limit = 20;
  std::string after_due;       // from the cursor; "" on the first page
  std::int64_t after_seq = 0;
};

// GET /v1/statistics/reports: created in [from, to) (unix seconds), optionally one agency.
struct StatisticsQuery {
  std::int64_t from = 0, to = 0;
  std::string agency;  // empty: every agency
};

struct ListResult {
  std::vector<Report> items;
  std::vector<std::string> reporters;  // items[i]'s reporter, for present()
  std::int64_t next_seq = 0;  // 0 on the last page
  std::string next_due;       // inbox and sort=due: the last row's due_at when a page follows
  std::vector<std::int64_t> seqs;  // inbox: items[i]'s seq
};

// A finished medium as stored (schema step 11).
struct MediaRecord {
  std::string id, upload_id, owner, type, content_type, sha256, created_at;
  std::uint64_t size = 0;
  std::optional<std::int64_t> width, height, duration_ms;
  bool location_removed = false;
};

// One row of report_events (a report's timeline; seq is their global order) with what
// decides who may see it as the report was at that change (GET /v1/events, events.h).
struct StoredEvent {
  std::int64_t seq = 0;
  std::string report_id, category;
  TimelineEntry entry;
  std::int64_t version = 0;  // the report's version once this change was made
  bool is_private = false, anonymous = false;
  std::string reporter;
  std::string agency;         // the agency the report was with after this change
  std::string agency_before;  // and before it ("" for the creation)
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
  // open311: what a GeoReport POST keeps beside the report, in the same transaction.
  struct Open311Extras {
    std::string token, media_url, attributes_json;
  };
  CreateOutcome create_report(const Caller& caller, std::string_view idempotency_key,
                              const Sha256& body_hash, const NewReport* report,
                              const Open311Extras* open311 = nullptr);
  // The JSON of one report, or nullptr. Served from a bounded in-memory cache in front of
  // SQLite: every write to a report goes through this class and refreshes its entry.
  std::shared_ptr<const StoredReport> report(std::string_view id);
  // Only the reports caller may see.
  ListResult list_reports(const ListQuery& q, const Caller& caller);
  // The open reports of category within kDuplicateRadiusM of (lat, lon) that caller may see,
  // nearest first (then newest), at most kMaxDuplicateHints.
  std::vector<DuplicateHint> duplicates(const std::string& category, double lat, double lon, const Caller& caller);
  static constexpr double kDuplicateRadiusM = 50;
  static constexpr std::size_t kMaxDuplicateHints = 20;
  // The report's status changes, oldest first (callers check visibility first).
  std::vector<TimelineEntry> timeline(std::string_view report_id);
  // A report's comments, oldest first, and a new one (callers check who may).
  std::vector<Comment> comments(std::string_view report_id);
  Comment add_comment(std::string_view report_id, const Caller& caller, const std::string& role,
                      const std::string& text, const std::vector<std::string>& attachments);
  // Checks visibility, role, If-Match and state, in that order, then applies the step and
  // its timeline entry in one transaction; concurrent steps on a report serialise here.
  TransitionOutcome transition(std::string_view report_id, const Caller& caller, const Transition& t);
  // An agency's open reports, most urgent first (callers check the caller may read it).
  ListResult inbox(const InboxFilter& q);
  // The IOC's figures for a period (docs/openapi.yaml, getReportStatistics), computed in SQL.
  ReportStatistics statistics(const StatisticsQuery& q);
  // Every agency, by code (loaded at start, read-only).
  const std::vector<Agency>& agencies() const { return agencies_; }

  // The Open311 GeoReport v2 facade (open311.cpp). A report posted through it keeps, beside
  // the report, its token (for GET tokens/{token}), media_url and attribute answers.
  struct Open311Request {
    std::shared_ptr<const StoredReport> report;
    std::string media_url;
    std::string last_note;  // the note of the report's latest timeline entry
  };
  struct Open311Query {
    std::vector<std::string> ids;       // non-empty: exactly these, every other filter ignored
    std::vector<std::string> codes;     // empty: any category
    std::optional<bool> closed;         // nullopt: open and closed
    std::string start, end;             // created_at within [start, end] (RFC 3339 UTC); "": unbounded
    std::int64_t limit = 1000;
  };
  // Public reports only (the facade's GET is unauthenticated), newest first.
  std::vector<Open311Request> open311_requests(const Open311Query& q);
  std::optional<std::string> open311_token(std::string_view token);  // the report id

  // Media objects (media.h, schema step 11). insert_media keeps the first object of an
  // upload and returns its id (m's, or the one already there).
  std::string insert_media(const MediaRecord& m);
  std::optional<MediaRecord> media(std::string_view id);
  std::optional<std::string> media_of_upload(std::string_view upload_id);
  // The reports a medium is attached to (on the report, a comment or a step).
  std::vector<std::string> media_reports(std::string_view media_id);
  void update_media_content(std::string_view media_id, std::uint64_t size, const std::string& sha256_hex);
  // Timeline rows after seq `after`, oldest first, at most limit (GET /v1/events). Rows are
  // committed in seq order under the writer lock, so a read never sees a gap filled later.
  std::vector<StoredEvent> events_after(std::int64_t after, std::size_t limit);
  std::int64_t last_event_seq();  // 0 when there is none
  // Called after each commit that adds a timeline row, with its seq, under the writer lock
  // (so in seq order): it must be quick and must not call back into the store. Add
  // listeners before serving.
  void add_event_listener(std::function<void(std::int64_t seq)> listener);

 private:
  void events_added(std::int64_t seq);
  std::vector<std::function<void(std::int64_t)>> event_listeners_;
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
  Stmt find_key_, insert_key_, insert_report_, insert_event_, purge_keys_, writer_get_, update_report_, insert_step_,
      writer_nearby_;
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
