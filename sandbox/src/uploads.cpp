#include "uploads.h"

#include <boost/beast/http/field.hpp>
#include <boost/json.hpp>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "media.h"
#include "oidc.h"  // ApiError
#include "util.h"

namespace hues::sandbox {

const MediaLimit kMediaLimits[4] = {
    {"photo", 25ull << 20}, {"audio", 200ull << 20}, {"video", 2ull << 30}, {"document", 50ull << 20}};

std::uint64_t max_upload_size() {
  std::uint64_t m = 0;
  for (const auto& l : kMediaLimits) m = std::max(m, l.max_bytes);
  return m;
}

bool is_upload_target(std::string_view t) {
  constexpr std::string_view p = "/v1/uploads";
  if (t.substr(0, p.size()) != p) return false;
  return t.size() == p.size() || t[p.size()] == '/' || t[p.size()] == '?';
}

namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;

constexpr const char* kExtensions =
    "creation,creation-with-upload,creation-defer-length,termination,checksum,expiration";

// While an upload's length is deferred (creation-defer-length) it is unknown: never reached.
constexpr std::uint64_t kUnknown = std::numeric_limits<std::uint64_t>::max();

ApiError bad(std::string message) { return {400, "validation_error", std::move(message)}; }
ApiError not_found(const std::string& id) { return {404, "not_found", "no upload with id '" + id + "'"}; }

// RFC 9110 §5.6.7 IMF-fixdate, independent of the locale.
std::string http_date(std::time_t t) {
  static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
                tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

// Standard base64 (RFC 4648 §4), padding optional; nullopt on anything else.
std::optional<std::string> base64_decode(std::string_view s) {
  while (!s.empty() && s.back() == '=') s.remove_suffix(1);
  std::string out;
  unsigned buf = 0;
  int bits = 0;
  for (char c : s) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else return std::nullopt;
    buf = (buf << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xFF));
    }
  }
  if (bits >= 6) return std::nullopt;  // a lone trailing character
  return out;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(data.data(), data.size(), out, &n, md, nullptr);
  return std::string(reinterpret_cast<char*>(out), n);
}

// Upload-Checksum "<algorithm> <base64>" as (algorithm, expected digest); nullopt without
// one; 400 for an unknown algorithm or a malformed value.
struct Checksum {
  const EVP_MD* md;
  std::string expected;
};
std::optional<Checksum> checksum_of(const Request& req) {
  auto it = req.find("Upload-Checksum");
  if (it == req.end()) return std::nullopt;
  const std::string_view v = it->value();
  const auto sp = v.find(' ');
  if (sp == std::string_view::npos) throw bad("Upload-Checksum must be \"<algorithm> <base64 digest>\"");
  const std::string_view algo = v.substr(0, sp);
  const EVP_MD* md = algo == "sha1" ? EVP_sha1() : algo == "sha256" ? EVP_sha256() : nullptr;
  if (!md) throw bad("Upload-Checksum: unsupported algorithm '" + valid_utf8(algo) + "' (supported: sha1, sha256)");
  auto expected = base64_decode(v.substr(sp + 1));
  if (!expected || expected->size() != static_cast<std::size_t>(EVP_MD_size(md)))
    throw bad("Upload-Checksum: the digest is not a base64 " + std::string(algo) + " digest");
  return Checksum{md, std::move(*expected)};
}

ApiError checksum_mismatch() {
  return {460, "checksum_mismatch", "the chunk does not match its Upload-Checksum; it was discarded"};
}

// The whole body against Upload-Checksum (a creation-with-upload POST), before a byte is stored.
void verify_checksum(const Request& req, std::string_view body) {
  auto c = checksum_of(req);
  if (c && !constant_time_equals(c->expected, digest(c->md, body))) throw checksum_mismatch();
}

