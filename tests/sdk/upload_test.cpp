// The tus 1.0.0 client (hues/upload.h) against the sandbox's /v1/uploads over real sockets:
// chunked upload with progress, the stored bytes, pause and resume, cancel and terminate,
// a dropped connection (a relay that resets once), a process killed with SIGKILL and resumed
// by another from the file store, and bad input that leaves the store untouched.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <hues/hues.h>
#include <hues/upload.h>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "fault_server.h"
#include "media_file.h"
#include "tus_server.h"
#include "internal/client_core.h"
#include "internal/crypto.h"
#include "test_support.h"

extern char** environ;

using hues_test::catch_error;

namespace {

namespace fs = std::filesystem;
constexpr std::int64_t MiB = 1 << 20;

std::string temp_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("hues-upload-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

using hues_test::make_file;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// What the sandbox stored for an upload URL (its data directory's uploads/<id>.bin).
std::string stored(const std::string& url) {
  return read_all(sandbox().data_dir() + "/uploads/" + url.substr(url.rfind('/') + 1) + ".bin");
}

hues::Client client() { return hues::Client(options_for(sandbox().url())); }

// The server's offset for url, by a HEAD of our own (-1 when the upload is gone).
std::int64_t server_offset(const std::string& url) {
  auto core = std::make_shared<hues::internal::ClientCore>(options_for(sandbox().url()));
  hues::HttpRequest r;
  r.method = "HEAD";
  r.url = url;
  r.set_header("Tus-Resumable", "1.0.0");
  auto res = core->send(r, {});
  if (res.status != 200) return -1;
  return std::stoll(res.header("Upload-Offset"));
}

// Progress as the listener saw it, and on which threads.
struct Seen : hues::UploadProgressListener {
  std::mutex mu;
  std::vector<hues::UploadProgress> items;
  std::function<void(const hues::UploadProgress&)> also;
  void on_progress(const hues::UploadProgress& p) override {
    {
      std::lock_guard<std::mutex> lock(mu);
      items.push_back(p);
    }
    if (also) also(p);
  }
  std::vector<std::int64_t> offsets() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::int64_t> out;
    for (auto& p : items) out.push_back(p.uploaded);
    return out;
  }
};

// A memory store that counts writes, to show bad input leaves nothing.
struct CountingStore : hues::UploadStore {
  std::shared_ptr<hues::UploadStore> inner = hues::make_memory_upload_store();
  std::atomic<int> saves{0};
  hues::UploadRecord load(const std::string& k) override { return inner->load(k); }
  void save(const std::string& k, const hues::UploadRecord& r) override {
    ++saves;
    inner->save(k, r);
  }
  void remove(const std::string& k) override { inner->remove(k); }
};

// A relay to the sandbox that, once, after `drop_after` bytes went upstream, resets both sides
// (or, with corrupt, flips one byte of what it forwards: a chunk that fails its checksum).
struct DroppingRelay {
  std::int64_t drop_after;
  bool corrupt;
  std::atomic<std::int64_t> forwarded{0};
  std::atomic<bool> dropped{false};
  hues_test::FaultServer server;
  explicit DroppingRelay(std::int64_t n, bool corrupt_instead = false)
      : drop_after(n), corrupt(corrupt_instead), server([this](int fd, int) { relay(fd); }) {}
  void relay(int client) {
    int up = hues_test::connect_to(sandbox().port());
    pollfd fds[2] = {{client, POLLIN, 0}, {up, POLLIN, 0}};
    std::string buf(65536, '\0');
    for (;;) {
      if (::poll(fds, 2, 10000) <= 0) break;
      bool closed = false;
      for (int i = 0; i < 2 && !closed; ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = ::recv(fds[i].fd, &buf[0], buf.size(), 0);
        if (n <= 0) {
          closed = true;
          break;
        }
        if (i == 0 && !dropped && (forwarded += n) > drop_after && !dropped.exchange(true)) {
          if (corrupt) {
            buf[static_cast<std::size_t>(n) - 1] ^= 0x5a;  // a body byte: headers went long before
            hues_test::send_all(up, std::string(buf.data(), static_cast<std::size_t>(n)));
            continue;
          }
          hues_test::reset(client);
          hues_test::reset(up);
          return;
        }
        std::string bytes(buf.data(), static_cast<std::size_t>(n));
        if (i == 1) {  // the sandbox's Location names itself: point it at the relay (headers are one recv)
          const std::string from = sandbox().url() + "/v1/uploads/", to = server.url() + "/v1/uploads/";
          for (auto at = bytes.find(from); at != std::string::npos; at = bytes.find(from, at + to.size()))
            bytes.replace(at, from.size(), to);
        }
        hues_test::send_all(fds[1 - i].fd, bytes);
      }
      if (closed) break;
    }
    ::close(client);
    ::close(up);
  }
};

}  // namespace

