// GET /v1/events over a raw socket (tests/contract/test_events.py covers roles and resuming
// across many drops with a third-party SSE client): the chunked text/event-stream framing,
// events woken by commits in order with ids, Last-Event-ID resuming strictly after an id,
// TLS, and sandboxes stopping with streams open (each ends with its last chunk).
#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <thread>
#include <string>
#include <vector>

#include "hues/testing/sandbox.h"
#include "test_client.h"

using namespace sandbox_test;
using hues::testing::Sandbox;

namespace {

// One event stream on a Client's connection (plain or TLS), its HTTP/1.1 chunked framing
// undone by hand.
class RawStream {
 public:
  RawStream(int port, const std::string& key, const std::string& query = "", const std::string& last_event_id = "",
            std::optional<TlsOptions> tls = std::nullopt)
      : c_(port, std::move(tls)) {
    std::string req = "GET /v1/events" + query + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: " + key + "\r\n";
    if (!last_event_id.empty()) req += "Last-Event-ID: " + last_event_id + "\r\n";
    req += "\r\n";
    c_.write_bytes(req);
    while (raw_.find("\r\n\r\n") == std::string::npos) fill();
    head_ = raw_.substr(0, raw_.find("\r\n\r\n") + 4);
    raw_.erase(0, head_.size());
  }
  const std::string& head() const { return head_; }

  // The next event's fields (id, event, data), skipping comments and the retry line.
  struct Event {
    std::string id, event, data;
  };
  Event next() {
    for (;;) {
      const auto end = text_.find("\n\n");
      if (end == std::string::npos) {
        REQUIRE(!last_chunk_);  // the stream has no last chunk while the server runs
        text_ += chunk();
        continue;
      }
      const std::string block = text_.substr(0, end + 1);
      text_.erase(0, end + 2);
      Event e;
      std::size_t at = 0;
      while (at < block.size()) {
        const auto nl = block.find('\n', at);
        const std::string line = block.substr(at, nl - at);
        at = nl + 1;
        if (line.rfind("id: ", 0) == 0) e.id = line.substr(4);
        else if (line.rfind("event: ", 0) == 0) e.event = line.substr(7);
        else if (line.rfind("data: ", 0) == 0) e.data = line.substr(6);
      }
      if (!e.data.empty()) return e;
    }
  }
  // The events up to and including the creation of report_id.
  std::vector<Event> until_created(const std::string& report_id) {
    std::vector<Event> out;
    for (;;) {
      out.push_back(next());
      if (out.back().event == "report.created" && out.back().data.find("\"" + report_id + "\"") != std::string::npos)
        return out;
    }
  }
  // True once the server has closed the connection (after what it had sent).
  bool ends() {
    try {
      for (;;) fill();
    } catch (const beast::system_error& e) {
      return e.code() == net::error::eof || e.code() == net::error::connection_reset ||
             e.code() == ssl::error::stream_truncated;
    }
  }
  // True when the body ends as a chunked body should (whole events, then the zero-length
  // last chunk) and the connection then closes cleanly (EOF; over TLS after close_notify).
  bool ends_with_last_chunk() {
    while (!last_chunk_) text_ += chunk();
    CHECK(raw_.empty());  // nothing after the last chunk
    try {
      for (;;) fill();
    } catch (const beast::system_error& e) {
      return e.code() == net::error::eof && (text_.empty() || (text_.size() >= 2 && text_.substr(text_.size() - 2) == "\n\n"));
    }
  }

 private:
  static constexpr std::chrono::milliseconds kTimeout{20000};  // more than a heartbeat

  std::string chunk() {  // one chunk of the chunked body ("" for the last one)
    for (;;) {
      const auto crlf = raw_.find("\r\n");
      if (crlf != std::string::npos) {
        const std::size_t size = std::stoul(raw_.substr(0, crlf), nullptr, 16);
        if (raw_.size() >= crlf + 2 + size + 2) {
          std::string data = raw_.substr(crlf + 2, size);
          CHECK(raw_.substr(crlf + 2 + size, 2) == "\r\n");  // after the last chunk: no trailer fields
          raw_.erase(0, crlf + 2 + size + 2);
          if (size == 0) last_chunk_ = true;
          return data;
        }
      }
      fill();
    }
  }
  void fill() { raw_ += c_.read_some(kTimeout); }

  Client c_;
  std::string raw_, head_, text_;
  bool last_chunk_ = false;
};

std::string create_public_report(Client& c, const std::string& key, const std::string& what) {
  auto r = c.request(http::verb::post, "/v1/reports",
                     R"({"category":"street_light","description":")" + what +
                         R"(","location":{"lat":16.4726,"lon":107.5885,"address":"Chợ Đông Ba","ward":"Đông Ba"}})",
                     {{"X-Api-Key", key}});
  REQUIRE(r.result_int() == 201);
  return std::string(json_of(r).at("id").as_string());
}

}  // namespace

