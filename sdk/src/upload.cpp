// The tus 1.0.0 client (hues/upload.h): one Run per start(), a chain of continuations on the
// runtime. Network steps run through ClientCore::send_async (so credentials, request ids,
// logging and per-request deadlines apply); a file's chunk is read with pread by the
// transport as it writes it, 256 KiB at a time (set_body), so no chunk is in memory; a
// source's is read into one chunk buffer per upload. The app's store and progress listener run on the host executor through one
// ordered chain per upload, never on an I/O thread and never under a lock of ours.
#include "hues/upload.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "internal/client_core.h"
#include "internal/crypto.h"
#include "internal/host_chain.h"
#include "internal/json_codec.h"
#include "internal/record_store.h"
#include "internal/runtime.h"
#include "internal/upload.h"

namespace hues {

namespace {

using internal::make_error;

constexpr const char* kTus = "1.0.0";
constexpr const char* kMediaIdHeader = "Hues-Media-Id";

[[noreturn]] void invalid(const std::string& field, const std::string& message, const std::string& code) {
  throw_error(ErrorType::kValidation, message, 0, code, {}, field);
}

std::exception_ptr field_error(const std::string& field, const std::string& message, const std::string& code,
                               int status = 0) {
  try {
    throw_error(ErrorType::kValidation, message, status, code, {}, field);
  } catch (...) {
    return std::current_exception();
  }
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s + ",") {
    if (c == ',') {
      while (!cur.empty() && cur.back() == ' ') cur.pop_back();
      std::size_t b = cur.find_first_not_of(' ');
      if (b != std::string::npos) out.push_back(lower(cur.substr(b)));
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

bool parse_offset(const std::string& s, std::int64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

// scheme://authority of an absolute URL.
std::string origin_of(const std::string& url) {
  auto p = url.find("://");
  if (p == std::string::npos) return {};
  auto slash = url.find('/', p + 3);
  return slash == std::string::npos ? url : url.substr(0, slash);
}

// A Location relative to the creation URL (RFC 3986 section 5, the cases servers send).
std::string resolve(const std::string& base, const std::string& location) {
  if (location.rfind("http://", 0) == 0 || location.rfind("https://", 0) == 0) return location;
  if (location.rfind("//", 0) == 0) return base.substr(0, base.find("://") + 1) + location;
  if (!location.empty() && location[0] == '/') return origin_of(base) + location;
  std::string dir = base.substr(0, base.find('?'));
  auto slash = dir.rfind('/');
  if (slash != std::string::npos && slash > dir.find("://") + 2) dir = dir.substr(0, slash + 1);
  else dir += "/";
  return dir + location;
}

bool valid_media_type(const std::string& t) {
  return t == "photo" || t == "audio" || t == "video" || t == "document";
}

using MemoryUploadStore = internal::MemoryRecordStore<UploadStore, UploadRecord>;
using FileUploadStore = internal::FileRecordStore<UploadStore, UploadRecord>;

class FunctionListener final : public UploadProgressListener {
 public:
  explicit FunctionListener(std::function<void(const UploadProgress&)> fn) : fn_(std::move(fn)) {}
  void on_progress(const UploadProgress& p) override {
    if (fn_) fn_(p);
  }

 private:
  std::function<void(const UploadProgress&)> fn_;
};

struct FileInfo {
  std::string path;  // absolute
  std::int64_t size = 0;
  std::string fingerprint;
};

// Opens and identifies the file; errors are ValidationErrors naming path.
FileInfo inspect(const std::string& path, int* fd_out) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == EACCES) invalid("path", "path: cannot read " + path + ": " + std::strerror(errno), "file_unreadable");
    invalid("path", "path: no such file: " + path, "file_not_found");
  }
  if (!S_ISREG(st.st_mode)) invalid("path", "path: not a regular file: " + path, "not_a_file");
  if (fd_out) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) invalid("path", "path: cannot read " + path + ": " + std::strerror(errno), "file_unreadable");
    *fd_out = fd;
  }
  char buf[PATH_MAX];
  FileInfo info;
  info.path = ::realpath(path.c_str(), buf) ? std::string(buf) : path;
  info.size = static_cast<std::int64_t>(st.st_size);
  std::string id = info.path + "\n" + std::to_string(info.size) + "\n" + std::to_string(st.st_mtim.tv_sec) + "." +
                   std::to_string(st.st_mtim.tv_nsec);
  info.fingerprint = "tus1-" + internal::to_hex(internal::sha256(id)).substr(0, 40);
  return info;
}

// A source's store key: the app's fingerprint (stable across restarts) or one per Upload.
std::string source_fingerprint(const std::string& app_fingerprint) {
  std::string id = app_fingerprint.empty() ? "random\n" + internal::random_bytes(16) : "app\n" + app_fingerprint;
  return "tus1-s-" + internal::to_hex(internal::sha256(id)).substr(0, 40);
}

