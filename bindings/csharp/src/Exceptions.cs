// Errors raised by the Hue-S SDK: one class per C++ hues::Error subclass (hues/error.h), so
// callers catch what they can handle (catch (RateLimitException)) or any SDK error
// (catch (HuesException)). Cancellation: a synchronous call throws CancelledException; an
// async call ends as a cancelled Task (OperationCanceledException, the CancelledException as
// its InnerException), which is what await and Task.WhenAll expect in .NET.
using System;
using Hues.Sdk.Native;

namespace Hues.Sdk {

public class HuesException : Exception {
  public HuesException(string message, int httpStatus = 0, string code = "", string requestId = "",
                       string field = "", bool retryable = false) : base(message) {
    HttpStatus = httpStatus;
    Code = code ?? "";
    RequestId = requestId ?? "";
    Field = field ?? "";
    Retryable = retryable;
  }

  protected HuesException(string message, string code, Exception inner) : base(message, inner) {
    Code = code;
    RequestId = "";
    Field = "";
  }

  // HTTP status of the response; 0 when no response was received.
  public int HttpStatus { get; }
  // Machine-readable code from the server ("invalid_api_key") or the SDK ("timeout").
  public string Code { get; }
  // The X-Request-Id of the failed call: quote it to Hue-S support.
  public string RequestId { get; }
  // The request field a validation error is about ("location.lat"), else "".
  public string Field { get; }
  // True when the same call may succeed if retried later.
  public bool Retryable { get; }

  // The first line carries the details support needs; then the inner exception and stack.
  public override string ToString() {
    var s = string.Format("{0}: {1} (status {2}, code '{3}', request id '{4}'{5})", GetType().FullName,
                          Message, HttpStatus, Code, RequestId, Field.Length > 0 ? ", field '" + Field + "'" : "");
    if (InnerException != null) s += " ---> " + InnerException;
    return StackTrace == null ? s : s + Environment.NewLine + StackTrace;
  }