TEST_CASE("upload: a few MiB in chunks, progress increasing to the size, the stored bytes equal") {
  auto dir = temp_dir("basic");
  auto data = make_file(dir + "/ảnh-ngập-nước.bin", 5 * MiB + 12345, 1);
  auto seen = std::make_shared<Seen>();
  std::atomic<bool> on_io{false};
  seen->also = [&](const hues::UploadProgress&) {
    if (hues::internal::on_sdk_io_thread()) on_io = true;
  };
  auto store = std::make_shared<CountingStore>();
  hues::UploadOptions o;
  o.path = dir + "/ảnh-ngập-nước.bin";
  o.media_type = "video";
  o.chunk_size = 1 * MiB;
  o.progress = seen;
  o.store = store;
  hues::Upload upload(client(), o);
  auto r = upload.start();
  CHECK(r.complete);
  CHECK_FALSE(r.resumed);
  CHECK(r.size == static_cast<std::int64_t>(data.size()));
  CHECK(r.offset == r.size);
  CHECK(r.url.find("/v1/uploads/upl_") != std::string::npos);
  auto offsets = seen->offsets();
  REQUIRE(offsets.size() >= 6);  // 6 chunks
  for (std::size_t i = 1; i < offsets.size(); ++i) CHECK(offsets[i] > offsets[i - 1]);
  CHECK(offsets.back() == r.size);
  CHECK_FALSE(on_io.load());
  CHECK(server_offset(r.url) == r.size);
  CHECK(hues::internal::sha256(stored(r.url)) == hues::internal::sha256(data));
  CHECK(store->saves == 1);
  CHECK(store->load(upload.fingerprint()).url.empty());  // finished: forgotten
}

// A transport that implements only the blocking send (over the default one): it is given each
// chunk read whole into body, with the Content-Length and checksum of the file's own bytes.
TEST_CASE("upload: a transport that overrides send alone gets each file chunk as body") {
  struct SendOnly final : hues::Transport {
    std::shared_ptr<hues::Transport> inner;
    std::atomic<std::int64_t> patched{0};
    hues::HttpResponse send(const hues::HttpRequest& r, const hues::AttemptContext& c) override {
      if (r.method == "PATCH") {
        CHECK_FALSE(r.body_reader);
        CHECK_FALSE(r.shared_body);
        patched += static_cast<std::int64_t>(r.body.size());
      }
      return inner->send(r, c);
    }
  };
  auto dir = temp_dir("sendonly");
  auto data = make_file(dir + "/tệp.bin", 2 * MiB + 777, 5);
  auto opts = options_for(sandbox().url());
  auto t = std::make_shared<SendOnly>();
  t->inner = hues::make_default_transport(opts);
  opts.transport = t;
  hues::Client c(opts);
  hues::UploadOptions o;
  o.path = dir + "/tệp.bin";
  o.media_type = "video";
  o.chunk_size = 1 * MiB;
  hues::Upload upload(c, o);
  auto r = upload.start();
  CHECK(r.complete);
  CHECK(t->patched.load() == static_cast<std::int64_t>(data.size()));
  CHECK(stored(r.url) == data);  // and the sandbox checked each chunk's sha256
}

TEST_CASE("upload: creation-with-upload and a file smaller than one chunk") {
  auto dir = temp_dir("cwu");
  auto data = make_file(dir + "/small.bin", 300000, 2);
  hues::UploadOptions o;
  o.path = dir + "/small.bin";
  o.media_type = "video";
  o.creation_with_upload = true;
  hues::Upload upload(client(), o);
  auto r = upload.start();
  CHECK(r.complete);
  CHECK(stored(r.url) == data);
}