// An open file, closed when the last request reading it lets go.
struct FileDescriptor {
  int fd;
  explicit FileDescriptor(int f) : fd(f) {}
  ~FileDescriptor() { ::close(fd); }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  // Up to n bytes at off (at least 1): a short file is a ValidationError naming path.
  std::size_t read(char* buf, std::size_t n, std::int64_t off, const std::string& path) const {
    for (;;) {
      ssize_t r = ::pread(fd, buf, n, static_cast<off_t>(off));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0)
        throw_error(ErrorType::kValidation, "path: cannot read " + path + " (changed while uploading?)", 0,
                    "file_unreadable", {}, "path");
      return static_cast<std::size_t>(r);
    }
  }
};

// The sha256 of a file's chunk [at, at + n), computed on the runtime's host executor (one task
// per chunk, reading the file in 256 KiB pieces) while the previous chunk is on the wire, so
// the PATCH that sends it need not hash first. The PATCH waits for it when it is not done yet.
struct ChunkDigest {
  std::int64_t at = 0, n = 0;
  std::atomic<bool> abandoned{false};  // the run ended or went elsewhere: stop reading
  std::mutex mu;
  bool done = false;                // under mu
  std::string digest;               // raw 32 bytes, once done without error
  std::exception_ptr error;         // once done: the file could not be read, or abandoned
  std::function<void()> waiter;     // under mu: the PATCH to resume once done
};

struct Discovery {
  bool known = false;
  bool defer_length = false;
  bool checksum_sha256 = false;
  bool creation_with_upload = false;
  bool termination = false;
  std::int64_t max_size = 0;  // 0: not advertised
};

}  // namespace

struct Upload::Impl : std::enable_shared_from_this<Upload::Impl> {
  std::shared_ptr<internal::ClientCore> core;
  UploadOptions options;
  std::string endpoint;
  std::shared_ptr<internal::HostChain> host;
  std::mutex mu;
  bool running = false;                       // under mu
  std::shared_ptr<CancellationToken> cancel;  // the running start's, under mu
  Discovery discovery;                        // under mu
  std::atomic<bool> pause_requested{false};
  std::string source_key;  // a source's fingerprint (made once per Upload)
  // The one chunk buffer of this upload, reused for every chunk (glibc would otherwise keep
  // each freed 4 MiB buffer in some thread's arena). Shared with the request that sends it;
  // a new one is made only while an aborted request still holds it. Used by one run at a time.
  std::shared_ptr<std::string> chunk;
  std::shared_ptr<std::string> spare;  // the other of two: the last request may not have let go yet
  // A source's position (bytes read since the upload started) and the chunk it still holds,
  // [held_at, held_at + held): what a non-seekable source can resend. Across runs (pause).
  std::int64_t source_pos = 0;
  std::int64_t held_at = 0;
  std::int64_t held = 0;
  bool source_eof = false;
};

namespace {

using ImplPtr = std::shared_ptr<Upload::Impl>;

// One start(): the state of a single upload attempt chain.
struct Run : std::enable_shared_from_this<Run> {
  ImplPtr up;
  Async<UploadResult> done;
  CallOptions call;  // cancel set; deadline_ms: the whole upload's
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::shared_ptr<const FileDescriptor> fd;  // the file's; shared with the request reading it
  FileInfo file;             // a source: no path; size -1 while its length is unknown
  bool length_sent = false;  // the server knows the length (Upload-Length sent and taken)
  std::string url;
  std::int64_t offset = 0;
  bool resumed = false;
  bool fresh_tried = false;  // a stored URL vanished once already
  int retries = 0;
  std::exception_ptr last_error;
  std::string media_id;
  std::atomic<bool> finished{false};
  std::mutex ahead_mu;
  std::shared_ptr<ChunkDigest> ahead;  // under ahead_mu: the next chunk's sha256, being computed

  internal::Runtime& rt() { return *up->core->runtime(); }
  bool streaming() const { return up->options.source != nullptr; }
  const char* field() const { return streaming() ? "source" : "path"; }
  std::string what() const { return streaming() ? "the source's" : "the file's"; }

  CallOptions request_options() const {
    CallOptions o;
    o.cancel = call.cancel;
    o.attempt_timeout_ms = call.attempt_timeout_ms;
    if (deadline != std::chrono::steady_clock::time_point::max()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      o.deadline_ms = std::max<std::int64_t>(1, left.count());
    }
    return o;
  }

  HttpRequest request(const std::string& method, const std::string& target) const {
    HttpRequest r;
    r.method = method;
    r.url = target;
    r.set_header("Tus-Resumable", kTus);
    return r;
  }

  void send(HttpRequest req, std::function<void(std::exception_ptr, HttpResponse)> next) {
    if (call.cancel && call.cancel->cancelled())
      return next(make_error(ErrorType::kCancelled, "the upload was cancelled", "cancelled"), {});
    up->core->send_async(std::move(req), request_options(), std::move(next));
  }

  // Ends the run once: the store is told first (on the host chain), then the caller.
  void finish(std::exception_ptr error, UploadResult result = {}) {
    if (finished.exchange(true)) return;
    abandon_digest();
    auto self = shared_from_this();
    up->host->post([self, error, result] {
      {
        std::lock_guard<std::mutex> lock(self->up->mu);
        self->up->running = false;
        self->up->cancel.reset();
      }
      self->done(error, result);
    });
  }

