// What libhues exports. The SDK is compiled with hidden visibility, so only what is marked
// HUES_API (the public hues:: API and the C boundary) is visible to apps; Boost, Asio,
// OpenSSL and hues::internal stay private and cannot clash with another copy in a process.
#pragma once

#if defined(_WIN32)
#define HUES_API __declspec(dllexport)
#else
#define HUES_API __attribute__((visibility("default")))
#endif