TEST_CASE("upload: pause stops after the chunk in flight, start resumes from the server's offset") {
  auto dir = temp_dir("pause");
  auto data = make_file(dir + "/v.bin", 4 * MiB, 3);
  auto seen = std::make_shared<Seen>();
  hues::Upload* self = nullptr;
  seen->also = [&](const hues::UploadProgress& p) {
    if (p.uploaded >= 1 * MiB && p.uploaded < p.total) self->pause();
  };
  auto store = hues::make_memory_upload_store();
  hues::UploadOptions o;
  o.path = dir + "/v.bin";
  o.media_type = "video";
  o.chunk_size = 512 * 1024;
  o.progress = seen;
  o.store = store;
  hues::Upload upload(client(), o);
  self = &upload;
  auto first = upload.start();
  CHECK_FALSE(first.complete);
  CHECK(first.offset < first.size);
  CHECK(first.offset >= 1 * MiB);
  CHECK(server_offset(first.url) == first.offset);
  CHECK(store->load(upload.fingerprint()).url == first.url);
  seen->also = nullptr;
  auto second = upload.start();
  CHECK(second.complete);
  CHECK(second.resumed);
  CHECK(second.url == first.url);
  CHECK(stored(second.url) == data);
}

TEST_CASE("upload: cancelling start aborts it and keeps the URL; terminate deletes it") {
  auto dir = temp_dir("cancel");
  make_file(dir + "/c.bin", 4 * MiB, 4);
  auto cancel = std::make_shared<hues::CancellationToken>();
  auto seen = std::make_shared<Seen>();
  seen->also = [&](const hues::UploadProgress& p) {
    if (p.uploaded > 0) cancel->cancel();
  };
  auto store = hues::make_memory_upload_store();
  hues::UploadOptions o;
  o.path = dir + "/c.bin";
  o.media_type = "video";
  o.chunk_size = 512 * 1024;
  o.progress = seen;
  o.store = store;
  hues::Upload upload(client(), o);
  hues::CallOptions call;
  call.cancel = cancel;
  auto e = catch_error([&] { upload.start(call); });
  CHECK(e.type() == hues::ErrorType::kCancelled);
  auto url = store->load(upload.fingerprint()).url;
  REQUIRE_FALSE(url.empty());
  auto at = server_offset(url);
  CHECK(at > 0);
  CHECK(at < 4 * MiB);
  upload.terminate();
  CHECK(store->load(upload.fingerprint()).url.empty());
  CHECK(server_offset(url) == -1);  // DELETEd (the sandbox advertises termination)
}

TEST_CASE("upload: a connection reset mid-chunk resumes from the server's offset (HEAD)") {
  auto dir = temp_dir("drop");
  auto data = make_file(dir + "/d.bin", 6 * MiB, 5);
  DroppingRelay relay(2 * MiB + 100000);
  auto opts = options_for(relay.server.url());
  hues::Client c(opts);
  hues::UploadOptions o;
  o.path = dir + "/d.bin";
  o.media_type = "video";
  o.chunk_size = 1 * MiB;
  o.retry_backoff_ms = 10;
  o.endpoint = relay.server.url() + "/v1/uploads";
  hues::Upload upload(c, o);
  auto r = upload.start();
  CHECK(relay.dropped);
  CHECK(r.complete);
  CHECK(stored(r.url) == data);
}

TEST_CASE("upload: a chunk corrupted on the way fails its sha256 (460) and is sent again") {
  auto dir = temp_dir("corrupt");
  auto data = make_file(dir + "/x.bin", 4 * MiB, 10);
  DroppingRelay relay(1 * MiB + 300000, true);
  hues::Client c(options_for(relay.server.url()));
  hues::UploadOptions o;
  o.path = dir + "/x.bin";
  o.media_type = "video";
  o.chunk_size = 1 * MiB;
  o.retry_backoff_ms = 10;
  o.endpoint = relay.server.url() + "/v1/uploads";
  hues::Upload upload(c, o);
  auto r = upload.start();
  CHECK(relay.dropped);  // it did corrupt a chunk, which the server refused (else the bytes differ)
  CHECK(r.complete);
  CHECK(stored(r.url) == data);
}

TEST_CASE("upload: a stored URL the server no longer knows (404) starts a fresh upload") {
  auto dir = temp_dir("gone");
  auto data = make_file(dir + "/g.bin", 1 * MiB, 6);
  auto store = hues::make_memory_upload_store();
  hues::UploadOptions o;
  o.path = dir + "/g.bin";
  o.media_type = "video";
  o.store = store;
  hues::Upload upload(client(), o);
  hues::UploadRecord stale;
  stale.url = sandbox().url() + "/v1/uploads/upl_aaaaaaaaaaaaaaaaaaaaaaaa";
  stale.size = 1 * MiB;
  store->save(upload.fingerprint(), stale);
  auto r = upload.start();
  CHECK(r.complete);
  CHECK_FALSE(r.resumed);
  CHECK(r.url != stale.url);
  CHECK(stored(r.url) == data);
}