// Upload-Metadata: comma-separated "key base64value" pairs (the value may be absent).
std::map<std::string, std::string> parse_metadata(std::string_view v) {
  std::map<std::string, std::string> out;
  while (!v.empty()) {
    const auto comma = v.find(',');
    std::string_view pair = v.substr(0, comma);
    v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    while (!pair.empty() && pair.back() == ' ') pair.remove_suffix(1);
    if (pair.empty()) throw bad("Upload-Metadata: an empty pair");
    const auto sp = pair.find(' ');
    std::string key(pair.substr(0, sp));
    std::optional<std::string> value = std::string();
    if (sp != std::string_view::npos) value = base64_decode(pair.substr(sp + 1));
    if (!value) throw bad("Upload-Metadata: the value of '" + valid_utf8(key) + "' is not base64");
    if (!out.emplace(key, *value).second) throw bad("Upload-Metadata: the key '" + valid_utf8(key) + "' is repeated");
  }
  return out;
}

std::string media_type_of(const std::map<std::string, std::string>& meta) {
  if (auto t = meta.find("type"); t != meta.end()) {
    for (const auto& l : kMediaLimits)
      if (t->second == l.type) return l.type;
    throw bad("Upload-Metadata: type must be photo, audio, video or document, not '" + valid_utf8(t->second) + "'");
  }
  if (auto ft = meta.find("filetype"); ft != meta.end() && !ft->second.empty()) {
    const std::string& m = ft->second;
    if (m.rfind("image/", 0) == 0) return "photo";
    if (m.rfind("audio/", 0) == 0) return "audio";
    if (m.rfind("video/", 0) == 0) return "video";
    return "document";
  }
  throw bad("Upload-Metadata must name the media type: type (photo, audio, video, document) or filetype (a MIME type)");
}

bool valid_id(const std::string& id) {
  if (id.size() != 28 || id.rfind("upl_", 0) != 0) return false;
  for (char c : id.substr(4))
    if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7') || (c >= '0' && c <= '9'))) return false;
  return true;
}

struct Meta {
  std::string owner, type, metadata;
  std::uint64_t length = 0;  // meaningless while deferred
  bool deferred = false;     // Upload-Defer-Length: 1 and no Upload-Length yet
  std::int64_t expires = 0;
  std::uint64_t known_length() const { return deferred ? kUnknown : length; }
};

std::uint64_t limit_of(const std::string& type) {
  for (const auto& l : kMediaLimits)
    if (type == l.type) return l.max_bytes;
  return max_upload_size();
}

// 413: "<what> <n> bytes, over the <type> limit of <limit> bytes".
ApiError over_limit(const std::string& what, std::uint64_t n, const std::string& type) {
  return {413, "payload_too_large",
          what + " " + std::to_string(n) + " bytes, over the " + type + " limit of " + std::to_string(limit_of(type)) +
              " bytes"};
}

// Writes path with mode 0600 through a temporary file and a rename (never half written).
void write_private(const fs::path& path, const std::string& data) {
  const std::string tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
  const bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) throw std::runtime_error("cannot write " + path.string());
}

void save(const fs::path& path, const Meta& m) {
  boost::json::object o;
  o["owner"] = m.owner;
  o["type"] = m.type;
  o["metadata"] = m.metadata;
  // A deferred length is "deferred": true and no "length" (files written before
  // creation-defer-length have a length and no "deferred": they load as before).
  if (m.deferred) o["deferred"] = true;
  else o["length"] = m.length;
  o["expires"] = m.expires;
  write_private(path, boost::json::serialize(o));
}

