// The Asio side of the runtime, for the few translation units that do socket work.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
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
  explicit Impl(int concurrency) : io(concurrency) {}
};

inline boost::asio::io_context& io_context(Runtime& rt) { return rt.impl().io; }

}  // namespace hues::internal
