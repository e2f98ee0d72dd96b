// Errors raised by the Hue-S SDK.
//
// Failures are C++ exceptions, all derived from hues::Error. Why exceptions rather than a
// StatusOr: every language we ship (Python, Java/Kotlin, C#) reports failure by exception,
// and the bindings translate this hierarchy one class to one class; async calls carry the
// same exception through their future. Each error says whether retrying may help, and
// carries the HTTP status, the server's error code, its request id and, for validation
// errors, the offending field. An error whose response carries more than the error itself
// (a 412's current report) keeps that body; the generated hues/errors.h classes
// (PreconditionFailedError) read it as typed members.
#pragma once

#include "hues/export.h"

#include <memory>
#include <stdexcept>
#include <string>

namespace hues {

// The concrete class of an error, so bindings can map it without a dynamic_cast chain.
enum class ErrorType {
  kValidation,        // 400/422, or rejected by the SDK before sending; see field()
  kAuthentication,    // 401: missing or wrong credentials
  kPermissionDenied,  // 403
  kNotFound,          // 404
  kConflict,          // 409, 428: e.g. an Idempotency-Key reused with another body
  kRateLimited,       // 429
  kServer,            // 5xx
  kApi,               // any other HTTP error status
  kTimeout,           // connect, attempt or overall deadline passed
  kTls,               // handshake or certificate verification failed
  kConnection,        // refused, reset, DNS or proxy failure
  kProtocol,          // malformed, truncated or oversized response
  kCancelled,         // the caller cancelled the call
  kOAuth,             // an OAuth 2.0 error answer (invalid_grant, authorization_pending...)
  kInvalidToken,      // an ID token failed a check; code() names it (signature, exp, aud...)
  kTokenStore,        // the app's token store failed; the message is the store's
  kResourceExhausted, // the SDK refused the call at once: a bounded queue is full ("queue_full")
  kPreconditionFailed, // 412: a stale If-Match; PreconditionFailedError (hues/errors.h), a ConflictError
  kStorage,           // the SDK's local storage (an outbox's file) failed
  kWebhookVerification, // WebhookVerifier::verify refused a delivery; code() names why
};

// Returns a stable name for the type, e.g. "timeout".
HUES_API const char* to_string(ErrorType type) noexcept;

class HUES_API Error : public std::runtime_error {
 public:
  Error(ErrorType type, std::string message, int http_status = 0, std::string code = {},
        std::string request_id = {}, std::string field = {}, bool retryable = false,
        std::string body = {});

  ErrorType type() const noexcept { return type_; }
  // HTTP status of the response, 0 when no response was received.
  int http_status() const noexcept { return http_status_; }
  // Machine-readable code from the server ("invalid_api_key") or the SDK ("timeout").
  const std::string& code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  // The X-Request-Id of the failed call: quote it to Hue-S support.
  const std::string& request_id() const noexcept { return request_id_; }
  // The request field a validation error is about ("location.lat"), else empty.
  const std::string& field() const noexcept { return field_; }
  // True when the same call may succeed if retried later.
  bool retryable() const noexcept { return retryable_; }
  // The error response's JSON body as received, when it was a JSON object of at most
  // kMaxErrorBodyBytes; else empty. Never part of what()/message(). Copies share it.
  const std::string& body() const noexcept;
  static constexpr std::size_t kMaxErrorBodyBytes = 64 * 1024;

 private:
  ErrorType type_;
  int http_status_;
  std::string code_;
  std::string message_;
  std::string request_id_;
  std::string field_;
  bool retryable_;
  std::shared_ptr<const std::string> body_;
};

// The server answered with an error status.
class HUES_API ApiError : public Error { using Error::Error; };
class HUES_API ValidationError : public ApiError { using ApiError::ApiError; };
class HUES_API AuthenticationError : public ApiError { using ApiError::ApiError; };
class HUES_API PermissionDeniedError : public ApiError { using ApiError::ApiError; };
class HUES_API NotFoundError : public ApiError { using ApiError::ApiError; };
class HUES_API ConflictError : public ApiError { using ApiError::ApiError; };
class HUES_API RateLimitError : public ApiError { using ApiError::ApiError; };
class HUES_API ServerError : public ApiError { using ApiError::ApiError; };

// No usable response arrived.
class HUES_API TransportError : public Error { using Error::Error; };
class HUES_API TimeoutError : public TransportError { using TransportError::TransportError; };
class HUES_API TlsError : public TransportError { using TransportError::TransportError; };
class HUES_API ConnectionError : public TransportError { using TransportError::TransportError; };
class HUES_API ProtocolError : public TransportError { using TransportError::TransportError; };
// Too many calls waiting for a connection (max_queued_requests) or for the host executor.
class HUES_API ResourceExhaustedError : public TransportError { using TransportError::TransportError; };

class HUES_API CancelledError : public Error { using Error::Error; };

// The authorization server refused: code() is the OAuth error (invalid_grant,
// invalid_client, access_denied, expired_token, ...).
class HUES_API OAuthError : public ApiError { using ApiError::ApiError; };
// A token failed validation. code() says which check: malformed, alg, kid, signature, iss,
// aud, azp, exp, nbf, iat, nonce, state.
class HUES_API InvalidTokenError : public Error { using Error::Error; };
// The app's token store failed (a file it could not write, an exception in a store written in
// Python, Java or C#); message() is the store's own.
class HUES_API TokenStoreError : public Error { using Error::Error; };
// The SDK's local storage failed (the outbox's SQLite file: disk full, I/O error, damaged).
class HUES_API StorageError : public Error { using Error::Error; };
// A webhook failed verification (hues/webhooks.h). code() says why: missing_header,
// invalid_header, timestamp_too_old, timestamp_too_new, no_matching_signature, replayed,
// invalid_payload.
class HUES_API WebhookVerificationError : public Error { using Error::Error; };

// Throws the subclass of Error that matches type (used by the SDK and by bindings).
[[noreturn]] HUES_API void throw_error(ErrorType type, std::string message, int http_status = 0,
                              std::string code = {}, std::string request_id = {},
                              std::string field = {}, bool retryable = false, std::string body = {});

}  // namespace hues