std::optional<Meta> load(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  boost::system::error_code ec;
  auto v = boost::json::parse(ss.str(), ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  Meta m;
  m.owner = std::string(o.at("owner").as_string());
  m.type = std::string(o.at("type").as_string());
  m.metadata = std::string(o.at("metadata").as_string());
  const auto* deferred = o.if_contains("deferred");
  m.deferred = deferred && deferred->is_bool() && deferred->as_bool();
  if (!m.deferred) m.length = o.at("length").to_number<std::uint64_t>();
  m.expires = o.at("expires").to_number<std::int64_t>();
  return m;
}

std::uint64_t size_of(const fs::path& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

// Appends body at offset; on a failed write the file is cut back, the offset unchanged.
void append(const fs::path& p, std::uint64_t offset, std::string_view body) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) throw std::runtime_error("cannot open " + p.string());
  std::size_t done = 0;
  bool ok = true;
  while (done < body.size()) {
    const ssize_t n = ::pwrite(fd, body.data() + done, body.size() - done, static_cast<off_t>(offset + done));
    if (n <= 0) {
      ok = false;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (ok) ok = ::fdatasync(fd) == 0;
  if (!ok && ::ftruncate(fd, static_cast<off_t>(offset)) != 0) { /* nothing more to do */ }
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write " + p.string());
}

void require_octet_stream(const Request& req) {
  auto ct = req[http::field::content_type];
  auto semi = ct.find(';');
  std::string_view type = ct.substr(0, semi == std::string_view::npos ? ct.size() : semi);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (!boost::beast::iequals(type, "application/offset+octet-stream"))
    throw ApiError{415, "unsupported_media_type", "an upload chunk needs Content-Type: application/offset+octet-stream"};
}

void set_discovery(Response& res) {
  res.set("Tus-Version", "1.0.0");
  res.set("Tus-Max-Size", std::to_string(max_upload_size()));
  res.set("Tus-Extension", kExtensions);
  res.set("Tus-Checksum-Algorithm", "sha1,sha256");
}

// The media hook (media.h): after a chunk is on disk and before its offset is answered, the
// upload's head is sniffed (a refusal cuts the file back to offset_before and throws 415);
// once the upload is whole, its media object's id goes into Hues-Media-Id.
void media_hook(Media* media, const std::string& id, const fs::path& bin, const Meta& m, std::uint64_t offset_before,
                std::uint64_t offset_after, Response& res) {
  if (!media) return;
  const auto meta = parse_metadata(m.metadata);
  const auto ft = meta.find("filetype");
  const std::string filetype = ft == meta.end() ? std::string() : ft->second;
  try {
    media->check_head(bin.string(), offset_before, offset_after, m.known_length(), m.type,
                      meta.count("type") ? "type" : "filetype", filetype);
  } catch (const ApiError&) {
    if (::truncate(bin.c_str(), static_cast<off_t>(offset_before)) != 0) { /* the next HEAD shows what is there */ }
    throw;
  }
  if (offset_after >= m.known_length()) res.set("Hues-Media-Id", media->finish(id, bin.string(), m.owner, m.type, filetype));
}

// A PATCH's Upload-Checksum digest, computed on a thread of its own that trails the writes:
// it reads back from the file what the receive path has written (the page cache has it), so
// the connection's thread only writes, and the hash of one piece overlaps the receipt of the
// next. advance() says how far the writes are; digest() waits for the rest.
class TrailingDigest {
 public:
  TrailingDigest(const EVP_MD* md, const fs::path& bin, std::uint64_t start) : start_(start) {
    ctx_ = EVP_MD_CTX_new();
    fd_ = ::open(bin.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (!ctx_ || EVP_DigestInit_ex(ctx_, md, nullptr) != 1 || fd_ < 0) {
      release();
      throw std::runtime_error("cannot hash " + bin.string());
    }
    thread_ = std::thread([this] { run(); });
  }
  ~TrailingDigest() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      abandoned_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    release();
  }
  TrailingDigest(const TrailingDigest&) = delete;
  TrailingDigest& operator=(const TrailingDigest&) = delete;

  // The bytes [start, start + written) are in the file.
  void advance(std::uint64_t written) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      written_ = written;
    }
    cv_.notify_one();
  }
  // The digest of the first `written` bytes (all there are); nullopt when they could not be
  // read back. Once.
  std::optional<std::string> digest(std::uint64_t written) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      written_ = written;
      closing_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
    if (failed_ || hashed_ != written) return std::nullopt;
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_DigestFinal_ex(ctx_, out, &n);
    return std::string(reinterpret_cast<char*>(out), n);
  }

 private:
  void run() {
    std::string buf(256 << 10, '\0');
    for (;;) {
      std::uint64_t upto;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return abandoned_ || closing_ || written_ > hashed_; });
        if (abandoned_) return;
        upto = written_;
        if (upto == hashed_) return;  // closing, and all of it hashed
      }
      while (hashed_ < upto) {
        const ssize_t n = ::pread(fd_, buf.data(), std::min<std::uint64_t>(buf.size(), upto - hashed_),
                                  static_cast<off_t>(start_ + hashed_));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          failed_ = true;
          return;
        }
        EVP_DigestUpdate(ctx_, buf.data(), static_cast<std::size_t>(n));
        hashed_ += static_cast<std::uint64_t>(n);
      }
    }
  }
  void release() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    EVP_MD_CTX_free(ctx_);
    ctx_ = nullptr;
  }

  const std::uint64_t start_;
  EVP_MD_CTX* ctx_ = nullptr;
  int fd_ = -1;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t written_ = 0;                 // under mu_
  bool closing_ = false, abandoned_ = false;  // under mu_
  std::uint64_t hashed_ = 0;                  // the thread's (digest() reads it after the join)
  bool failed_ = false;                       // likewise
};

}  // namespace

