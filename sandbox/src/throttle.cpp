#include "throttle.h"

#include <algorithm>

namespace hues::sandbox {

std::int64_t Throttle::retry_after(const std::string& key, std::int64_t now) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? 0 : std::max<std::int64_t>(0, it->second.locked_until - now);
}

void Throttle::failure(const std::string& key, std::int64_t now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= max_keys_) purge(now);
    // Still full: make room from an entry that is not locked out, never from one that is,
    // so a flood of fresh keys cannot lift someone's lockout.
    for (auto v = entries_.begin(); entries_.size() >= max_keys_ && v != entries_.end();)
      v = v->second.locked_until > now ? std::next(v) : entries_.erase(v);
    if (entries_.size() >= max_keys_) return;
    it = entries_.emplace(key, Entry{0, now, 0}).first;
  }
  Entry& e = it->second;
  if (now - e.window_start >= window_s_) e = Entry{0, now, e.locked_until};
  if (++e.failures >= max_failures_) {
    e.locked_until = now + lockout_s_;
    e.failures = 0;
    e.window_start = now;
  }
}

void Throttle::purge(std::int64_t now) {
  for (auto it = entries_.begin(); it != entries_.end();)
    it = it->second.locked_until <= now && now - it->second.window_start >= window_s_ ? entries_.erase(it) : std::next(it);
}

}  // namespace hues::sandbox
