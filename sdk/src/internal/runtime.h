// The SDK's runtime: one io_context run by a few I/O threads for all network work and
// timers, and a small host executor for anything that calls back into the host application
// (loggers, token stores, user transports and credentials). Asio stays out of this header so
// only runtime.cpp and transport_beast.cpp compile it (see internal/runtime_asio.h).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "hues/error.h"
#include "hues/http.h"
#include "hues/options.h"

namespace hues::internal {

// Fixed threads over a bounded FIFO. Host code runs here, never on an I/O thread and never
// under an SDK lock, so a slow or re-entrant host callback cannot stall the network.
class HostExecutor {
 public:
  HostExecutor(std::size_t threads, std::size_t max_queue);
  ~HostExecutor();
  HostExecutor(const HostExecutor&) = delete;
  HostExecutor& operator=(const HostExecutor&) = delete;

  // Queues task; false (task dropped) when the queue is full or the executor stopped.
  bool post(std::function<void()> task);
  // Runs what is queued, then joins the threads. Later posts fail. Idempotent.
  void shutdown();
  std::size_t threads() const { return threads_.size(); }
  bool on_this_executor() const;

 private:
  void work();
  std::size_t max_queue_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// A one-shot timer on the I/O threads. fn(true) when it fires, fn(false) when cancelled
// (cancel(), or the runtime shutting down).
class Timer {
 public:
  virtual ~Timer() = default;
  virtual void cancel() = 0;  // thread-safe, idempotent
};

struct SyncWaiter;

class Runtime : public std::enable_shared_from_this<Runtime> {
 public:
  struct Config {
    std::size_t io_threads = 2;
    std::size_t host_threads = 2;
    std::size_t host_queue = 65536;
    std::size_t sync_loops = 0;  // 0: the default (see Runtime::sync_wait), else 1..8
  };
  explicit Runtime(Config config);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // The process-wide runtime, created on first use (HUES_IO_THREADS=1..16 sets its I/O
  // threads) and shut down at static destruction.
  static std::shared_ptr<Runtime> global();

  // Runs fn on an I/O thread; false (fn dropped) once the runtime is stopping.
  bool post(std::function<void()> fn);
  // Runs fn now when already on one of this runtime's I/O threads (or its sync loop), else
  // posts it.
  void dispatch(std::function<void()> fn);
  bool on_io_thread() const;

  // The sync loops: a few more io_contexts with no threads of their own, each run only by a
  // thread waiting for a synchronous call (one at a time per loop; up to sync_loops() waiting
  // threads at once, HUES_SYNC_LOOPS=1..8 for the global runtime). Work started from that thread goes there,
  // so the waiter writes its request, reads its response and completes its call itself, with
  // no handoff to an I/O thread and back. Only SDK handlers ever run there, never host code.
  //
  // Runs start() and waits until w is done: on a sync loop when one is free (the one this
  // thread used last first, so its idle connection is reused), else (other waiters run them
  // all, or the runtime is closed) on w's condition variable.
  void sync_wait(SyncWaiter& w, const std::function<void()>& start);
  // True on the thread running this runtime's sync loop.
  bool in_sync_loop() const;
  // Like post(), but onto the sync loop when called from the thread running it.
  bool post_local(std::function<void()> fn);

  std::shared_ptr<Timer> schedule(std::chrono::steady_clock::time_point when, std::function<void(bool fired)> fn);

  HostExecutor& host() { return *host_; }
  std::size_t io_threads() const { return io_thread_count_; }
  std::size_t sync_loops() const;
  std::size_t host_threads() const { return host_->threads(); }

  // Registers a call's cancel token so shutdown() can cancel it; 0 when already stopping
  // (the caller must then fail the call itself).
  std::uint64_t track(std::shared_ptr<CancellationToken> token);
  void untrack(std::uint64_t id);

  // Cancels every tracked call and timer (their handlers see CancelledError), waits for
  // them to complete, drains the host executor and joins all threads. Idempotent; safe at
  // exit. After it, post() fails and new calls end at once with CancelledError.
  void shutdown();
  bool stopping() const;

  struct Impl;  // the io_context and its threads (runtime.cpp)
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
  std::size_t io_thread_count_;
  std::unique_ptr<HostExecutor> host_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> io_closed_{false};
  bool shut_down_ = false;
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, std::shared_ptr<CancellationToken>> calls_;
};

// The SDK's Beast transport on rt's I/O threads (make_default_transport uses the global one).
std::shared_ptr<Transport> make_beast_transport(const ClientOptions& options, std::shared_ptr<Runtime> rt);

// Builds an exception_ptr holding the hues::Error subclass for type.
std::exception_ptr make_error(ErrorType type, std::string message, std::string code, bool retryable = false,
                              int http_status = 0);

// True on any runtime's I/O thread, where waiting for I/O would wait for itself.
bool on_sdk_io_thread();

// One synchronous call's wait: the completion sets it, the waiting thread watches it.
// Shared: the completing thread may still touch it after the waiter has seen `done`.
struct SyncWaiter {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;     // under mu
  bool in_loop = false;  // under mu: the waiter runs the sync loop, so a wake-up must reach it there
  bool foreign = false;  // under mu: completed on another thread
  std::thread::id thread = std::this_thread::get_id();
  Runtime* loop = nullptr;  // the runtime whose sync loop the waiter runs, while it does
  std::size_t slot = 0;     // which of its sync loops
};

// How this thread's synchronous calls were waited for (tests and benchmarks read them).
struct SyncStats {
  std::uint64_t in_loop = 0;    // the thread ran the sync loop while it waited
  std::uint64_t handoffs = 0;   // the call was completed by another thread
  std::uint64_t fallbacks = 0;  // the sync loop was busy (or closed): a plain wait
};
SyncStats& sync_stats();  // this thread's

// Marks w done and wakes its waiter wherever it waits. Call with the result already stored.
void sync_notify(SyncWaiter& w);

// Runs start(), then waits until w is done. See Runtime::sync_wait.
void sync_wait(Runtime* rt, SyncWaiter& w, const std::function<void()>& start);

// Waits for an async operation started by start(done) and returns its result or rethrows its
// error: the sync API is start-then-wait. With a runtime, the waiting thread runs that
// runtime's sync loop while it waits (Runtime::sync_wait), so in the common case the call
// completes on the calling thread with no handoff. On an I/O thread it refuses instead of
// deadlocking.
template <typename T, typename Start>
T wait_for(Runtime* rt, Start start) {
  if (on_sdk_io_thread())
    throw_error(ErrorType::kValidation, "a blocking SDK call was made on an SDK I/O thread (use the async form)", 0,
                "blocking_on_io_thread");
  struct Slot : SyncWaiter {
    std::exception_ptr error;
    T value{};
  };
  auto slot = std::make_shared<Slot>();
  sync_wait(rt, *slot, [&] {
    start([slot](std::exception_ptr error, T value) {
      slot->error = std::move(error);  // published by sync_notify's lock
      slot->value = std::move(value);
      sync_notify(*slot);
    });
  });
  if (slot->error) std::rethrow_exception(slot->error);
  return std::move(slot->value);
}

template <typename T, typename Start>
T wait_for(Start start) {
  return wait_for<T>(nullptr, std::move(start));
}

}  // namespace hues::internal