  // Called by the SWIG error handler (hues.i) with the details of a C++ exception.
  internal static Exception FromNative(int type, int status, string code, string message,
                                       string requestId, string field, bool retryable) {
    switch (type) {
      case -2: return new ArgumentException(message);
      case -1: return new InvalidOperationException(message);
      case -3: return TokenStoreException.FromBridge(message, status);
    }
    switch ((ErrorType)type) {
      case ErrorType.Validation: return new ValidationException(message, status, code, requestId, field, retryable);
      case ErrorType.Authentication: return new AuthenticationException(message, status, code, requestId, field, retryable);
      case ErrorType.PermissionDenied: return new PermissionDeniedException(message, status, code, requestId, field, retryable);
      case ErrorType.NotFound: return new NotFoundException(message, status, code, requestId, field, retryable);
      case ErrorType.Conflict: return new ConflictException(message, status, code, requestId, field, retryable);
      case ErrorType.RateLimited: return new RateLimitException(message, status, code, requestId, field, retryable);
      case ErrorType.Server: return new ServerException(message, status, code, requestId, field, retryable);
      case ErrorType.Api: return new ApiException(message, status, code, requestId, field, retryable);
      case ErrorType.Timeout: return new HuesTimeoutException(message, status, code, requestId, field, retryable);
      case ErrorType.Tls: return new TlsException(message, status, code, requestId, field, retryable);
      case ErrorType.Connection: return new HuesConnectionException(message, status, code, requestId, field, retryable);
      case ErrorType.Protocol: return new ProtocolException(message, status, code, requestId, field, retryable);
      case ErrorType.Cancelled: return new CancelledException(message, status, code, requestId, field, retryable);
      case ErrorType.OAuth: return new OAuthException(message, status, code, requestId, field, retryable);
      case ErrorType.InvalidToken: return new InvalidTokenException(message, status, code, requestId, field, retryable);
      default: return new HuesException(message, status, code, requestId, field, retryable);
    }
  }
}

// The server answered with an error status.
public class ApiException : HuesException {
  public ApiException(string message, int httpStatus = 0, string code = "", string requestId = "",
                      string field = "", bool retryable = false)
      : base(message, httpStatus, code, requestId, field, retryable) {}
}

// 400/422, or rejected by the SDK before sending; Field names the offending field.
public class ValidationException : ApiException {
  public ValidationException(string message, int httpStatus = 0, string code = "", string requestId = "",
                             string field = "", bool retryable = false)
      : base(message, httpStatus, code, requestId, field, retryable) {}
}

// 401: missing or wrong credentials.
public class AuthenticationException : ApiException {
  public AuthenticationException(string message, int httpStatus = 0, string code = "", string requestId = "",
                                 string field = "", bool retryable = false)
      : base(message, httpStatus, code, requestId, field, retryable) {}
}

// 403.
public class PermissionDeniedException : ApiException {
  public PermissionDeniedException(string message, int httpStatus = 0, string code = "", string requestId = "",
                                   string field = "", bool retryable = false)
      : base(message, httpStatus, code, requestId, field, retryable) {}
}

// 404.
public class NotFoundException : ApiException {
  public NotFoundException(string message, int httpStatus = 0, string code = "", string requestId = "",
                           string field = "", bool retryable = false)
      : base(message, httpStatus, code, requestId, field, retryable) {}
}

// 409, e.g. an Idempotency-Key reused with another body.
public class ConflictException : ApiException {
  public ConflictException(string message, int httpStatus = 0, string code = "", string requestId = "",
                           string field = "", bool retryable = false)
      : base(message, httpStatus, code, requestId, field, retryable) {}
}

// 429, after the SDK's own retries.
public class RateLimitException : ApiException {
  public RateLimitException(string message, int httpStatus = 0, string code = "", string requestId = "",
                            string field = "", bool retryable = false)
      : base(message, httpStatus, code, requestId, field, retryable) {}
}

// 5xx.
public class ServerException : ApiException {
  public ServerException(string message, int httpStatus = 0, string code = "", string requestId = "",
                         string field = "", bool retryable = false)
      : base(message, httpStatus, code, requestId, field, retryable) {}
}

// No usable response arrived.
public class TransportException : HuesException {
  public TransportException(string message, int httpStatus = 0, string code = "", string requestId = "",
                            string field = "", bool retryable = false)
      : base(message, httpStatus, code, requestId, field, retryable) {}
}

// The connect, attempt or overall deadline passed.
public class HuesTimeoutException : TransportException {
  public HuesTimeoutException(string message, int httpStatus = 0, string code = "", string requestId = "",
                              string field = "", bool retryable = false)
      : base(message, httpStatus, code, requestId, field, retryable) {}
}

// The TLS handshake or certificate verification failed.
public class TlsException : TransportException {
  public TlsException(string message, int httpStatus = 0, string code = "", string requestId = "",
                      string field = "", bool retryable = false)
      : base(message, httpStatus, code, requestId, field, retryable) {}
}

// Refused, reset, DNS or proxy failure.
public class HuesConnectionException : TransportException {
  public HuesConnectionException(string message, int httpStatus = 0, string code = "", string requestId = "",
                                 string field = "", bool retryable = false)
      : base(message, httpStatus, code, requestId, field, retryable) {}
}

// A malformed, truncated or oversized response.
public class ProtocolException : TransportException {
  public ProtocolException(string message, int httpStatus = 0, string code = "", string requestId = "",
                           string field = "", bool retryable = false)
      : base(message, httpStatus, code, requestId, field, retryable) {}
}

// The caller cancelled a synchronous call (async calls end as cancelled Tasks instead).
public class CancelledException : HuesException {
  public CancelledException(string message, int httpStatus = 0, string code = "", string requestId = "",
                            string field = "", bool retryable = false)
      : base(message, httpStatus, code, requestId, field, retryable) {}
}

// An OAuth 2.0 error answer: Code is the OAuth error (invalid_grant, access_denied, ...).
public class OAuthException : ApiException {
  public OAuthException(string message, int httpStatus = 0, string code = "", string requestId = "",
                        string field = "", bool retryable = false)
      : base(message, httpStatus, code, requestId, field, retryable) {}
}

// A token failed validation: Code names the check (signature, exp, aud, nonce, state, ...).
public class InvalidTokenException : HuesException {
  public InvalidTokenException(string message, int httpStatus = 0, string code = "", string requestId = "",
                               string field = "", bool retryable = false)
      : base(message, httpStatus, code, requestId, field, retryable) {}
}

// A TokenStore written in C# threw; InnerException is what it threw. Code "token_store".
public class TokenStoreException : HuesException {
  public TokenStoreException(string message, Exception inner) : base(message, "token_store", inner) {}

  internal static TokenStoreException FromBridge(string message, int failureId) {
    var inner = Identity.TokenStoreBridge.TakeFailure(failureId);
    return new TokenStoreException(inner == null ? message : message + ": " + inner.Message, inner);
  }
}

}
