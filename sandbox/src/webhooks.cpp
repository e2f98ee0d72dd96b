#include "webhooks.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>

#include "internal/crypto.h"
#include "internal/json_codec.h"
#include "store.h"
#include "util.h"

namespace hues::sandbox {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

// The standard's example schedule, in seconds after the previous attempt.
constexpr std::int64_t kScheduleS[] = {0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400};

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string new_secret() { return "whsec_" + internal::base64_encode(internal::random_bytes(32)); }

std::string join_types(const std::vector<WebhookEventType>& types) {
  std::vector<std::string> seen;  // each type once, in the order given
  std::string out;
  for (const auto& t : types) {
    if (std::find(seen.begin(), seen.end(), t.str()) != seen.end()) continue;
    seen.push_back(t.str());
    if (!out.empty()) out += ' ';
    out += t.str();
  }
  return out;
}

std::vector<WebhookEventType> split_types(std::string_view s) {
  std::vector<WebhookEventType> out;
  std::istringstream in{std::string(s)};
  for (std::string t; in >> t;) out.emplace_back(t);
  return out;
}

bool subscribed(std::string_view types, std::string_view type) {
  for (const auto& t : split_types(types))
    if (t.str() == type) return true;
  return false;
}

// A partner as the Caller visibility is decided for (Caller::idempotency_owner()'s inverse).
Caller caller_of(const std::string& owner) {
  Caller c;
  if (owner.rfind("key:", 0) == 0) c.api_key_id = std::stoll(owner.substr(4));
  else if (owner.rfind("client:", 0) == 0) c.principal = c.client_id = owner.substr(7);
  return c;
}

constexpr const char* kEndpointColumns = "id, url, event_types, description, enabled, created_at";

WebhookEndpoint endpoint_of(const Stmt& s) {
  WebhookEndpoint e;
  e.id = std::string(s.text(0));
  e.url = std::string(s.text(1));
  e.event_types = split_types(s.text(2));
  e.description = std::string(s.text(3));
  e.enabled = s.int64(4) != 0;
  e.created_at = std::string(s.text(5));
  return e;
}

}  // namespace

struct Webhooks::Io {
  net::io_context ioc;
  ssl::context tls{ssl::context::tls_client};
  Io() {
    tls.set_default_verify_paths();
    tls.set_verify_mode(ssl::verify_peer);
    SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
  }
};

std::optional<std::int64_t> Webhooks::parse_cursor(char kind, const std::string& text) {
  if (text.size() < 2 || text.size() > 20 || text[0] != kind) return std::nullopt;
  std::int64_t v = 0;
  for (std::size_t i = 1; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    v = v * 10 + (text[i] - '0');
  }
  return v;
}

Webhooks::Webhooks(const std::string& db_path, Store& store, WebhookOptions options)
    : store_(store), opt_(options), db_(db_path, false), io_(std::make_unique<Io>()) {
  db_.exec("PRAGMA foreign_keys = ON;");
  worker_ = std::thread([this] { run(); });
}

Webhooks::~Webhooks() { stop(); }

