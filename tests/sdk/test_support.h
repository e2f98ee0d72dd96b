// Small helpers shared by the SDK tests.
#pragma once

#include <doctest/doctest.h>

#include <hues/error.h>

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
