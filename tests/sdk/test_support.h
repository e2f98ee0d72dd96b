// Small helpers shared by the SDK tests.
#pragma once

#include <doctest/doctest.h>

#include <hues/error.h>
#include <hues/options.h>
#include <hues/testing/sandbox.h>

#include <string>

namespace hues_test {

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