void Webhooks::stop() {
  {
    std::lock_guard<std::mutex> lk(wake_mu_);
    stopping_ = true;
  }
  io_->ioc.stop();
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void Webhooks::wake() {
  {
    std::lock_guard<std::mutex> lk(wake_mu_);
    woken_ = true;
  }
  wake_.notify_all();
}

// ---- the API's side ----

WebhookEndpointWithSecret Webhooks::create(const std::string& owner, const NewWebhookEndpoint& n) {
  WebhookEndpointWithSecret e;
  e.id = random_id("whep_", 20);
  e.url = n.url;
  e.event_types = split_types(join_types(n.event_types));
  e.description = n.description;
  e.enabled = true;
  e.created_at = rfc3339(now());
  e.secret = new_secret();
  std::lock_guard<std::mutex> lk(mu_);
  // Events from now on: what the timeline and the conversations hold already is history.
  auto s = db_.prepare(
      "INSERT INTO webhook_endpoints (id, owner, url, event_types, description, enabled, created_at, secret, "
      "from_event_seq, from_comment_seq) VALUES (?,?,?,?,?,1,?,?,"
      "(SELECT COALESCE(MAX(seq), 0) FROM report_events), (SELECT COALESCE(MAX(seq), 0) FROM report_comments))");
  s.bind(1, e.id).bind(2, owner).bind(3, e.url).bind(4, join_types(n.event_types)).bind(5, e.description);
  s.bind(6, e.created_at).bind(7, e.secret);
  s.exec();
  return e;
}

WebhookEndpointPage Webhooks::list(const std::string& owner, std::int64_t after_seq, std::int64_t limit) {
  std::lock_guard<std::mutex> lk(mu_);
  auto s = db_.prepare(std::string("SELECT ") + kEndpointColumns +
                       ", seq FROM webhook_endpoints WHERE owner = ? AND seq > ? ORDER BY seq LIMIT ?");
  s.bind(1, owner).bind(2, after_seq).bind(3, limit + 1);
  WebhookEndpointPage page;
  std::int64_t last = 0;
  while (s.step()) {
    if (static_cast<std::int64_t>(page.items.size()) == limit) {
      page.next_cursor = cursor('e', last);
      break;
    }
    page.items.push_back(endpoint_of(s));
    last = s.int64(6);
  }
  return page;
}

std::optional<WebhookEndpoint> Webhooks::endpoint_locked(const std::string& owner, const std::string& id) {
  auto s = db_.prepare(std::string("SELECT ") + kEndpointColumns + " FROM webhook_endpoints WHERE owner = ? AND id = ?");
  s.bind(1, owner).bind(2, id);
  if (!s.step()) return std::nullopt;
  return endpoint_of(s);
}

std::optional<WebhookEndpoint> Webhooks::get(const std::string& owner, const std::string& id) {
  std::lock_guard<std::mutex> lk(mu_);
  return endpoint_locked(owner, id);
}

std::optional<WebhookEndpoint> Webhooks::update(const std::string& owner, const std::string& id,
                                                const WebhookEndpointUpdate& u) {
  std::lock_guard<std::mutex> lk(mu_);
  auto current = endpoint_locked(owner, id);
  if (!current) return std::nullopt;
  Tx tx(db_);
  if (u.url) {
    auto s = db_.prepare("UPDATE webhook_endpoints SET url = ? WHERE id = ?");
    s.bind(1, *u.url).bind(2, id).exec();
  }
  if (u.event_types) {
    auto s = db_.prepare("UPDATE webhook_endpoints SET event_types = ? WHERE id = ?");
    s.bind(1, join_types(*u.event_types)).bind(2, id).exec();
  }
  if (u.description) {
    auto s = db_.prepare("UPDATE webhook_endpoints SET description = ? WHERE id = ?");
    s.bind(1, *u.description).bind(2, id).exec();
  }
  if (u.enabled && *u.enabled != current->enabled) {
    // Re-enabled: events from now on (those that happened while disabled are not queued).
    auto s = db_.prepare(
        "UPDATE webhook_endpoints SET enabled = ?, "
        "from_event_seq = (SELECT COALESCE(MAX(seq), 0) FROM report_events), "
        "from_comment_seq = (SELECT COALESCE(MAX(seq), 0) FROM report_comments) WHERE id = ?");
    s.bind(1, std::int64_t{*u.enabled ? 1 : 0}).bind(2, id).exec();
  }
  tx.commit();
  return endpoint_locked(owner, id);
}

std::optional<WebhookEndpoint> Webhooks::remove(const std::string& owner, const std::string& id) {
  std::lock_guard<std::mutex> lk(mu_);
  auto current = endpoint_locked(owner, id);
  if (!current) return std::nullopt;
  Tx tx(db_);
  for (const char* sql : {"DELETE FROM webhook_attempts WHERE endpoint_id = ?",
                          "DELETE FROM webhook_messages WHERE endpoint_id = ?",
                          "DELETE FROM webhook_endpoints WHERE id = ?"}) {
    auto s = db_.prepare(sql);
    s.bind(1, id).exec();
  }
  tx.commit();
  return current;
}

std::optional<WebhookSecretRotation> Webhooks::rotate(const std::string& owner, const std::string& id) {
  std::lock_guard<std::mutex> lk(mu_);
  if (!endpoint_locked(owner, id)) return std::nullopt;
  WebhookSecretRotation r;
  r.secret = new_secret();
  const std::time_t until = now() + opt_.secret_grace_seconds;
  r.previous_expires_at = rfc3339(until);
  auto s = db_.prepare(
      "UPDATE webhook_endpoints SET previous_secret = secret, previous_expires_at = ?, secret = ? WHERE id = ?");
  s.bind(1, static_cast<std::int64_t>(until)).bind(2, r.secret).bind(3, id).exec();
  return r;
}

std::optional<WebhookDeliveryPage> Webhooks::deliveries(const std::string& owner, const std::string& id,
                                                        std::int64_t before_seq, std::int64_t limit) {
  std::lock_guard<std::mutex> lk(mu_);
  if (!endpoint_locked(owner, id)) return std::nullopt;
  auto s = db_.prepare(
      "SELECT a.id, a.message_id, m.event_type, a.attempt, a.at, a.status_code, a.error, a.latency_ms, "
      "a.next_attempt_at, m.state, a.seq FROM webhook_attempts a JOIN webhook_messages m ON m.id = a.message_id "
      "WHERE a.endpoint_id = ? AND a.seq < ? ORDER BY a.seq DESC LIMIT ?");
  s.bind(1, id).bind(2, before_seq).bind(3, limit + 1);
  WebhookDeliveryPage page;
  std::int64_t last = 0;
  while (s.step()) {
    if (static_cast<std::int64_t>(page.items.size()) == limit) {
      page.next_cursor = cursor('d', last);
      break;
    }
    WebhookDelivery d;
    d.id = std::string(s.text(0));
    d.message_id = std::string(s.text(1));
    d.event_type = std::string(s.text(2));
    d.attempt = static_cast<std::int32_t>(s.int64(3));
    d.at = std::string(s.text(4));
    d.status_code = static_cast<std::int32_t>(s.int64(5));
    d.error = std::string(s.text(6));
    d.latency_ms = s.int64(7);
    d.next_attempt_at = std::string(s.text(8));
    d.message_state = std::string(s.text(9));
    page.items.push_back(std::move(d));
    last = s.int64(10);
  }
  return page;
}

Webhooks::ReplayOutcome Webhooks::replay(const std::string& owner, const std::string& id, const WebhookReplay& r,
                                         WebhookMessage& out) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!endpoint_locked(owner, id)) return ReplayOutcome::kNoEndpoint;
    std::string message_id = r.message_id;
    if (message_id.empty()) {
      auto s = db_.prepare("SELECT message_id FROM webhook_attempts WHERE id = ? AND endpoint_id = ?");
      s.bind(1, r.delivery_id).bind(2, id);
      if (!s.step()) return ReplayOutcome::kNoMessage;
      message_id = std::string(s.text(0));
    }
    // A new round of attempts, now; the attempt numbers count on.
    auto u = db_.prepare(
        "UPDATE webhook_messages SET state = 'pending', round_start = attempts, next_attempt_ms = ? "
        "WHERE id = ? AND endpoint_id = ?");
    u.bind(1, now_ms()).bind(2, message_id).bind(3, id).exec();
    auto s = db_.prepare("SELECT id, endpoint_id, event_type, state, attempts FROM webhook_messages WHERE id = ? AND endpoint_id = ?");
    s.bind(1, message_id).bind(2, id);
    if (!s.step()) return ReplayOutcome::kNoMessage;
    out.id = std::string(s.text(0));
    out.endpoint_id = std::string(s.text(1));
    out.event_type = std::string(s.text(2));
    out.state = std::string(s.text(3));
    out.attempts = static_cast<std::int32_t>(s.int64(4));
    out.next_attempt_at = rfc3339(now());
  }
  wake();
  return ReplayOutcome::kQueued;
}

