package vn.hues.sdk;

/** 409: e.g. an Idempotency-Key reused with another body. */
public class ConflictException extends ApiException {
  private static final long serialVersionUID = 1L;

  public ConflictException(String message, int httpStatus, String code, String requestId, String field,
      boolean retryable) {
    super(message, httpStatus, code, requestId, field, retryable);
  }
}
