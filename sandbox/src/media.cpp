#include "media.h"

#include <boost/beast/http/field.hpp>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "internal/json_codec.h"
#include "oidc.h"  // ApiError
#include "store.h"
#include "util.h"

namespace hues::sandbox {
namespace media {
namespace {

bool starts(std::string_view s, std::string_view prefix, std::size_t at = 0) {
  return s.size() >= at + prefix.size() && s.substr(at, prefix.size()) == prefix;
}
unsigned byte(std::string_view s, std::size_t i) { return static_cast<unsigned char>(s[i]); }
std::uint32_t be32(std::string_view s, std::size_t i) {
  return (byte(s, i) << 24) | (byte(s, i + 1) << 16) | (byte(s, i + 2) << 8) | byte(s, i + 3);
}
std::uint32_t le32(std::string_view s, std::size_t i) {
  return byte(s, i) | (byte(s, i + 1) << 8) | (byte(s, i + 2) << 16) | (byte(s, i + 3) << 24);
}
std::uint16_t be16(std::string_view s, std::size_t i) { return static_cast<std::uint16_t>((byte(s, i) << 8) | byte(s, i + 1)); }

// What an executable looks like (ELF, PE/MZ, Mach-O and fat binaries, #! scripts); "" if not.
// "#!AMR" is the AMR audio magic, not a script.
std::string executable_kind(std::string_view h) {
  if (starts(h, "\x7f" "ELF")) return "an ELF executable";
  if (starts(h, "MZ")) return "a Windows (PE/MZ) executable";
  if (h.size() >= 4) {
    const std::uint32_t m = be32(h, 0);
    if (m == 0xFEEDFACE || m == 0xFEEDFACF || m == 0xCEFAEDFE || m == 0xCFFAEDFE || m == 0xCAFEBABE)
      return "a Mach-O executable";
  }
  if (starts(h, "#!") && !starts(h, "#!AMR")) return "a script (#!)";
  return {};
}

// The ISO base media file format's ftyp box: its major brand, or "" when there is none.
std::string ftyp_brand(std::string_view h) {
  if (h.size() < 12 || !starts(h, "ftyp", 4)) return {};
  return std::string(h.substr(8, 4));
}

bool one_of(std::string_view v, std::initializer_list<std::string_view> set) {
  for (auto s : set)
    if (v == s) return true;
  return false;
}

std::string photo_type(std::string_view h) {
  if (starts(h, "\xFF\xD8\xFF")) return "image/jpeg";
  if (starts(h, "\x89PNG\r\n\x1a\n")) return "image/png";
  if (starts(h, "RIFF") && starts(h, "WEBP", 8)) return "image/webp";
  const std::string b = ftyp_brand(h);
  if (one_of(b, {"heic", "heix", "hevc", "hevx", "heim", "heis"})) return "image/heic";
  if (one_of(b, {"mif1", "msf1"})) return "image/heif";
  return {};
}

std::string matroska_type(std::string_view h, const char* webm, const char* mkv) {
  if (!starts(h, "\x1A\x45\xDF\xA3")) return {};
  return h.substr(0, kSniffBytes).find("webm") != std::string_view::npos ? webm : mkv;
}

std::string audio_type(std::string_view h) {
  if (starts(h, "ID3")) return "audio/mpeg";
  if (h.size() >= 2 && byte(h, 0) == 0xFF && (byte(h, 1) & 0xE0) == 0xE0) {
    if ((byte(h, 1) & 0xF6) == 0xF0) return "audio/aac";  // ADTS: MPEG layer bits 00
    if ((byte(h, 1) & 0x06) != 0 && (byte(h, 1) & 0x18) != 0x08) return "audio/mpeg";  // a layer, a valid version
  }
  if (starts(h, "ADIF")) return "audio/aac";
  if (starts(h, "RIFF") && starts(h, "WAVE", 8)) return "audio/wav";
  if (starts(h, "OggS")) return "audio/ogg";
  if (starts(h, "#!AMR-WB\n")) return "audio/amr-wb";
  if (starts(h, "#!AMR\n")) return "audio/amr";
  if (starts(h, "fLaC")) return "audio/flac";
  const std::string b = ftyp_brand(h);
  if (one_of(b, {"M4A ", "M4B ", "M4P ", "isom", "iso2", "mp41", "mp42", "dash"})) return "audio/mp4";
  if (b.rfind("3gp", 0) == 0 || b.rfind("3g2", 0) == 0) return "audio/3gpp";
  return matroska_type(h, "audio/webm", "audio/x-matroska");
}

std::string video_type(std::string_view h) {
  const std::string b = ftyp_brand(h);
  if (b == "qt  ") return "video/quicktime";
  if (b.rfind("3gp", 0) == 0 || b.rfind("3g2", 0) == 0) return "video/3gpp";
  if (one_of(b, {"isom", "iso2", "iso4", "iso5", "iso6", "mp41", "mp42", "avc1", "M4V ", "dash", "mmp4", "MSNV", "XAVC"}))
    return "video/mp4";
  return matroska_type(h, "video/webm", "video/x-matroska");
}

// Valid UTF-8 with no control characters but tab, newline, form feed and carriage return.
// When the head is cut (not whole), a sequence cut at its end is fine.
bool plain_text(std::string_view h, bool whole) {
  if (h.empty()) return false;
  std::size_t i = starts(h, "\xEF\xBB\xBF") ? 3 : 0;
  while (i < h.size()) {
    const unsigned c = byte(h, i);
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\f' && c != '\r') return false;
      if (c == 0x7F) return false;
      ++i;
      continue;
    }
    std::size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
    if (n == 0) return false;
    if (i + n > h.size()) return !whole;  // cut at the end of the head
    unsigned cp = c & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
    for (std::size_t k = 1; k < n; ++k) {
      const unsigned cc = byte(h, i + k);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n;
  }
  return true;
}

std::string document_type(std::string_view h, bool whole, std::string_view filetype) {
  if (starts(h, "%PDF-")) return "application/pdf";
  if (starts(h, "PK\x03\x04") && h.size() >= 30) {
    // OOXML (docx, xlsx, pptx) starts with [Content_Types].xml, _rels/ or docProps/;
    // OpenDocument with a stored "mimetype" entry holding its MIME type.
    const std::size_t name_len = byte(h, 26) | (byte(h, 27) << 8), extra = byte(h, 28) | (byte(h, 29) << 8);
    const std::string_view name = h.substr(30, std::min(name_len, h.size() - 30));
    if (name == "mimetype") {
      const std::string_view rest = h.substr(std::min(h.size(), 30 + name_len + extra));
      const std::size_t size = le32(h, 18);
      if (rest.size() >= size && size < 100 && rest.substr(0, size).rfind("application/vnd.oasis.opendocument.", 0) == 0)
        return std::string(rest.substr(0, size));
      return {};
    }
    if (name == "[Content_Types].xml" || name.rfind("_rels/", 0) == 0 || name.rfind("docProps/", 0) == 0 ||
        name.rfind("word/", 0) == 0 || name.rfind("xl/", 0) == 0 || name.rfind("ppt/", 0) == 0)
      return filetype.rfind("application/vnd.openxmlformats-officedocument.", 0) == 0 ? std::string(filetype)
                                                                                       : "application/zip";
    return {};
  }
  if (plain_text(h, whole)) return "text/plain; charset=utf-8";
  return {};
}

const char* expected_of(std::string_view type) {
  if (type == "photo") return "JPEG, PNG, WebP or HEIC/HEIF";
  if (type == "audio") return "MP3, AAC/M4A, WAV, Ogg/Opus, AMR, FLAC or WebM audio";
  if (type == "video") return "MP4, MOV, 3GP, WebM or Matroska";
  return "PDF, an Office Open XML or OpenDocument file, or UTF-8 plain text";
}

}  // namespace

Verdict sniff(std::string_view type, std::string_view head, bool whole, std::string_view filetype) {
  Verdict v;
  if (auto exe = executable_kind(head); !exe.empty()) {
    v.kind = Verdict::Kind::kRefuse;
    v.message = "the content is " + exe + ", which is never accepted";
    return v;
  }
  if (head.size() < kSniffBytes && !whole) return v;  // kNeedMore
  std::string ct = type == "photo"   ? photo_type(head)
                   : type == "audio" ? audio_type(head)
                   : type == "video" ? video_type(head)
                                     : document_type(head, whole, filetype);
  if (ct.empty()) {
    v.kind = Verdict::Kind::kRefuse;
    v.message = "the content is not a " + std::string(type) + " (" + expected_of(type) + ")";
    return v;
  }
  v.kind = Verdict::Kind::kAccept;
  v.content_type = std::move(ct);
  return v;
}

namespace {

using File = PositionalFile;

void jpeg_size(const File& f, Properties& p) {
  std::uint64_t at = 2;
  for (int guard = 0; guard < 10000 && at + 4 <= f.size(); ++guard) {
    std::string m = f.read(at, 9);
    if (m.size() < 4 || byte(m, 0) != 0xFF) return;
    const unsigned marker = byte(m, 1);
    if (marker == 0xFF) {  // fill byte
      ++at;
      continue;
    }
    if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
      at += 2;
      continue;
    }
    if (marker == 0xD9 || marker == 0xDA) return;  // end of image, start of scan: no SOF before
    const std::uint16_t len = be16(m, 2);
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
      if (m.size() < 9) return;
      p.height = be16(m, 5);
      p.width = be16(m, 7);
      return;
    }
    at += 2 + len;
  }
}

void png_size(const File& f, Properties& p) {
  const std::string h = f.read(0, 24);
  if (h.size() == 24 && starts(h, "IHDR", 12)) {
    p.width = be32(h, 16);
    p.height = be32(h, 20);
  }
}

void webp_size(const File& f, Properties& p) {
  const std::string h = f.read(0, 30);
  if (h.size() < 30) return;
  if (starts(h, "VP8 ", 12)) {  // lossy: frame tag (3), start code (3), 14-bit width and height
    p.width = (byte(h, 26) | (byte(h, 27) << 8)) & 0x3FFF;
    p.height = (byte(h, 28) | (byte(h, 29) << 8)) & 0x3FFF;
  } else if (starts(h, "VP8L", 12)) {  // lossless: signature 0x2F, then 14 bits each of width-1, height-1
    const std::uint32_t b = le32(h, 21);
    p.width = (b & 0x3FFF) + 1;
    p.height = ((b >> 14) & 0x3FFF) + 1;
  } else if (starts(h, "VP8X", 12)) {  // extended: flags (4), then 24-bit canvas width-1, height-1
    p.width = (byte(h, 24) | (byte(h, 25) << 8) | (byte(h, 26) << 16)) + 1;
    p.height = (byte(h, 27) | (byte(h, 28) << 8) | (byte(h, 29) << 16)) + 1;
  }
}

void wav_duration(const File& f, Properties& p) {
  std::uint64_t at = 12, byte_rate = 0;
  for (int guard = 0; guard < 1000 && at + 8 <= f.size(); ++guard) {
    const std::string c = f.read(at, 20);  // chunk id, size, and of "fmt ": format, channels, rate, byte rate
    if (c.size() < 8) return;
    const std::uint64_t len = le32(c, 4);
    if (starts(c, "fmt ") && c.size() >= 20) byte_rate = le32(c, 8 + 8);
    if (starts(c, "data")) {
      if (byte_rate > 0) p.duration_ms = static_cast<std::int64_t>(std::min(len, f.size() - at - 8) * 1000 / byte_rate);
      return;
    }
    at += 8 + len + (len & 1);
  }
}

// Walks the boxes of [begin, end) for one of type; its payload's [begin, end).
std::optional<std::pair<std::uint64_t, std::uint64_t>> find_box(const File& f, std::uint64_t begin, std::uint64_t end,
                                                                std::string_view type) {
  std::uint64_t at = begin;
  for (int guard = 0; guard < 100000 && at + 8 <= end; ++guard) {
    const std::string h = f.read(at, 16);
    if (h.size() < 8) return std::nullopt;
    std::uint64_t size = be32(h, 0), header = 8;
    if (size == 1) {
      if (h.size() < 16) return std::nullopt;
      size = (static_cast<std::uint64_t>(be32(h, 8)) << 32) | be32(h, 12);
      header = 16;
    } else if (size == 0) {
      size = end - at;
    }
    if (size < header || at + size > end) return std::nullopt;
    if (h.substr(4, 4) == type) return std::make_pair(at + header, at + size);
    at += size;
  }
  return std::nullopt;
}

void mp4_duration(const File& f, Properties& p) {
  auto moov = find_box(f, 0, f.size(), "moov");
  if (!moov) return;
  auto mvhd = find_box(f, moov->first, moov->second, "mvhd");
  if (!mvhd) return;
  const std::string b = f.read(mvhd->first, 32);
  if (b.size() < 20) return;
  std::uint64_t timescale = 0, duration = 0;
  if (byte(b, 0) == 1) {
    if (b.size() < 32) return;
    timescale = be32(b, 20);
    duration = (static_cast<std::uint64_t>(be32(b, 24)) << 32) | be32(b, 28);
  } else {
    timescale = be32(b, 12);
    duration = be32(b, 16);
  }
  if (timescale > 0 && duration != 0xFFFFFFFFu && duration != ~0ull)
    p.duration_ms = static_cast<std::int64_t>(duration / timescale * 1000 + duration % timescale * 1000 / timescale);
}

}  // namespace

