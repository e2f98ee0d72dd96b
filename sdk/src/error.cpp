#include "hues/error.h"

#include "hues/errors.h"  // generated: the classes whose response bodies carry typed members

namespace hues {

const char* to_string(ErrorType type) noexcept {
  switch (type) {
    case ErrorType::kValidation: return "validation";
    case ErrorType::kAuthentication: return "authentication";
    case ErrorType::kPermissionDenied: return "permission_denied";
    case ErrorType::kNotFound: return "not_found";
    case ErrorType::kConflict: return "conflict";
    case ErrorType::kRateLimited: return "rate_limited";
    case ErrorType::kServer: return "server";
    case ErrorType::kApi: return "api";
    case ErrorType::kTimeout: return "timeout";
    case ErrorType::kTls: return "tls";
    case ErrorType::kConnection: return "connection";
    case ErrorType::kProtocol: return "protocol";
    case ErrorType::kCancelled: return "cancelled";
    case ErrorType::kOAuth: return "oauth";
    case ErrorType::kInvalidToken: return "invalid_token";
    case ErrorType::kTokenStore: return "token_store";
    case ErrorType::kResourceExhausted: return "resource_exhausted";
    case ErrorType::kPreconditionFailed: return "precondition_failed";
    case ErrorType::kStorage: return "storage";
    case ErrorType::kWebhookVerification: return "webhook_verification";
  }
  return "unknown";
}

Error::Error(ErrorType type, std::string message, int http_status, std::string code,
             std::string request_id, std::string field, bool retryable, std::string body)
    : std::runtime_error(message),
      type_(type),
      http_status_(http_status),
      code_(std::move(code)),
      message_(std::move(message)),
      request_id_(std::move(request_id)),
      field_(std::move(field)),
      retryable_(retryable),
      body_(body.empty() || body.size() > kMaxErrorBodyBytes ? nullptr
                                                              : std::make_shared<const std::string>(std::move(body))) {}

const std::string& Error::body() const noexcept {
  static const std::string empty;
  return body_ ? *body_ : empty;
}

void throw_error(ErrorType type, std::string message, int http_status, std::string code,
                 std::string request_id, std::string field, bool retryable, std::string body) {
#define HUES_THROW(Class) \
  throw Class(type, std::move(message), http_status, std::move(code), std::move(request_id), \
              std::move(field), retryable, std::move(body))
  switch (type) {
    case ErrorType::kValidation: HUES_THROW(ValidationError);
    case ErrorType::kAuthentication: HUES_THROW(AuthenticationError);
    case ErrorType::kPermissionDenied: HUES_THROW(PermissionDeniedError);
    case ErrorType::kNotFound: HUES_THROW(NotFoundError);
    case ErrorType::kConflict: HUES_THROW(ConflictError);
    case ErrorType::kRateLimited: HUES_THROW(RateLimitError);
    case ErrorType::kServer: HUES_THROW(ServerError);
    case ErrorType::kApi: HUES_THROW(ApiError);
    case ErrorType::kTimeout: HUES_THROW(TimeoutError);
    case ErrorType::kTls: HUES_THROW(TlsError);
    case ErrorType::kConnection: HUES_THROW(ConnectionError);
    case ErrorType::kProtocol: HUES_THROW(ProtocolError);
    case ErrorType::kCancelled: HUES_THROW(CancelledError);
    case ErrorType::kOAuth: HUES_THROW(OAuthError);
    case ErrorType::kInvalidToken: HUES_THROW(InvalidTokenError);
    case ErrorType::kTokenStore: HUES_THROW(TokenStoreError);
    case ErrorType::kResourceExhausted: HUES_THROW(ResourceExhaustedError);
    case ErrorType::kPreconditionFailed: HUES_THROW(PreconditionFailedError);
    case ErrorType::kStorage: HUES_THROW(StorageError);
    case ErrorType::kWebhookVerification: HUES_THROW(WebhookVerificationError);
  }
  HUES_THROW(Error);
#undef HUES_THROW
}

}  // namespace hues
