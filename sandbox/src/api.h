// The HTTP API of the sandbox (docs/api-contract.md): routing, authentication, validation
// and JSON bodies. Transport-free: the server hands it a parsed request and writes back
// the response it fills.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hues::sandbox {

class Store;
class Oidc;
class Uploads;
class Media;
class Webhooks;
class UploadPatch;
class EventHub;
class EventStream;
struct Caller;
class PositionalFile;

using Request = boost::beast::http::request<boost::beast::http::string_body>;

// A response body read from a file as the server writes it (GET /v1/media/{id}/content):
// `length` bytes from `offset`, sent in pieces, so its size is bounded by the file, not by
// memory. The file stays open (and the bytes the same) while the response is written.
struct FileBody {
  std::shared_ptr<const PositionalFile> file;
  std::uint64_t offset = 0, length = 0;
};

// What a handler answers: a message with a string body, or (file set) with its body from a
// file; then body() stays empty and Content-Length is the file range's (Api::answer sets it).
struct Response : boost::beast::http::response<boost::beast::http::string_body> {
  std::optional<FileBody> file;
};

inline constexpr std::size_t kHeaderLimit = 16 * 1024;  // the whole header section, request line included
inline constexpr std::size_t kTargetLimit = 8 * 1024;   // RFC 9112 §3: request lines of 8000 octets must work
inline constexpr std::size_t kJsonBodyLimit = 1024 * 1024;
// The body of a creation-with-upload POST (read whole); PATCH bodies stream (StreamedBody).
inline constexpr std::size_t kUploadChunkLimit = 8 * 1024 * 1024;

// A request whose body goes to its handler piece by piece as it arrives (a tus PATCH), so
// its size is bounded by the upload, not by memory.
struct StreamedBody {
  Request header;  // the request without its body: the answer's headers follow it
  std::unique_ptr<UploadPatch> patch;
  ~StreamedBody();
};

class Api {
 public:
  Api(Store& store, Oidc& oidc) : store_(store), oidc_(oidc) {}

  // Fills res (status, headers, body) for req. Never throws. issuer: the scheme://host:port
  // of the listener the request came in on (each listener is its own OpenID issuer); client:
  // the client's address (IPv6: its /64), for the sign-in limits.
  void handle(const Request& req, Response& res, const std::string& issuer, const std::string& client);

  // For requests the parser rejected or framing_error found: 400, 413 (body), 414 (target),
  // 431 (header section) or 501 (a transfer coding it does not implement), with the error
  // JSON and Connection: close. request_headers is the request when its header was read
  // (for X-Request-Id), else nullptr.
  void reject(int status, std::string_view reason, const Request* request_headers, Response& res);

  // Once a request's header is read, before its body: a framing or Host problem that makes
  // the rest of the connection untrustworthy (RFC 9112 §3.2, §6.1, §6.3) as the status and
  // reason to reject it with; 0 when there is none.
  static int framing_error(const Request& header, std::string& reason);

  // The tus server behind /v1/uploads (uploads.h); without one those paths are 404.
  // It also makes the media objects of finished uploads (media.h, /v1/media).
  void set_uploads(Uploads* uploads);
  // The Standard Webhooks endpoints behind /v1/webhooks (webhooks.h).
  void set_webhooks(Webhooks* webhooks) { webhooks_ = webhooks; }

  // Once a request's header is read: may its body be read? An upload chunk (up to
  // kUploadChunkLimit) is read only for a caller who may upload; otherwise res is the answer
  // the whole request would get, with Connection: close, and false.
  bool admits_body(const Request& header, Response& res, const std::string& issuer, const std::string& client);

  // Once a request's header is read: is its body to be streamed (a PATCH under
  // /v1/uploads/{id})? begin_body then makes every check that needs no body byte (a
  // stranger's 401, 409 on the offset, 413 on a Content-Length past Upload-Length) and
  // returns the body's sink, or nullptr with res the answer. With Connection: close the
  // answer goes at once (a stranger's, or a large body's); else the server reads the body
  // (at most kJsonBodyLimit), drops it and answers on a connection that lives on.
  static bool streams_body(const Request& header);
  std::unique_ptr<StreamedBody> begin_body(const Request& header, Response& res, const std::string& issuer);
  // One more piece of the body; false: res is the answer (an error, Connection: close) and
  // the rest of the body is not to be read.
  bool body_piece(StreamedBody& body, std::string_view piece, Response& res);
  // The body ended: complete (res is the answer) or cut off (the connection dropped or
  // stalled; what arrived is kept as tus allows, res unused).
  void end_body(StreamedBody& body, bool complete, Response& res);

  // GET /v1/events (events.h). Without a hub it is 404.
  void set_events(EventHub* hub) { events_ = hub; }
  static bool is_event_stream(const Request& req);
  // Authenticates, reads Last-Event-ID / ?since= and takes a slot (429 at a cap): the
  // stream, with res the answer's header (200, text/event-stream, no body yet); else
  // nullptr with res the error answer.
  std::unique_ptr<EventStream> open_events(const Request& req, Response& res, const std::string& issuer);
  // The first bytes of every stream: the reconnection delay (`retry:`) and a comment.
  static std::string event_stream_preamble();
  // Whether the stream's credentials still hold (a token may be revoked or expire while
  // it listens); the server ends a stream that fails this.
  bool events_authorized(const EventStream& stream);

 private:
  template <class Fill>
  void answer(const Request& req, Response& res, Fill&& fill);
  void route(const Request& req, Response& res, const std::string& issuer, const std::string& client);
  Caller authenticate(const Request& req, const char* scope, const std::string& issuer);
  void create_report(const Request& req, Response& res, const Caller& caller);
  // Media ids the caller attaches (media.h, Media::check_attachable); throws the 400.
  void attachable(const std::vector<std::string>& ids, const Caller& caller, const char* field, bool strip);
  void transition(const Request& req, Response& res, const Caller& caller, int call_id, const std::string& id);

  Store& store_;
  Oidc& oidc_;
  Uploads* uploads_ = nullptr;
  std::shared_ptr<Media> media_;  // with uploads_
  Webhooks* webhooks_ = nullptr;
  void webhooks(const Request& req, Response& res, const Caller& caller, int handler, int call_id,
                const std::string& endpoint_id, const std::string& target);
  EventHub* events_ = nullptr;
};

}  // namespace hues::sandbox