// ---- the worker ----

void Webhooks::run() {
  for (;;) {
    {
      std::lock_guard<std::mutex> lk(wake_mu_);
      if (stopping_) return;
      woken_ = false;  // what wake() announced so far, scan() sees
    }
    try {
      scan();
      while (deliver_one()) {
        std::lock_guard<std::mutex> lk(wake_mu_);
        if (stopping_) return;
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "hues-sandbox: webhooks: %s\n", e.what());
    }
    std::int64_t wait = opt_.poll_ms;
    if (const std::int64_t due = next_due_ms()) wait = std::max<std::int64_t>(0, std::min(wait, due - now_ms()));
    std::unique_lock<std::mutex> lk(wake_mu_);
    wake_.wait_for(lk, std::chrono::milliseconds(wait), [this] { return stopping_ || woken_; });
  }
}

void Webhooks::scan() {
  struct Event {
    std::int64_t seq;
    std::string type, report_id, at, status, actor_role, comment_id;
  };
  std::vector<Event> events;
  std::lock_guard<std::mutex> lk(mu_);
  std::int64_t event_cursor = 0, comment_cursor = 0;
  {
    auto c = db_.prepare("SELECT name, seq FROM webhook_cursors");
    while (c.step()) (c.text(0) == "report_events" ? event_cursor : comment_cursor) = c.int64(1);
  }
  std::int64_t new_event_cursor = event_cursor, new_comment_cursor = comment_cursor;
  {
    auto s = db_.prepare(
        "SELECT seq, report_id, at, status, actor_role FROM report_events WHERE seq > ? ORDER BY seq LIMIT 1000");
    s.bind(1, event_cursor);
    while (s.step()) {
      events.push_back({s.int64(0), "report.status_changed", std::string(s.text(1)), std::string(s.text(2)),
                        std::string(s.text(3)), std::string(s.text(4)), ""});
      new_event_cursor = s.int64(0);
    }
  }
  const std::size_t status_events = events.size();
  {
    auto s = db_.prepare(
        "SELECT seq, report_id, at, author_role, id FROM report_comments WHERE seq > ? ORDER BY seq LIMIT 1000");
    s.bind(1, comment_cursor);
    while (s.step()) {
      events.push_back({s.int64(0), "report.commented", std::string(s.text(1)), std::string(s.text(2)), "",
                        std::string(s.text(3)), std::string(s.text(4))});
      new_comment_cursor = s.int64(0);
    }
  }
  if (events.empty()) return;
  struct Target {
    std::string id, owner, types;
    std::int64_t from_event, from_comment;
  };
  std::vector<Target> targets;
  {
    auto s = db_.prepare(
        "SELECT id, owner, event_types, from_event_seq, from_comment_seq FROM webhook_endpoints WHERE enabled = 1");
    while (s.step())
      targets.push_back({std::string(s.text(0)), std::string(s.text(1)), std::string(s.text(2)), s.int64(3), s.int64(4)});
  }
  Tx tx(db_);
  auto insert = db_.prepare(
      "INSERT INTO webhook_messages (id, endpoint_id, event_type, body, created_at, state, attempts, round_start, "
      "next_attempt_ms) VALUES (?,?,?,?,?,'pending',0,0,?)");
  const std::int64_t due = now_ms();
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Event& ev = events[i];
    const bool comment = i >= status_events;
    std::shared_ptr<const StoredReport> report;
    for (const auto& t : targets) {
      if (ev.seq <= (comment ? t.from_comment : t.from_event) || !subscribed(t.types, ev.type)) continue;
      if (!report) report = store_.report(ev.report_id);
      if (!report || !report->visible_to(caller_of(t.owner))) continue;
      WebhookEvent body;
      body.type = ev.type;
      body.timestamp = ev.at;
      body.data.report_id = ev.report_id;
      if (!ev.status.empty()) body.data.status = ReportStatus(ev.status);
      if (!ev.actor_role.empty()) body.data.actor_role = ActorRole(ev.actor_role);
      if (!ev.comment_id.empty()) body.data.comment_id = ev.comment_id;
      insert.bind(1, "msg_" + internal::random_hex(12)).bind(2, t.id).bind(3, ev.type);
      insert.bind(4, internal::to_json_string(body)).bind(5, rfc3339(now())).bind(6, due);
      insert.exec();
    }
  }
  auto cur = db_.prepare("UPDATE webhook_cursors SET seq = ? WHERE name = ?");
  cur.bind(1, new_event_cursor).bind(2, "report_events").exec();
  cur.bind(1, new_comment_cursor).bind(2, "report_comments").exec();
  tx.commit();
}