Properties probe(const std::string& path, std::string_view ct) {
  Properties p;
  File f(path);
  if (ct == "image/jpeg") jpeg_size(f, p);
  else if (ct == "image/png") png_size(f, p);
  else if (ct == "image/webp") webp_size(f, p);
  else if (ct == "audio/wav") wav_duration(f, p);
  else if (ct == "video/mp4" || ct == "video/quicktime" || ct == "video/3gpp" || ct == "audio/mp4" || ct == "audio/3gpp")
    mp4_duration(f, p);
  return p;
}

namespace {

bool is_xmp_keyword(std::string_view data) { return starts(data, "XML:com.adobe.xmp") && data.size() > 17 && data[17] == '\0'; }

std::optional<std::string> strip_jpeg(std::string_view in) {
  std::string out(in.substr(0, 2));
  std::size_t at = 2;
  while (at + 4 <= in.size()) {
    if (byte(in, at) != 0xFF) return std::nullopt;
    const unsigned marker = byte(in, at + 1);
    if (marker == 0xFF) {
      ++at;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) break;  // the scan (entropy-coded data) and the rest: kept as is
    if ((marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
      out.append(in.substr(at, 2));
      at += 2;
      continue;
    }
    const std::size_t len = be16(in, at + 2);
    if (len < 2 || at + 2 + len > in.size()) return std::nullopt;
    const std::string_view data = in.substr(at + 4, len - 2);
    const bool drop = marker == 0xE1 && (starts(data, std::string_view("Exif\0\0", 6)) ||
                                         starts(data, std::string_view("http://ns.adobe.com/xap/1.0/\0", 29)) ||
                                         starts(data, std::string_view("http://ns.adobe.com/xmp/extension/\0", 35)));
    if (!drop) out.append(in.substr(at, 2 + len));
    at += 2 + len;
  }
  out.append(in.substr(std::min(at, in.size())));
  return out;
}

std::optional<std::string> strip_png(std::string_view in) {
  std::string out(in.substr(0, 8));
  std::size_t at = 8;
  while (at + 12 <= in.size()) {
    const std::size_t len = be32(in, at);
    if (at + 12 + len > in.size()) return std::nullopt;
    const std::string_view type = in.substr(at + 4, 4), data = in.substr(at + 8, len);
    const bool drop = type == "eXIf" || ((type == "iTXt" || type == "tEXt" || type == "zTXt") && is_xmp_keyword(data));
    if (!drop) out.append(in.substr(at, 12 + len));
    at += 12 + len;
    if (type == "IEND") break;
  }
  out.append(in.substr(std::min(at, in.size())));
  return out;
}

std::optional<std::string> strip_webp(std::string_view in) {
  if (in.size() < 12) return std::nullopt;
  std::string out(in.substr(0, 12));
  std::size_t at = 12;
  while (at + 8 <= in.size()) {
    const std::size_t len = le32(in, at + 4), padded = len + (len & 1);
    if (at + 8 + len > in.size()) return std::nullopt;
    const std::string_view type = in.substr(at, 4);
    if (type != "EXIF" && type != "XMP ") {
      std::string chunk(in.substr(at, std::min(8 + padded, in.size() - at)));
      if (type == "VP8X" && chunk.size() > 8) chunk[8] = static_cast<char>(byte(chunk, 8) & ~0x0C);  // no EXIF, XMP flags
      out += chunk;
    }
    at += 8 + padded;
  }
  const std::uint32_t riff = static_cast<std::uint32_t>(out.size() - 8);
  for (int i = 0; i < 4; ++i) out[4 + i] = static_cast<char>((riff >> (8 * i)) & 0xFF);
  return out;
}

}  // namespace

std::optional<std::string> strip_location(std::string_view bytes, std::string_view ct) {
  if (ct == "image/jpeg") return strip_jpeg(bytes);
  if (ct == "image/png") return strip_png(bytes);
  if (ct == "image/webp") return strip_webp(bytes);
  return std::nullopt;
}

std::optional<std::vector<ByteRange>> parse_range(std::string_view v, std::uint64_t size) {
  auto trim = [](std::string_view x) {
    while (!x.empty() && (x.front() == ' ' || x.front() == '\t')) x.remove_prefix(1);
    while (!x.empty() && (x.back() == ' ' || x.back() == '\t')) x.remove_suffix(1);
    return x;
  };
  auto number = [](std::string_view s) -> std::optional<std::uint64_t> {
    if (s.empty() || s.size() > 19) return std::nullopt;
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return n;
  };
  v = trim(v);
  const auto eq = v.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  std::string unit(trim(v.substr(0, eq)));
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit != "bytes") return std::nullopt;
  std::vector<ByteRange> out;
  std::string_view set = v.substr(eq + 1);
  bool any = false;
  while (!set.empty()) {
    const auto comma = set.find(',');
    const std::string_view spec = trim(set.substr(0, comma));
    set = comma == std::string_view::npos ? std::string_view() : set.substr(comma + 1);
    if (spec.empty()) continue;
    any = true;
    const auto dash = spec.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    const auto a = spec.substr(0, dash), b = spec.substr(dash + 1);
    if (a.empty()) {  // suffix: the last n bytes
      auto n = number(b);
      if (!n) return std::nullopt;
      if (*n == 0 || size == 0) continue;
      out.push_back({size - std::min(*n, size), size - 1});
      continue;
    }
    auto first = number(a);
    if (!first) return std::nullopt;
    std::uint64_t last = size ? size - 1 : 0;
    if (!b.empty()) {
      auto l = number(b);
      if (!l || *l < *first) return std::nullopt;
      last = std::min(*l, last);
    }
    if (*first >= size) continue;  // unsatisfiable on its own
    out.push_back({*first, last});
  }
  if (!any) return std::nullopt;
  return out;
}

}  // namespace media

namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;

std::string sha256_file_hex(const std::string& path, std::uint64_t& size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + path);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::string buf(1 << 20, '\0');
  size = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(n));
    size += static_cast<std::uint64_t>(n);
  }
  ::close(fd);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_DigestFinal_ex(ctx.get(), out, &n);
  return internal::to_hex(std::string_view(reinterpret_cast<char*>(out), n));
}

std::string read_head(const std::string& path, std::size_t n) { return PositionalFile(path).read(0, n); }

ApiError not_found(const std::string& id) { return {404, "not_found", "no media with id '" + id + "'"}; }

std::string etag_of(const MediaRecord& m) { return "\"" + m.sha256 + "\""; }

// RFC 9110 §13.1.2 If-None-Match (weak comparison) and §13.1.5 If-Range (strong, entity tags
// only: a date never matches, so the whole representation is sent).
bool etag_listed(std::string_view list, const std::string& etag, bool weak) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view t = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    if (t == "*") return true;
    if (t.substr(0, 2) == "W/") {
      if (!weak) continue;
      t.remove_prefix(2);
    }
    if (t == etag) return true;
  }
  return false;
}

}  // namespace

std::string Media::path_of(const std::string& media_id) const { return (fs::path(dir_) / (media_id + ".content")).string(); }

