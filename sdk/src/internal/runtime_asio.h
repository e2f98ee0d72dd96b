// The Asio side of the runtime, for the few translation units that do socket work.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "internal/runtime.h"

namespace hues::internal {

struct Runtime::Impl {
  boost::asio::io_context io;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard;
  std::vector<std::thread> threads;
  std::mutex timers_mu;
  std::uint64_t next_timer = 1;
  std::unordered_map<std::uint64_t, std::weak_ptr<Timer>> timers;  // live, for shutdown()
  std::mutex exit_mu;
  std::condition_variable exit_cv;
  std::size_t running = 0;  // I/O threads still inside io.run()
  // The sync loops (see Runtime::sync_wait): each run by at most one waiting thread at a time.
  struct SyncLoop {
    boost::asio::io_context io{1};
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard;
    std::atomic<bool> busy{false};
    // One strand for every attempt on this loop: one thread at a time runs the loop, so its
    // attempts never run at once anyway, and a strand per attempt would only cost its making.
    boost::asio::strand<boost::asio::io_context::executor_type> strand{io.get_executor()};
  };
  std::vector<std::unique_ptr<SyncLoop>> sync_loops;
  explicit Impl(int concurrency) : io(concurrency) {}
};

// The sync loop this thread runs (any runtime's), or null.
boost::asio::io_context* current_sync_io();
// That loop's strand (valid while current_sync_io() is not null).
const boost::asio::strand<boost::asio::io_context::executor_type>& current_sync_strand();

inline boost::asio::io_context& io_context(Runtime& rt) { return rt.impl().io; }

// Where I/O started by this thread belongs: the sync loop on the thread running it, else the
// I/O threads' io_context.
inline boost::asio::io_context& io_context_here(Runtime& rt) {
  return rt.in_sync_loop() ? *current_sync_io() : rt.impl().io;
}

}  // namespace hues::internal
