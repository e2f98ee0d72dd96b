// The child of the outbox's kill -9 tests (outbox_test.cpp): opens the outbox, enqueues the
// numbered reports it does not hold yet, then waits until every item is delivered. The
// parent kills it with SIGKILL at random moments and starts it again.
//   outbox_child <db> <base_url> <api_key> <word> <count> [<photo_dir>]
// With photo_dir, each report carries a photo of its own (photo-<i>.jpg, written there once,
// a few tus chunks long), so kills land before, between and within uploads.
// Each delivery is told on stdout (one byte), so the parent can kill it mid-work.
#include <hues/hues.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

namespace {

// A JPEG head (SOI, APP0, SOF0) then filler that depends on n: each photo has its own bytes.
std::string photo(int n) {
  std::string j("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", 20);
  j += std::string("\xFF\xC0\x00\x0B\x08\x00\x30\x00\x40\x01\x01\x11\x00", 13);
  j += std::string("\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00", 10);
  unsigned x = 2166136261u ^ static_cast<unsigned>(n);
  while (j.size() < 20000) {
    x = x * 16777619u + 1;
    j.push_back(static_cast<char>(x >> 24));
  }
  return j;
}

bool ensure_photo(const std::string& path, int n) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return true;  // an earlier run wrote it (its mtime must stay)
  std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return false;
  std::string data = photo(n);
  bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size();
  ok = std::fclose(f) == 0 && ok;
  return ok && std::rename(tmp.c_str(), path.c_str()) == 0;
}

// Writes one byte to stdout per delivered item (the parent times kills by them).
struct Progress : hues::OutboxListener {
  void delivered(const hues::OutboxItem&) override { (void)!::write(1, "d", 1); }
  void failed(const hues::OutboxItem&) override { (void)!::write(1, "f", 1); }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6 && argc != 7) return 2;
  hues::ClientOptions o;
  o.base_url = argv[2];
  o.api_key = argv[3];
  o.retry.initial_backoff_ms = 10;
  o.retry.max_backoff_ms = 50;
  const std::string word = argv[4];
  const int count = std::atoi(argv[5]);
  const std::string photo_dir = argc == 7 ? argv[6] : "";
  try {
    hues::Client client(o);
    hues::OutboxOptions oo;
    oo.path = argv[1];
    oo.initial_backoff_ms = 20;
    oo.max_backoff_ms = 200;
    oo.media_chunk_size = 6000;  // 4 PATCHes a photo
    oo.listener = std::make_shared<Progress>();
    hues::Outbox outbox(client, oo);
    // What an earlier (killed) run queued already is in the file; queue only the rest.
    std::set<std::string> held;
    for (const auto& item : outbox.items().items) held.insert(item.report.description);
    for (int i = 0; i < count; ++i) {
      char text[160];
      if (photo_dir.empty())
        std::snprintf(text, sizeof text, "Báo cáo ngoại tuyến số %04d — đèn đường hỏng ở Vỹ Dạ %s", i, word.c_str());
      else
        std::snprintf(text, sizeof text, "Báo cáo có ảnh số %04d ở Vỹ Dạ %s", i, word.c_str());
      if (held.count(text)) continue;
      hues::NewReport r;
      r.category = "street_light";
      r.description = text;
      r.location.lat = 16.4726;
      r.location.lon = 107.5885;
      r.location.address = "Đường Nguyễn Sinh Cung";
      r.location.ward = "Vỹ Dạ";
      std::vector<hues::OutboxMedia> media;
      if (!photo_dir.empty()) {
        hues::OutboxMedia m;
        m.path = photo_dir + "/photo-" + std::to_string(i) + ".jpg";
        m.media_type = hues::MediaType::kPhoto;
        if (!ensure_photo(m.path, i)) return 5;
        media.push_back(m);
      }
      outbox.enqueue(r, media);
    }
    if (!outbox.wait_idle(120000)) return 3;
    for (const auto& item : outbox.items().items)
      if (item.state != "delivered") {
        std::fprintf(stderr, "%s: %s %s\n", item.local_id.c_str(), item.state.str().c_str(), item.last_error.c_str());
        return 4;
      }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "outbox_child: %s\n", e.what());
    return 1;
  }
  return 0;
}
