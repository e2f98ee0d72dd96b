// Standard Webhooks 1.0.0 (standard-webhooks spec/standard-webhooks.md) from the sandbox:
// partner endpoints (docs/openapi.yaml, tag events), and a worker thread that turns new rows
// of the timeline (report_events) and of the conversations (report_comments) into messages
// and POSTs them, signed, to every enabled endpoint subscribed to their type whose owner may
// see the report. Tables: schema step 12 (store.cpp, migrate_webhooks_v12).
//
// Each attempt has a deadline (attempt_timeout_ms); a 2xx delivers the message, 410 Gone
// disables the endpoint, anything else (another status, refused, reset, timeout, TLS) is
// retried on the standard's schedule (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
// 20 h, 24 h), scaled so that 5 s becomes retry_base_ms, until max_attempts, then the message
// is failed. Outbound HTTP is a small Beast client here (the sandbox does not link the SDK);
// https URLs are verified against the system's CA store and the URL's host name.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "db.h"
#include "hues/models.h"

namespace hues::sandbox {

class Store;

struct WebhookOptions {
  int retry_base_ms = 5000;            // the schedule's first retry (5 s); the rest scale with it
  int max_attempts = 10;               // per message and per replay
  int secret_grace_seconds = 86400;    // the old secret signs too for this long after a rotation
  int attempt_timeout_ms = 15000;      // connect + send + response of one attempt
  int poll_ms = 50;                    // how often new comments are looked for (timeline rows wake the worker)
};

class Webhooks {
 public:
  // Opens its own connection to the database (migrated by the Store) and starts the worker.
  Webhooks(const std::string& db_path, Store& store, WebhookOptions options);
  ~Webhooks();  // stop()
  Webhooks(const Webhooks&) = delete;
  Webhooks& operator=(const Webhooks&) = delete;

  // Ends the worker (an attempt in flight is abandoned at once). Idempotent.
  void stop();
  // A timeline row was committed: the worker looks for new events now instead of at its next
  // poll. Quick and lock-light (Store::add_event_listener calls it under the writer lock).
  void wake();

  // The API's operations; owner is Caller::idempotency_owner() of a partner. nullopt: no
  // endpoint of that id belongs to owner (404).
  WebhookEndpointWithSecret create(const std::string& owner, const NewWebhookEndpoint& e);
  WebhookEndpointPage list(const std::string& owner, std::int64_t after_seq, std::int64_t limit);
  std::optional<WebhookEndpoint> get(const std::string& owner, const std::string& id);
  std::optional<WebhookEndpoint> update(const std::string& owner, const std::string& id, const WebhookEndpointUpdate& u);
  std::optional<WebhookEndpoint> remove(const std::string& owner, const std::string& id);
  std::optional<WebhookSecretRotation> rotate(const std::string& owner, const std::string& id);
  std::optional<WebhookDeliveryPage> deliveries(const std::string& owner, const std::string& id,
                                                std::int64_t before_seq, std::int64_t limit);
  enum class ReplayOutcome { kQueued, kNoEndpoint, kNoMessage };
  ReplayOutcome replay(const std::string& owner, const std::string& id, const WebhookReplay& r, WebhookMessage& out);

  // Cursors of the two pages: "e<seq>" / "d<seq>"; nullopt when text is not one.
  static std::string cursor(char kind, std::int64_t seq) { return std::string(1, kind) + std::to_string(seq); }
  static std::optional<std::int64_t> parse_cursor(char kind, const std::string& text);

 private:
  void run();
  void scan();                  // new events -> messages
  bool deliver_one();           // one due attempt; false when none is due
  std::int64_t next_due_ms();   // the earliest next attempt, or 0
  int attempt(const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
              const std::string& body, std::string& error);
  std::optional<WebhookEndpoint> endpoint_locked(const std::string& owner, const std::string& id);

  Store& store_;
  WebhookOptions opt_;
  std::mutex mu_;  // guards db_ (the API's threads and the worker)
  Db db_;
  std::mutex wake_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool woken_ = false;  // wake() since the worker last looked (guarded by wake_mu_)
  struct Io;
  std::unique_ptr<Io> io_;  // the worker's io_context (stop() ends an attempt in flight)
  std::thread worker_;
};

}  // namespace hues::sandbox
