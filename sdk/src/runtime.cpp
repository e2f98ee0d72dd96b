// The runtime's io_context, its I/O threads, timers and the host executor.
#include "internal/runtime_asio.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <signal.h>

#include <cstdlib>
#include <string>

namespace hues::internal {
namespace {

namespace asio = boost::asio;

thread_local const Runtime* current_runtime = nullptr;
thread_local const HostExecutor* current_host = nullptr;
thread_local const Runtime* current_sync_loop = nullptr;  // the runtime whose sync loop this thread runs
thread_local asio::io_context* current_sync_io_ = nullptr;  // and which of its loops
thread_local const asio::strand<asio::io_context::executor_type>* current_sync_strand_ = nullptr;
thread_local std::size_t last_sync_slot = 0;  // the loop this thread ran last (its connection is there)

// SDK threads must not take the host process's termination signals (SIGINT belongs to its
// main thread), but must keep every other: Mono's and the JVM's garbage collectors stop
// threads with signals, and both turn SIGSEGV into NullReferenceException/NullPointerException
// on threads that call back into managed code.
template <typename F>
std::thread start_thread(F fn) {
  sigset_t termination, old;
  sigemptyset(&termination);
  for (int s : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE}) sigaddset(&termination, s);
  pthread_sigmask(SIG_BLOCK, &termination, &old);
  std::thread t(std::move(fn));
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return t;
}

std::size_t sync_loops_default() {
  if (const char* v = std::getenv("HUES_SYNC_LOOPS"); v && *v) {
    char* end = nullptr;
    long n = std::strtol(v, &end, 10);
    if (*end == '\0') return static_cast<std::size_t>(std::min(8L, std::max(1L, n)));
  }
  // A waiting thread mostly sleeps in epoll_wait, so more loops than cores cost nothing: enough
  // for 8 threads sharing a client on a small machine, at most 8.
  std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  return std::min<std::size_t>(8, std::max<std::size_t>(2, cores * 4));
}

std::size_t io_threads_from_env() {
  const char* v = std::getenv("HUES_IO_THREADS");
  if (!v || !*v) return 2;
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  if (*end != '\0') return 2;
  return static_cast<std::size_t>(std::min(16L, std::max(1L, n)));
}

class AsioTimer final : public Timer, public std::enable_shared_from_this<AsioTimer> {
 public:
  AsioTimer(asio::io_context& io, std::function<void(bool)> fn) : timer(asio::make_strand(io)), fn_(std::move(fn)) {}
  void cancel() override {
    // The timer is not thread-safe: cancel on its strand, where its wait was started.
    asio::post(timer.get_executor(), [self = shared_from_this()] { self->timer.cancel(); });
  }
  void fire(bool fired) {
    if (fn_) std::exchange(fn_, nullptr)(fired);
  }
  asio::steady_timer timer;
  std::uint64_t id = 0;

 private:
  std::function<void(bool)> fn_;
};

}  // namespace

bool on_sdk_io_thread() { return current_runtime != nullptr; }

asio::io_context* current_sync_io() { return current_sync_io_; }

const asio::strand<asio::io_context::executor_type>& current_sync_strand() { return *current_sync_strand_; }

SyncStats& sync_stats() {
  thread_local SyncStats stats;
  return stats;
}

void sync_notify(SyncWaiter& w) {
  std::lock_guard<std::mutex> lock(w.mu);
  w.done = true;
  if (w.thread == std::this_thread::get_id()) return;  // the common case: completed by the waiter itself
  w.foreign = true;
  // Under the lock: once it is released the waiter may return, and its runtime go away.
  w.cv.notify_one();
  if (w.in_loop && w.loop) asio::post(w.loop->impl().sync_loops[w.slot]->io, [] {});  // ends the waiter's run_one()
}

void sync_wait(Runtime* rt, SyncWaiter& w, const std::function<void()>& start) {
  if (rt) return rt->sync_wait(w, start);
  ++sync_stats().fallbacks;
  start();
  std::unique_lock<std::mutex> lock(w.mu);
  w.cv.wait(lock, [&] { return w.done; });
  if (w.foreign) ++sync_stats().handoffs;
}

std::exception_ptr make_error(ErrorType type, std::string message, std::string code, bool retryable,
                              int http_status) {
  try {
    throw_error(type, std::move(message), http_status, std::move(code), {}, {}, retryable);
  } catch (...) {
    return std::current_exception();
  }
}

// ---- HostExecutor ----

HostExecutor::HostExecutor(std::size_t threads, std::size_t max_queue) : max_queue_(max_queue) {
  for (std::size_t i = 0; i < std::max<std::size_t>(1, threads); ++i)
    threads_.push_back(start_thread([this] { work(); }));
}

HostExecutor::~HostExecutor() { shutdown(); }

bool HostExecutor::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || tasks_.size() >= max_queue_) return false;
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

bool HostExecutor::on_this_executor() const { return current_host == this; }