Uploads::Uploads(std::string dir, int ttl_seconds) : dir_(std::move(dir)), ttl_(std::max(1, ttl_seconds)) {
  if (!fs::exists(dir_)) {
    fs::create_directories(dir_);
    fs::permissions(dir_, fs::perms::owner_all);
  }
  // A PATCH that a crash interrupted left its start offset: its bytes never counted.
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (e.path().extension() != ".pending") continue;
    std::ifstream in(e.path());
    std::uint64_t start = 0;
    fs::path bin = e.path();
    bin.replace_extension(".bin");
    if (in >> start && size_of(bin) > start && ::truncate(bin.c_str(), static_cast<off_t>(start)) != 0) continue;
    std::error_code ec2;
    fs::remove(e.path(), ec2);
  }
}


// One PATCH's body, written piece by piece at the upload's offset as it arrives.
class PatchWrite final : public UploadPatch {
 public:
  // length: the upload's length, or while it is deferred the one this PATCH declares
  // (declares) or else the media type's limit: no byte past it is kept.
  PatchWrite(Uploads& u, std::string id, std::string type, std::uint64_t start, std::uint64_t length,
             std::optional<std::uint64_t> declares, bool deferred, std::optional<Checksum> checksum,
             std::shared_ptr<Uploads::Active> active)
      : u_(u), id_(std::move(id)), type_(std::move(type)), start_(start), length_(length),
        declares_(deferred ? declares : std::nullopt), checksum_(std::move(checksum)), active_(std::move(active)) {
    unbounded_ = deferred && !declares_;
    bin_ = fs::path(u_.dir_) / (id_ + ".bin");
    pending_ = fs::path(u_.dir_) / (id_ + ".pending");
    write_private(pending_, std::to_string(start_));
    fd_ = ::open(bin_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd_ < 0) throw std::runtime_error("cannot open " + bin_.string());
    if (checksum_) hash_ = std::make_unique<TrailingDigest>(checksum_->md, bin_, start_);
  }
  ~PatchWrite() override {
    try {
      Response unused;
      finish(false, unused);
    } catch (...) {  // an interrupted PATCH has no one to answer
    }
    hash_.reset();  // stops its thread
    if (fd_ >= 0) ::close(fd_);
  }

  void write(std::string_view piece) override {
    if (done_ || failed_ || piece.empty()) return;
    std::lock_guard<std::mutex> lk(active_->mu);
    if (active_->superseded) {
      failed_ = true;
      throw superseded();
    }
    if (written_ + piece.size() > length_ - start_) {
      failed_ = true;  // nothing of this chunk is kept
      cut(start_);
      if (unbounded_)
        throw ApiError{413, "payload_too_large",
                       "the chunk would take the upload past the " + type_ + " limit of " + std::to_string(length_) +
                           " bytes; it was discarded"};
      throw ApiError{413, "payload_too_large", "the chunk would take the upload past its Upload-Length; it was discarded"};
    }
    std::size_t done = 0;
    while (done < piece.size()) {
      const ssize_t n = ::pwrite(fd_, piece.data() + done, piece.size() - done,
                                 static_cast<off_t>(start_ + written_ + done));
      if (n <= 0) {
        failed_ = true;
        cut(start_);
        throw std::runtime_error("cannot write " + bin_.string());
      }
      done += static_cast<std::size_t>(n);
    }
    written_ += piece.size();
    if (hash_) hash_->advance(written_);
  }

