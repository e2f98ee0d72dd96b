// Guessing limits for the sign-in pages (OWASP Authentication Cheat Sheet, RFC 8628 §5.1):
// failures are counted per key (an account, a client address) within an observation window;
// reaching the maximum locks the key out for a while, and every attempt meanwhile is a 429
// with Retry-After. In memory, bounded, expired entries purged on a timer.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

namespace hues::sandbox {

// The defaults are safe for a sandbox reachable by others; tests lower them to reach them.
struct SignInLimits {
  int account_failures = 5;     // wrong passwords per account within window_seconds ...
  int address_failures = 30;    // ... and per client address (IPv6: per /64)
  int user_code_failures = 5;   // wrong device user codes per account (twice that per address)
  int window_seconds = 900;     // the observation window failures are counted in
  int lockout_seconds = 900;    // how long a key that reached its maximum waits
};

class Throttle {
 public:
  Throttle(int max_failures, std::int64_t window_s, std::int64_t lockout_s, std::size_t max_keys = 65536)
      : max_failures_(max_failures), window_s_(window_s), lockout_s_(lockout_s), max_keys_(max_keys) {}

  // Seconds until key may try again (0: now). Not thread-safe: the caller holds a lock.
  std::int64_t retry_after(const std::string& key, std::int64_t now) const;
  void failure(const std::string& key, std::int64_t now);
  void success(const std::string& key) { entries_.erase(key); }
  void purge(std::int64_t now);  // drops entries whose window and lockout are over
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    int failures = 0;
    std::int64_t window_start = 0, locked_until = 0;
  };
  int max_failures_;
  std::int64_t window_s_, lockout_s_;
  std::size_t max_keys_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace hues::sandbox