void HostExecutor::work() {
  current_host = this;
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping, and everything queued has run
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    try {
      task();
    } catch (...) {  // host code failing must not take the executor down
    }
  }
}

void HostExecutor::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (!t.joinable()) continue;
    // Only when released from its own thread (a misuse, see ~Runtime): a thread cannot join
    // itself, and this one is about to return; ~Runtime keeps this object alive for it.
    if (t.get_id() == std::this_thread::get_id()) t.detach(); else t.join();
  }
}

// ---- Runtime ----

Runtime::Runtime(Config config)
    : impl_(std::make_unique<Impl>(static_cast<int>(std::max<std::size_t>(1, config.io_threads)))),
      io_thread_count_(std::max<std::size_t>(1, config.io_threads)),
      host_(std::make_unique<HostExecutor>(config.host_threads, config.host_queue)) {
  impl_->guard.emplace(asio::make_work_guard(impl_->io));
  std::size_t loops = config.sync_loops ? std::min<std::size_t>(8, config.sync_loops) : sync_loops_default();
  for (std::size_t i = 0; i < loops; ++i) {
    auto loop = std::make_unique<Impl::SyncLoop>();
    loop->guard.emplace(asio::make_work_guard(loop->io));
    impl_->sync_loops.push_back(std::move(loop));
  }
  impl_->running = io_thread_count_;
  for (std::size_t i = 0; i < io_thread_count_; ++i) {
    impl_->threads.push_back(start_thread([this] {
      current_runtime = this;
      for (;;) {
        try {
          impl_->io.run();
          break;
        } catch (...) {  // a throwing handler is a bug; keep the I/O thread serving the rest
        }
      }
      std::lock_guard<std::mutex> lock(impl_->exit_mu);
      --impl_->running;
      impl_->exit_cv.notify_all();
    }));
  }
}

Runtime::~Runtime() {
  bool own_thread = on_io_thread() || host_->on_this_executor();
  shutdown();
  if (own_thread) {
    // Released from one of its own threads (a misuse: shut down first). That thread is still
    // inside io.run() or a host task, so its objects must outlive it: leak them.
    (void)impl_.release();
    (void)host_.release();
  }
}

std::shared_ptr<Runtime> Runtime::global() {
  // Shut down before other statics go away: handlers must not run during static destruction.
  struct Holder {
    std::mutex mu;
    std::shared_ptr<Runtime> rt;
    ~Holder() {
      std::shared_ptr<Runtime> r;
      {
        std::lock_guard<std::mutex> lock(mu);
        r = rt;
      }
      if (r) r->shutdown();
    }
  };
  static Holder holder;
  std::lock_guard<std::mutex> lock(holder.mu);
  if (!holder.rt) {
    Config c;
    c.io_threads = io_threads_from_env();
    holder.rt = std::make_shared<Runtime>(c);
  }
  return holder.rt;
}

bool Runtime::post(std::function<void()> fn) {
  if (io_closed_) return false;
  asio::post(impl_->io, std::move(fn));
  return true;
}

bool Runtime::post_local(std::function<void()> fn) {
  if (io_closed_) return false;
  asio::post(in_sync_loop() ? *current_sync_io_ : impl_->io, std::move(fn));
  return true;
}

void Runtime::dispatch(std::function<void()> fn) {
  if (on_io_thread() || in_sync_loop()) fn(); else post(std::move(fn));
}

bool Runtime::in_sync_loop() const { return current_sync_loop == this; }

std::size_t Runtime::sync_loops() const { return impl_->sync_loops.size(); }

