// One upload through the SDK's tus client, as its own process so its peak RSS is its own:
//   upload_bench <base_url> <api_key> <path> <chunk_bytes>
// prints {"seconds": S, "bytes": N, "vm_hwm_kib": K, "url": U} (tests/benchmarks/upload_bench.py
// runs it against curl on the same sandbox).
#include <hues/client.h>
#include <hues/upload.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

static long vm_hwm_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: upload_bench base_url api_key path chunk_bytes\n");
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