std::int64_t Webhooks::next_due_ms() {
  std::lock_guard<std::mutex> lk(mu_);
  auto s = db_.prepare(
      "SELECT MIN(m.next_attempt_ms) FROM webhook_messages m JOIN webhook_endpoints e ON e.id = m.endpoint_id "
      "WHERE m.state = 'pending' AND e.enabled = 1");
  return s.step() && !s.is_null(0) ? std::max<std::int64_t>(1, s.int64(0)) : 0;
}

bool Webhooks::deliver_one() {
  std::string message_id, endpoint_id, body, url, secret, previous;
  std::int64_t attempts = 0, round_start = 0, previous_until = 0;
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto s = db_.prepare(
        "SELECT m.id, m.body, m.attempts, m.round_start, e.id, e.url, e.secret, e.previous_secret, "
        "e.previous_expires_at FROM webhook_messages m JOIN webhook_endpoints e ON e.id = m.endpoint_id "
        "WHERE m.state = 'pending' AND e.enabled = 1 AND m.next_attempt_ms <= ? ORDER BY m.next_attempt_ms, m.seq "
        "LIMIT 1");
    s.bind(1, now_ms());
    if (!s.step()) return false;
    message_id = std::string(s.text(0));
    body = std::string(s.text(1));
    attempts = s.int64(2);
    round_start = s.int64(3);
    endpoint_id = std::string(s.text(4));
    url = std::string(s.text(5));
    secret = std::string(s.text(6));
    previous = std::string(s.text(7));
    previous_until = s.int64(8);
  }
  // Signed anew for each attempt: webhook-timestamp is the attempt's (standard, "Webhook metadata").
  const std::string timestamp = std::to_string(now());
  const std::string signed_content = message_id + "." + timestamp + "." + body;
  auto sign = [&](const std::string& whsec) {
    auto key = internal::try_base64_decode(std::string_view(whsec).substr(6));
    return "v1," + internal::base64_encode(internal::hmac_sha256(key ? *key : std::string(), signed_content));
  };
  std::string signature = sign(secret);
  if (!previous.empty() && now() < previous_until) signature += " " + sign(previous);
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"webhook-id", message_id}, {"webhook-timestamp", timestamp}, {"webhook-signature", signature}};
  const std::int64_t started = now_ms();
  std::string error;
  const int status = attempt(url, headers, body, error);
  const std::int64_t latency = now_ms() - started;
  {
    std::lock_guard<std::mutex> lk(wake_mu_);
    if (stopping_) return false;  // abandoned by stop(): not an attempt the receiver failed
  }

  const std::int64_t attempt_no = attempts + 1;
  std::string state = "pending", next_at;
  std::int64_t next_ms = 0;
  bool gone = false;
  if (status >= 200 && status < 300) {
    state = "delivered";
  } else if (status == 410) {  // the receiver wants no more (the standard: disable the endpoint)
    state = "failed";
    gone = true;
  } else if (attempt_no - round_start >= opt_.max_attempts) {
    state = "failed";
  } else {
    const std::size_t i = std::min<std::size_t>(static_cast<std::size_t>(attempt_no - round_start), std::size(kScheduleS) - 1);
    std::int64_t delay = kScheduleS[i] * opt_.retry_base_ms / 5;
    // Up to 10% of jitter, so receivers that failed together are not retried together.
    if (delay >= 10) {
      const std::string r = internal::random_bytes(2);
      delay += (static_cast<unsigned char>(r[0]) * 256 + static_cast<unsigned char>(r[1])) % (delay / 10 + 1);
    }
    next_ms = now_ms() + delay;
    next_at = rfc3339(static_cast<std::time_t>((next_ms + 999) / 1000));
  }
  std::lock_guard<std::mutex> lk(mu_);
  Tx tx(db_);
  auto u = db_.prepare(
      "UPDATE webhook_messages SET attempts = ?, state = ?, next_attempt_ms = ? WHERE id = ? AND endpoint_id = ?");
  u.bind(1, attempt_no).bind(2, state).bind(3, next_ms).bind(4, message_id).bind(5, endpoint_id).exec();
  if (sqlite3_changes(db_.get()) == 0) return true;  // the endpoint was deleted meanwhile
  auto a = db_.prepare(
      "INSERT INTO webhook_attempts (id, message_id, endpoint_id, attempt, at, status_code, error, latency_ms, "
      "next_attempt_at) VALUES (?,?,?,?,?,?,?,?,?)");
  a.bind(1, random_id("dlv_", 20)).bind(2, message_id).bind(3, endpoint_id).bind(4, attempt_no);
  a.bind(5, rfc3339(static_cast<std::time_t>(started / 1000))).bind(6, std::int64_t{status}).bind(7, error);
  a.bind(8, latency).bind(9, next_at);
  a.exec();
  if (gone) {
    auto d = db_.prepare("UPDATE webhook_endpoints SET enabled = 0 WHERE id = ?");
    d.bind(1, endpoint_id).exec();
  }
  tx.commit();
  return true;
}

