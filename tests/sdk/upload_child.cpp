// A separate process for the upload tests: uploads a file with a file upload store and prints
// "progress <uploaded> <total>" after each chunk and "done <url> <size>" at the end, so a test
// can SIGKILL it mid-upload and resume the upload from the same store in another process.
//   upload_child <base_url> <api_key> <path> <store_dir> <chunk_size>
#include <hues/client.h>
#include <hues/upload.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: upload_child base_url api_key path store_dir chunk_size\n");
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
    o.store = hues::make_file_upload_store(argv[4]);
    o.chunk_size = std::atoll(argv[5]);
    o.progress = hues::progress_listener([](const hues::UploadProgress& p) {
      std::printf("progress %lld %lld\n", static_cast<long long>(p.uploaded), static_cast<long long>(p.total));
      std::fflush(stdout);
    });
    hues::Upload upload(client, o);
    auto r = upload.start();
    std::printf("done %s %lld %d\n", r.url.c_str(), static_cast<long long>(r.size), r.resumed ? 1 : 0);
    std::fflush(stdout);
    return 0;
  } catch (const hues::Error& e) {
    std::fprintf(stderr, "error %s: %s\n", hues::to_string(e.type()), e.what());
    return 1;
  }
}