  void fail(std::exception_ptr e) { finish(std::move(e)); }

  // Runs fn on the host chain; its continuation comes back to an I/O thread.
  void on_host(std::function<void()> fn, std::function<void()> then) {
    auto self = shared_from_this();
    up->host->post([self, fn = std::move(fn), then = std::move(then)] {
      try {
        fn();
      } catch (...) {
        return self->fail(std::current_exception());
      }
      if (!self->rt().post(then)) self->fail(make_error(ErrorType::kCancelled, "the SDK was shut down", "shutdown"));
    });
  }

  void begin() {
    if (streaming()) {
      // The source's size may be a host call: asked on the host chain, like its reads.
      auto self = shared_from_this();
      file.fingerprint = up->source_key;
      file.size = up->options.size;
      return on_host(
          [self] {
            if (self->file.size < 0) self->file.size = std::max<std::int64_t>(-1, self->up->options.source->size());
          },
          [self] { self->discover(); });
    }
    try {
      int raw = -1;
      file = inspect(up->options.path, &raw);
      fd = std::make_shared<const FileDescriptor>(raw);
    } catch (...) {
      return fail(std::current_exception());
    }
    discover();
  }

  // OPTIONS once per Upload: which extensions (checksum, creation-with-upload,
  // creation-defer-length, termination) and what maximum size the server advertises. A server
  // without OPTIONS gets the core only.
  void discover() {
    if (disc().known) return check_size();
    auto self = shared_from_this();
    HttpRequest r;
    r.method = "OPTIONS";
    r.url = up->endpoint;
    send(std::move(r), [self](std::exception_ptr e, HttpResponse res) {
      if (e) {
        if (self->call.cancel && self->call.cancel->cancelled()) return self->fail(e);
        return self->retry(e, [self] { self->discover(); });
      }
      Discovery d;
      d.known = true;
      if (res.status >= 200 && res.status < 300) {
        auto ext = split_list(res.header("Tus-Extension"));
        auto has = [&](const char* x) { return std::find(ext.begin(), ext.end(), x) != ext.end(); };
        auto algos = split_list(res.header("Tus-Checksum-Algorithm"));
        d.checksum_sha256 = has("checksum") && std::find(algos.begin(), algos.end(), "sha256") != algos.end();
        d.creation_with_upload = has("creation-with-upload");
        d.defer_length = has("creation-defer-length");
        d.termination = has("termination");
        parse_offset(res.header("Tus-Max-Size"), d.max_size);
      }
      {
        std::lock_guard<std::mutex> lock(self->up->mu);
        self->up->discovery = d;
      }
      self->retries = 0;
      self->check_size();
    });
  }

  Discovery disc() {
    std::lock_guard<std::mutex> lock(up->mu);
    return up->discovery;
  }

  void check_size() {
    auto d = disc();
    if (d.max_size > 0 && file.size > d.max_size)
      return fail(field_error(field(),
                              std::string(field()) + ": " + what() + " " + std::to_string(file.size) +
                                  " bytes exceed the server's Tus-Max-Size " + std::to_string(d.max_size),
                              "payload_too_large", 413));
    if (file.size < 0 && !d.defer_length)
      return fail(field_error("source",
                              "source: its length is unknown (set size) and the server does not support "
                              "creation-defer-length",
                              "length_required"));
    lookup();
  }

  void lookup() {
    auto self = shared_from_this();
    auto record = std::make_shared<UploadRecord>();
    on_host([self, record] { *record = self->up->options.store->load(self->file.fingerprint); },
            [self, record] {
              if (!record->url.empty() && record->size == self->file.size) {
                self->url = record->url;
                self->resumed = true;
                return self->head();
              }
              self->create();
            });
  }

  // Forgets a stored URL the server no longer knows, then creates a fresh upload (once).
  void start_over() {
    if (fresh_tried) return fail(last_error);
    fresh_tried = true;
    resumed = false;
    url.clear();
    offset = 0;
    length_sent = false;
    auto self = shared_from_this();
    on_host([self] { self->up->options.store->remove(self->file.fingerprint); }, [self] { self->create(); });
  }

  void head() {
    auto self = shared_from_this();
    send(request("HEAD", url), [self](std::exception_ptr e, HttpResponse res) {
      if (e) return self->retry(e, [self] { self->head(); });
      if (res.status == 404 || res.status == 410 || res.status == 403) {
        self->last_error = self->status_error(res);
        return self->start_over();
      }
      if (res.status < 200 || res.status > 299) return self->retry_status(res, [self] { self->head(); });
      std::int64_t off = 0, length = 0;
      if (parse_offset(res.header("Upload-Length"), length)) {
        if (self->file.size < 0) self->file.size = length;  // a deferred length the server was told
        self->length_sent = true;
      }
      if (!parse_offset(res.header("Upload-Offset"), off) || (self->file.size >= 0 && off > self->file.size))
        return self->fail(make_error(ErrorType::kProtocol, "the server's HEAD has no usable Upload-Offset",
                                     "malformed_response", false, res.status));
      std::string id = res.header(kMediaIdHeader);
      if (!id.empty()) self->media_id = id;
      self->advance(off);
    });
  }

