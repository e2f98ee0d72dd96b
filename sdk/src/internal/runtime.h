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

class Runtime : public std::enable_shared_from_this<Runtime> {
 public:
  struct Config {
    std::size_t io_threads = 2;
    std::size_t host_threads = 2;
    std::size_t host_queue = 65536;
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
  // Runs fn now when already on one of this runtime's I/O threads, else posts it.
  void dispatch(std::function<void()> fn);
  bool on_io_thread() const;

  std::shared_ptr<Timer> schedule(std::chrono::steady_clock::time_point when, std::function<void(bool fired)> fn);

  HostExecutor& host() { return *host_; }
  std::size_t io_threads() const { return io_thread_count_; }
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

// Waits for an async operation started by start(done) and returns its result or rethrows its
// error: the sync API is start-then-wait. On an I/O thread it refuses instead of deadlocking.
template <typename T, typename Start>
T wait_for(Start start) {
  if (on_sdk_io_thread())
    throw_error(ErrorType::kValidation, "a blocking SDK call was made on an SDK I/O thread (use the async form)", 0,
                "blocking_on_io_thread");
  struct Slot {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::exception_ptr error;
    T value{};
  };
  auto slot = std::make_shared<Slot>();
  start([slot](std::exception_ptr error, T value) {
    {
      std::lock_guard<std::mutex> lock(slot->mu);
      slot->error = std::move(error);
      slot->value = std::move(value);
      slot->done = true;
    }
    slot->cv.notify_all();  // unlocked: the woken waiter does not block on mu again
  });
  std::unique_lock<std::mutex> lock(slot->mu);
  slot->cv.wait(lock, [&] { return slot->done; });
  if (slot->error) std::rethrow_exception(slot->error);
  return std::move(slot->value);
}

}  // namespace hues::internal