namespace {

// One POST on a stream (tcp or TLS), every step bounded by the attempt's deadline timer.
template <typename Stream>
struct Post : std::enable_shared_from_this<Post<Stream>> {
  Stream stream;
  tcp::resolver resolver;
  std::string host, port;
  http::request<http::string_body> req;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  int status = 0;
  std::string error;
  net::steady_timer* deadline = nullptr;  // cancelled when the exchange ends, so run() returns

  template <typename... Args>
  explicit Post(net::io_context& ioc, Args&&... args) : stream(std::forward<Args>(args)...), resolver(ioc) {
    parser.body_limit(64 * 1024);
  }

  auto& socket() { return beast::get_lowest_layer(stream); }

  void done() {
    if (deadline) deadline->cancel();
    beast::error_code ignored;
    socket().socket().close(ignored);
  }
  void fail(const char* step, const beast::error_code& ec) {
    if (error.empty()) error = std::string(step) + ": " + ec.message();
    done();
  }

  void start(bool tls) {
    auto self = this->shared_from_this();
    resolver.async_resolve(host, port, [self, tls](beast::error_code ec, tcp::resolver::results_type results) {
      if (ec) return self->fail("resolve", ec);
      self->socket().async_connect(results, [self, tls](beast::error_code ec, const tcp::endpoint&) {
        if (ec) return self->fail("connect", ec);
        if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
          if (tls) {
            self->stream.async_handshake(ssl::stream_base::client, [self](beast::error_code ec) {
              if (ec) return self->fail("tls", ec);
              self->send();
            });
            return;
          }
        }
        self->send();
      });
    });
  }

