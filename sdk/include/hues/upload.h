// Resumable upload of a file: a tus 1.0.0 client (core, creation, creation-with-upload,
// checksum, termination) that works against any tus 1.0 server, Hue-S's at /v1/uploads.
//
//   hues::UploadOptions o;
//   o.path = "/sdcard/DCIM/ngap-nuoc.mp4";
//   o.media_type = "video";
//   o.store = hues::make_file_upload_store(app_dir + "/uploads");  // resumes after a restart
//   o.progress = hues::progress_listener([](const hues::UploadProgress& p) { bar(p.uploaded, p.total); });
//   hues::Upload upload(client, o);
//   hues::UploadResult r = upload.start();   // r.url, r.size, r.media_id
//
// Memory stays bounded whatever the file's size: each chunk is read from disk in small pieces
// as it is sent (chunk_size costs no memory for a path; it sets the bytes per PATCH, i.e. how
// often the server commits and progress is told, and how much a failed PATCH may resend). A dropped connection, a 5xx, a 460 (checksum mismatch) or a 409 (offset
// mismatch) resumes from the server's offset (HEAD) after a backoff, instead of starting over;
// a 404/410 for a stored URL starts a fresh upload. Progress and store calls run on the SDK's
// host executor, in order, never on an I/O thread and never under an SDK lock.
//
// From a stream instead of a file: set source (an UploadSource) and leave path empty. Chunks
// are read from it as they are sent, into one chunk buffer per upload. A retry resends from the
// server's offset: a seekable source seeks back, a non-seekable one resends from the chunk it
// still holds (and fails with a ValidationError naming source when the server is behind that).
// A source of unknown length is sent with Upload-Defer-Length where the server supports
// creation-defer-length (a ValidationError naming source otherwise). fingerprint, set by the
// app, is what lets a stream's upload resume after a restart.
#pragma once

#include "hues/export.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "hues/client.h"
#include "hues/identity.h"  // Async, AsyncVoid
#include "hues/models.h"    // UploadProgress, UploadResult, UploadRecord (generated)
#include "hues/options.h"

namespace hues {

namespace internal {
class ClientCore;
struct UploadFactory;  // sdk/src/internal/upload.h: how the C boundary makes one
}

// Where unfinished uploads' URLs are kept, by file fingerprint (UploadRecord.url empty: none).
// Implement it in any language. Must be thread-safe.
class HUES_API UploadStore {
 public:
  virtual ~UploadStore() = default;
  virtual UploadRecord load(const std::string& key) = 0;
  virtual void save(const std::string& key, const UploadRecord& record) = 0;
  virtual void remove(const std::string& key) = 0;
};

HUES_API std::shared_ptr<UploadStore> make_memory_upload_store();
// One JSON file per upload in directory (created 0700), each written 0600 through a rename.
HUES_API std::shared_ptr<UploadStore> make_file_upload_store(const std::string& directory);

// A stream to upload from, read in order (each language passes its own: a Python binary file
// object, a Java or Kotlin InputStream, a C# Stream). Called on the host executor, one call at
// a time. Offsets count from where the upload starts (the stream's position when start runs).
class HUES_API UploadSource {
 public:
  virtual ~UploadSource() = default;
  // Up to n bytes into buf; 0 only at the end. May return fewer than n before the end.
  virtual std::size_t read(char* buf, std::size_t n) = 0;
  // Moves to offset; false when the stream cannot seek (then it is only ever read forward).
  virtual bool seek(std::int64_t offset) {
    (void)offset;
    return false;
  }
  // Its length in bytes, or -1 when unknown.
  virtual std::int64_t size() { return -1; }
};

// Told the confirmed offset after each chunk, in order, on the host executor.
class HUES_API UploadProgressListener {
 public:
  virtual ~UploadProgressListener() = default;
  virtual void on_progress(const UploadProgress& progress) = 0;
};
HUES_API std::shared_ptr<UploadProgressListener> progress_listener(std::function<void(const UploadProgress&)> fn);

struct UploadOptions {
  std::string path;                  // the file; read when start() runs (or, instead, source)
  std::shared_ptr<UploadSource> source;  // a stream instead of a file
  std::int64_t size = -1;            // a source's length when the app knows it; -1: source->size()
  std::string fingerprint;           // a source's store key (resumes after a restart); empty: one per Upload
  std::string media_type;            // photo, audio, video or document (Upload-Metadata type)
  std::string filename;              // empty: the path's last component (a source: none sent)
  std::string filetype;              // a MIME type; empty: not sent
  std::string endpoint;              // the creation URL; empty: the client's base_url + /v1/uploads
  std::int64_t chunk_size = 4 << 20;  // bytes per PATCH
  bool checksum = true;              // Upload-Checksum sha256, when the server advertises it
  bool creation_with_upload = false;  // first chunk in the POST, when the server advertises it
  std::shared_ptr<UploadStore> store;  // null: a store in memory
  std::shared_ptr<UploadProgressListener> progress;
  int max_retries = 8;               // retries in a row without progress
  std::int64_t retry_backoff_ms = 250;  // doubled on each retry, at most 30 s
};

class HUES_API Upload {
 public:
  // Throws ValidationError naming the option (media_type, chunk_size, path) for bad options.
  Upload(const Client& client, UploadOptions options);
  ~Upload();
  Upload(const Upload&) = delete;
  Upload& operator=(const Upload&) = delete;

  // Uploads, or resumes the upload the store holds for this file (same path, size and mtime),
  // until the server has every byte (complete) or pause() stops it (complete false). A missing
  // or unreadable file, or one over the server's size limit (413, Tus-Max-Size), is a
  // ValidationError with field "path"; nothing is left in the store. Cancelling call.cancel
  // aborts the chunk in flight (CancelledError) and keeps the stored URL for a later start.
  // call.deadline_ms, when set, bounds the whole upload; each request has the client's deadline.
  UploadResult start(const CallOptions& call = {});
  void start_async(Async<UploadResult> done, const CallOptions& call = {});
  // Stops start after the chunk in flight; the URL stays in the store. No-op when idle.
  void pause();
  // Forgets the upload: cancels a running start, DELETEs the stored URL when the server
  // supports termination, and removes it from the store.
  void terminate(const CallOptions& call = {});
  void terminate_async(AsyncVoid done, const CallOptions& call = {});
  // The store key of the file (a digest of its absolute path, size and mtime), or of the
  // source (its fingerprint option, else one made for this Upload).
  std::string fingerprint() const;

  struct Impl;

 private:
  friend struct internal::UploadFactory;
  explicit Upload(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace hues