  void finish(bool complete, Response& res) override {
    if (done_) return;
    done_ = true;
    std::lock_guard<std::mutex> lk(u_.mu_);
    std::lock_guard<std::mutex> lk2(active_->mu);
    if (active_->superseded) {  // the newer PATCH (or a DELETE) owns the file now
      if (complete) throw superseded();
      return;
    }
    auto it = u_.active_.find(id_);
    if (it != u_.active_.end() && it->second == active_) u_.active_.erase(it);
    std::error_code ec;
    if (failed_) {  // write() cut the file back and answered
      fs::remove(pending_, ec);
      return;
    }
    // An incomplete chunk cannot be checked against its Upload-Checksum: none of it counts.
    bool keep = complete || !checksum_;
    bool mismatch = false;
    if (complete && checksum_) {
      auto got = hash_->digest(written_);
      if (!got) throw std::runtime_error("cannot read back " + bin_.string());
      mismatch = !constant_time_equals(checksum_->expected, *got);
      keep = !mismatch;
    }
    const std::uint64_t end = keep ? start_ + written_ : start_;
    const fs::path meta_path = fs::path(u_.dir_) / (id_ + ".meta");
    auto m = load(meta_path);
    // A deferred length this PATCH declares is set with its bytes (even none): a chunk that
    // does not count (460, 415, cut off with a checksum) leaves the length deferred.
    const bool declaring = keep && m && m->deferred && declares_ && end <= *declares_;
    if (declaring) {
      m->length = *declares_;
      m->deferred = false;
    }
    if (keep && m && (end > start_ || declaring)) {
      try {
        // The chunk is written and its offset about to be committed: the one place where its
        // bytes are sniffed (media.h) and a whole upload becomes a media object.
        media_hook(u_.media_, id_, bin_, *m, start_, end, res);
      } catch (...) {
        cut(start_);
        fs::remove(pending_, ec);
        throw;
      }
    }
    // The length is exactly the new offset: a PATCH that was taken over may have left more.
    cut(end);
    fs::remove(pending_, ec);
    if (mismatch) throw checksum_mismatch();
    if (m && end < m->known_length() && end > start_) m->expires = now() + u_.ttl_;  // sliding expiry
    if (m && (declaring || (end < m->known_length() && end > start_))) save(meta_path, *m);
    if (!complete) return;
    res.result(http::status::no_content);
    res.set("Upload-Offset", std::to_string(end));
    if (m && end < m->known_length()) res.set("Upload-Expires", http_date(m->expires));
  }

 private:
  static ApiError superseded() {
    return {409, "offset_mismatch", "a newer PATCH of this upload took over; HEAD for its offset"};
  }
  // Sets the file's length (back to a chunk's start, or to its end) and makes it durable.
  void cut(std::uint64_t length) {
    if (::ftruncate(fd_, static_cast<off_t>(length)) != 0 || ::fdatasync(fd_) != 0)
      throw std::runtime_error("cannot write " + bin_.string());
  }

  Uploads& u_;
  std::string id_, type_;
  fs::path bin_, pending_;
  std::uint64_t start_, length_, written_ = 0;
  std::optional<std::uint64_t> declares_;  // the Upload-Length this PATCH sets (a deferred length)
  bool unbounded_ = false;                 // deferred and not declared: length_ is the type's limit
  std::optional<Checksum> checksum_;
  std::shared_ptr<Uploads::Active> active_;
  std::unique_ptr<TrailingDigest> hash_;  // with Upload-Checksum
  int fd_ = -1;
  bool done_ = false, failed_ = false;
};

namespace {
// The tus headers every request but OPTIONS needs; the method must be allowed on the target.
void check_tus_request(const Request& req, bool collection) {
  const auto method = req.method();
  const char* allow = collection ? "POST, OPTIONS" : "HEAD, PATCH, DELETE, OPTIONS";
  const bool allowed = collection ? method == http::verb::post
                                  : (method == http::verb::head || method == http::verb::patch ||
                                     method == http::verb::delete_);
  if (!allowed)
    throw ApiError{405, "method_not_allowed",
                   std::string(req.method_string()) + " is not allowed here; allowed: " + allow, allow};
  if (req["Tus-Resumable"] != "1.0.0")
    throw ApiError{412, "unsupported_tus_version",
                   req.find("Tus-Resumable") == req.end() ? "the Tus-Resumable header is required (1.0.0)"
                                                          : "this server speaks tus 1.0.0 only"};
}
}  // namespace

std::unique_ptr<UploadPatch> Uploads::begin_patch(const Request& header, const std::string& id,
                                                  const std::function<std::string()>& owner) {
  check_tus_request(header, false);
  return start_patch(header, id, owner());
}

