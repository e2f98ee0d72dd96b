// The sandbox as a tus 1.0.0 server at /v1/uploads (docs/openapi.yaml, tag Media): the core
// protocol with the creation, creation-with-upload, termination, checksum (sha1, sha256) and
// expiration extensions. Uploads live under DATA_DIR/uploads/ (0700): <id>.meta (JSON: owner,
// length, metadata, media type, expiry) and <id>.bin (the bytes so far; its size is the
// offset), both 0600. They survive a restart on the same data directory.
//
// Upload-Metadata must name the media type: `type` (photo | audio | video | document) or a
// `filetype` MIME type it follows from (image/* photo, audio/*, video/*, anything else
// document). Upload-Length over the type's limit is 413. A request body (one PATCH chunk or
// the body of a creation-with-upload POST) is at most kUploadChunkLimit (8 MiB, 413 above
// it): the server reads a body whole before handing it on, so a chunk is bounded in memory,
// and the upload itself goes to disk chunk by chunk.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "api.h"

namespace hues::sandbox {

struct MediaLimit {
  const char* type;
  std::uint64_t max_bytes;
};
// photo 25 MiB, audio 200 MiB, video 2 GiB, document 50 MiB; Tus-Max-Size is the largest.
extern const MediaLimit kMediaLimits[4];
std::uint64_t max_upload_size();

class Media;

class Uploads {
 public:
  // dir: where uploads are kept (created 0700); ttl_seconds: an unfinished upload expires this
  // long after its creation or its last PATCH.
  Uploads(std::string dir, int ttl_seconds);

  // Answers a request under /v1/uploads (segs: the path segments after "uploads", at most
  // one). owner() authenticates the caller (throws the API's error) and names them; it is not
  // called for OPTIONS. base: scheme://host:port for the Location header. Throws ApiError.
  void handle(const Request& req, Response& res, const std::vector<std::string>& segs, const std::string& base,
              const std::function<std::string()>& owner);

  // Removes unfinished uploads whose expiry has passed (the server's purge timer).
  void purge_expired();

  // Sniffs each upload's head and makes the media object of each finished one (media.h).
  void set_media(Media* media) { media_ = media; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  int ttl_;
  std::mutex mu_;  // one request at a time touches the files
  Media* media_ = nullptr;
};

// Whether a request target is under /v1/uploads (the server's body limit and tus headers).
bool is_upload_target(std::string_view target);

}  // namespace hues::sandbox
