// Small helpers shared by the SDK tests.
#pragma once

#include <doctest/doctest.h>

#include <hues/error.h>
#include <hues/models.h>
#include <hues/options.h>
#include <hues/testing/sandbox.h>

#include <exception>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <vector>

namespace hues_test {

// A logger that keeps every line, for tests that read what the SDK logged.
struct Lines : hues::Logger {
  std::mutex mu;
  std::vector<std::string> lines;
  void log(hues::LogLevel, const std::string& m) override {
    std::lock_guard<std::mutex> lock(mu);
    lines.push_back(m);
  }
  std::string all() {
    std::lock_guard<std::mutex> lock(mu);
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
  }
};

// A completion handler that hands the error it ends with to ended (an ErrorType::kApi "no
// error" when it succeeds), for tests of *_async calls.
template <typename T>
std::function<void(std::exception_ptr, T)> records_error(std::promise<hues::Error>& ended) {
  return [&ended](std::exception_ptr error, T) {
    try {
      if (error) std::rethrow_exception(error);
      ended.set_value(hues::Error(hues::ErrorType::kApi, "no error"));
    } catch (const hues::Error& e) {
      ended.set_value(e);
    }
  };
}

// Runs f and returns the hues::Error it throws; fails the test if it throws none.
template <typename F>
hues::Error catch_error(F f) {
  try {
    f();
  } catch (const hues::Error& e) {
    return e;
  }
  FAIL("expected a hues::Error");
  return hues::Error(hues::ErrorType::kApi, "unreachable");
}

// A street-light report at Đông Ba market with the given (Vietnamese) text: the one the
// outbox, stream and identity tests send.
inline hues::NewReport new_report(const std::string& text, const std::string& category = "street_light") {
  hues::NewReport r;
  r.category = category;
  r.description = text;
  r.location.lat = 16.4726;
  r.location.lon = 107.5885;
  r.location.address = "Chợ Đông Ba, đường Trần Hưng Đạo";
  r.location.ward = "Đông Ba";
  return r;
}

}  // namespace hues_test

// Per test file (internal linkage): each file's own in-process sandbox, started on first use,
// so one file's reports and rate limits never reach another's.
namespace {

hues::testing::Sandbox& sandbox() {
  static hues::testing::Sandbox sb;
  return sb;
}

// Options for url with the sandbox's key and short backoffs, so retry tests stay quick.
inline hues::ClientOptions options_for(const std::string& url) {
  hues::ClientOptions o;
  o.base_url = url;
  o.api_key = sandbox().api_key();
  o.retry.initial_backoff_ms = 10;
  o.retry.max_backoff_ms = 50;
  return o;
}

}  // namespace