  void create() {
    auto d = disc();
    const auto& o = up->options;
    HttpRequest r = request("POST", up->endpoint);
    if (file.size >= 0) r.set_header("Upload-Length", std::to_string(file.size));
    else r.set_header("Upload-Defer-Length", "1");
    std::string filename = o.filename;
    if (filename.empty() && !streaming()) filename = std::filesystem::path(file.path).filename().string();
    std::string meta = "type " + internal::base64_encode(o.media_type);
    if (!filename.empty()) meta = "filename " + internal::base64_encode(filename) + "," + meta;
    if (!o.filetype.empty()) meta += ",filetype " + internal::base64_encode(o.filetype);
    r.set_header("Upload-Metadata", meta);
    if (o.creation_with_upload && d.creation_with_upload && file.size > 0) {
      // The first chunk rides on the POST (read the same way as a PATCH's).
      auto self = shared_from_this();
      return read_chunk(0, [self, r = std::move(r)](std::int64_t n) mutable {
        self->send_create(std::move(r), n);
      });
    }
    r.set_header("Content-Length", "0");
    send_create(std::move(r), 0);
  }

  void send_create(HttpRequest r, std::int64_t sent) {
    if (sent > 0) {
      r.set_header("Content-Type", "application/offset+octet-stream");
      try {
        set_body(r, 0, sent);
      } catch (...) {
        return fail(std::current_exception());
      }
    }
    auto self = shared_from_this();
    send(std::move(r), [self, sent](std::exception_ptr e, HttpResponse res) {
      if (e) return self->retry(e, [self] { self->create(); });
      if (res.status == 413) {
        std::string message = std::string(self->field()) + ": " + self->what() + " " + std::to_string(self->file.size) +
                              " bytes are over the server's limit";
        try {
          internal::raise_for_status(res, {});
        } catch (const Error& server) {
          message += " (" + server.message() + ")";
        } catch (...) {
        }
        return self->fail(field_error(self->field(), message, "payload_too_large", 413));
      }
      if (res.status != 201 && (res.status < 200 || res.status > 299))
        return self->retry_status(res, [self] { self->create(); });
      std::string location = res.header("Location");
      if (location.empty())
        return self->fail(make_error(ErrorType::kProtocol, "the server created an upload without a Location",
                                     "malformed_response", false, res.status));
      self->url = resolve(self->up->endpoint, location);
      self->length_sent = self->file.size >= 0;
      std::int64_t off = 0;
      if (sent > 0 && parse_offset(res.header("Upload-Offset"), off) && off <= self->file.size) self->offset = off;
      std::string id = res.header(kMediaIdHeader);
      if (!id.empty()) self->media_id = id;
      UploadRecord rec;
      rec.url = self->url;
      rec.size = self->file.size;
      rec.path = self->file.path;
      auto off_now = self->offset;
      self->on_host([self, rec] { self->up->options.store->save(self->file.fingerprint, rec); },
                    [self, off_now] { self->advance(off_now, true); });
    });
  }

  // The upload's chunk buffer, ours to write: reused unless a request still holds it.
  // Two buffers at most, each kept for the upload's life: the next chunk is read while the
  // last request may still be letting go of its buffer on another thread.
  std::string& writable_chunk() {
    auto& u = *up;
    if (u.chunk && u.chunk.use_count() == 1) return *u.chunk;
    std::swap(u.chunk, u.spare);
    if (!u.chunk || u.chunk.use_count() > 1) {  // both held (an aborted request): a new one
      u.chunk = std::make_shared<std::string>();
      u.chunk->reserve(static_cast<std::size_t>(u.options.chunk_size));
    }
    return *u.chunk;
  }

  // The chunk from `at` (at most chunk_size bytes): calls then(n) on an I/O thread. A source's
  // is read into the chunk buffer on the host chain; a file's is read as it is sent (set_body).
  void read_chunk(std::int64_t at, std::function<void(std::int64_t)> then) {
    if (!streaming()) return then(std::min<std::int64_t>(up->options.chunk_size, file.size - at));
    auto self = shared_from_this();
    auto n = std::make_shared<std::int64_t>(0);
    on_host([self, at, n] { *n = self->read_source(at); }, [self, n, then] { then(*n); });
  }

  // The request's body, the n bytes from `at`, with its Upload-Checksum where the server
  // takes one. A source's are the chunk buffer's; a file's are read piece by piece as the
  // transport sends them (HttpRequest::body_reader), so a chunk of any size costs no memory;
  // its checksum (digest: computed ahead, ChunkDigest; else a pass over the same pieces
  // first) is over the same bytes.
  void set_body(HttpRequest& r, std::int64_t at, std::int64_t n, const std::string* digest = nullptr) {
    const bool sum = sums();
    if (streaming()) {
      r.shared_body = up->chunk;
      if (sum) r.set_header("Upload-Checksum", "sha256 " + internal::base64_encode(internal::sha256(*up->chunk)));
      return;
    }
    if (sum && digest) {
      r.set_header("Upload-Checksum", "sha256 " + internal::base64_encode(*digest));
    } else if (sum) {
      internal::Sha256Stream hash;
      std::string piece(std::min<std::int64_t>(n, 256 << 10), '\0');
      for (std::int64_t done = 0; done < n;) {
        std::size_t got = fd->read(piece.data(), std::min<std::int64_t>(piece.size(), n - done), at + done, file.path);
        hash.update(std::string_view(piece.data(), got));
        done += static_cast<std::int64_t>(got);
      }
      r.set_header("Upload-Checksum", "sha256 " + internal::base64_encode(hash.finish()));
    }
    r.body_length = n;
    r.body_reader = [fd = fd, path = file.path, at](std::int64_t from, char* buf, std::size_t len) {
      return fd->read(buf, len, at + from, path);
    };
  }