std::unique_ptr<UploadPatch> Uploads::start_patch(const Request& req, const std::string& id, const std::string& who) {
  require_octet_stream(req);
  if (!valid_id(id)) throw not_found(id);
  auto off_h = req.find("Upload-Offset");
  std::optional<std::uint64_t> claimed;
  if (off_h != req.end()) claimed = parse_u64(off_h->value());
  std::optional<std::uint64_t> declared;  // Content-Length; none for a chunked body
  if (auto cl = req.find(http::field::content_length); cl != req.end()) declared = parse_u64(cl->value());
  std::optional<std::uint64_t> declares;  // creation-defer-length: the length, once known
  if (auto len_h = req.find("Upload-Length"); len_h != req.end()) {
    declares = parse_u64(len_h->value());
    if (!declares) throw bad("Upload-Length must be a non-negative integer");
  }
  auto checksum = checksum_of(req);
  std::lock_guard<std::mutex> lk(mu_);
  const fs::path meta_path = fs::path(dir_) / (id + ".meta"), bin = fs::path(dir_) / (id + ".bin");
  auto m = load(meta_path);
  if (!m || m->owner != who) throw not_found(id);  // another caller's upload does not exist for them
  auto running = active_.find(id);
  const std::uint64_t offset = running != active_.end() ? running->second->start : size_of(bin);
  if (offset < m->known_length() && m->expires <= now()) throw ApiError{410, "gone", "the upload '" + id + "' expired"};
  if (off_h == req.end()) throw bad("Upload-Offset is required");
  if (!claimed) throw bad("Upload-Offset must be a non-negative integer");
  if (*claimed != offset)
    throw ApiError{409, "offset_mismatch",
                   "Upload-Offset " + std::to_string(*claimed) + " is not the upload's offset " + std::to_string(offset)};
  std::uint64_t bound = m->length;
  if (m->deferred) {
    bound = limit_of(m->type);
    if (declares) {
      if (*declares > bound) throw over_limit("Upload-Length", *declares, m->type);
      if (*declares < offset)
        throw bad("Upload-Length " + std::to_string(*declares) + " is less than the upload's offset " +
                  std::to_string(offset));
      bound = *declares;
    }
  } else if (declares && *declares != m->length) {
    throw bad("the upload's Upload-Length is " + std::to_string(m->length) + "; once set it cannot change");
  }
  if (declared && *declared > bound - offset) {
    if (m->deferred && !declares) throw over_limit("the upload with this chunk would be", offset + *declared, m->type);
    throw ApiError{413, "payload_too_large", "the chunk would take the upload past its Upload-Length"};
  }
  auto active = std::make_shared<Active>();
  active->start = offset;
  auto patch = std::make_unique<PatchWrite>(*this, id, m->type, offset, bound, declares, m->deferred,
                                            std::move(checksum), active);
  if (running != active_.end()) {  // the same offset: this PATCH takes over from the older one
    std::lock_guard<std::mutex> lk2(running->second->mu);
    running->second->superseded = true;
  }
  active_[id] = std::move(active);
  return patch;
}

