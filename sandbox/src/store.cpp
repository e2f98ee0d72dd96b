#include "store.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <iterator>
#include <map>
#include <unordered_map>

#include "internal/json_codec.h"
#include "jose.h"
#include "seed.h"

namespace hues::sandbox {
namespace {

using internal::to_json;

constexpr std::int64_t kIdempotencyTtlS = 24 * 3600;

// Schema steps, applied in order; PRAGMA user_version records how many have run. Later
// features append steps here and never edit a released one.
void migrate_schema_v1(Db& db) {
  db.exec(R"SQL(
    CREATE TABLE agencies (
      code TEXT PRIMARY KEY,
      name TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE categories (
      code TEXT PRIMARY KEY,
      position INTEGER NOT NULL,
      name_vi TEXT NOT NULL,
      name_en TEXT NOT NULL,
      grp TEXT NOT NULL,
      description TEXT NOT NULL,
      agency_code TEXT NOT NULL REFERENCES agencies(code),
      sla_hours INTEGER NOT NULL,
      attributes TEXT NOT NULL  -- JSON array of CategoryAttribute, written by the model codec
    ) WITHOUT ROWID;
    CREATE TABLE api_keys (
      id INTEGER PRIMARY KEY,
      key_sha256 BLOB NOT NULL UNIQUE,
      label TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE TABLE reports (
      seq INTEGER PRIMARY KEY,  -- insertion order: the list order and the cursor
      id TEXT NOT NULL UNIQUE,
      api_key_id INTEGER REFERENCES api_keys(id),
      category TEXT NOT NULL REFERENCES categories(code),
      description TEXT NOT NULL,
      lat REAL NOT NULL,
      lon REAL NOT NULL,
      address TEXT NOT NULL,
      ward TEXT NOT NULL,
      anonymous INTEGER NOT NULL,
      status TEXT NOT NULL,
      agency_code TEXT NOT NULL REFERENCES agencies(code),
      media TEXT NOT NULL,  -- JSON array of media ids
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE INDEX reports_status ON reports(status, seq);
    CREATE INDEX reports_category ON reports(category, seq);
    CREATE TABLE idempotency_keys (
      api_key_id INTEGER NOT NULL,
      key TEXT NOT NULL,
      body_sha256 BLOB NOT NULL,
      status INTEGER NOT NULL,
      response_body TEXT NOT NULL,
      location TEXT NOT NULL,
      created_at INTEGER NOT NULL,  -- unix seconds, for the 24 h expiry
      PRIMARY KEY (api_key_id, key)
    ) WITHOUT ROWID;
    CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
  )SQL");
}

// The seed (v2) predates visibility and reporter; it keeps its own statement.
constexpr const char* kInsertSeedReport =
    "INSERT INTO reports (id, api_key_id, category, description, lat, lon, address, ward, anonymous, "
    "status, agency_code, media, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
constexpr const char* kInsertReport =
    "INSERT INTO reports (id, api_key_id, category, description, lat, lon, address, ward, anonymous, "
    "status, agency_code, media, created_at, updated_at, visibility, reporter, due_at) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
constexpr const char* kReportColumns =
    "id, category, description, lat, lon, address, ward, anonymous, status, agency_code, media, "
    "created_at, updated_at, seq, visibility, reporter, version, due_at, duplicate_of, answer, "
    "rating_satisfied, rating_comment, rated_at";

void bind_report(Stmt& s, const Report& r, std::optional<std::int64_t> api_key_id) {
  s.bind(1, r.id);
  if (api_key_id) s.bind(2, *api_key_id);
  s.bind(3, r.category).bind(4, r.description).bind(5, r.location.lat).bind(6, r.location.lon);
  s.bind(7, r.location.address).bind(8, r.location.ward).bind(9, std::int64_t{r.anonymous});
  s.bind(10, r.status.str()).bind(11, r.agency_code);
  s.bind(12, r.media.empty() ? std::string("[]") : internal::to_json_string(r.media));
  s.bind(13, r.created_at).bind(14, r.updated_at);
}

Report read_report(const Stmt& s) {
  Report r;
  r.id = s.text(0);
  r.category = s.text(1);
  r.description = s.text(2);
  r.location.lat = s.real(3);
  r.location.lon = s.real(4);
  r.location.address = s.text(5);
  r.location.ward = s.text(6);
  r.anonymous = s.int64(7) != 0;
  r.status = s.text(8);
  r.agency_code = s.text(9);
  if (auto media = s.text(10); media != "[]") internal::read_json(internal::parse_json(media), r.media, "media");
  r.created_at = s.text(11);
  r.updated_at = s.text(12);
  r.visibility = s.text(14);
  r.version = s.int64(16);
  r.due_at = s.text(17);
  if (!s.is_null(18)) r.duplicate_of = std::string(s.text(18));
  if (!s.is_null(19)) r.answer = std::string(s.text(19));
  if (!s.is_null(20)) r.rating = ReportRating{s.int64(20) != 0, std::string(s.text(21)), std::string(s.text(22))};
  return r;
}

std::shared_ptr<const StoredReport> stored(const Report& r, std::string_view reporter) {
  return std::make_shared<const StoredReport>(
      StoredReport{r, r.visibility == Visibility::kPrivate, std::string(reporter), r.agency_code});
}

void migrate_seed_v2(Db& db) {
  auto agency = db.prepare("INSERT INTO agencies (code, name) VALUES (?, ?)");
  for (const auto& a : seed_agencies()) agency.bind(1, a.code).bind(2, a.name).exec();

  auto cat = db.prepare(
      "INSERT INTO categories (code, position, name_vi, name_en, grp, description, agency_code, "
      "sla_hours, attributes) VALUES (?,?,?,?,?,?,?,?,?)");
  std::int64_t position = 0;
  for (const auto& c : seed_categories()) {
    cat.bind(1, c.code).bind(2, ++position).bind(3, c.name_vi).bind(4, c.name_en).bind(5, c.group);
    cat.bind(6, c.description).bind(7, c.agency_code).bind(8, c.sla_hours);
    cat.bind(9, internal::to_json_string(c.attributes)).exec();
  }

  const auto key_hash = sha256(kSeedApiKey);
  db.prepare("INSERT INTO api_keys (key_sha256, label, created_at) VALUES (?, 'Hue-S sandbox test key', ?)")
      .bind_blob(1, key_hash.data(), key_hash.size())
      .bind(2, rfc3339(now()))
      .exec();

  auto insert = db.prepare(kInsertSeedReport);
  const std::time_t t0 = now();
  for (const auto& s : seed_reports()) {
    Report r;
    r.id = random_id("rpt_", 20);
    r.category = s.category;
    r.description = s.description;
    r.location = s.location;
    r.anonymous = s.anonymous;
    r.status = s.status;
    r.visibility = "public";
    for (const auto& c : seed_categories())
      if (c.code == s.category) r.agency_code = c.agency_code;
    const std::time_t created = t0 - std::time_t{s.hours_ago} * 3600;
    r.created_at = rfc3339(created);
    r.updated_at = rfc3339(r.status == "submitted" ? created : created + s.hours_ago * 3600 / 3);
    bind_report(insert, r, std::nullopt);
    insert.exec();
  }
}

// Identity (issue 3): people, OAuth clients, signing keys, codes, tokens, device grants;
// reports learn who reported them and who may see them; idempotency keys belong to any
// caller (an API key, a person or a client), not only to API keys.
void migrate_identity_v3(Db& db) {
  db.exec(R"SQL(
    CREATE TABLE users (
      sub TEXT PRIMARY KEY,
      username TEXT NOT NULL UNIQUE,
      password_hash TEXT NOT NULL,  -- pbkdf2-sha256$iterations$salt$hash, or seed$ (kSeedPasswordHash)
      name TEXT NOT NULL,
      phone_number TEXT NOT NULL,
      role TEXT NOT NULL,
      verification_level INTEGER NOT NULL,
      agency_code TEXT NOT NULL,
      ward TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE oauth_clients (
      client_id TEXT PRIMARY KEY,
      secret_sha256 BLOB,  -- NULL: a public client
      native INTEGER NOT NULL,
      grants TEXT NOT NULL,
      scopes TEXT NOT NULL,
      redirect_uris TEXT NOT NULL,
      id_token_alg TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE signing_keys (
      kid TEXT PRIMARY KEY,
      alg TEXT NOT NULL,
      private_pem TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      signing INTEGER NOT NULL,
      remove_at INTEGER  -- leaves the JWKS at this time; NULL while current
    ) WITHOUT ROWID;
    CREATE TABLE auth_codes (
      code_sha256 BLOB PRIMARY KEY,
      client_id TEXT NOT NULL,
      redirect_uri TEXT NOT NULL,
      scope TEXT NOT NULL,
      sub TEXT NOT NULL,
      nonce TEXT NOT NULL,
      code_challenge TEXT NOT NULL,
      auth_time INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      family TEXT NOT NULL,  -- the token family its exchange starts, revoked on reuse
      used INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE TABLE oauth_tokens (
      token_sha256 BLOB PRIMARY KEY,
      kind TEXT NOT NULL,  -- access | refresh
      client_id TEXT NOT NULL,
      sub TEXT NOT NULL,   -- empty for client-credentials tokens
      scope TEXT NOT NULL,
      family TEXT NOT NULL,
      auth_time INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      revoked INTEGER NOT NULL DEFAULT 0,
      rotated INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE INDEX oauth_tokens_family ON oauth_tokens(family);
    CREATE TABLE device_grants (
      device_sha256 BLOB PRIMARY KEY,
      user_code TEXT NOT NULL UNIQUE,
      client_id TEXT NOT NULL,
      scope TEXT NOT NULL,
      expires_at INTEGER NOT NULL,
      interval_s INTEGER NOT NULL,
      last_poll_ms INTEGER NOT NULL DEFAULT 0,
      state TEXT NOT NULL DEFAULT 'pending',  -- pending | approved | denied | used
      sub TEXT NOT NULL DEFAULT '',
      auth_time INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    ALTER TABLE reports ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public';
    ALTER TABLE reports ADD COLUMN reporter TEXT NOT NULL DEFAULT '';
    CREATE TABLE idempotency_owned (
      owner TEXT NOT NULL,  -- key:<api key id> | sub:<person> | client:<client id>
      key TEXT NOT NULL,
      body_sha256 BLOB NOT NULL,
      status INTEGER NOT NULL,
      response_body TEXT NOT NULL,
      location TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      PRIMARY KEY (owner, key)
    ) WITHOUT ROWID;
    INSERT INTO idempotency_owned SELECT 'key:' || api_key_id, key, body_sha256, status, response_body,
      location, created_at FROM idempotency_keys;
    DROP TABLE idempotency_keys;
    ALTER TABLE idempotency_owned RENAME TO idempotency_keys;
    CREATE INDEX idempotency_keys_created2 ON idempotency_keys(created_at);
  )SQL");
}

// The seeded people (seed_people()); or_ignore: those a database already has are kept.
void insert_seed_people(Db& db, bool or_ignore) {
  auto user = db.prepare(std::string(or_ignore ? "INSERT OR IGNORE" : "INSERT") +
                         " INTO users (sub, username, password_hash, name, phone_number, role, verification_level, "
                         "agency_code, ward) VALUES (?,?,?,?,?,?,?,?,?)");
  for (const auto& p : seed_people()) {
    user.bind(1, random_id("usr_", 16)).bind(2, p.username).bind(3, kSeedPasswordHash).bind(4, p.name);
    user.bind(5, p.phone).bind(6, p.role).bind(7, std::int64_t{p.level}).bind(8, p.agency_code).bind(9, p.ward).exec();
  }
}

void migrate_seed_identity_v4(Db& db) {
  insert_seed_people(db, /*or_ignore=*/false);
  auto client = db.prepare(
      "INSERT INTO oauth_clients (client_id, secret_sha256, native, grants, scopes, redirect_uris, id_token_alg) "
      "VALUES (?,?,?,?,?,?,?)");
  for (const auto& c : seed_clients()) {
    client.bind(1, c.id);
    if (c.secret) {
      const Sha256 h = sha256(c.secret);  // high-entropy secrets: a fast hash is enough
      client.bind_blob(2, h.data(), h.size());
    }
    client.bind(3, std::int64_t{c.native}).bind(4, c.grants).bind(5, c.scopes).bind(6, c.redirect_uris);
    client.bind(7, c.id_token_alg).exec();
  }
}

// /v1/agencies and /v1/reports/{id}/timeline: agencies get their English name, kind, hotline
// and ward; every report gets a timeline, starting with its creation.
void migrate_agencies_timeline_v5(Db& db) {
  db.exec(R"SQL(
    ALTER TABLE agencies ADD COLUMN name_en TEXT NOT NULL DEFAULT '';
    ALTER TABLE agencies ADD COLUMN kind TEXT NOT NULL DEFAULT 'department';
    ALTER TABLE agencies ADD COLUMN phone TEXT NOT NULL DEFAULT '';
    ALTER TABLE agencies ADD COLUMN ward TEXT;  -- NULL: not a ward committee
    CREATE TABLE report_events (
      seq INTEGER PRIMARY KEY,  -- the timeline's order
      report_id TEXT NOT NULL REFERENCES reports(id),
      at TEXT NOT NULL,
      status TEXT NOT NULL,
      actor_role TEXT NOT NULL,  -- ActorRole: citizen | ioc | agency | system
      note TEXT NOT NULL
    );
    CREATE INDEX report_events_report ON report_events(report_id, seq);
    INSERT INTO report_events (report_id, at, status, actor_role, note)
      SELECT id, created_at, 'submitted', 'citizen', '' FROM reports ORDER BY seq;
    INSERT INTO report_events (report_id, at, status, actor_role, note)
      SELECT id, updated_at, status,
             CASE WHEN status IN ('in_progress', 'responded', 'resolved') THEN 'agency' ELSE 'ioc' END, ''
      FROM reports WHERE status <> 'submitted' ORDER BY seq;
  )SQL");
  auto agency = db.prepare(
      "INSERT INTO agencies (code, name, name_en, kind, phone, ward) VALUES (?,?,?,?,?,?) "
      "ON CONFLICT(code) DO UPDATE SET name = excluded.name, name_en = excluded.name_en, kind = excluded.kind, "
      "phone = excluded.phone, ward = excluded.ward");
  for (const auto& a : seed_agencies()) {
    agency.bind(1, a.code).bind(2, a.name).bind(3, a.name_en).bind(4, a.kind).bind(5, a.phone);
    if (a.ward) agency.bind(6, a.ward);
    agency.exec();
  }
}

// Issue 7: each listener is its own issuer, so codes, tokens and device grants remember the
// one that issued them (rows from before have '' and are accepted by none); expired codes
// and device grants are purged by expiry.
void migrate_issuers_v6(Db& db) {
  db.exec(R"SQL(
    ALTER TABLE auth_codes ADD COLUMN issuer TEXT NOT NULL DEFAULT '';
    ALTER TABLE oauth_tokens ADD COLUMN issuer TEXT NOT NULL DEFAULT '';
    ALTER TABLE device_grants ADD COLUMN issuer TEXT NOT NULL DEFAULT '';
    CREATE INDEX auth_codes_expires ON auth_codes(expires_at);
    CREATE INDEX device_grants_expires ON device_grants(expires_at);
  )SQL");
}

// Issue 8, the life of a report: a version for If-Match, a deadline, the duplicate link, the
// agency's answer and the rating; timeline entries learn who acted, where a report went and
// what was attached; more IOC operators and agency staff (least privilege: each person one
// role, staff one agency).
void migrate_lifecycle_v7(Db& db) {
  db.exec(R"SQL(
    ALTER TABLE reports ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE reports ADD COLUMN due_at TEXT NOT NULL DEFAULT '';
    ALTER TABLE reports ADD COLUMN duplicate_of TEXT;
    ALTER TABLE reports ADD COLUMN answer TEXT;
    ALTER TABLE reports ADD COLUMN rating_satisfied INTEGER;
    ALTER TABLE reports ADD COLUMN rating_comment TEXT;
    ALTER TABLE reports ADD COLUMN rated_at TEXT;
    UPDATE reports SET due_at = strftime('%Y-%m-%dT%H:%M:%SZ', created_at,
      '+' || (SELECT sla_hours FROM categories c WHERE c.code = reports.category) || ' hours');
    CREATE INDEX reports_agency_due ON reports(agency_code, due_at, seq);
    ALTER TABLE report_events ADD COLUMN actor TEXT NOT NULL DEFAULT '';
    ALTER TABLE report_events ADD COLUMN agency_code TEXT;
    ALTER TABLE report_events ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';
    CREATE TABLE IF NOT EXISTS report_comments (
      seq INTEGER PRIMARY KEY,  -- the conversation's order
      id TEXT NOT NULL UNIQUE,
      report_id TEXT NOT NULL REFERENCES reports(id),
      at TEXT NOT NULL,
      author_role TEXT NOT NULL,
      author TEXT NOT NULL,
      text TEXT NOT NULL,
      attachments TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS report_comments_report ON report_comments(report_id, seq);
  )SQL");
  // People seeded before v7 exist already; the ones this step adds are inserted once.
  insert_seed_people(db, /*or_ignore=*/true);
}

// Issue 8, the Open311 GeoReport v2 facade (open311.cpp): what a GeoReport POST brings
// beside the report (its token, media_url, attribute answers); GET requests.{format} reads
// reports by creation time.
// IF NOT EXISTS: tests that rewind a database to an older step leave this one's table.
void migrate_open311_v8(Db& db) {
  db.exec(R"SQL(
    CREATE TABLE IF NOT EXISTS open311_requests (
      report_id TEXT PRIMARY KEY REFERENCES reports(id),
      token TEXT NOT NULL UNIQUE,
      media_url TEXT NOT NULL,
      attributes TEXT NOT NULL,  -- JSON object: code -> value, or [values] for a multivaluelist
      posted_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS reports_created ON reports(created_at);
  )SQL");
}

// Issue 8: a few hundred reports with full timelines (seed_stories()), from the seeded
// citizens, handled by the seeded IOC operators and agency staff, through the normal tables
// so that triggers on them (full-text search) see every row. Staff of every agency they
// reach join the people first.
void migrate_seed_stories_v9(Db& db) {
  insert_seed_people(db, /*or_ignore=*/true);
  const std::time_t t0 = now();
  const auto stories = seed_stories(t0);
  {
    // A database migrated down and up again (tests do) keeps the stories it has.
    auto seeded = db.prepare("SELECT 1 FROM reports WHERE id = ?");
    seeded.bind(1, stories.front().id);
    if (seeded.step()) return;
  }
  std::map<std::string, std::string> subs;
  {
    auto all = db.prepare("SELECT username, sub FROM users");
    while (all.step()) subs.emplace(std::string(all.text(0)), std::string(all.text(1)));
  }
  std::map<std::string, std::int64_t> sla;
  for (const auto& c : seed_categories()) sla.emplace(c.code, c.sla_hours * 3600);
  auto report = db.prepare(
      "INSERT INTO reports (id, category, description, lat, lon, address, ward, anonymous, status, agency_code, media, "
      "created_at, updated_at, visibility, reporter, version, due_at, duplicate_of, answer, rating_satisfied, "
      "rating_comment, rated_at) VALUES (?,?,?,?,?,?,?,?,?,?,'[]',?,?,?,?,?,?,?,?,?,?,?)");
  auto event = db.prepare(
      "INSERT INTO report_events (report_id, at, status, actor_role, note, actor, agency_code, attachments) "
      "VALUES (?,?,?,?,?,?,?,?)");
  for (const auto& s : stories) {
    std::string agency;
    for (const auto& c : seed_categories())
      if (c.code == s.category) agency = c.agency_code;
    std::time_t due = s.created_at + sla.at(s.category);
    std::optional<std::string> answer;
    for (const auto& e : s.steps) {
      if (e.status == std::string("assigned")) agency = e.agency_code, due = e.at + sla.at(s.category);
      if (e.status == std::string("responded")) answer = e.note;
    }
    const SeedStep& last = s.steps.back();
    report.bind(1, s.id).bind(2, s.category).bind(3, s.description).bind(4, s.location.lat).bind(5, s.location.lon);
    report.bind(6, s.location.address).bind(7, s.location.ward).bind(8, std::int64_t{s.anonymous}).bind(9, last.status);
    report.bind(10, agency).bind(11, rfc3339(s.created_at)).bind(12, rfc3339(last.at));
    report.bind(13, s.is_private ? "private" : "public").bind(14, subs.at(s.reporter));
    report.bind(15, static_cast<std::int64_t>(s.steps.size())).bind(16, rfc3339(due));
    if (s.duplicate_of) report.bind(17, *s.duplicate_of);
    if (answer) report.bind(18, *answer);
    if (last.status == std::string("rated"))
      report.bind(19, std::int64_t{s.satisfied}).bind(20, last.note).bind(21, rfc3339(last.at));
    report.exec();
    for (const auto& e : s.steps) {
      event.bind(1, s.id).bind(2, rfc3339(e.at)).bind(3, e.status).bind(4, e.role).bind(5, e.note);
      event.bind(6, subs.at(e.actor));
      if (!e.agency_code.empty()) event.bind(7, e.agency_code);
      event.bind(8, e.attachments.empty() ? std::string("[]") : internal::to_json_string(e.attachments)).exec();
    }
  }
  // Lists go newest first by seq, so seq must follow created_at: every report is taken out and
  // put back in that order (DELETE and INSERT, which triggers on reports follow; the timelines
  // and comments that refer to them by id are back before the commit checks the keys).
  db.exec(R"SQL(
    PRAGMA defer_foreign_keys = ON;
    CREATE TEMP TABLE reports_by_time AS SELECT * FROM reports ORDER BY created_at, seq;
    UPDATE reports_by_time SET seq = NULL;
    DELETE FROM reports;
    INSERT INTO reports SELECT * FROM reports_by_time ORDER BY rowid;
    DROP TABLE reports_by_time;
  )SQL");
}

// Issue 8, search: a full-text index of every report's description, address and ward,
// kept by triggers so that any insert or update (a handler, a seed step, a later migration)
// is indexed. unicode61 with remove_diacritics 2 drops Vietnamese marks and case; đ/Đ is a
// letter of its own (no decomposition), so the triggers fold it to d/D first, in SQL, the
// same folding as fold_for_search() applies to queries. Indexes for sort=due and ward.
void migrate_search_v10(Db& db) {
  db.exec(R"SQL(
    CREATE VIRTUAL TABLE reports_fts USING fts5(description, address, ward,
      tokenize = 'unicode61 remove_diacritics 2');
    CREATE TRIGGER reports_fts_insert AFTER INSERT ON reports BEGIN
      INSERT INTO reports_fts (rowid, description, address, ward) VALUES (new.seq,
        replace(replace(new.description, 'đ', 'd'), 'Đ', 'D'),
        replace(replace(new.address, 'đ', 'd'), 'Đ', 'D'),
        replace(replace(new.ward, 'đ', 'd'), 'Đ', 'D'));
    END;
    CREATE TRIGGER reports_fts_update AFTER UPDATE OF description, address, ward ON reports BEGIN
      UPDATE reports_fts SET
        description = replace(replace(new.description, 'đ', 'd'), 'Đ', 'D'),
        address = replace(replace(new.address, 'đ', 'd'), 'Đ', 'D'),
        ward = replace(replace(new.ward, 'đ', 'd'), 'Đ', 'D')
      WHERE rowid = new.seq;
    END;
    CREATE TRIGGER reports_fts_delete AFTER DELETE ON reports BEGIN
      DELETE FROM reports_fts WHERE rowid = old.seq;
    END;
    INSERT INTO reports_fts (rowid, description, address, ward)
      SELECT seq, replace(replace(description, 'đ', 'd'), 'Đ', 'D'), replace(replace(address, 'đ', 'd'), 'Đ', 'D'),
             replace(replace(ward, 'đ', 'd'), 'Đ', 'D') FROM reports;
    CREATE INDEX reports_due ON reports(due_at, seq);
    CREATE INDEX reports_ward ON reports(ward, seq);
    CREATE INDEX reports_category_geo ON reports(category, lat);
  )SQL");
}

// Issue 9, media: a finished tus upload becomes a media object (media.h); media_links says
// which reports it is attached to (on create, in a comment or with a step), which decides
// who else may read it.
void migrate_media_v11(Db& db) {
  db.exec(R"SQL(
    CREATE TABLE media (
      id TEXT PRIMARY KEY,
      upload_id TEXT NOT NULL UNIQUE,
      owner TEXT NOT NULL,          -- Caller::idempotency_owner() of the uploader
      type TEXT NOT NULL,           -- photo | audio | video | document
      content_type TEXT NOT NULL,   -- as sniffed
      size INTEGER NOT NULL,
      sha256 TEXT NOT NULL,         -- hex, of the bytes served
      width INTEGER, height INTEGER, duration_ms INTEGER,
      created_at TEXT NOT NULL,
      location_removed INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE media_links (
      media_id TEXT NOT NULL REFERENCES media(id),
      report_id TEXT NOT NULL,
      PRIMARY KEY (media_id, report_id)
    ) WITHOUT ROWID;
  )SQL");
}

// Issue 9, Standard Webhooks (webhooks.cpp): partner endpoints with their secrets (the old one
// kept for a rotation's grace), the messages queued for each, every delivery attempt, and how
// far the worker has read the timeline and the conversations (from here on: the history
// before this step is never delivered).
void migrate_webhooks_v12(Db& db) {
  db.exec(R"SQL(
    CREATE TABLE IF NOT EXISTS webhook_endpoints (
      seq INTEGER PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      owner TEXT NOT NULL,  -- Caller::idempotency_owner(): key:<id> or client:<client_id>
      url TEXT NOT NULL,
      event_types TEXT NOT NULL,  -- space separated
      description TEXT NOT NULL,
      enabled INTEGER NOT NULL,
      created_at TEXT NOT NULL,
      secret TEXT NOT NULL,
      previous_secret TEXT NOT NULL DEFAULT '',
      previous_expires_at INTEGER NOT NULL DEFAULT 0,  -- unix seconds
      from_event_seq INTEGER NOT NULL,    -- deliver report_events after this seq
      from_comment_seq INTEGER NOT NULL   -- ... and report_comments
    );
    CREATE INDEX IF NOT EXISTS webhook_endpoints_owner ON webhook_endpoints(owner, seq);
    CREATE TABLE IF NOT EXISTS webhook_messages (
      seq INTEGER PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,  -- webhook-id
      endpoint_id TEXT NOT NULL,
      event_type TEXT NOT NULL,
      body TEXT NOT NULL,  -- exactly the bytes signed and sent
      created_at TEXT NOT NULL,
      state TEXT NOT NULL,  -- pending | delivered | failed
      attempts INTEGER NOT NULL,
      round_start INTEGER NOT NULL,  -- attempts when the current round (first send or replay) began
      next_attempt_ms INTEGER NOT NULL  -- unix milliseconds; 0 when none is due
    );
    CREATE INDEX IF NOT EXISTS webhook_messages_due ON webhook_messages(state, next_attempt_ms);
    CREATE INDEX IF NOT EXISTS webhook_messages_endpoint ON webhook_messages(endpoint_id);
    CREATE TABLE IF NOT EXISTS webhook_attempts (
      seq INTEGER PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      message_id TEXT NOT NULL,
      endpoint_id TEXT NOT NULL,
      attempt INTEGER NOT NULL,
      at TEXT NOT NULL,
      status_code INTEGER NOT NULL,  -- 0: no response (see error)
      error TEXT NOT NULL,
      latency_ms INTEGER NOT NULL,
      next_attempt_at TEXT NOT NULL  -- '' when none
    );
    CREATE INDEX IF NOT EXISTS webhook_attempts_endpoint ON webhook_attempts(endpoint_id, seq);
    CREATE TABLE IF NOT EXISTS webhook_cursors (name TEXT PRIMARY KEY, seq INTEGER NOT NULL);
    INSERT OR IGNORE INTO webhook_cursors (name, seq) SELECT 'report_events', COALESCE(MAX(seq), 0) FROM report_events;
    INSERT OR IGNORE INTO webhook_cursors (name, seq) SELECT 'report_comments', COALESCE(MAX(seq), 0) FROM report_comments;
  )SQL");
}

using Migration = void (*)(Db&);
constexpr Migration kMigrations[] = {migrate_schema_v1,        migrate_seed_v2,
                                     migrate_identity_v3,      migrate_seed_identity_v4,
                                     migrate_agencies_timeline_v5, migrate_issuers_v6,
                                     migrate_lifecycle_v7,     migrate_open311_v8,
                                     migrate_seed_stories_v9,  migrate_search_v10,
                                     migrate_media_v11,        migrate_webhooks_v12};

void migrate(Db& db) {
  constexpr std::int64_t target = std::size(kMigrations);
  if (db.pragma_int("user_version") == target) return;
  Tx tx(db);  // re-read under the write lock: another process may have migrated meanwhile
  const std::int64_t version = db.pragma_int("user_version");
  if (version > target)
    throw std::runtime_error("sandbox database schema v" + std::to_string(version) +
                             " is newer than this server (v" + std::to_string(target) + ")");
  for (std::int64_t v = version; v < target; ++v) kMigrations[v](db);
  db.exec(("PRAGMA user_version = " + std::to_string(target)).c_str());
  tx.commit();
}

void sql_distance(sqlite3_context* ctx, int, sqlite3_value** argv) {
  sqlite3_result_double(ctx, haversine_m(sqlite3_value_double(argv[0]), sqlite3_value_double(argv[1]),
                                         sqlite3_value_double(argv[2]), sqlite3_value_double(argv[3])));
}

// The bits of ListQuery that shape the statement; one prepared statement per combination.
enum ListBits : unsigned {
  kStatus = 1, kCategory = 2, kNear = 4, kAgency = 8, kWard = 16, kFrom = 32, kTo = 64, kOverdue = 128,
  kText = 256, kSortDue = 512
};

unsigned list_mask(const ListQuery& q) {
  return (q.status.empty() ? 0u : kStatus) | (q.category.empty() ? 0u : kCategory) | (q.near ? kNear : 0u) |
         (q.agency.empty() ? 0u : kAgency) | (q.ward.empty() ? 0u : kWard) |
         (q.created_from.empty() ? 0u : kFrom) | (q.created_to.empty() ? 0u : kTo) |
         (q.overdue ? kOverdue : 0u) | (q.fts.empty() ? 0u : kText) | (q.sort_due ? kSortDue : 0u);
}

// The statuses in which a report waits for the agency's answer (present()'s overdue).
constexpr const char* kWaitingStatuses =
    "('submitted', 'received', 'assigned', 'in_progress', 'returned', 'transfer_requested')";

std::string list_sql(unsigned mask) {
  // Unbound :me / :agency stay NULL, which matches nothing.
  std::string sql = std::string("SELECT ") + kReportColumns +
                    " FROM reports WHERE (visibility = 'public' OR :all = 1 OR reporter = :me"
                    " OR agency_code = :agency)";
  sql += (mask & kSortDue) ? " AND (due_at > :after_due OR (due_at = :after_due AND seq > :after_seq))"
                           : " AND seq < :before";
  if (mask & kStatus) sql += " AND status = :status";
  if (mask & kCategory) sql += " AND category = :category";
  if (mask & kAgency) sql += " AND agency_code = :agency_filter";
  if (mask & kWard) sql += " AND ward = :ward";
  if (mask & kFrom) sql += " AND created_at >= :from";
  if (mask & kTo) sql += " AND created_at < :to";
  if (mask & kOverdue)
    sql += std::string(" AND (status IN ") + kWaitingStatuses + " AND due_at <> '' AND due_at < :now) = :overdue";
  if (mask & kNear)
    sql += " AND lat BETWEEN :lat_min AND :lat_max AND lon BETWEEN :lon_min AND :lon_max"
           " AND hs_distance(lat, lon, :lat, :lon) <= :radius";
  if (mask & kText) sql += " AND seq IN (SELECT rowid FROM reports_fts WHERE reports_fts MATCH :fts)";
  return sql + ((mask & kSortDue) ? " ORDER BY due_at, seq LIMIT :limit" : " ORDER BY seq DESC LIMIT :limit");
}

// A box around a circle: cheap comparisons drop most rows before the exact great-circle test.
struct Box {
  double lat_min, lat_max, lon_min = -180, lon_max = 180;
};
Box box_around(double lat, double lon, double radius_m) {
  constexpr double kDeg = 180.0 / 3.14159265358979323846;
  const double dlat = radius_m / kEarthRadiusM * kDeg * 1.01;
  Box b{lat - dlat, lat + dlat};
  const double coslat = std::cos(lat / kDeg);
  if (coslat > 1e-6) {
    const double dlon = dlat / coslat;
    if (lon - dlon >= -180 && lon + dlon <= 180) b.lon_min = lon - dlon, b.lon_max = lon + dlon;
  }
  return b;
}

// Open: any status but the final ones and resolved (published, waiting only for a rating).
constexpr const char* kNearbyOpenSql =
    "SELECT id, category, status, description, lat, lon, created_at, seq FROM reports "
    "WHERE category = :category AND status NOT IN ('resolved', 'rated', 'rejected', 'duplicate') "
    "AND lat BETWEEN :lat_min AND :lat_max AND lon BETWEEN :lon_min AND :lon_max "
    "AND (visibility = 'public' OR :all = 1 OR reporter = :me OR agency_code = :agency)";

std::vector<DuplicateHint> nearby_open(Stmt& s, const std::string& category, double lat, double lon,
                                       const Caller& caller) {
  StmtScope scope(s);
  const Box b = box_around(lat, lon, Store::kDuplicateRadiusM);
  s.bind(":category", category).bind(":lat_min", b.lat_min).bind(":lat_max", b.lat_max);
  s.bind(":lon_min", b.lon_min).bind(":lon_max", b.lon_max).bind(":all", std::int64_t{caller.role == "ioc"});
  if (!caller.principal.empty()) s.bind(":me", caller.principal);
  if (caller.role == "agency") s.bind(":agency", caller.agency_code);
  std::vector<std::pair<std::int64_t, DuplicateHint>> found;  // (seq, hint)
  while (s.step()) {
    const double d = haversine_m(lat, lon, s.real(4), s.real(5));
    if (d > Store::kDuplicateRadiusM) continue;
    DuplicateHint h;
    h.id = s.text(0);
    h.category = s.text(1);
    h.status = s.text(2);
    h.description = s.text(3);
    h.distance_m = std::round(d * 10) / 10;  // decimetres: more would be noise for GPS fixes
    h.created_at = s.text(6);
    found.emplace_back(s.int64(7), std::move(h));
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return a.second.distance_m != b.second.distance_m ? a.second.distance_m < b.second.distance_m : a.first > b.first;
  });
  std::vector<DuplicateHint> out;
  for (auto& [seq, h] : found) {
    if (out.size() == Store::kMaxDuplicateHints) break;
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace

struct Store::Reader {
  explicit Reader(const std::string& path) : db(path, false) {
    db.exec("PRAGMA query_only = 1");
    int rc = sqlite3_create_function_v2(db.get(), "hs_distance", 4,
                                        SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                                        sql_distance, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) throw DbError(rc, "cannot register hs_distance");
    get = db.prepare(std::string("SELECT ") + kReportColumns + " FROM reports WHERE id = ?");
    events = db.prepare(
        "SELECT at, status, actor_role, note, actor, agency_code, attachments FROM report_events WHERE report_id = ? "
        "ORDER BY seq");
  }
  Stmt& inbox() {
    if (!inbox_stmt) {
      inbox_stmt.emplace(db.prepare(
          std::string("SELECT ") + kReportColumns +
          " FROM reports WHERE agency_code = :agency AND status IN ('assigned', 'in_progress', 'returned', "
          "'transfer_requested') AND (due_at > :after_due OR (due_at = :after_due AND seq > :after_seq)) "
          "AND (:overdue IS NULL OR (due_at < :now) = :overdue) ORDER BY due_at, seq LIMIT :limit"));
    }
    return *inbox_stmt;
  }
  std::optional<Stmt> inbox_stmt, comments, nearby;
  Stmt& list(unsigned mask) {
    auto it = lists.find(mask);
    if (it == lists.end()) it = lists.emplace(mask, db.prepare(list_sql(mask))).first;
    return it->second;
  }
  Db db;
  Stmt get, events;
  std::unordered_map<unsigned, Stmt> lists;  // prepared on first use of each filter combination
};

class Store::ReaderLease {
 public:
  ReaderLease(Store& s, std::unique_ptr<Reader> r) : store_(s), r_(std::move(r)) {}
  ~ReaderLease() {
    std::lock_guard<std::mutex> lk(store_.pool_mu_);
    store_.pool_.push_back(std::move(r_));
  }
  Reader* operator->() const { return r_.get(); }

 private:
  Store& store_;
  std::unique_ptr<Reader> r_;
};

Store::ReaderLease Store::reader() {
  {
    std::lock_guard<std::mutex> lk(pool_mu_);
    if (!pool_.empty()) {
      auto r = std::move(pool_.back());
      pool_.pop_back();
      return ReaderLease(*this, std::move(r));
    }
  }
  return ReaderLease(*this, std::make_unique<Reader>(path_));  // the pool grows to peak concurrency
}

namespace {
const std::string& private_database(const std::string& path) {
  make_database_private(path);
  return path;
}
// Attaching media ids (checked by Media::check_attachable) to a report, in the caller's
// transaction.
void link_media(Db& db, std::string_view report_id, const std::vector<std::string>& ids) {
  if (ids.empty()) return;
  auto s = db.prepare("INSERT OR IGNORE INTO media_links (media_id, report_id) VALUES (?, ?)");
  for (const auto& id : ids) {
    s.bind(1, id).bind(2, report_id).step();
    s.reset();
  }
}

}  // namespace

Store::Store(const std::string& db_path) : path_(db_path), writer_(private_database(db_path), false) {
  if (!sqlite3_threadsafe()) throw std::runtime_error("SQLite was built without thread support");
  // WAL + NORMAL: a commit is one append to the log, durable across a crash of the process;
  // a larger checkpoint interval folds the many rewrites of hot pages into one.
  writer_.exec(
      "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
      "PRAGMA wal_autocheckpoint = 4096;");
  migrate(writer_);
  find_key_ = writer_.prepare(
      "SELECT body_sha256, status, response_body, location FROM idempotency_keys "
      "WHERE owner = ? AND key = ? AND created_at > ?");
  insert_key_ = writer_.prepare(
      "INSERT OR REPLACE INTO idempotency_keys (owner, key, body_sha256, status, response_body, "
      "location, created_at) VALUES (?,?,?,?,?,?,?)");
  insert_report_ = writer_.prepare(kInsertReport);
  insert_event_ = writer_.prepare(
      "INSERT INTO report_events (report_id, at, status, actor_role, note, actor) VALUES (?,?,?,?,?,?)");
  purge_keys_ = writer_.prepare("DELETE FROM idempotency_keys WHERE created_at <= ?");
  writer_get_ = writer_.prepare(std::string("SELECT ") + kReportColumns + " FROM reports WHERE id = ?");
  update_report_ = writer_.prepare(
      "UPDATE reports SET status = :status, agency_code = :agency, updated_at = :at, version = version + 1, "
      "due_at = :due, duplicate_of = :dup, answer = :answer, rating_satisfied = :sat, rating_comment = :comment, "
      "rated_at = :rated_at WHERE id = :id AND version = :version");
  writer_nearby_ = writer_.prepare(kNearbyOpenSql);
  insert_step_ = writer_.prepare(
      "INSERT INTO report_events (report_id, at, status, actor_role, note, actor, agency_code, attachments) "
      "VALUES (?,?,?,?,?,?,?,?)");
  purge_idempotency_keys();
  load_caches();
}

Store::~Store() = default;

void Store::load_caches() {
  auto keys = writer_.prepare("SELECT key_sha256, id FROM api_keys");
  while (keys.step()) {
    Sha256 h{};
    auto b = keys.blob(0);
    if (b.size() != h.size()) continue;
    std::copy(b.begin(), b.end(), h.begin());
    api_keys_.emplace_back(h, keys.int64(1));
  }
  auto cats = writer_.prepare(
      "SELECT c.code, c.name_vi, c.name_en, c.grp, c.description, c.agency_code, a.name, c.sla_hours, "
      "c.attributes FROM categories c JOIN agencies a ON a.code = c.agency_code ORDER BY c.position");
  while (cats.step()) {
    Category c;
    c.code = cats.text(0);
    c.name_vi = cats.text(1);
    c.name_en = cats.text(2);
    c.group = cats.text(3);
    c.description = cats.text(4);
    c.agency_code = cats.text(5);
    c.agency_name = cats.text(6);
    c.sla_hours = cats.int64(7);
    internal::read_json(internal::parse_json(cats.text(8)), c.attributes, "attributes");
    categories_.push_back(std::move(c));
  }
  for (const auto& c : categories_) category_index_.emplace(c.code, &c);
  auto agencies = writer_.prepare("SELECT code, name, name_en, kind, phone, ward FROM agencies ORDER BY code");
  while (agencies.step()) {
    Agency a;
    a.code = agencies.text(0);
    a.name_vi = agencies.text(1);
    a.name_en = agencies.text(2);
    a.kind = agencies.text(3);
    a.phone = agencies.text(4);
    if (!agencies.is_null(5)) a.ward = std::string(agencies.text(5));
    agencies_.push_back(std::move(a));
  }
  boost::json::object body;
  body["items"] = to_json(categories_);
  categories_body_ = internal::serialize_json(body);
}

std::optional<std::int64_t> Store::authenticate(std::string_view api_key) const {
  const Sha256 h = sha256(api_key);
  std::optional<std::int64_t> id;
  for (const auto& [hash, key_id] : api_keys_)
    if (equal_secret(hash, h)) id = key_id;
  return id;
}

const Category* Store::category(std::string_view code) const {
  auto it = category_index_.find(code);
  return it == category_index_.end() ? nullptr : it->second;
}

void Store::purge_idempotency_keys() {
  StmtScope scope(purge_keys_);
  purge_keys_.bind(1, static_cast<std::int64_t>(now()) - kIdempotencyTtlS).step();
}

CreateOutcome Store::create_report(const Caller& caller, std::string_view idempotency_key,
                                   const Sha256& body_hash, const NewReport* report, const Open311Extras* open311) {
  const std::string owner = caller.idempotency_owner();
  CreateOutcome out;
  const std::time_t t = now();
  // One writer at a time: two identical requests racing on the same key serialise here, so
  // the second always sees the first one's committed key and replays it.
  std::lock_guard<std::mutex> lk(write_mu_);
  if (!idempotency_key.empty()) {
    StmtScope scope(find_key_);
    find_key_.bind(1, owner).bind(2, idempotency_key).bind(3, static_cast<std::int64_t>(t) - kIdempotencyTtlS);
    if (find_key_.step()) {
      auto stored = find_key_.blob(0);
      if (stored.size() != body_hash.size() ||
          !constant_time_equals(stored, bytes_of(body_hash))) {
        out.kind = CreateOutcome::Kind::kKeyReused;
        return out;
      }
      out.kind = CreateOutcome::Kind::kReplayed;
      out.response = {static_cast<int>(find_key_.int64(1)), std::string(find_key_.text(2)),
                      std::string(find_key_.text(3))};
      return out;
    }
  }
  if (!report) return out;

  const Category* cat = category(report->category);
  if (!cat) throw std::logic_error("create_report: unvalidated category");
  Report r;
  r.id = random_id("rpt_", 20);
  r.category = report->category;
  r.description = report->description;
  r.location = report->location;
  r.anonymous = report->anonymous;
  r.status = ReportStatus::kSubmitted;
  r.agency_code = cat->agency_code;
  r.media = report->media;
  r.visibility = report->visibility.empty() ? Visibility::kPublic : report->visibility;
  r.created_at = r.updated_at = rfc3339(t);
  r.version = 1;
  r.due_at = rfc3339(t + static_cast<std::time_t>(cat->sla_hours) * 3600);
  Report shown = r;
  present(shown, caller.principal, caller, r.created_at);
  // Looked up before the insert, under the write lock: the new report is not among them.
  shown.possible_duplicates = nearby_open(writer_nearby_, r.category, r.location.lat, r.location.lon, caller);
  out.response = {201, internal::to_json_string(shown), "/v1/reports/" + r.id};

  // The report and its idempotency record commit together or not at all.
  Tx tx(writer_);
  {
    StmtScope scope(insert_report_);
    bind_report(insert_report_, r, caller.api_key_id);
    insert_report_.bind(15, r.visibility.str()).bind(16, caller.principal).bind(17, r.due_at);
    insert_report_.step();
  }
  {
    StmtScope scope(insert_event_);  // the timeline starts in the same transaction
    insert_event_.bind(1, r.id).bind(2, r.created_at).bind(3, r.status.str()).bind(4, "citizen").bind(5, "");
    insert_event_.bind(6, caller.principal);
    insert_event_.step();
  }
  const std::int64_t event_seq = sqlite3_last_insert_rowid(writer_.get());
  link_media(writer_, r.id, r.media);
  if (!idempotency_key.empty()) {
    StmtScope scope(insert_key_);
    insert_key_.bind(1, owner).bind(2, idempotency_key).bind_blob(3, body_hash.data(), body_hash.size());
    insert_key_.bind(4, std::int64_t{out.response.status}).bind(5, out.response.body);
    insert_key_.bind(6, out.response.location).bind(7, static_cast<std::int64_t>(t));
    insert_key_.step();
  }
  if (open311)
    writer_
        .prepare("INSERT INTO open311_requests (report_id, token, media_url, attributes, posted_at) VALUES (?,?,?,?,?)")
        .bind(1, r.id)
        .bind(2, open311->token)
        .bind(3, open311->media_url)
        .bind(4, open311->attributes_json)
        .bind(5, r.created_at)
        .exec();
  tx.commit();
  events_added(event_seq);
  cache_.put(r.id, stored(r, caller.principal));
  if (++creates_ % 4096 == 0) purge_idempotency_keys();
  out.kind = CreateOutcome::Kind::kCreated;
  return out;
}

std::shared_ptr<const StoredReport> Store::ReportCache::find(std::string_view id) {
  Shard& s = shard(id);
  std::shared_lock<std::shared_mutex> lk(s.mu);
  auto it = s.map.find(std::string(id));
  return it == s.map.end() ? nullptr : it->second;
}

void Store::ReportCache::put(std::string_view id, std::shared_ptr<const StoredReport> json) {
  Shard& s = shard(id);
  std::unique_lock<std::shared_mutex> lk(s.mu);
  if (s.map.size() >= kPerShard) s.map.erase(s.map.begin());  // bounded; any victim will do
  s.map.insert_or_assign(std::string(id), std::move(json));
}

std::shared_ptr<const StoredReport> Store::report(std::string_view id) {
  if (auto hit = cache_.find(id)) return hit;
  std::shared_ptr<const StoredReport> json;
  {
    auto r = reader();
    StmtScope scope(r->get);
    r->get.bind(1, id);
    if (!r->get.step()) return nullptr;
    json = stored(read_report(r->get), r->get.text(15));
  }
  cache_.put(id, json);
  return json;
}

std::vector<TimelineEntry> Store::timeline(std::string_view report_id) {
  auto r = reader();
  StmtScope scope(r->events);
  r->events.bind(1, report_id);
  std::vector<TimelineEntry> out;
  while (r->events.step()) {
    TimelineEntry e;
    e.at = r->events.text(0);
    e.status = r->events.text(1);
    e.actor_role = r->events.text(2);
    e.note = r->events.text(3);
    e.actor = r->events.text(4);
    if (!r->events.is_null(5)) e.agency_code = std::string(r->events.text(5));
    if (auto a = r->events.text(6); a != "[]") internal::read_json(internal::parse_json(a), e.attachments, "attachments");
    out.push_back(std::move(e));
  }
  return out;
}

ListResult Store::inbox(const InboxFilter& q) {
  auto r = reader();
  Stmt& s = r->inbox();
  StmtScope scope(s);
  s.bind(":agency", q.agency_code).bind(":after_due", q.after_due).bind(":after_seq", q.after_seq);
  s.bind(":now", rfc3339(now())).bind(":limit", q.limit + 1);  // one extra row tells if a page follows
  if (q.overdue) s.bind(":overdue", std::int64_t{*q.overdue});
  ListResult out;
  while (s.step()) {
    if (static_cast<std::int64_t>(out.items.size()) == q.limit) {
      out.next_seq = out.seqs.back();
      out.next_due = out.items.back().due_at;
      break;
    }
    out.items.push_back(read_report(s));
    out.reporters.emplace_back(s.text(15));
    out.seqs.push_back(s.int64(13));
  }
  return out;
}

ListResult Store::list_reports(const ListQuery& q, const Caller& caller) {
  const unsigned mask = list_mask(q);
  auto r = reader();
  Stmt& s = r->list(mask);
  StmtScope scope(s);
  s.bind(":limit", q.limit + 1).bind(":all", std::int64_t{caller.role == "ioc"});  // one extra row tells if a page follows
  if (!caller.principal.empty()) s.bind(":me", caller.principal);
  if (caller.role == "agency") s.bind(":agency", caller.agency_code);
  if (mask & kSortDue) s.bind(":after_due", q.after_due).bind(":after_seq", q.after_seq);
  else s.bind(":before", q.before_seq);
  if (mask & kStatus) s.bind(":status", q.status);
  if (mask & kCategory) s.bind(":category", q.category);
  if (mask & kAgency) s.bind(":agency_filter", q.agency);
  if (mask & kWard) s.bind(":ward", q.ward);
  if (mask & kFrom) s.bind(":from", q.created_from);
  if (mask & kTo) s.bind(":to", q.created_to);
  if (mask & kOverdue) s.bind(":now", rfc3339(now())).bind(":overdue", std::int64_t{*q.overdue});
  if (mask & kText) s.bind(":fts", q.fts);
  if (mask & kNear) {
    const Box b = box_around(q.lat, q.lon, q.radius_m);
    s.bind(":lat_min", b.lat_min).bind(":lat_max", b.lat_max);
    s.bind(":lon_min", b.lon_min).bind(":lon_max", b.lon_max);
    s.bind(":lat", q.lat).bind(":lon", q.lon).bind(":radius", q.radius_m);
  }
  ListResult out;
  out.items.reserve(static_cast<std::size_t>(q.limit));
  std::int64_t last_seq = 0;
  while (s.step()) {
    if (static_cast<std::int64_t>(out.items.size()) == q.limit) {
      out.next_seq = last_seq;
      out.next_due = out.items.back().due_at;
      break;
    }
    out.items.push_back(read_report(s));
    out.reporters.emplace_back(s.text(15));
    last_seq = s.int64(13);
  }
  return out;
}

std::vector<DuplicateHint> Store::duplicates(const std::string& category, double lat, double lon,
                                             const Caller& caller) {
  auto r = reader();
  if (!r->nearby) r->nearby.emplace(r->db.prepare(kNearbyOpenSql));
  return nearby_open(*r->nearby, category, lat, lon, caller);
}

std::string fold_for_search(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    // U+0110 Đ and U+0111 đ are C4 90 and C4 91 in UTF-8.
    if (text[i] == '\xC4' && i + 1 < text.size() && (text[i + 1] == '\x90' || text[i + 1] == '\x91')) {
      out.push_back(text[i + 1] == '\x90' ? 'D' : 'd');
      ++i;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::optional<std::string> fts_match(std::string_view user_text) {
  const std::string folded = fold_for_search(user_text);
  std::string expr, word;
  auto flush = [&] {
    if (word.empty()) return;
    if (!expr.empty()) expr += ' ';  // juxtaposed terms: FTS5's implicit AND
    expr += '"' + word + '"';        // a word holds no '"' (ASCII non-alphanumerics split words)
    word.clear();
  };
  for (char c : folded) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || std::isalnum(u)) word.push_back(c);
    else flush();
  }
  flush();
  if (expr.empty()) return std::nullopt;
  return expr;
}

namespace {

using Action = Transition::Action;

bool open_for_agency(const ReportStatus& s) {
  return s == ReportStatus::kSubmitted || s == ReportStatus::kReceived || s == ReportStatus::kAssigned ||
         s == ReportStatus::kInProgress || s == ReportStatus::kReturned || s == "transfer_requested";
}

}  // namespace

const std::vector<TransitionRule>& transition_rules() {
  static const std::vector<TransitionRule> rules = {
      {Action::kReceive, "receive", "ioc", {"submitted"}, "received"},
      {Action::kAssign, "assign", "ioc", {"received"}, "assigned"},
      {Action::kReject, "reject", "ioc", {"submitted", "received"}, "rejected"},
      {Action::kMarkDuplicate, "mark_duplicate", "ioc", {"submitted", "received"}, "duplicate"},
      {Action::kAccept, "accept", "agency", {"assigned", "returned"}, "in_progress"},
      {Action::kRespond, "respond", "agency", {"in_progress", "returned"}, "responded"},
      {Action::kRequestTransfer, "request_transfer", "agency", {"assigned", "in_progress"}, "transfer_requested"},
      {Action::kApproveTransfer, "approve_transfer", "ioc", {"transfer_requested"}, "assigned"},
      {Action::kApprove, "approve", "ioc", {"responded"}, "resolved"},
      {Action::kReturn, "return_to_agency", "ioc", {"responded"}, "returned"},
      {Action::kRate, "rate", "reporter", {"resolved"}, "rated"},
      {Action::kDeclineTransfer, "decline_transfer", "ioc", {"transfer_requested"}, "in_progress"},
  };
  return rules;
}

void present(Report& r, const std::string& reporter, const Caller& caller, const std::string& now_rfc3339) {
  r.overdue = open_for_agency(r.status) && !r.due_at.empty() && now_rfc3339 > r.due_at;
  const bool own = !caller.principal.empty() && caller.principal == reporter;
  const bool agency = caller.role == "agency" && caller.agency_code == r.agency_code;
  if (!reporter.empty() && (own || caller.role == "ioc" || (agency && !r.anonymous))) r.reporter = reporter;
  else r.reporter.reset();
}

void present(std::vector<TimelineEntry>& t, const StoredReport& r, const Caller& caller) {
  if (!r.report.anonymous || caller.role == "ioc" || (!caller.principal.empty() && caller.principal == r.reporter))
    return;
  // Anyone else (agency staff, other citizens, partners) never learns who reported it.
  for (auto& e : t)
    if (e.actor == r.reporter) e.actor.clear();
}

void present(std::vector<Comment>& c, const StoredReport& r, const Caller& caller) {
  if (!r.report.anonymous || caller.role == "ioc" || (!caller.principal.empty() && caller.principal == r.reporter))
    return;
  for (auto& e : c)
    if (e.author == r.reporter) e.author.clear();
}

std::vector<Comment> Store::comments(std::string_view report_id) {
  auto r = reader();
  if (!r->comments) {
    r->comments.emplace(r->db.prepare(
        "SELECT id, at, author_role, author, text, attachments FROM report_comments WHERE report_id = ? ORDER BY seq"));
  }
  Stmt& s = *r->comments;
  StmtScope scope(s);
  s.bind(1, report_id);
  std::vector<Comment> out;
  while (s.step()) {
    Comment c;
    c.id = s.text(0);
    c.at = s.text(1);
    c.author_role = s.text(2);
    c.author = s.text(3);
    c.text = s.text(4);
    if (auto a = s.text(5); a != "[]") internal::read_json(internal::parse_json(a), c.attachments, "attachments");
    out.push_back(std::move(c));
  }
  return out;
}

Comment Store::add_comment(std::string_view report_id, const Caller& caller, const std::string& role,
                           const std::string& text, const std::vector<std::string>& attachments) {
  Comment c;
  c.id = random_id("cmt_", 20);
  c.at = rfc3339(now());
  c.author_role = role;
  c.author = caller.principal;
  c.text = text;
  c.attachments = attachments;
  std::lock_guard<std::mutex> lk(write_mu_);
  Tx tx(writer_);
  auto s = writer_.prepare(
      "INSERT INTO report_comments (id, report_id, at, author_role, author, text, attachments) VALUES (?,?,?,?,?,?,?)");
  s.bind(1, c.id).bind(2, report_id).bind(3, c.at).bind(4, role).bind(5, c.author).bind(6, c.text);
  s.bind(7, attachments.empty() ? std::string("[]") : internal::to_json_string(attachments)).exec();
  link_media(writer_, report_id, attachments);
  tx.commit();
  return c;
}

TransitionOutcome Store::transition(std::string_view report_id, const Caller& caller, const Transition& t) {
  const TransitionRule* rule = nullptr;
  for (const auto& r : transition_rules())
    if (r.action == t.action) rule = &r;
  if (!rule) throw std::logic_error("transition: unknown action");
  TransitionOutcome out;
  std::lock_guard<std::mutex> lk(write_mu_);  // one step at a time: the version check below cannot race
  Report r;
  std::string reporter;
  {
    StmtScope scope(writer_get_);
    writer_get_.bind(1, report_id);
    if (!writer_get_.step()) return out;  // kNotFound
    r = read_report(writer_get_);
    reporter = writer_get_.text(15);
  }
  auto current = stored(r, reporter);
  if (!current->visible_to(caller)) return out;
  out.report = current;
  const std::string role = caller.role.empty() ? (caller.api_key_id ? "partner API key" : "client") : caller.role;
  auto refuse = [&](TransitionOutcome::Kind kind, std::string message, std::string field = {}) {
    out.kind = kind;
    out.message = std::move(message);
    out.field = std::move(field);
    return out;
  };
  // Who: the role first (403 names it), so a caller learns nothing about states it may not change.
  const std::string rule_role = rule->role;
  if (rule_role == "reporter") {
    if (caller.principal.empty() || caller.principal != reporter)
      return refuse(TransitionOutcome::Kind::kRoleNotAllowed,
                    std::string("only the reporter may ") + rule->name + " this report (caller: " + role + ")");
  } else if (caller.role != rule_role) {
    return refuse(TransitionOutcome::Kind::kRoleNotAllowed,
                  std::string("role ") + role + " may not " + rule->name + " a report; it needs role " + rule_role);
  } else if (rule_role == "agency" && caller.agency_code != r.agency_code) {
    return refuse(TransitionOutcome::Kind::kRoleNotAllowed,
                  "role agency (" + caller.agency_code + ") may not " + rule->name +
                      " a report assigned to another agency");
  }
  // Then the precondition (RFC 9110 §13.2.2: after authorization, before the method's own checks).
  if (t.action != Action::kRate && !t.any_version &&
      std::find(t.if_match.begin(), t.if_match.end(), r.version) == t.if_match.end())
    return refuse(TransitionOutcome::Kind::kStale, "If-Match does not match the current version \"" +
                                                       std::to_string(r.version) + "\" (status " + r.status.str() + ")");
  bool from_ok = false;
  for (const char* f : rule->from) from_ok = from_ok || r.status == f;
  if (!from_ok)
    return refuse(TransitionOutcome::Kind::kInvalidState,
                  std::string("cannot ") + rule->name + " a report in state " + r.status.str());

  const std::time_t now_t = now();
  const std::string at = rfc3339(now_t);
  std::optional<std::string> event_agency;
  Report next = r;
  next.status = rule->to;
  switch (t.action) {
    case Action::kAssign:
    case Action::kApproveTransfer: {
      bool known = false;
      for (const auto& a : agencies_) known = known || (a.code == t.agency_code && a.code != "IOC");
      if (!known) return refuse(TransitionOutcome::Kind::kInvalidField, "unknown agency '" + t.agency_code + "'", "agency_code");
      if (t.action == Action::kApproveTransfer && t.agency_code == r.agency_code)
        return refuse(TransitionOutcome::Kind::kInvalidField, "a transfer needs another agency than " + r.agency_code,
                      "agency_code");
      next.agency_code = t.agency_code;
      event_agency = t.agency_code;
      const Category* cat = category(r.category);
      next.due_at = rfc3339(now_t + static_cast<std::time_t>(cat ? cat->sla_hours : 24) * 3600);
      break;
    }
    case Action::kMarkDuplicate: {
      if (t.original_id == r.id)
        return refuse(TransitionOutcome::Kind::kInvalidField, "a report cannot duplicate itself", "original_id");
      StmtScope scope(writer_get_);
      writer_get_.bind(1, t.original_id);
      if (!writer_get_.step() || read_report(writer_get_).status == ReportStatus::kDuplicate)
        return refuse(TransitionOutcome::Kind::kInvalidField, "no original report '" + t.original_id + "'",
                      "original_id");
      next.duplicate_of = t.original_id;
      break;
    }
    case Action::kRespond:
      next.answer = t.note;
      break;
    case Action::kRate:
      next.rating = ReportRating{t.satisfied, t.note, at};
      break;
    default:
      break;
  }
  next.updated_at = at;
  next.version = r.version + 1;
  Tx tx(writer_);
  {
    StmtScope scope(update_report_);
    update_report_.bind(":status", next.status.str()).bind(":agency", next.agency_code).bind(":at", at);
    update_report_.bind(":due", next.due_at).bind(":id", r.id).bind(":version", r.version);
    if (next.duplicate_of) update_report_.bind(":dup", *next.duplicate_of);
    if (next.answer) update_report_.bind(":answer", *next.answer);
    if (next.rating) {
      update_report_.bind(":sat", std::int64_t{next.rating->satisfied}).bind(":comment", next.rating->comment);
      update_report_.bind(":rated_at", next.rating->rated_at);
    }
    update_report_.step();
    if (sqlite3_changes(writer_.get()) != 1) throw std::logic_error("transition: the report changed under the lock");
  }
  {
    StmtScope scope(insert_step_);
    insert_step_.bind(1, r.id).bind(2, at).bind(3, next.status.str());
    insert_step_.bind(4, rule_role == "reporter" ? std::string("citizen") : rule_role).bind(5, t.note);
    insert_step_.bind(6, caller.principal);
    if (event_agency) insert_step_.bind(7, *event_agency);
    insert_step_.bind(8, t.attachments.empty() ? std::string("[]") : internal::to_json_string(t.attachments));
    insert_step_.step();
  }
  const std::int64_t event_seq = sqlite3_last_insert_rowid(writer_.get());
  link_media(writer_, r.id, t.attachments);
  tx.commit();
  events_added(event_seq);
  auto now_stored = stored(next, reporter);
  cache_.put(r.id, now_stored);
  out.kind = TransitionOutcome::Kind::kDone;
  out.report = now_stored;
  return out;
}

std::vector<Store::Open311Request> Store::open311_requests(const Open311Query& q) {
  std::string sql = std::string("SELECT ") + kReportColumns +
                    ", (SELECT o.media_url FROM open311_requests o WHERE o.report_id = reports.id),"
                    " (SELECT e.note FROM report_events e WHERE e.report_id = reports.id ORDER BY e.seq DESC LIMIT 1)"
                    " FROM reports WHERE visibility = 'public'";
  if (!q.ids.empty()) {
    sql += " AND id IN (SELECT value FROM json_each(:ids))";
  } else {
    if (!q.codes.empty()) sql += " AND category IN (SELECT value FROM json_each(:codes))";
    if (q.closed) sql += " AND (status IN ('resolved', 'rated', 'rejected', 'duplicate')) = :closed";
    if (!q.start.empty()) sql += " AND created_at >= :start";
    if (!q.end.empty()) sql += " AND created_at <= :end";
  }
  sql += " ORDER BY created_at DESC, seq DESC LIMIT :limit";
  auto r = reader();
  Stmt s = r->db.prepare(sql);
  if (!q.ids.empty()) {
    s.bind(":ids", internal::to_json_string(q.ids));
  } else {
    if (!q.codes.empty()) s.bind(":codes", internal::to_json_string(q.codes));
    if (q.closed) s.bind(":closed", std::int64_t{*q.closed});
    if (!q.start.empty()) s.bind(":start", q.start);
    if (!q.end.empty()) s.bind(":end", q.end);
  }
  s.bind(":limit", q.limit);
  std::vector<Open311Request> out;
  while (s.step()) {
    Open311Request row;
    row.report = stored(read_report(s), s.text(15));
    if (!s.is_null(23)) row.media_url = s.text(23);
    if (!s.is_null(24)) row.last_note = s.text(24);
    out.push_back(std::move(row));
  }
  return out;
}

ReportStatistics Store::statistics(const StatisticsQuery& q) {
  const std::string from = rfc3339(static_cast<std::time_t>(q.from)), to = rfc3339(static_cast<std::time_t>(q.to));
  ReportStatistics out;
  out.from = from;
  out.to = to;
  if (!q.agency.empty()) out.agency = q.agency;
  auto r = reader();
  // Stored times are RFC 3339 with whole seconds and Z, so text order is time order.
  auto bind = [&](Stmt& s) {
    s.bind(":from", from).bind(":to", to).bind(":now", rfc3339(now()));
    if (!q.agency.empty()) s.bind(":agency", q.agency);
  };
  {
    auto s = r->db.prepare(
        "SELECT r.status, r.agency_code, a.name, count(*), "
        "sum(r.status IN ('submitted', 'received', 'assigned', 'in_progress', 'returned', 'transfer_requested') "
        "AND r.due_at <> '' AND r.due_at < :now) "
        "FROM reports r JOIN agencies a ON a.code = r.agency_code "
        "WHERE r.created_at >= :from AND r.created_at < :to AND (:agency IS NULL OR r.agency_code = :agency) "
        "GROUP BY r.status, r.agency_code");
    bind(s);
    std::map<std::string, AgencyStatistics> agencies;
    const std::map<std::string, std::int64_t StateCounts::*> states = {
        {"submitted", &StateCounts::submitted},     {"received", &StateCounts::received},
        {"assigned", &StateCounts::assigned},       {"in_progress", &StateCounts::in_progress},
        {"responded", &StateCounts::responded},     {"returned", &StateCounts::returned},
        {"resolved", &StateCounts::resolved},       {"rated", &StateCounts::rated},
        {"rejected", &StateCounts::rejected},       {"duplicate", &StateCounts::duplicate},
        {"transferred", &StateCounts::transferred}, {"transfer_requested", &StateCounts::transfer_requested}};
    while (s.step()) {
      const std::int64_t n = s.int64(3), overdue = s.int64(4);
      if (auto it = states.find(std::string(s.text(0))); it != states.end()) out.by_state.*(it->second) += n;
      auto& a = agencies[std::string(s.text(1))];
      a.code = s.text(1);
      a.name = s.text(2);
      a.count += n;
      a.overdue += overdue;
      out.total += n;
      out.overdue += overdue;
    }
    for (auto& [_, a] : agencies) out.by_agency.push_back(std::move(a));
    std::stable_sort(out.by_agency.begin(), out.by_agency.end(),
                     [](const AgencyStatistics& a, const AgencyStatistics& b) { return a.count > b.count; });
  }
  {
    // The median of (resolution - submission) over the reports resolved in the period.
    auto s = r->db.prepare(
        "WITH h AS (SELECT CAST(strftime('%s', e.at) AS INTEGER) - CAST(strftime('%s', r.created_at) AS INTEGER) AS secs FROM report_events e "
        "JOIN reports r ON r.id = e.report_id WHERE e.status = 'resolved' AND e.at >= :from AND e.at < :to "
        "AND (:agency IS NULL OR r.agency_code = :agency)), "
        "o AS (SELECT secs, row_number() OVER (ORDER BY secs) AS i, count(*) OVER () AS n FROM h) "
        "SELECT CAST(round(avg(secs)) AS INTEGER), count(*) FROM o WHERE i IN ((n + 1) / 2, (n + 2) / 2)");
    bind(s);
    if (s.step() && s.int64(1) > 0) out.median_handling_seconds = s.int64(0);
  }
  {
    auto s = r->db.prepare(
        "SELECT count(*), coalesce(sum(rating_satisfied), 0) FROM reports WHERE rated_at >= :from AND rated_at < :to "
        "AND rating_satisfied IS NOT NULL AND (:agency IS NULL OR agency_code = :agency)");
    bind(s);
    if (s.step()) {
      out.ratings = s.int64(0);
      out.satisfied = s.int64(1);
    }
    if (out.ratings > 0) out.satisfaction_rate = static_cast<double>(out.satisfied) / static_cast<double>(out.ratings);
  }
  return out;
}

std::optional<std::string> Store::open311_token(std::string_view token) {
  auto r = reader();
  Stmt s = r->db.prepare("SELECT report_id FROM open311_requests WHERE token = ?");
  s.bind(1, token);
  if (!s.step()) return std::nullopt;
  return std::string(s.text(0));
}

}  // namespace hues::sandbox

namespace hues::sandbox {

std::string Store::insert_media(const MediaRecord& m) {
  std::lock_guard<std::mutex> lk(write_mu_);
  auto s = writer_.prepare(
      "INSERT OR IGNORE INTO media (id, upload_id, owner, type, content_type, size, sha256, width, height, "
      "duration_ms, created_at, location_removed) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
  s.bind(1, m.id).bind(2, m.upload_id).bind(3, m.owner).bind(4, m.type).bind(5, m.content_type);
  s.bind(6, static_cast<std::int64_t>(m.size)).bind(7, m.sha256);
  if (m.width) s.bind(8, *m.width);
  if (m.height) s.bind(9, *m.height);
  if (m.duration_ms) s.bind(10, *m.duration_ms);
  s.bind(11, m.created_at).bind(12, std::int64_t{m.location_removed});
  s.exec();
  auto q = writer_.prepare("SELECT id FROM media WHERE upload_id = ?");
  q.bind(1, m.upload_id);
  if (!q.step()) throw std::logic_error("insert_media: the row is not there");
  return std::string(q.text(0));
}

std::optional<MediaRecord> Store::media(std::string_view id) {
  std::lock_guard<std::mutex> lk(write_mu_);
  auto s = writer_.prepare(
      "SELECT id, upload_id, owner, type, content_type, size, sha256, width, height, duration_ms, created_at, "
      "location_removed FROM media WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  MediaRecord m;
  m.id = s.text(0);
  m.upload_id = s.text(1);
  m.owner = s.text(2);
  m.type = s.text(3);
  m.content_type = s.text(4);
  m.size = static_cast<std::uint64_t>(s.int64(5));
  m.sha256 = s.text(6);
  if (!s.is_null(7)) m.width = s.int64(7);
  if (!s.is_null(8)) m.height = s.int64(8);
  if (!s.is_null(9)) m.duration_ms = s.int64(9);
  m.created_at = s.text(10);
  m.location_removed = s.int64(11) != 0;
  return m;
}

std::optional<std::string> Store::media_of_upload(std::string_view upload_id) {
  std::lock_guard<std::mutex> lk(write_mu_);
  auto s = writer_.prepare("SELECT id FROM media WHERE upload_id = ?");
  s.bind(1, upload_id);
  if (!s.step()) return std::nullopt;
  return std::string(s.text(0));
}

std::vector<std::string> Store::media_reports(std::string_view media_id) {
  std::lock_guard<std::mutex> lk(write_mu_);
  auto s = writer_.prepare("SELECT report_id FROM media_links WHERE media_id = ?");
  s.bind(1, media_id);
  std::vector<std::string> out;
  while (s.step()) out.emplace_back(s.text(0));
  return out;
}

void Store::update_media_content(std::string_view media_id, std::uint64_t size, const std::string& sha256_hex) {
  std::lock_guard<std::mutex> lk(write_mu_);
  writer_.prepare("UPDATE media SET size = ?, sha256 = ?, location_removed = 1 WHERE id = ?")
      .bind(1, static_cast<std::int64_t>(size))
      .bind(2, sha256_hex)
      .bind(3, media_id)
      .exec();
}

// GET /v1/events: each row with the report's privacy and reporter, its version then (each
// change adds one to both the version and the row count), and the agency it was with
// after and before the row (the latest assignment up to it; the category's agency before any).
// LEFT JOINs: every row is read (the stream's position must pass each one); a row whose
// report were missing would count as private, for the IOC only.
namespace {
constexpr const char* kEventsAfterSql =
    "SELECT e.seq, e.report_id, e.at, e.status, e.actor_role, e.note, e.actor, e.agency_code, e.attachments, "
    "COALESCE(r.category, ''), COALESCE(r.visibility, 'private'), COALESCE(r.anonymous, 1), r.reporter, "
    "r.version - (SELECT COUNT(*) FROM report_events l WHERE l.report_id = e.report_id AND l.seq > e.seq), "
    "COALESCE((SELECT a.agency_code FROM report_events a WHERE a.report_id = e.report_id AND a.seq <= e.seq "
    "          AND a.agency_code IS NOT NULL ORDER BY a.seq DESC LIMIT 1), c.agency_code), "
    "CASE WHEN EXISTS (SELECT 1 FROM report_events f WHERE f.report_id = e.report_id AND f.seq < e.seq) THEN "
    "COALESCE((SELECT a.agency_code FROM report_events a WHERE a.report_id = e.report_id AND a.seq < e.seq "
    "          AND a.agency_code IS NOT NULL ORDER BY a.seq DESC LIMIT 1), c.agency_code) ELSE '' END "
    "FROM report_events e LEFT JOIN reports r ON r.id = e.report_id LEFT JOIN categories c ON c.code = r.category "
    "WHERE e.seq > ? ORDER BY e.seq LIMIT ?";
}  // namespace

std::vector<StoredEvent> Store::events_after(std::int64_t after, std::size_t limit) {
  auto r = reader();
  Stmt s = r->db.prepare(kEventsAfterSql);
  s.bind(1, after).bind(2, static_cast<std::int64_t>(limit));
  std::vector<StoredEvent> out;
  while (s.step()) {
    StoredEvent e;
    e.seq = s.int64(0);
    e.report_id = s.text(1);
    e.entry.at = s.text(2);
    e.entry.status = s.text(3);
    e.entry.actor_role = s.text(4);
    e.entry.note = s.text(5);
    e.entry.actor = s.text(6);
    if (!s.is_null(7)) e.entry.agency_code = std::string(s.text(7));
    if (auto a = s.text(8); a != "[]") internal::read_json(internal::parse_json(a), e.entry.attachments, "attachments");
    e.category = s.text(9);
    e.is_private = s.text(10) == "private";
    e.anonymous = s.int64(11) != 0;
    e.reporter = s.is_null(12) ? std::string() : std::string(s.text(12));
    e.version = std::max<std::int64_t>(1, s.int64(13));
    e.agency = s.is_null(14) ? std::string() : std::string(s.text(14));
    e.agency_before = s.is_null(15) ? std::string() : std::string(s.text(15));
    out.push_back(std::move(e));
  }
  return out;
}

std::int64_t Store::last_event_seq() {
  auto r = reader();
  Stmt s = r->db.prepare("SELECT COALESCE(MAX(seq), 0) FROM report_events");
  return s.step() ? s.int64(0) : 0;
}

void Store::add_event_listener(std::function<void(std::int64_t)> listener) {
  event_listeners_.push_back(std::move(listener));
}

void Store::events_added(std::int64_t seq) {
  for (const auto& l : event_listeners_) l(seq);
}

}  // namespace hues::sandbox
