// One upload through the SDK's tus client, as its own process so its peak RSS is its own:
//   upload_bench <base_url> <api_key> <path> <chunk_bytes>
// prints {"seconds": S, "bytes": N, "vm_hwm_kib": K, "url": U} (tests/benchmarks/upload_bench.py
// runs it against curl on the same sandbox).
//   upload_bench --make <path> <bytes>
// writes the benchmark's file: an MP4 head then pseudo-random bytes (the sandbox sniffs video),
// the upload tests' own helper (tests/sdk/media_file.h), in 64 MiB pieces.
#include <hues/client.h>
#include <hues/upload.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "../sdk/media_file.h"

static long vm_hwm_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--make") {
    std::ofstream out(argv[2], std::ios::binary);
    const long long total = std::atoll(argv[3]), piece = 64ll << 20;
    for (long long at = 0; at < total; at += piece) {
      // Each piece seeded by its index (each starts with an MP4 head; only the first matters).
      std::string bytes = hues_test::mp4_bytes(std::min(piece, total - at), static_cast<unsigned>(at / piece));
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    return out ? 0 : 1;
  }
  if (argc != 5 && !(argc == 6 && std::string(argv[5]) == "--no-checksum")) {
    std::fprintf(stderr, "usage: upload_bench base_url api_key path chunk_bytes [--no-checksum]\n");
    return 2;
  }
  try {
    hues::ClientOptions co;
    co.base_url = argv[1];
    co.api_key = argv[2];
    hues::Client client(co);
    hues::UploadOptions o;
    o.path = argv[3];
    o.media_type = "video";
    o.chunk_size = std::atoll(argv[4]);
    o.checksum = argc != 6;  // --no-checksum: no Upload-Checksum (as curl -T sends none)
    hues::Upload upload(client, o);
    auto t0 = std::chrono::steady_clock::now();
    auto r = upload.start();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("{\"seconds\": %.6f, \"bytes\": %lld, \"vm_hwm_kib\": %ld, \"url\": \"%s\"}\n", s,
                static_cast<long long>(r.size), vm_hwm_kib(), r.url.c_str());
    return r.complete ? 0 : 1;
  } catch (const hues::Error& e) {
    std::fprintf(stderr, "error %s: %s\n", hues::to_string(e.type()), e.what());
    return 1;
  }
}