void Uploads::handle(const Request& req, Response& res, const std::vector<std::string>& segs, const std::string& base,
                     const std::function<std::string()>& owner) {
  const auto method = req.method();
  if (method == http::verb::options) {  // discovery: no Tus-Resumable needed, none sent
    res.result(http::status::no_content);
    set_discovery(res);
    return;
  }
  check_tus_request(req, segs.empty());
  const std::string who = owner();
  const std::time_t t = now();

  if (segs.empty()) {  // creation (and creation-with-upload)
    // Upload-Length, or Upload-Defer-Length: 1 (creation-defer-length: the length comes
    // with a later PATCH); exactly one of them.
    auto len_h = req.find("Upload-Length");
    auto defer_h = req.find("Upload-Defer-Length");
    const bool deferred = defer_h != req.end();
    if (deferred && defer_h->value() != "1") throw bad("Upload-Defer-Length must be 1");
    if (deferred && len_h != req.end()) throw bad("send Upload-Length or Upload-Defer-Length: 1, not both");
    if (!deferred && len_h == req.end()) throw bad("Upload-Length (or Upload-Defer-Length: 1) is required");
    std::optional<std::uint64_t> length;
    if (!deferred) {
      length = parse_u64(len_h->value());
      if (!length) throw bad("Upload-Length must be a non-negative integer");
    }
    Meta m;
    m.metadata = std::string(req["Upload-Metadata"]);
    m.type = media_type_of(parse_metadata(m.metadata));
    if (length && *length > limit_of(m.type)) throw over_limit("Upload-Length", *length, m.type);
    const std::string& body = req.body();
    if (!body.empty()) {
      require_octet_stream(req);
      if (length && body.size() > *length) throw ApiError{413, "payload_too_large", "the body exceeds Upload-Length"};
      if (!length && body.size() > limit_of(m.type)) throw over_limit("the body is", body.size(), m.type);
      verify_checksum(req, body);
    }
    m.owner = who;
    m.deferred = deferred;
    m.length = length.value_or(0);
    m.expires = t + ttl_;
    const std::string id = random_id("upl_", 24);
    std::lock_guard<std::mutex> lk(mu_);
    const fs::path bin = fs::path(dir_) / (id + ".bin");
    append(bin, 0, body);
    try {
      media_hook(media_, id, bin, m, 0, body.size(), res);
    } catch (const ApiError&) {
      std::error_code ec;
      fs::remove(bin, ec);  // a refused first chunk creates nothing
      throw;
    }
    save(fs::path(dir_) / (id + ".meta"), m);
    res.result(http::status::created);
    res.set(http::field::location, base + "/v1/uploads/" + id);
    res.set("Upload-Offset", std::to_string(body.size()));
    if (body.size() < m.known_length()) res.set("Upload-Expires", http_date(m.expires));
    return;
  }

  const std::string& id = segs[0];
  if (method == http::verb::patch) {  // a body read whole (the server streams PATCH bodies through begin_patch)
    auto patch = start_patch(req, id, who);
    patch->write(req.body());
    patch->finish(true, res);
    return;
  }
  if (!valid_id(id)) throw not_found(id);
  std::lock_guard<std::mutex> lk(mu_);
  const fs::path meta_path = fs::path(dir_) / (id + ".meta"), bin = fs::path(dir_) / (id + ".bin");
  auto m = load(meta_path);
  if (!m || m->owner != who) throw not_found(id);  // another caller's upload does not exist for them
  auto running = active_.find(id);
  const std::uint64_t offset = running != active_.end() ? running->second->start : size_of(bin);
  const bool complete = offset >= m->known_length();
  if (!complete && m->expires <= t) throw ApiError{410, "gone", "the upload '" + id + "' expired"};

  if (method == http::verb::delete_) {
    if (running != active_.end()) {  // a PATCH still running writes nothing more
      std::lock_guard<std::mutex> lk2(running->second->mu);
      running->second->superseded = true;
      active_.erase(running);
    }
    std::error_code ec;
    fs::remove(bin, ec);
    fs::remove(meta_path, ec);
    fs::remove(fs::path(dir_) / (id + ".pending"), ec);
    res.result(http::status::no_content);
    return;
  }
  // HEAD
  res.result(http::status::ok);
  res.set("Upload-Offset", std::to_string(offset));
  if (m->deferred) res.set("Upload-Defer-Length", "1");  // until a PATCH declares the length
  else res.set("Upload-Length", std::to_string(m->length));
  if (!m->metadata.empty()) res.set("Upload-Metadata", m->metadata);
  if (!complete) res.set("Upload-Expires", http_date(m->expires));
  if (complete && media_)
    if (auto media_id = media_->of_upload(id)) res.set("Hues-Media-Id", *media_id);
  res.set(http::field::cache_control, "no-store");
}

void Uploads::purge_expired() {
  std::lock_guard<std::mutex> lk(mu_);
  std::error_code ec;
  const std::time_t t = now();
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (e.path().extension() != ".meta") continue;
    if (active_.count(e.path().stem().string())) continue;  // a PATCH is writing it
    auto m = load(e.path());
    fs::path bin = e.path();
    bin.replace_extension(".bin");
    if (m && (size_of(bin) >= m->known_length() || m->expires > t)) continue;
    std::error_code ec2;
    fs::remove(bin, ec2);
    fs::remove(e.path(), ec2);
  }
}

}  // namespace hues::sandbox