void Media::check_head(const std::string& bin_path, std::uint64_t offset_before, std::uint64_t offset_after,
                       std::uint64_t length, const std::string& type, const std::string& field,
                       const std::string& filetype) {
  if (offset_before >= media::kSniffBytes && offset_before > 0) return;  // decided by an earlier chunk
  if (offset_after == offset_before && offset_after < length) return;    // nothing new
  const std::string head = read_head(bin_path, media::kTextSniffBytes);
  const bool whole = offset_after >= length;
  const auto v = media::sniff(type, head, whole, filetype);
  if (v.kind == media::Verdict::Kind::kAccept) return;
  if (v.kind == media::Verdict::Kind::kNeedMore && !whole) return;
  ApiError e{415, "media_type_mismatch",
             v.kind == media::Verdict::Kind::kNeedMore ? "the upload is too short to be a " + type
                                                       : v.message + "; the chunk was discarded"};
  e.field = field;
  throw e;
}

std::string Media::finish(const std::string& upload_id, const std::string& bin_path, const std::string& owner,
                          const std::string& type, const std::string& filetype) {
  if (auto id = store_.media_of_upload(upload_id)) return *id;
  MediaRecord m;
  m.id = random_id("m_", 24);
  m.upload_id = upload_id;
  m.owner = owner;
  m.type = type;
  const std::string head = read_head(bin_path, media::kTextSniffBytes);
  m.content_type = media::sniff(type, head, true, filetype).content_type;
  const std::string content = path_of(m.id);
  std::error_code ec;
  fs::create_hard_link(bin_path, content, ec);
  if (ec) fs::copy_file(bin_path, content, fs::copy_options::overwrite_existing);
  m.sha256 = sha256_file_hex(content, m.size);
  const auto p = media::probe(content, m.content_type);
  m.width = p.width;
  m.height = p.height;
  m.duration_ms = p.duration_ms;
  m.created_at = rfc3339(now());
  const std::string id = store_.insert_media(m);
  if (id != m.id) fs::remove(content, ec);  // another request finished it first
  return id;
}

