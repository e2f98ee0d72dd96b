// Media objects (docs/openapi.yaml, tag Media): what a finished tus upload becomes.
//
// - sniff(): the magic numbers of the declared type (photo, audio, video, document), checked
//   on the PATCH that brings the upload's first kSniffBytes; executables are refused whatever
//   the type. uploads.cpp calls Media::check_head after a chunk is on disk and before its
//   offset is answered, and Media::finish once the last byte is in.
// - probe(): pixel size (JPEG SOF, PNG IHDR, WebP VP8/VP8L/VP8X) or duration (WAV header,
//   MP4/MOV/M4A/3GP mvhd), read from the file in pieces; other formats have neither.
// - strip_location(): the photo without its location metadata (JPEG Exif and XMP APP1,
//   PNG eXIf and XMP text, WebP EXIF and XMP chunks), for photos of anonymous reports.
// - content(): GET /v1/media/{id}/content with ETag, Range (RFC 9110), If-None-Match, If-Range;
//   the bytes are streamed from the file (Response::file), any range of any size.
//
// A media object's bytes are DATA_DIR/uploads/<media id>.content, a hard link to the upload's
// .bin (so a tus DELETE of the finished upload leaves the medium), replaced by a stripped
// copy when its location is removed. Its row is in the store (schema step 11).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api.h"
#include "store.h"

namespace hues::sandbox {

namespace media {

// How many bytes of an upload's head decide its type (fewer when the upload is shorter).
inline constexpr std::size_t kSniffBytes = 64;
// How much of the head a plain-text document is checked over (valid UTF-8, no controls).
inline constexpr std::size_t kTextSniffBytes = 4096;

struct Verdict {
  enum class Kind { kAccept, kRefuse, kNeedMore };
  Kind kind = Kind::kNeedMore;
  std::string content_type;  // kAccept
  std::string message;       // kRefuse
};
// head: the upload's first bytes (up to kTextSniffBytes); whole: head is the entire upload.
// filetype: the Upload-Metadata filetype ("" when none), used only to name an OOXML document.
Verdict sniff(std::string_view declared_type, std::string_view head, bool whole, std::string_view filetype = {});

struct Properties {
  std::optional<std::int64_t> width, height, duration_ms;
};
Properties probe(const std::string& path, std::string_view content_type);

// The photo's bytes without location metadata; nullopt when its format cannot be stripped
// (HEIC/HEIF). Photos are at most 25 MiB, so this works in memory.
std::optional<std::string> strip_location(std::string_view bytes, std::string_view content_type);

// A byte range of a representation of size bytes (RFC 9110 §14.1.2); first..last inclusive.
struct ByteRange {
  std::uint64_t first = 0, last = 0;
};
// The ranges of a Range header value: nullopt when the header is not a bytes range set (to be
// ignored, RFC 9110 §14.2); an empty vector when none is satisfiable (416).
std::optional<std::vector<ByteRange>> parse_range(std::string_view value, std::uint64_t size);

}  // namespace media

class Media {
 public:
  Media(Store& store, std::string dir) : store_(store), dir_(std::move(dir)) {}

  // After a chunk is on disk: once the file holds the upload's head (or all of it), throws
  // ApiError 415 media_type_mismatch unless it is the declared type. field: "type" or
  // "filetype" (what declared it). offset_before: where the chunk started.
  void check_head(const std::string& bin_path, std::uint64_t offset_before, std::uint64_t offset_after,
                  std::uint64_t length, const std::string& type, const std::string& field,
                  const std::string& filetype);
  // Once the upload is whole: its media object (created on the first call), whose id answers.
  std::string finish(const std::string& upload_id, const std::string& bin_path, const std::string& owner,
                     const std::string& type, const std::string& filetype);
  // The media object of a finished upload, if one was made.
  std::optional<std::string> of_upload(const std::string& upload_id);

  // Media ids a caller attaches (to a report, a comment or a step): each must be a finished
  // medium of the caller's (400 naming field[i] otherwise). With strip, photos lose their
  // location metadata first (anonymous reports); a photo that cannot be stripped is a 400.
  // Throws ApiError.
  void check_attachable(const std::vector<std::string>& ids, const Caller& caller, const std::string& field,
                        bool strip);

  // GET /v1/media/{id} and GET /v1/media/{id}/content for caller (404 when not visible).
  void get(const Request& req, Response& res, const std::string& id, const Caller& caller);
  void content(const Request& req, Response& res, const std::string& id, const Caller& caller);

 private:
  MediaRecord visible(const std::string& id, const Caller& caller);
  std::string path_of(const std::string& media_id) const;

  Store& store_;
  std::string dir_;
};

}  // namespace hues::sandbox