  // On the host chain. The bytes from `at`: the rest of the chunk still held (a resend), or
  // fresh ones read from the source's position, after a seek (or, forward, a skip) to `at`.
  std::int64_t read_source(std::int64_t at) {
    auto& u = *up;
    UploadSource& src = *u.options.source;
    if (u.held > 0 && at >= u.held_at && at < u.held_at + u.held) {
      if (at > u.held_at) {  // the server kept part of the chunk: resend the rest only
        auto rest = std::make_shared<std::string>(u.chunk->substr(static_cast<std::size_t>(at - u.held_at)));
        u.chunk = std::move(rest);
        u.held -= at - u.held_at;
        u.held_at = at;
      }
      return u.held;
    }
    if (at != u.source_pos) {
      if (src.seek(at)) {
        u.source_pos = at;
        u.source_eof = false;
      } else if (at < u.source_pos) {
        throw_error(ErrorType::kValidation,
                    "source: the server has " + std::to_string(at) + " bytes, but the stream cannot seek back there" +
                        (u.held > 0 ? " (it holds bytes " + std::to_string(u.held_at) + " to " +
                                          std::to_string(u.held_at + u.held) + " only)"
                                    : std::string()),
                    0, "source_not_seekable", {}, "source");
      }
    }
    std::string& buf = writable_chunk();
    u.held = 0;
    // Forward to `at` (a resumed upload of a non-seekable stream): read and drop.
    while (u.source_pos < at && !u.source_eof) {
      buf.resize(static_cast<std::size_t>(std::min<std::int64_t>(u.options.chunk_size, at - u.source_pos)));
      auto got = fill(src, buf);
      u.source_pos += got;
      if (got < buf.size()) u.source_eof = true;
    }
    if (u.source_pos < at)
      throw_error(ErrorType::kValidation,
                  "source: it ended after " + std::to_string(u.source_pos) + " bytes; the server has " +
                      std::to_string(at),
                  0, "source_too_short", {}, "source");
    std::int64_t want = u.options.chunk_size;
    if (file.size >= 0) want = std::min<std::int64_t>(want, file.size - at);
    buf.resize(static_cast<std::size_t>(std::max<std::int64_t>(0, u.source_eof ? 0 : want)));
    std::size_t got = buf.empty() ? 0 : fill(src, buf);
    buf.resize(got);
    u.source_pos += static_cast<std::int64_t>(got);
    if (static_cast<std::int64_t>(got) < want) u.source_eof = true;
    if (file.size >= 0 && static_cast<std::int64_t>(got) < want)
      throw_error(ErrorType::kValidation,
                  "source: it ended after " + std::to_string(u.source_pos) + " bytes, before its size " +
                      std::to_string(file.size),
                  0, "source_too_short", {}, "source");
    if (file.size < 0 && u.source_eof) file.size = u.source_pos;  // now the length is known
    u.held_at = at;
    u.held = static_cast<std::int64_t>(got);
    return u.held;
  }

  // Fills buf from the source in pieces of at most kPiece bytes (what crosses the boundary to
  // a host stream in one call); fewer bytes only at its end.
  static std::size_t fill(UploadSource& src, std::string& buf) {
    constexpr std::size_t kPiece = 1 << 20;
    std::size_t got = 0;
    while (got < buf.size()) {
      std::size_t n = src.read(&buf[got], std::min(kPiece, buf.size() - got));
      if (n == 0) break;
      got += std::min(n, buf.size() - got);
    }
    return got;
  }

  bool finished_upload() const { return file.size >= 0 && length_sent && offset >= file.size; }

  // The server confirmed `off` bytes: tell the listener, then send the next chunk or finish.
  // news: report it even when the offset did not move (created; a length now known).
  void advance(std::int64_t off, bool news = false) {
    bool progressed = off > offset || news;
    offset = off;
    if (progressed) retries = 0;
    if (up->options.progress && (progressed || resumed)) {
      UploadProgress p;
      p.uploaded = offset;
      p.total = file.size;
      auto listener = up->options.progress;
      up->host->post([listener, p] {
        try {
          listener->on_progress(p);
        } catch (...) {
          // A failing listener must not fail the upload it watches.
        }
      });
    }
    if (finished_upload()) return complete();
    if (up->pause_requested.exchange(false)) {
      UploadResult r;
      r.url = url;
      r.size = file.size;
      r.offset = offset;
      r.complete = false;
      r.resumed = resumed;
      return finish(nullptr, r);
    }
    // Posted, not called: the previous PATCH's request is released when its completion
    // returns, so its buffer is free to take the next chunk.
    auto self = shared_from_this();
    if (!rt().post([self] { self->patch(); }))
      fail(make_error(ErrorType::kCancelled, "the SDK was shut down", "shutdown"));
  }