std::optional<std::string> Media::of_upload(const std::string& upload_id) { return store_.media_of_upload(upload_id); }

void Media::check_attachable(const std::vector<std::string>& ids, const Caller& caller, const std::string& field,
                             bool strip) {
  const std::string owner = caller.idempotency_owner();
  std::vector<MediaRecord> found;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto m = store_.media(ids[i]);
    const std::string name = field + "[" + std::to_string(i) + "]";
    if (!m || m->owner != owner) {
      ApiError e{400, "validation_error", name + ": no finished media object '" + ids[i] + "' of yours"};
      e.field = name;
      throw e;
    }
    if (strip && m->type == "photo" && !m->location_removed &&
        m->content_type != "image/jpeg" && m->content_type != "image/png" && m->content_type != "image/webp") {
      ApiError e{400, "validation_error",
                 name + ": the location metadata of a " + m->content_type +
                     " photo cannot be removed; attach JPEG, PNG or WebP to an anonymous report"};
      e.field = name;
      throw e;
    }
    found.push_back(std::move(*m));
  }
  if (!strip) return;
  for (auto& m : found) {
    if (m.type != "photo" || m.location_removed) continue;
    const std::string path = path_of(m.id);
    std::string bytes;
    {
      const std::uint64_t size = std::filesystem::file_size(path);
      bytes = read_head(path, static_cast<std::size_t>(size));
    }
    auto stripped = media::strip_location(bytes, m.content_type);
    if (!stripped) {
      ApiError e{400, "validation_error", "a photo's location metadata could not be removed: it is not a well-formed " +
                                              m.content_type};
      e.field = field;
      throw e;
    }
    // A new file renamed over the old name: a download in progress keeps the bytes it opened.
    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) throw std::runtime_error("cannot write " + tmp);
    const bool ok = ::write(fd, stripped->data(), stripped->size()) == static_cast<ssize_t>(stripped->size()) &&
                    ::fsync(fd) == 0;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) throw std::runtime_error("cannot write " + path);
    m.size = stripped->size();
    m.sha256 = internal::to_hex(internal::sha256(*stripped));
    m.location_removed = true;
    store_.update_media_content(m.id, m.size, m.sha256);
  }
}