  void send() {
    auto self = this->shared_from_this();
    http::async_write(stream, req, [self](beast::error_code ec, std::size_t) {
      if (ec) return self->fail("send", ec);
      http::async_read(self->stream, self->buffer, self->parser, [self](beast::error_code ec, std::size_t) {
        if (self->parser.is_header_done()) self->status = static_cast<int>(self->parser.get().result_int());
        if (ec && !self->parser.is_header_done()) return self->fail("response", ec);
        self->done();
      });
    });
  }
};

}  // namespace

int Webhooks::attempt(const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
                      const std::string& body, std::string& error) {
  auto u = boost::urls::parse_uri(url);
  if (!u) return error = "url: " + u.error().message(), 0;
  const bool tls = u->scheme() == "https";
  std::string host(u->encoded_host());
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  const std::string port = u->has_port() ? std::string(u->port()) : tls ? "443" : "80";
  std::string target(u->encoded_resource());
  if (target.empty() || target[0] != '/') target = "/" + target;

  auto& ioc = io_->ioc;
  ioc.restart();
  {
    std::lock_guard<std::mutex> lk(wake_mu_);
    if (stopping_) return error = "stopped", 0;
  }
  auto fill = [&](auto& req) {
    req.method(http::verb::post);
    req.target(target);
    req.version(11);
    req.set(http::field::host, std::string(u->encoded_authority()));
    req.set(http::field::user_agent, "hues-sandbox-webhooks/1");
    req.set(http::field::content_type, "application/json");
    req.set(http::field::connection, "close");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
  };
  net::steady_timer deadline(ioc);
  deadline.expires_after(std::chrono::milliseconds(opt_.attempt_timeout_ms));
  auto exchange = [&](auto post) {
    post->host = host;
    post->port = port;
    post->deadline = &deadline;
    fill(post->req);
    deadline.async_wait([post](beast::error_code ec) {
      if (ec) return;
      post->error = "timeout";
      post->resolver.cancel();
      post->deadline = nullptr;
      beast::error_code ignored;
      post->socket().socket().close(ignored);
    });
    post->start(tls);
    ioc.run();  // until the exchange ends (which cancels the timer), the deadline passes, or stop()
    if (!post->status && post->error.empty()) post->error = "stopped";
    error = post->status ? "" : post->error;
    return post->status;
  };
  if (tls) {
    auto post = std::make_shared<Post<beast::ssl_stream<beast::tcp_stream>>>(ioc, ioc, io_->tls);
    if (!SSL_set_tlsext_host_name(post->stream.native_handle(), host.c_str())) return error = "tls: cannot set SNI", 0;
    post->stream.set_verify_callback(ssl::host_name_verification(host));
    return exchange(post);
  }
  return exchange(std::make_shared<Post<beast::tcp_stream>>(ioc, ioc));
}

}  // namespace hues::sandbox