  void patch() {
    auto self = shared_from_this();
    read_chunk(offset, [self](std::int64_t n) { self->send_patch(n); });
  }

  bool sums() { return up->options.checksum && disc().checksum_sha256; }

  // ---- a file chunk's sha256, ahead of its PATCH (ChunkDigest) ----

  void abandon_digest() {
    std::lock_guard<std::mutex> lock(ahead_mu);
    if (ahead) ahead->abandoned = true;
    ahead.reset();
  }

  // Starts hashing [at, at + n) on the host executor (unless that chunk's is already under way).
  std::shared_ptr<ChunkDigest> digest_of(std::int64_t at, std::int64_t n) {
    std::shared_ptr<ChunkDigest> d;
    {
      std::lock_guard<std::mutex> lock(ahead_mu);
      if (ahead && ahead->at == at && ahead->n == n) return ahead;
      if (ahead) ahead->abandoned = true;
      d = ahead = std::make_shared<ChunkDigest>();
      d->at = at;
      d->n = n;
    }
    auto task = [d, fd = fd, path = file.path, cancel = call.cancel] {
      internal::Sha256Stream hash;
      std::exception_ptr error;
      try {
        std::string piece(static_cast<std::size_t>(std::min<std::int64_t>(d->n, 256 << 10)), '\0');
        for (std::int64_t done = 0; done < d->n;) {
          if (d->abandoned || (cancel && cancel->cancelled()))
            throw_error(ErrorType::kCancelled, "the upload was cancelled", 0, "cancelled");
          std::size_t got = fd->read(piece.data(), std::min<std::int64_t>(piece.size(), d->n - done), d->at + done, path);
          hash.update(std::string_view(piece.data(), got));
          done += static_cast<std::int64_t>(got);
        }
      } catch (...) {
        error = std::current_exception();
      }
      std::function<void()> waiter;
      {
        std::lock_guard<std::mutex> lock(d->mu);
        d->done = true;
        d->error = error;
        if (!error) d->digest = hash.finish();
        waiter = std::move(d->waiter);
      }
      if (waiter) waiter();
    };
    if (!rt().host().post(task)) task();  // stopped: hash here (the send will fail as shut down)
    return d;
  }

  // then(digest) on an I/O thread once d is done; fails the run if it could not be computed.
  void when_digested(const std::shared_ptr<ChunkDigest>& d, std::function<void(const std::string&)> then) {
    auto self = shared_from_this();
    auto go = [self, d, then = std::move(then)] {
      if (d->error) return self->fail(d->error);
      then(d->digest);
    };
    {
      std::lock_guard<std::mutex> lock(d->mu);
      if (!d->done) {
        d->waiter = [self, go] {
          if (!self->rt().post(go)) self->fail(make_error(ErrorType::kCancelled, "the SDK was shut down", "shutdown"));
        };
        return;
      }
    }
    go();
  }

  void send_patch(std::int64_t n) {
    if (!streaming() && n > 0 && sums()) {
      // The chunk's sha256 (computed while the last chunk was on the wire, or now), then the
      // PATCH; and the next chunk's is started as this one goes out.
      auto self = shared_from_this();
      return when_digested(digest_of(offset, n), [self, n](const std::string& digest) {
        // Started before the send: its answer may start the next chunk's PATCH at once.
        const std::int64_t next = self->offset + n, left = self->file.size - next;
        if (left > 0) self->digest_of(next, std::min<std::int64_t>(self->up->options.chunk_size, left));
        self->send_patch(n, &digest);
      });
    }
    send_patch(n, nullptr);
  }

  // digest: the chunk's sha256 when already computed (a file's), else set_body makes it.
  void send_patch(std::int64_t n, const std::string* digest) {
    HttpRequest r = request("PATCH", url);
    r.set_header("Upload-Offset", std::to_string(offset));
    r.set_header("Content-Type", "application/offset+octet-stream");
    // A deferred length goes with the first PATCH that knows it (the last one, maybe empty).
    const bool declares = !length_sent && file.size >= 0;
    if (declares) r.set_header("Upload-Length", std::to_string(file.size));
    if (n > 0) {
      try {
        set_body(r, offset, n, digest);
      } catch (...) {
        return fail(std::current_exception());
      }
    }
    auto self = shared_from_this();
    send(std::move(r), [self, declares](std::exception_ptr e, HttpResponse res) {
      if (e) return self->retry(e, [self] { self->head(); });
      if (res.status == 404 || res.status == 410) {
        self->last_error = self->status_error(res);
        return self->start_over();
      }
      if (res.status == 413) {
        return self->fail(field_error(self->field(),
                                      std::string(self->field()) + ": the server refused the chunk as too large (413)",
                                      "payload_too_large", 413));
      }
      if (res.status < 200 || res.status > 299) return self->retry_status(res, [self] { self->head(); });
      std::int64_t off = 0;
      if (!parse_offset(res.header("Upload-Offset"), off) || (self->file.size >= 0 && off > self->file.size) ||
          off < self->offset)
        return self->fail(make_error(ErrorType::kProtocol, "the server's PATCH answer has no usable Upload-Offset",
                                     "malformed_response", false, res.status));
      if (declares) self->length_sent = true;
      std::string id = res.header(kMediaIdHeader);
      if (!id.empty()) self->media_id = id;
      self->advance(off, declares);  // a declared length is news to the listener, even with no byte
    });
  }

