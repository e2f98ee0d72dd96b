// The child of the outbox's kill -9 test (outbox_test.cpp): opens the outbox, enqueues the
// numbered reports it does not hold yet, then waits until every item is delivered. The
// parent kills it with SIGKILL at random moments and starts it again.
//   outbox_child <db> <base_url> <api_key> <word> <count>
#include <hues/hues.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

int main(int argc, char** argv) {
  if (argc != 6) return 2;
  hues::ClientOptions o;
  o.base_url = argv[2];
  o.api_key = argv[3];
  o.retry.initial_backoff_ms = 10;
  o.retry.max_backoff_ms = 50;
  const std::string word = argv[4];
  const int count = std::atoi(argv[5]);
  try {
    hues::Client client(o);
    hues::OutboxOptions oo;
    oo.path = argv[1];
    oo.initial_backoff_ms = 20;
    oo.max_backoff_ms = 200;
    hues::Outbox outbox(client, oo);
    // What an earlier (killed) run queued already is in the file; queue only the rest.
    std::set<std::string> held;
    for (const auto& item : outbox.items().items) held.insert(item.report.description);
    for (int i = 0; i < count; ++i) {
      char text[160];
      std::snprintf(text, sizeof text, "Báo cáo ngoại tuyến số %04d — đèn đường hỏng ở Vỹ Dạ %s", i, word.c_str());
      if (held.count(text)) continue;
      hues::NewReport r;
      r.category = "street_light";
      r.description = text;
      r.location.lat = 16.4726;
      r.location.lon = 107.5885;
      r.location.address = "Đường Nguyễn Sinh Cung";
      r.location.ward = "Vỹ Dạ";
      outbox.enqueue(r);
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