TEST_CASE("upload: bad input is a ValidationError naming path, and nothing is stored") {
  auto dir = temp_dir("bad");
  auto store = std::make_shared<CountingStore>();
  hues::UploadOptions o;
  o.media_type = "photo";
  o.store = store;

  o.path = dir + "/missing.jpg";
  auto missing = catch_error([&] { hues::Upload(client(), o).start(); });
  CHECK(missing.type() == hues::ErrorType::kValidation);
  CHECK(missing.field() == "path");
  CHECK(missing.code() == "file_not_found");

  o.path = dir;  // a directory
  auto directory = catch_error([&] { hues::Upload(client(), o).start(); });
  CHECK(directory.field() == "path");
  CHECK(directory.code() == "not_a_file");

  if (::geteuid() != 0) {  // root reads a mode-000 file anyway
    make_file(dir + "/secret.jpg", 10, 7);
    ::chmod((dir + "/secret.jpg").c_str(), 0);
    o.path = dir + "/secret.jpg";
    auto unreadable = catch_error([&] { hues::Upload(client(), o).start(); });
    CHECK(unreadable.field() == "path");
    CHECK(unreadable.code() == "file_unreadable");
  }

  // Over the photo limit (25 MiB): a sparse file, refused by the server's 413.
  o.path = dir + "/huge.jpg";
  {
    int fd = ::open(o.path.c_str(), O_WRONLY | O_CREAT, 0600);
    REQUIRE(::ftruncate(fd, 26 * MiB) == 0);
    ::close(fd);
  }
  auto big = catch_error([&] { hues::Upload(client(), o).start(); });
  CHECK(big.type() == hues::ErrorType::kValidation);
  CHECK(big.field() == "path");
  CHECK(big.code() == "payload_too_large");
  CHECK(big.http_status() == 413);

  o.path = dir + "/x.jpg";
  o.media_type = "picture";
  auto type = catch_error([&] { hues::Upload(client(), o); });
  CHECK(type.field() == "media_type");
  o.media_type = "photo";
  o.chunk_size = 0;
  CHECK(catch_error([&] { hues::Upload(client(), o); }).field() == "chunk_size");
  CHECK(store->saves == 0);
}

