// The offline outbox: reports queued on the device while there is no network, delivered
// when it returns, each exactly once and in order, surviving kill -9 and restart.
//
//   hues::Outbox outbox(client, {"/data/app/outbox.db"});
//   auto item = outbox.enqueue(report);          // works offline; durable when it returns
//   ...                                          // the sender delivers it when it can
//   for (const auto& i : outbox.items().items) show(i.local_id, i.state, i.report_id);
//
// The queue is one SQLite file (WAL, synchronous=FULL: every commit is fsynced; mode 0600;
// one process at a time). Each item's Idempotency-Key and its exact request body are made at
// enqueue and stored with it, so a create sent just before a crash and sent again after the
// restart is answered by the server's replay of the first response: one report, whatever
// instant the process died at. See docs/outbox.md.
#pragma once

#include "hues/export.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hues/client.h"
#include "hues/identity.h"  // Async
#include "hues/models.h"    // NewReport, OutboxItem, OutboxItemList (generated)

namespace hues {

class Outbox;
struct OutboxOptions;
namespace internal {
class ClientCore;
// The bindings' way in (bridge.cpp holds a ClientCore, not a Client).
std::shared_ptr<Outbox> open_outbox(std::shared_ptr<ClientCore> core, OutboxOptions options);
}  // namespace internal

// Hears how items end. Called on the SDK's host executor (never on an I/O thread, never
// under an SDK lock), once per item, in delivery order. What it throws is ignored: the
// item's state is stored before it is called.
class HUES_API OutboxListener {
 public:
  virtual ~OutboxListener() = default;
  virtual void delivered(const OutboxItem& item) = 0;  // item.report_id: the server's id
  virtual void failed(const OutboxItem& item) = 0;     // refused for good: item.last_error
};

struct OutboxOptions {
  std::string path;  // the queue's SQLite file; created (0600) when absent
  std::shared_ptr<OutboxListener> listener;
  // Backoff after a transport error, 5xx, 429 or 401: doubled (with jitter) up to the max.
  std::int64_t initial_backoff_ms = 1000;
  std::int64_t max_backoff_ms = 60000;
  // One delivery attempt's deadline (the client's own retries run inside it); 0: the
  // client's deadline_ms.
  std::int64_t send_deadline_ms = 0;
  // Media (docs/outbox.md): copy each file into <path>.media/ at enqueue (the item then
  // survives the app deleting or changing the original, at the cost of the files' space until
  // delivery); false: the file is read where it is and must stay unchanged until delivered.
  bool copy_media = false;
  std::int64_t media_chunk_size = 4 << 20;  // bytes per tus PATCH
};

class HUES_API Outbox {
 public:
  // Opens (or creates) the queue and starts its sender on client's runtime. Items left
  // `sending` by a crash are pending again (resent with their stored key). Throws
  // ValidationError naming "path" when the file cannot be opened, is not an outbox, or is
  // open in another process.
  Outbox(const Client& client, OutboxOptions options);
  ~Outbox();  // close()
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Validates report and media (ValidationError naming the field, e.g. "report.description",
  // or "media[0].path" for a file that is missing or unreadable; nothing is queued), commits
  // it with its media rows and a fresh Idempotency-Key and returns its item (pending). No
  // network is touched. The sender uploads each file (tus, resumed by its stored URL) before
  // it creates the report with the media ids appended to report.media.
  OutboxItem enqueue(const NewReport& report, const std::vector<OutboxMedia>& media = {});
  // Every item held, oldest first (pending, sending, delivered and failed, until purge()).
  OutboxItemList items() const;
  // Removes a pending item (aborting and terminating its media uploads, removing its copies):
  // true; false when it is sending, delivered or failed.
  // NotFoundError (field "local_id") when there is no such item.
  bool cancel(const std::string& local_id);
  // Queues a failed item again (after the app fixed what refused it: a permission, the
  // account, a file): it goes back to pending in its place in the order, with a new
  // Idempotency-Key (the refused one may be remembered by the server with its refusal), its
  // attempts and error cleared, and media whose upload did not finish starting over from its
  // copy. True; false when it is not failed. NotFoundError (field "local_id") when there is
  // no such item.
  bool retry(const std::string& local_id);
  // Ends the current backoff wait: the sender tries the head item now.
  void flush();
  // Flushes, then waits until nothing is pending or sending (true) or timeout_ms passes
  // (false). The async form waits on a runtime timer, holding no thread.
  bool wait_idle(std::int64_t timeout_ms);
  void wait_idle_async(std::int64_t timeout_ms, Async<bool> done);
  // Forgets delivered and failed items; returns how many.
  std::int64_t purge();
  // Stops the sender and closes the file. A create in flight is abandoned: its item stays
  // `sending` on disk and is resent with the same key when the file is opened again (the
  // server replays its answer). Idempotent.
  void close();

  struct Impl;

 private:
  friend std::shared_ptr<Outbox> internal::open_outbox(std::shared_ptr<internal::ClientCore>, OutboxOptions);
  Outbox() = default;
  std::shared_ptr<Impl> impl_;
};

}  // namespace hues