TEST_CASE("events: a chunked text/event-stream of each commit, in order, with ids") {
  TempDir dir;
  Sandbox sb(options_with(-1, dir.path, 2));
  RawStream s(sb.port(), sb.api_key());
  CHECK(s.head().rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(s.head().find("Content-Type: text/event-stream; charset=utf-8\r\n") != std::string::npos);
  CHECK(s.head().find("Transfer-Encoding: chunked\r\n") != std::string::npos);
  CHECK(s.head().find("Cache-Control: no-store\r\n") != std::string::npos);
  Client c(sb.port());
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(create_public_report(c, sb.api_key(), "Đèn hỏng số " + std::to_string(i)));
  // Only what was committed after the stream opened, each report once, in commit order.
  std::vector<RawStream::Event> got = s.until_created(ids.back());
  REQUIRE(got.size() == 3);
  long long last = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const auto data = boost::json::parse(got[i].data).as_object();
    CHECK(std::string(data.at("report_id").as_string()) == ids[i]);
    CHECK(std::string(data.at("id").as_string()) == got[i].id);
    CHECK(std::string(data.at("type").as_string()) == got[i].event);
    CHECK(std::string(data.at("status").as_string()) == "submitted");
    CHECK(data.at("version").as_int64() == 1);
    CHECK(std::stoll(got[i].id) > last);
    last = std::stoll(got[i].id);
  }
  // Resuming after the first: exactly the second and the third, from a new connection.
  RawStream again(sb.port(), sb.api_key(), "?since=0", got[0].id);  // Last-Event-ID wins over since
  auto rest = again.until_created(ids.back());
  REQUIRE(rest.size() == 2);
  CHECK(rest[0].id == got[1].id);
  CHECK(rest[1].id == got[2].id);
  // Vietnamese text in the data line, byte for byte.
  auto story = create_public_report(c, sb.api_key(), "Ngập úng đường Phan Đình Phùng");
  const auto e = s.until_created(story).back();
  CHECK(e.data.find("\"report_id\":\"" + story + "\"") != std::string::npos);
  const auto tl = c.request(http::verb::get, "/v1/reports/" + story + "/timeline", {}, {{"X-Api-Key", sb.api_key()}});
  CHECK(tl.result_int() == 200);
}

TEST_CASE("events: the errors are JSON before any stream") {
  TempDir dir;
  Sandbox sb(options_with(-1, dir.path, 1));
  Client c(sb.port());
  auto no_key = c.request(http::verb::get, "/v1/events");
  CHECK(no_key.result_int() == 401);
  auto bad = c.request(http::verb::get, "/v1/events?since=x", {}, {{"X-Api-Key", sb.api_key()}});
  CHECK(bad.result_int() == 400);
  CHECK(error_field_of(bad) == "since");
  auto future = c.request(http::verb::get, "/v1/events", {}, {{"X-Api-Key", sb.api_key()}, {"Last-Event-ID", "999999999"}});
  CHECK(future.result_int() == 400);
  CHECK(error_field_of(future) == "Last-Event-ID");
  auto post = c.request(http::verb::post, "/v1/events", "{}", {{"X-Api-Key", sb.api_key()}});
  CHECK(post.result_int() == 405);
  CHECK(c.connected());
}

TEST_CASE("events: sandboxes stop with streams open, again and again") {
  for (int round = 0; round < 5; ++round) {
    TempDir dir;
    auto sb = std::make_unique<Sandbox>(options_with(round % 2 ? 0 : -1, dir.path, 2));
    std::vector<std::unique_ptr<RawStream>> streams;
    for (int i = 0; i < 4; ++i) streams.push_back(std::make_unique<RawStream>(sb->port(), sb->api_key(), "?since=0"));
    streams[0]->next();  // the seed's first event
    sb->stop();          // returns: the streams do not hold it
    for (auto& s : streams) CHECK(s->ends_with_last_chunk());  // not a cut connection
  }
}

TEST_CASE("events: at stop streams over TLS and plain HTTP end with their last chunk, then close cleanly") {
  TempDir dir;
  auto sb = std::make_unique<Sandbox>(options_with(0, dir.path, 2));
  TlsOptions tls;
  tls.ca_file = sb->ca_file();
  RawStream s(sb->tls_port(), sb->api_key(), "?since=0", "", tls);
  RawStream plain(sb->port(), sb->api_key());
  s.next();
  sb->stop();
  CHECK(s.ends_with_last_chunk());
  CHECK(plain.ends_with_last_chunk());
}

TEST_CASE("events: while the sandbox stops, a new stream is 503 unavailable with Retry-After, not a 429") {
  // The server is stopping, not the caller over its limit. Requests on a kept-alive connection
  // race the stop; each round one stream is open (so the stop waits for it) and every refused
  // GET /v1/events must be the 503. Rounds go on until one was seen.
  int seen = 0;
  for (int round = 0; round < 40 && seen == 0; ++round) {
    TempDir dir;
    auto sb = std::make_unique<Sandbox>(options_with(-1, dir.path, 2));
    RawStream open(sb->port(), sb->api_key(), "?since=0");
    open.next();
    Client c(sb->port());
    auto first = c.request(http::verb::get, "/v1/events?since=x", {}, {{"X-Api-Key", sb->api_key()}});
    REQUIRE(first.result_int() == 400);  // connected, and the key works
    std::thread stopper([&] { sb->stop(); });
    try {
      for (int i = 0; i < 100000 && c.connected(); ++i) {
        // A stream that opens would hold the connection: ask with a bad Last-Event-ID first
        // (400 while running; the stop's refusal comes before it is read).
        auto r = c.request(http::verb::get, "/v1/events", {}, {{"X-Api-Key", sb->api_key()}, {"Last-Event-ID", "x"}});
        if (r.result_int() == 400) continue;
        CHECK(r.result_int() == 503);
        CHECK(error_code_of(r) == "unavailable");
        CHECK(r[http::field::retry_after] == "2");
        ++seen;
      }
    } catch (const std::exception&) {
      // the connection closed with the stop
    }
    stopper.join();
  }
  CHECK(seen > 0);
}
