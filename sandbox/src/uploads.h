// The sandbox as a tus 1.0.0 server at /v1/uploads (docs/openapi.yaml, tag Media): the core
// protocol with the creation, creation-with-upload, creation-defer-length, termination,
// checksum (sha1, sha256) and expiration extensions. Uploads live under DATA_DIR/uploads/
// (0700): <id>.meta (JSON: owner, length or "deferred": true, metadata, media type, expiry)
// and <id>.bin (the bytes so far; its size is the offset), both 0600. They survive a restart
// on the same data directory; a .meta written before creation-defer-length loads as before.
//
// creation-defer-length: a POST with Upload-Defer-Length: 1 (no other value) and no
// Upload-Length makes an upload whose HEAD answers Upload-Defer-Length: 1 until a PATCH
// carries Upload-Length (at least the offset; over the type's limit 413). The length is set
// when that PATCH's bytes count, and from then on a PATCH with another Upload-Length is 400
// (the same value is accepted). While the length is deferred the type's limit bounds the
// bytes: a PATCH that would pass it is 413 and none of its bytes are kept. The upload is
// complete (sniffed whole, its media object made) when its offset reaches the length, which
// may be on an empty PATCH that only declares it.
//
// Upload-Metadata must name the media type: `type` (photo | audio | video | document) or a
// `filetype` MIME type it follows from (image/* photo, audio/*, video/*, anything else
// document). Upload-Length over the type's limit is 413. A PATCH body streams to <id>.bin in
// pieces (the server hands them to an UploadPatch as they arrive), so one PATCH may carry
// the whole rest of an upload with memory bounded by the server's piece buffer; the body of
// a creation-with-upload POST is read whole and is at most kUploadChunkLimit (8 MiB).
//
// A PATCH's bytes count (HEAD's Upload-Offset) once it ends: complete, or cut off (the
// connection dropped or stalled: what arrived is kept, tus core's "store as much as
// possible", unless the PATCH carried Upload-Checksum, which an incomplete chunk cannot
// match). While it runs, <id>.pending holds its start offset; a crash leaves it behind and
// the next start cuts <id>.bin back to it. A newer PATCH at the same offset takes over
// from one still running (its client is likely gone and retrying): the older stops.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
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
// One PATCH body on its way to disk (Uploads::begin_patch). Used by one thread at a time.
class UploadPatch {
 public:
  // Not finished (the connection dropped, the server stopped): as finish(false).
  virtual ~UploadPatch() = default;
  // The next piece of the body, written at once. Throws ApiError: 413 when the body would
  // take the upload past its Upload-Length (the chunk is discarded, the offset unchanged),
  // 409 when a newer PATCH took over.
  virtual void write(std::string_view piece) = 0;
  // The body ended, whole (complete) or cut off. Commits the bytes (see above) and, when
  // complete, fills res with the 204; throws ApiError (460 on a checksum mismatch, the chunk
  // discarded). Idempotent.
  virtual void finish(bool complete, Response& res) = 0;
};

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

  // A PATCH whose body is still to come: every check that needs no body byte is made here
  // (tus version, owner, expiry, Content-Type, Upload-Offset, a Content-Length past
  // Upload-Length, the Upload-Checksum header), before the caller reads the body. Throws
  // ApiError as handle() would answer.
  std::unique_ptr<UploadPatch> begin_patch(const Request& header, const std::string& id,
                                           const std::function<std::string()>& owner);

  // Removes unfinished uploads whose expiry has passed (the server's purge timer).
  void purge_expired();

  // Sniffs each upload's head and makes the media object of each finished one (media.h).
  void set_media(Media* media) { media_ = media; }
  const std::string& dir() const { return dir_; }

 private:
  friend class PatchWrite;
  // A PATCH in progress: the upload's offset is still `start`; a newer PATCH or a DELETE
  // sets superseded (under mu) and the older one writes nothing more.
  struct Active {
    std::mutex mu;
    bool superseded = false;
    std::uint64_t start = 0;
  };
  std::unique_ptr<UploadPatch> start_patch(const Request& header, const std::string& id, const std::string& who);

  std::string dir_;
  int ttl_;
  std::mutex mu_;  // guards the .meta files and active_; never held while waiting for the network
  std::map<std::string, std::shared_ptr<Active>> active_;
  Media* media_ = nullptr;
};

// Whether a request target is under /v1/uploads (the server's body limit and tus headers).
bool is_upload_target(std::string_view target);

}  // namespace hues::sandbox
