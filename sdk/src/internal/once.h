// The completion of one asynchronous SDK operation that is more than one HTTP call (identity
// flows, the loopback wait): it runs exactly once, whichever comes first, the operation's own
// result or the caller's cancel. A cancel completes it at once with CancelledError, even while
// the operation waits on a fetch other calls share, and runs its stop hooks (a poll timer, an
// acceptor) so nothing of it keeps running.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "hues/http.h"
#include "hues/options.h"
#include "internal/runtime.h"

namespace hues::internal {

template <typename T>
class Once : public std::enable_shared_from_this<Once<T>> {
 public:
  using Done = std::function<void(std::exception_ptr, T)>;

  static std::shared_ptr<Once> make(std::shared_ptr<Runtime> rt, Done done, const CallOptions& call) {
    auto once = std::shared_ptr<Once>(new Once(std::move(rt), std::move(done), call.cancel));
    if (once->token_) {
      // The token runs its callbacks under its lock, which complete() takes to unregister:
      // finish on an I/O thread instead (inline only once the runtime is gone).
      std::uint64_t id = once->token_->add_callback([once] {
        auto rt = once->rt_;
        bool posted = rt->post([once] { once->complete(cancelled(), T{}, false); });
        if (!posted) once->complete(cancelled(), T{}, true);
      });
      once->registered(id);
    }
    return once;
  }

  void operator()(std::exception_ptr error, T value) { complete(std::move(error), std::move(value), false); }
  void fail(std::exception_ptr error) { complete(std::move(error), T{}, false); }

  bool finished() const {
    std::lock_guard<std::mutex> lock(mu_);
    return finished_;
  }
  // fn runs once the operation is over, however it ended (at once if it already is). It must
  // not block.
  void on_finish(std::function<void()> fn) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!finished_) {
        hooks_.push_back(std::move(fn));
        return;
      }
    }
    fn();
  }
  // A continuation for a step whose result this operation passes on unchanged.
  Done forward() {
    auto self = this->shared_from_this();
    return [self](std::exception_ptr error, T value) { (*self)(std::move(error), std::move(value)); };
  }

  static std::exception_ptr cancelled() {
    return make_error(ErrorType::kCancelled, "the call was cancelled", "cancelled");
  }

 private:
  Once(std::shared_ptr<Runtime> rt, Done done, std::shared_ptr<CancellationToken> token)
      : rt_(std::move(rt)), token_(std::move(token)), done_(std::move(done)) {}

  void registered(std::uint64_t id) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!finished_) {
        cb_ = id;
        return;
      }
    }
    if (id) token_->remove_callback(id);
  }

  void complete(std::exception_ptr error, T value, bool under_token_lock) {
    Done done;
    std::vector<std::function<void()>> hooks;
    std::uint64_t cb = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (finished_) return;
      finished_ = true;
      done = std::move(done_);
      hooks.swap(hooks_);
      cb = std::exchange(cb_, 0);
    }
    if (cb && !under_token_lock) token_->remove_callback(cb);
    for (auto& h : hooks) h();
    try {
      done(std::move(error), std::move(value));
    } catch (...) {  // a completion must not throw into an I/O thread
    }
  }

  std::shared_ptr<Runtime> rt_;
  std::shared_ptr<CancellationToken> token_;
  mutable std::mutex mu_;
  bool finished_ = false;
  Done done_;
  std::vector<std::function<void()>> hooks_;
  std::uint64_t cb_ = 0;
};

// For operations with no result.
struct Unit {};

}  // namespace hues::internal
