// Internals of the C boundary (sdk/src/bridge.cpp) that tests reach.
#pragma once

#include <chrono>

namespace hues::internal::bridge {

// How long the SDK waits for a host object (a token store, a logger) to answer one invoke
// before failing the call that needed it (default 120 s).
void set_host_reply_timeout(std::chrono::milliseconds timeout);

}  // namespace hues::internal::bridge