void Runtime::sync_wait(SyncWaiter& w, const std::function<void()>& start) {
  auto& stats = sync_stats();
  // One waiter runs each loop at a time (a loop is a single-threaded io_context); when all are
  // taken, the others wait as before, for calls that then run on the I/O threads. A waiter
  // never runs the I/O threads' io_context, so it cannot end up running (or waiting behind)
  // unrelated work. The loop this thread ran last comes first: its idle connection is there.
  Impl::SyncLoop* loop = nullptr;
  std::size_t slot = 0;
  if (!io_closed_ && !on_sdk_io_thread() && current_sync_loop == nullptr) {
    auto& loops = impl_->sync_loops;
    std::size_t n = loops.size();
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t s = (last_sync_slot + i) % n;
      if (loops[s]->busy.load(std::memory_order_relaxed)) continue;
      if (loops[s]->busy.exchange(true, std::memory_order_acquire)) continue;
      loop = loops[s].get();
      slot = s;
      break;
    }
  }
  if (!loop) {
    ++stats.fallbacks;
    start();
    std::unique_lock<std::mutex> lock(w.mu);
    w.cv.wait(lock, [&] { return w.done; });
    if (w.foreign) ++stats.handoffs;
    return;
  }
  ++stats.in_loop;
  auto& io = loop->io;
  {
    std::lock_guard<std::mutex> lock(w.mu);
    w.loop = this;
    w.slot = slot;
    w.in_loop = true;
  }
  last_sync_slot = slot;
  current_sync_loop = this;
  current_sync_io_ = &io;
  current_sync_strand_ = &loop->strand;
  // start() runs here, outside the loop's run: the call's first steps run at once (up to the
  // request's write; ClientCore::send_async), and what they leave for later (the read) queues
  // on the sync loop without waking anyone, for the run_one() below.
  try {
    start();
  } catch (...) {  // wait_for's start does not throw; be safe
  }
  bool foreign = false;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(w.mu);
      if (w.done) {
        foreign = w.foreign;
        break;
      }
    }
    std::size_t ran = 0;
    try {
      ran = io.run_one();
    } catch (...) {  // a throwing handler is a bug; keep serving the call (as the I/O threads do)
      continue;
    }
    if (ran == 0) break;  // stopped: the runtime shut down
  }
  // The call was ended from elsewhere (a cancel, the watchdog): its attempt may still be on
  // the loop, with its abort queued. Run what is ready so it lets go of its connection now.
  if (foreign) {
    ++stats.handoffs;
    try {
      io.poll();
    } catch (...) {
    }
  }
  current_sync_loop = nullptr;
  current_sync_io_ = nullptr;
  current_sync_strand_ = nullptr;
  loop->busy.store(false, std::memory_order_release);
  std::unique_lock<std::mutex> lock(w.mu);
  w.cv.wait(lock, [&] { return w.done; });  // only waits when the loop stopped first
}

bool Runtime::on_io_thread() const { return current_runtime == this; }

bool Runtime::stopping() const { return stopping_; }

std::shared_ptr<Timer> Runtime::schedule(std::chrono::steady_clock::time_point when, std::function<void(bool)> fn) {
  auto timer = std::make_shared<AsioTimer>(impl_->io, std::move(fn));
  if (io_closed_) {
    timer->fire(false);
    return timer;
  }
  {
    std::lock_guard<std::mutex> lock(impl_->timers_mu);
    timer->id = impl_->next_timer++;
    impl_->timers.emplace(timer->id, timer);
  }
  timer->timer.expires_at(when);
  Impl* impl = impl_.get();
  // Started on the timer's strand so cancel() never races the wait's initiation.
  asio::post(timer->timer.get_executor(), [timer, impl] {
    timer->timer.async_wait([timer, impl](const boost::system::error_code& ec) {
      {
        std::lock_guard<std::mutex> lock(impl->timers_mu);
        impl->timers.erase(timer->id);
      }
      timer->fire(!ec);
    });
  });
  if (stopping_) timer->cancel();
  return timer;
}

std::uint64_t Runtime::track(std::shared_ptr<CancellationToken> token) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return 0;
  std::uint64_t id = next_id_++;
  calls_.emplace(id, std::move(token));
  return id;
}

void Runtime::untrack(std::uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  calls_.erase(id);
  if (stopping_ && calls_.empty()) cv_.notify_all();
}

void Runtime::shutdown() {
  std::vector<std::shared_ptr<CancellationToken>> calls;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) {  // a second caller waits for the first one to finish
      if (!on_io_thread() && !host_->on_this_executor()) cv_.wait(lock, [&] { return shut_down_; });
      return;
    }
    stopping_ = true;
    for (auto& [id, token] : calls_) calls.push_back(token);
  }
  // Cancelled calls complete with CancelledError on the I/O threads, which still run.
  for (auto& token : calls) token->cancel();
  std::vector<std::shared_ptr<Timer>> timers;
  {
    std::lock_guard<std::mutex> lock(impl_->timers_mu);
    for (auto& [id, weak] : impl_->timers)
      if (auto t = weak.lock()) timers.push_back(std::move(t));
  }
  for (auto& t : timers) t->cancel();
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return calls_.empty(); });
  }
  host_->shutdown();
  // Let the I/O threads finish what is left (aborted sockets, resolver results), then stop.
  impl_->guard.reset();
  {
    std::unique_lock<std::mutex> lock(impl_->exit_mu);
    bool self = on_io_thread();
    impl_->exit_cv.wait_for(lock, std::chrono::seconds(5), [&] { return impl_->running == (self ? 1u : 0u); });
  }
  impl_->io.stop();
  io_closed_ = true;
  // A sync waiter still inside run_one() (its call outlived the wait above) returns from it
  // and goes on waiting on its condition variable.
  for (auto& loop : impl_->sync_loops) {
    loop->guard.reset();
    loop->io.stop();
  }
  for (auto& t : impl_->threads) {
    if (!t.joinable()) continue;
    // As in HostExecutor::shutdown: the calling I/O thread returns right after this.
    if (t.get_id() == std::this_thread::get_id()) t.detach(); else t.join();
  }
  std::lock_guard<std::mutex> lock(mu_);
  shut_down_ = true;
  cv_.notify_all();
}

}  // namespace hues::internal