TEST_CASE("upload: a process killed with SIGKILL mid-upload is resumed by another from the file store") {
  auto dir = temp_dir("kill");
  auto data = make_file(dir + "/k.bin", 6 * MiB, 8);
  std::string store_dir = dir + "/store";
  auto spawn = [&](int* out_fd) {
    int pipefd[2];
    REQUIRE(::pipe(pipefd) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    std::string base = sandbox().url(), key = sandbox().api_key(), path = dir + "/k.bin", chunk = "262144";
    std::vector<char*> argv{const_cast<char*>(HUES_UPLOAD_CHILD), base.data(), key.data(), path.data(),
                            store_dir.data(), chunk.data(), nullptr};
    pid_t pid = 0;
    REQUIRE(posix_spawn(&pid, HUES_UPLOAD_CHILD, &fa, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&fa);
    ::close(pipefd[1]);
    *out_fd = pipefd[0];
    return pid;
  };
  auto read_line = [](int fd) {
    std::string line;
    char c;
    while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
    return line;
  };
  int out = -1;
  pid_t first = spawn(&out);
  std::int64_t seen = 0;
  for (;;) {  // kill it once the server holds at least 1 MiB
    auto line = read_line(out);
    REQUIRE_FALSE(line.empty());
    REQUIRE(line.rfind("progress ", 0) == 0);
    seen = std::stoll(line.substr(9));
    if (seen >= 1 * MiB) break;
  }
  ::kill(first, SIGKILL);
  int status = 0;
  ::waitpid(first, &status, 0);
  ::close(out);
  CHECK(WIFSIGNALED(status));
  REQUIRE(seen < static_cast<std::int64_t>(data.size()));

  pid_t second = spawn(&out);
  std::string last, line;
  std::int64_t first_seen = -1;
  while (!(line = read_line(out)).empty()) {
    if (first_seen < 0 && line.rfind("progress ", 0) == 0) first_seen = std::stoll(line.substr(9));
    last = line;
  }
  ::waitpid(second, &status, 0);
  ::close(out);
  CHECK(WEXITSTATUS(status) == 0);
  REQUIRE(last.rfind("done ", 0) == 0);
  std::istringstream done(last.substr(5));
  std::string url;
  std::int64_t size = 0;
  int resumed = 0;
  done >> url >> size >> resumed;
  CHECK(resumed == 1);
  CHECK(first_seen >= seen);  // it went on from the server's offset, not from 0
  CHECK(size == static_cast<std::int64_t>(data.size()));
  CHECK(stored(url) == data);
  std::size_t left = 0;
  for (auto& e : fs::directory_iterator(store_dir)) left += e.path().extension() == ".json";
  CHECK(left == 0);
}

namespace {

// tusd (a third-party tus 1.0 server, installed by scripts/bootstrap.sh into build/tools) as a
// child process on a free port; empty url when it is not installed.
struct Tusd {
  pid_t pid = 0;
  std::string url, dir;
  Tusd() {
    const char* env = std::getenv("HUES_TUSD");
    std::string bin = env ? env : std::string(HUES_SOURCE_DIR) + "/build/tools/tusd";
    if (::access(bin.c_str(), X_OK) != 0) return;
    dir = temp_dir("tusd");
    int pipefd[2];
    REQUIRE(::pipe(pipefd) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    std::string updir = "-upload-dir=" + dir;
    std::vector<const char*> argv{bin.c_str(), "-host=127.0.0.1", "-port=0", updir.c_str(), "-base-path=/files/",
                                  nullptr};
    REQUIRE(posix_spawn(&pid, bin.c_str(), &fa, nullptr, const_cast<char**>(argv.data()), environ) == 0);
    posix_spawn_file_actions_destroy(&fa);
    ::close(pipefd[1]);
    std::string line;
    char c;
    while (::read(pipefd[0], &c, 1) == 1) {  // "... You can now upload files to: http://127.0.0.1:PORT/files/"
      if (c != '\n') {
        line += c;
        continue;
      }
      auto at = line.find("http://127.0.0.1:");
      if (line.find("upload files to") != std::string::npos && at != std::string::npos) {
        url = line.substr(at);
        while (!url.empty() && (url.back() == ' ' || url.back() == '\r')) url.pop_back();
        break;
      }
      line.clear();
    }
    // The rest of its output is drained by a thread, so its writes never block.
    std::thread([fd = pipefd[0]] {
      char buf[4096];
      while (::read(fd, buf, sizeof buf) > 0) {
      }
      ::close(fd);
    }).detach();
  }
  ~Tusd() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

}  // namespace

TEST_CASE("upload: against tusd, a third-party tus 1.0 server: chunks, pause and resume, the same bytes") {
  Tusd tusd;
  if (tusd.url.empty()) {
    MESSAGE("tusd is not installed (scripts/bootstrap.sh puts it in build/tools): skipped");
    return;
  }
  auto dir = temp_dir("to-tusd");
  auto data = make_file(dir + "/t.bin", 3 * MiB + 17, 9);
  auto seen = std::make_shared<Seen>();
  hues::Upload* self = nullptr;
  seen->also = [&](const hues::UploadProgress& p) {
    if (p.uploaded >= 1 * MiB && p.uploaded < p.total) self->pause();
  };
  auto store = hues::make_memory_upload_store();
  hues::UploadOptions o;
  o.path = dir + "/t.bin";
  o.media_type = "video";
  o.chunk_size = 512 * 1024;
  o.endpoint = tusd.url;
  o.progress = seen;
  o.store = store;
  hues::Upload upload(client(), o);
  self = &upload;
  auto first = upload.start();
  CHECK_FALSE(first.complete);
  CHECK(first.url.rfind(tusd.url, 0) == 0);
  seen->also = nullptr;
  auto r = upload.start();
  CHECK(r.complete);
  CHECK(r.resumed);
  CHECK(r.media_id.empty());  // tusd sends no Hues-Media-Id
  CHECK(read_all(tusd.dir + "/" + r.url.substr(r.url.rfind('/') + 1)) == data);
  CHECK(store->load(upload.fingerprint()).url.empty());  // finished: forgotten
}

TEST_CASE("upload: an endpoint on another origin than the client's gets no API key") {
  std::mutex mu;
  std::vector<std::string> heads;
  hues_test::FaultServer other([&](int fd, int) {
    for (;;) {
      std::string m = hues_test::read_message(fd);
      if (m.empty()) break;
      {
        std::lock_guard<std::mutex> lock(mu);
        heads.push_back(m.substr(0, m.find("\r\n\r\n")));
      }
      hues_test::send_all(fd, hues_test::http_response(404, "{}"));
    }
    ::close(fd);
  });
  auto dir = temp_dir("origin");
  make_file(dir + "/o.bin", 1000, 11);
  hues::UploadOptions o;
  o.path = dir + "/o.bin";
  o.media_type = "video";
  o.endpoint = other.url() + "/files/";
  hues::Upload upload(client(), o);
  auto e = catch_error([&] { upload.start(); });
  CHECK(e.type() == hues::ErrorType::kNotFound);  // the POST's 404
  std::lock_guard<std::mutex> lock(mu);
  REQUIRE(heads.size() >= 2);  // OPTIONS, POST
  for (auto h : heads) {
    for (auto& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    CHECK(h.find("x-api-key") == std::string::npos);
    CHECK(h.find("authorization") == std::string::npos);
  }
}

// ---- upload from a stream, and the recovery paths against a scripted tus endpoint ----
namespace {

// An UploadSource over bytes, seekable or not, of known length or not; it counts what it reads.
struct BytesSource : hues::UploadSource {
  std::string data;
  bool seekable = true;
  bool known_size = true;
  std::int64_t pos = 0;
  std::int64_t bytes_read = 0;
  int seeks_back = 0;
  BytesSource(std::string d, bool can_seek, bool sized = true) : data(std::move(d)), seekable(can_seek), known_size(sized) {}
  std::size_t read(char* buf, std::size_t n) override {
    CHECK(n <= std::size_t{1} << 20);  // bounded pieces, whatever the chunk size
    n = std::min<std::size_t>(n, data.size() - static_cast<std::size_t>(pos));
    std::memcpy(buf, data.data() + pos, n);
    pos += static_cast<std::int64_t>(n);
    bytes_read += static_cast<std::int64_t>(n);
    return n;
  }
  bool seek(std::int64_t offset) override {
    if (!seekable) return false;
    if (offset < pos) ++seeks_back;
    pos = offset;
    return true;
  }
  std::int64_t size() override { return known_size ? static_cast<std::int64_t>(data.size()) : -1; }
};

std::string hex_sha256(const std::string& s) { return hues::internal::to_hex(hues::internal::sha256(s)); }

hues::UploadOptions stream_options(std::shared_ptr<hues::UploadSource> source, const std::string& endpoint = {}) {
  hues::UploadOptions o;
  o.source = std::move(source);
  o.media_type = "video";
  o.chunk_size = 1 * MiB;
  o.retry_backoff_ms = 10;
  o.endpoint = endpoint;
  return o;
}

}  // namespace

TEST_CASE("upload: from a stream, seekable or not, the media object's sha256 is the source's") {
  for (bool seekable : {true, false}) {
    CAPTURE(seekable);
    auto data = hues_test::mp4_bytes(3 * MiB + 777, seekable ? 21 : 22);
    auto src = std::make_shared<BytesSource>(data, seekable);
    hues::Upload upload(client(), stream_options(src));
    auto r = upload.start();
    REQUIRE(r.complete);
    CHECK(r.size == static_cast<std::int64_t>(data.size()));
    CHECK(src->bytes_read == r.size);  // each byte read once
    REQUIRE(!r.media_id.empty());
    CHECK(client().media().get(r.media_id).sha256 == hex_sha256(data));
  }
}

TEST_CASE("upload: a non-seekable stream and a relay that drops mid-chunk: the held chunk is resent") {
  for (bool checksum : {true, false}) {  // with a checksum the server keeps nothing of the cut chunk
    CAPTURE(checksum);
    auto data = hues_test::mp4_bytes(5 * MiB + 99, checksum ? 31 : 32);
    DroppingRelay relay(2 * MiB + 300000);
    hues::Client c(options_for(relay.server.url()));
    auto src = std::make_shared<BytesSource>(data, false);
    auto o = stream_options(src, relay.server.url() + "/v1/uploads");
    o.checksum = checksum;
    hues::Upload upload(c, o);
    auto r = upload.start();
    CHECK(relay.dropped);
    REQUIRE(r.complete);
    CHECK(src->bytes_read == static_cast<std::int64_t>(data.size()));  // never re-read: resent from memory
    CHECK(stored(r.url) == data);
  }
}

TEST_CASE("upload: a stream's fingerprint resumes it in a new Upload (a restart): a non-seekable one skips ahead") {
  auto data = hues_test::mp4_bytes(4 * MiB, 41);
  auto store = hues::make_memory_upload_store();
  std::string url;
  {
    auto src = std::make_shared<BytesSource>(data, false);
    auto o = stream_options(src);
    o.fingerprint = "camera-roll/IMG_0001";
    o.store = store;
    o.chunk_size = 512 * 1024;
    hues::Upload* self = nullptr;
    o.progress = hues::progress_listener([&](const hues::UploadProgress& p) {
      if (p.uploaded >= 1 * MiB && p.uploaded < p.total) self->pause();
    });
    hues::Upload pausing(client(), o);
    self = &pausing;
    auto r = pausing.start();
    REQUIRE_FALSE(r.complete);
    url = r.url;
    CHECK(pausing.fingerprint() == hues::Upload(client(), o).fingerprint());  // the app's, not per object
    CHECK(src->bytes_read < static_cast<std::int64_t>(data.size()));
  }
  auto src = std::make_shared<BytesSource>(data, false);  // a new stream from the start
  auto o = stream_options(src);
  o.fingerprint = "camera-roll/IMG_0001";
  o.store = store;
  auto r = hues::Upload(client(), o).start();
  CHECK(r.resumed);
  CHECK(r.url == url);
  REQUIRE(r.complete);
  CHECK(stored(r.url) == data);
}

TEST_CASE("upload: a server that lost bytes: a seekable stream seeks back, a non-seekable one fails naming source") {
  auto data = hues_test::mp4_bytes(4 * MiB, 51);
  for (bool seekable : {true, false}) {
    CAPTURE(seekable);
    bool lost = false;
    hues_test::TusServer tus(true, [&](const hues_test::TusServer::Request& r, hues_test::TusServer& s) {
      if (!lost && r.method == "PATCH" && s.data_.size() == static_cast<std::size_t>(2 * MiB)) {
        lost = true;
        s.data_.resize(512 * 1024);  // the server was restored from an older copy: 409
        return 409;
      }
      return 0;
    });
    auto src = std::make_shared<BytesSource>(data, seekable);
    hues::Client c(options_for(tus.endpoint()));
    auto o = stream_options(src, tus.endpoint());
    if (seekable) {
      auto r = hues::Upload(c, o).start();
      REQUIRE(r.complete);
      CHECK(tus.data() == data);
      CHECK(src->seeks_back == 1);
    } else {
      auto e = catch_error([&] { hues::Upload(c, o).start(); });
      CHECK(e.type() == hues::ErrorType::kValidation);
      CHECK(e.field() == "source");
      CHECK(e.code() == "source_not_seekable");
      CHECK(std::string(e.what()).find("524288") != std::string::npos);
    }
    auto log = tus.log();
    auto at = std::find(log.begin(), log.end(), "PATCH 2097152 409");
    REQUIRE(at != log.end());
    REQUIRE(at + 1 != log.end());
    CHECK(*(at + 1) == "HEAD 524288 200");
  }
}

TEST_CASE("upload: a stream of unknown length: Upload-Defer-Length where supported, else a ValidationError") {
  for (std::int64_t n : {2 * MiB + 5, 2 * MiB}) {  // the second ends on a chunk: a last, empty PATCH says the length
    CAPTURE(n);
    hues_test::TusServer tus(true);
    auto data = hues_test::mp4_bytes(n, 61);
    auto src = std::make_shared<BytesSource>(data, false, false);
    hues::Client c(options_for(tus.endpoint()));
    std::vector<std::int64_t> totals;
    std::mutex mu;
    auto o = stream_options(src, tus.endpoint());
    o.progress = hues::progress_listener([&](const hues::UploadProgress& p) {
      std::lock_guard<std::mutex> lock(mu);
      totals.push_back(p.total);
    });
    auto r = hues::Upload(c, o).start();
    REQUIRE(r.complete);
    CHECK(r.size == n);
    CHECK(tus.data() == data);
    CHECK(tus.length_ == n);
    std::lock_guard<std::mutex> lock(mu);
    REQUIRE(!totals.empty());
    CHECK(totals.front() == -1);  // unknown at first
    CHECK(totals.back() == n);
  }
  hues_test::TusServer plain(false);
  auto src = std::make_shared<BytesSource>(hues_test::mp4_bytes(1000, 62), false, false);
  hues::Client c(options_for(plain.endpoint()));
  auto e = catch_error([&] { hues::Upload(c, stream_options(src, plain.endpoint())).start(); });
  CHECK(e.type() == hues::ErrorType::kValidation);
  CHECK(e.field() == "source");
  CHECK(e.code() == "length_required");
  // The sandbox supports creation-defer-length: the same stream of unknown length uploads,
  // ending with a short chunk or, on a chunk's end, with an empty PATCH declaring the length.
  for (std::int64_t n : {2 * MiB + 5, 2 * MiB}) {
    CAPTURE(n);
    auto data = hues_test::mp4_bytes(n, 64);
    auto r = hues::Upload(client(), stream_options(std::make_shared<BytesSource>(data, false, false))).start();
    REQUIRE(r.complete);
    CHECK(r.size == n);
    CHECK(stored(r.url) == data);
    REQUIRE(!r.media_id.empty());
    CHECK(client().media().get(r.media_id).sha256 == hex_sha256(data));
  }
  // size given by the app: no need for the source to know.
  auto o = stream_options(std::make_shared<BytesSource>(hues_test::mp4_bytes(1000, 63), false, false));
  o.size = 1000;
  CHECK(hues::Upload(client(), o).start().complete);
}

TEST_CASE("upload: a 409 (offset mismatch) re-reads HEAD at once and continues from the server's offset") {
  auto dir = temp_dir("conflict");
  auto data = make_file(dir + "/c.bin", 3 * MiB + 10, 71);
  bool conflicted = false;
  hues_test::TusServer tus(false, [&](const hues_test::TusServer::Request& r, hues_test::TusServer& s) {
    if (!conflicted && r.method == "PATCH" && s.data_.size() == static_cast<std::size_t>(1 * MiB)) {
      conflicted = true;  // another device of the user's sent this chunk first
      s.data_ += data.substr(s.data_.size(), 1 * MiB);
      return 409;
    }
    return 0;
  });
  hues::Client c(options_for(tus.endpoint()));
  hues::UploadOptions o;
  o.path = dir + "/c.bin";
  o.media_type = "video";
  o.chunk_size = 1 * MiB;
  o.endpoint = tus.endpoint();
  o.retry_backoff_ms = 60000;  // a backoff would outlast the deadline below: a 409 takes none
  hues::CallOptions call;
  call.deadline_ms = 30000;
  auto r = hues::Upload(c, o).start(call);
  REQUIRE(r.complete);
  CHECK(tus.data() == data);
  auto log = tus.log();
  auto at = std::find(log.begin(), log.end(), "PATCH 1048576 409");
  REQUIRE(at != log.end());
  REQUIRE(log.end() - at >= 3);
  CHECK(*(at + 1) == "HEAD 2097152 200");
  CHECK(*(at + 2) == "PATCH 2097152 204");
}

TEST_CASE("upload: a 5xx backs off, then HEADs and continues from the server's offset") {
  auto dir = temp_dir("5xx");
  auto data = make_file(dir + "/f.bin", 3 * MiB, 81);
  for (std::int64_t backoff : {10, 60000}) {
    CAPTURE(backoff);
    int failures = 0;
    hues_test::TusServer tus(false, [&](const hues_test::TusServer::Request& r, hues_test::TusServer& s) {
      if (failures < 2 && r.method == "PATCH" && s.data_.size() == static_cast<std::size_t>(1 * MiB)) {
        ++failures;
        return failures == 1 ? 503 : 500;
      }
      return 0;
    });
    hues::Client c(options_for(tus.endpoint()));
    hues::UploadOptions o;
    o.path = dir + "/f.bin";
    o.media_type = "video";
    o.chunk_size = 1 * MiB;
    o.endpoint = tus.endpoint();
    o.retry_backoff_ms = backoff;
    hues::CallOptions call;
    call.deadline_ms = 30000;
    hues::Upload upload(c, o);
    if (backoff == 60000) {  // it does wait: a minute's backoff cannot fit in the deadline
      auto e = catch_error([&] { upload.start(call); });
      CHECK(e.type() == hues::ErrorType::kTimeout);
      CHECK(tus.log().back() == "PATCH 1048576 503");  // nothing sent after the 503
      continue;
    }
    auto r = upload.start(call);
    REQUIRE(r.complete);
    CHECK(tus.data() == data);
    auto log = tus.log();
    auto at = std::find(log.begin(), log.end(), "PATCH 1048576 503");
    REQUIRE(at != log.end());
    REQUIRE(log.end() - at >= 5);
    CHECK(*(at + 1) == "HEAD 1048576 200");
    CHECK(*(at + 2) == "PATCH 1048576 500");
    CHECK(*(at + 3) == "HEAD 1048576 200");
    CHECK(*(at + 4) == "PATCH 1048576 204");
  }
}

TEST_CASE("upload: a source and a path, or neither, are ValidationErrors naming the field") {
  hues::UploadOptions o;
  o.media_type = "video";
  auto none = catch_error([&] { hues::Upload(client(), o); });
  CHECK(none.field() == "path");
  o.path = "/tmp/x";
  o.source = std::make_shared<BytesSource>("x", true);
  auto both = catch_error([&] { hues::Upload(client(), o); });
  CHECK(both.field() == "source");
}