  void complete() {
    UploadResult r;
    r.url = url;
    r.size = file.size;
    r.offset = offset;
    r.complete = true;
    r.resumed = resumed;
    r.media_id = media_id;
    auto self = shared_from_this();
    up->host->post([self, r] {
      try {
        self->up->options.store->remove(self->file.fingerprint);
      } catch (...) {
        return self->fail(std::current_exception());
      }
      self->finish(nullptr, r);
    });
  }

  std::exception_ptr status_error(const HttpResponse& res) {
    try {
      internal::raise_for_status(res, {});
    } catch (...) {
      return std::current_exception();
    }
    return nullptr;
  }

  // A non-2xx answer: 409 (offset mismatch), 460 (checksum mismatch), 423 (locked), 429 and
  // 5xx are worth another try from the server's offset; anything else fails the upload.
  void retry_status(const HttpResponse& res, std::function<void()> again) {
    auto e = status_error(res);
    bool transient = res.status == 409 || res.status == 460 || res.status == 423 || res.status == 429 ||
                     res.status >= 500;
    if (!transient) return fail(e);
    retry(e, std::move(again), res.status == 409);
  }

  // Retries after a backoff (none for a 409: re-read the offset at once), up to max_retries
  // in a row without progress and within the upload's deadline.
  void retry(std::exception_ptr e, std::function<void()> again, bool immediate = false) {
    last_error = e;
    try {
      std::rethrow_exception(e);
    } catch (const Error& err) {
      if (err.type() == ErrorType::kCancelled) return fail(e);
      bool transient = err.retryable() || err.type() == ErrorType::kConnection || err.type() == ErrorType::kTimeout ||
                       err.type() == ErrorType::kProtocol || err.type() == ErrorType::kConflict ||
                       err.http_status() == 460;
      if (!transient) return fail(e);
    } catch (...) {
      return fail(e);
    }
    if (call.cancel && call.cancel->cancelled())
      return fail(make_error(ErrorType::kCancelled, "the upload was cancelled", "cancelled"));
    if (retries >= up->options.max_retries) return fail(e);
    std::int64_t delay = immediate ? 0 : up->options.retry_backoff_ms;
    for (int i = 0; i < retries && delay < 30000; ++i) delay *= 2;
    delay = std::min<std::int64_t>(delay, 30000);
    ++retries;
    auto when = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay);
    if (when >= deadline) return fail(make_error(ErrorType::kTimeout, "the upload's deadline passed", "deadline", true));
    auto self = shared_from_this();
    auto fired = std::make_shared<std::atomic<bool>>(false);
    auto timer = rt().schedule(when, [self, again, fired](bool ok) {
      if (fired->exchange(true)) return;
      if (!ok) return self->fail(make_error(ErrorType::kCancelled, "the upload was cancelled", "cancelled"));
      again();
    });
    if (call.cancel) {
      std::weak_ptr<internal::Timer> weak = timer;
      call.cancel->add_callback([weak] {
        if (auto t = weak.lock()) t->cancel();
      });
    }
  }
};

}  // namespace

std::shared_ptr<UploadStore> make_memory_upload_store() { return std::make_shared<MemoryUploadStore>(); }
std::shared_ptr<UploadStore> make_file_upload_store(const std::string& directory) {
  return std::make_shared<FileUploadStore>(directory, "",
                                           internal::RecordStoreErrors{ErrorType::kApi, "store_failed", "upload record"});
}
std::shared_ptr<UploadProgressListener> progress_listener(std::function<void(const UploadProgress&)> fn) {
  return std::make_shared<FunctionListener>(std::move(fn));
}