MediaRecord Media::visible(const std::string& id, const Caller& caller) {
  auto m = store_.media(id);
  if (!m) throw not_found(id);
  if (m->owner == caller.idempotency_owner()) return *m;
  for (const auto& report_id : store_.media_reports(id))
    if (auto r = store_.report(report_id); r && r->visible_to(caller)) return *m;
  throw not_found(id);  // a stranger: as if there were none
}

void Media::get(const Request&, Response& res, const std::string& id, const Caller& caller) {
  const MediaRecord m = visible(id, caller);
  MediaObject o;
  o.id = m.id;
  o.type = m.type;
  o.content_type = m.content_type;
  o.size = static_cast<std::int64_t>(m.size);
  o.sha256 = m.sha256;
  o.created_at = m.created_at;
  if (m.owner == caller.idempotency_owner()) o.owner = m.owner;
  o.width = m.width;
  o.height = m.height;
  o.duration_ms = m.duration_ms;
  o.location_removed = m.location_removed;
  o.content_url = "/v1/media/" + m.id + "/content";
  res.result(http::status::ok);
  res.set(http::field::content_type, "application/json");
  res.set(http::field::etag, etag_of(m));
  res.body() = internal::to_json_string(o);
}

void Media::content(const Request& req, Response& res, const std::string& id, const Caller& caller) {
  const MediaRecord m = visible(id, caller);
  const std::string path = path_of(m.id);
  // Opened here, so the bytes sent are this file's even if a stripped copy replaces it meanwhile.
  auto f = std::make_shared<const PositionalFile>(path);
  const std::uint64_t size = f->size();
  const std::string etag = "\"" + m.sha256 + "\"";
  res.set(http::field::etag, etag);
  res.set(http::field::accept_ranges, "bytes");
  res.set(http::field::cache_control, "private, max-age=0");
  if (auto inm = req.find(http::field::if_none_match); inm != req.end() && etag_listed(inm->value(), etag, true)) {
    res.result(http::status::not_modified);
    return;
  }
  res.set(http::field::content_type, m.content_type);
  std::optional<std::vector<media::ByteRange>> ranges;
  if (auto range = req.find(http::field::range); range != req.end()) {
    bool honour = true;
    if (auto ir = req.find(http::field::if_range); ir != req.end()) honour = ir->value() == etag;  // strong only
    if (honour) ranges = media::parse_range(range->value(), size);
  }
  if (ranges && ranges->empty()) {
    res.result(http::status::range_not_satisfiable);
    res.set(http::field::content_range, "bytes */" + std::to_string(size));
    res.set(http::field::content_type, "application/json");
    res.body() = R"({"error":{"code":"range_not_satisfiable","message":"no range of the request is within the )" +
                 std::to_string(size) + R"( bytes","request_id":")" + std::string(res["X-Request-Id"]) + "\"}}";
    return;
  }
  // Several ranges: answered as one 206 of the first range only is not allowed, so they are
  // answered 200 with the whole representation (RFC 9110 §14.2 lets a server ignore Range).
  // Either way the server streams the bytes from the file (Response::file), whatever the size.
  if (ranges && ranges->size() == 1) {
    const media::ByteRange r = ranges->front();
    res.result(http::status::partial_content);
    res.set(http::field::content_range,
            "bytes " + std::to_string(r.first) + "-" + std::to_string(r.last) + "/" + std::to_string(size));
    res.file = FileBody{std::move(f), r.first, r.last - r.first + 1};
    return;
  }
  res.result(http::status::ok);
  res.file = FileBody{std::move(f), 0, size};
}

}  // namespace hues::sandbox
