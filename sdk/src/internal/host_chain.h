// Host tasks run one after another on the host executor, in order: how an upload's store and
// progress listener, and a subscription's listener, are called (never on an I/O thread,
// never under an SDK lock).
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "internal/runtime.h"

namespace hues::internal {

class HostChain : public std::enable_shared_from_this<HostChain> {
 public:
  explicit HostChain(std::shared_ptr<Runtime> rt) : rt_(std::move(rt)) {}
  void post(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_.push_back(std::move(task));
      if (running_) return;
      running_ = true;
    }
    auto self = shared_from_this();
    if (!rt_->host().post([self] { self->drain(); })) drain();  // stopped: run here, never lose a step
  }

 private:
  void drain() {
    for (;;) {
      std::function<void()> task;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (tasks_.empty()) {
          running_ = false;
          return;
        }
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }
  std::shared_ptr<Runtime> rt_;
  std::mutex mu_;
  std::deque<std::function<void()>> tasks_;
  bool running_ = false;
};

}  // namespace hues::internal