namespace {

std::shared_ptr<Upload::Impl> make_impl(std::shared_ptr<internal::ClientCore> core, UploadOptions options) {
  auto impl_ = std::make_shared<Upload::Impl>();
  if (options.path.empty() && !options.source) invalid("path", "path (or source) is required", "validation_error");
  if (!options.path.empty() && options.source)
    invalid("source", "source: give a path or a source, not both", "validation_error");
  if (options.size < -1) invalid("size", "size must be -1 (unknown) or more", "validation_error");
  if (options.source) impl_->source_key = source_fingerprint(options.fingerprint);
  if (!valid_media_type(options.media_type))
    invalid("media_type", "media_type must be photo, audio, video or document", "validation_error");
  if (options.chunk_size < 1 || options.chunk_size > (256ll << 20))
    invalid("chunk_size", "chunk_size must be between 1 and 268435456 bytes", "validation_error");
  if (options.max_retries < 0) invalid("max_retries", "max_retries must be 0 or more", "validation_error");
  if (options.retry_backoff_ms < 0) invalid("retry_backoff_ms", "retry_backoff_ms must be 0 or more", "validation_error");
  if (!options.store) options.store = make_memory_upload_store();
  impl_->endpoint = options.endpoint.empty() ? core->options().base_url : options.endpoint;
  if (options.endpoint.empty()) {
    while (!impl_->endpoint.empty() && impl_->endpoint.back() == '/') impl_->endpoint.pop_back();
    impl_->endpoint += "/v1/uploads";
  }
  if (impl_->endpoint.rfind("http://", 0) != 0 && impl_->endpoint.rfind("https://", 0) != 0)
    invalid("endpoint", "endpoint must be an absolute http(s) URL", "validation_error");
  // Another origin than the client's (a third-party tus server) gets no API key or token: a
  // client of its own with the same transport settings and no credentials.
  if (lower(origin_of(impl_->endpoint)) != lower(origin_of(core->options().base_url))) {
    ClientOptions o = core->options();
    o.api_key.clear();
    o.credentials.reset();
    core = std::make_shared<internal::ClientCore>(std::move(o), core->runtime());
  }
  impl_->host = std::make_shared<internal::HostChain>(core->runtime());
  impl_->core = std::move(core);
  impl_->options = std::move(options);
  return impl_;
}

}  // namespace

Upload::Upload(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Upload::Upload(const Client& client, UploadOptions options) : impl_(make_impl(client.core_, std::move(options))) {}

std::shared_ptr<Upload> internal::UploadFactory::make(std::shared_ptr<ClientCore> core, UploadOptions options) {
  return std::shared_ptr<Upload>(new Upload(make_impl(std::move(core), std::move(options))));
}

Upload::~Upload() = default;

void Upload::start_async(Async<UploadResult> done, const CallOptions& call) {
  auto run = std::make_shared<Run>();
  run->up = impl_;
  run->done = std::move(done);
  run->call = call;
  if (!run->call.cancel) run->call.cancel = std::make_shared<CancellationToken>();
  if (call.deadline_ms > 0)
    run->deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(call.deadline_ms);
  bool busy = false;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    busy = impl_->running;
    if (!busy) {
      impl_->running = true;
      impl_->cancel = run->call.cancel;
      impl_->pause_requested = false;
    }
  }
  if (busy) {
    try {
      invalid("start", "this upload is already running (pause it, or wait for start to return)", "upload_running");
    } catch (...) {
      run->done(std::current_exception(), {});
    }
    return;
  }
  auto r = run;
  if (!impl_->core->runtime()->post([r] { r->begin(); }))
    r->done(make_error(ErrorType::kCancelled, "the SDK was shut down", "shutdown"), {});
}

UploadResult Upload::start(const CallOptions& call) {
  return internal::wait_for<UploadResult>(impl_->core->runtime().get(),
                                          [&](Async<UploadResult> done) { start_async(std::move(done), call); });
}

void Upload::pause() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->running) impl_->pause_requested = true;
}

std::string Upload::fingerprint() const {
  return impl_->options.source ? impl_->source_key : inspect(impl_->options.path, nullptr).fingerprint;
}

void Upload::terminate_async(AsyncVoid done, const CallOptions& call) {
  std::shared_ptr<CancellationToken> running;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    running = impl_->cancel;
  }
  if (running) running->cancel();
  auto impl = impl_;
  FileInfo file;
  try {
    file.fingerprint = fingerprint();
  } catch (...) {
    return done(std::current_exception());
  }
  auto record = std::make_shared<UploadRecord>();
  auto finish = [impl, done, file](std::exception_ptr e) {
    impl->host->post([impl, done, file, e] {
      try {
        impl->options.store->remove(file.fingerprint);
      } catch (...) {
        return done(std::current_exception());
      }
      done(e);
    });
  };
  impl->host->post([impl, record, file, call, finish, done] {
    try {
      *record = impl->options.store->load(file.fingerprint);
    } catch (...) {
      return done(std::current_exception());
    }
    if (record->url.empty()) return finish(nullptr);
    // DELETE only where the server advertised termination (or said nothing: OPTIONS is
    // asked again); a failed DELETE still forgets the record (the server's expiry cleans up).
    HttpRequest opt;
    opt.method = "OPTIONS";
    opt.url = impl->endpoint;
    CallOptions o = call;
    impl->core->send_async(std::move(opt), o, [impl, record, o, finish](std::exception_ptr e, HttpResponse res) {
      auto ext = e ? std::vector<std::string>{} : split_list(res.header("Tus-Extension"));
      if (std::find(ext.begin(), ext.end(), "termination") == ext.end()) return finish(nullptr);
      HttpRequest del;
      del.method = "DELETE";
      del.url = record->url;
      del.set_header("Tus-Resumable", kTus);
      impl->core->send_async(std::move(del), o, [finish](std::exception_ptr, HttpResponse) { finish(nullptr); });
    });
  });
}

void Upload::terminate(const CallOptions& call) {
  struct None {};
  internal::wait_for<None>(impl_->core->runtime().get(), [&](Async<None> done) {
    terminate_async([done](std::exception_ptr e) { done(e, None{}); }, call);
  });
}

}  // namespace hues
