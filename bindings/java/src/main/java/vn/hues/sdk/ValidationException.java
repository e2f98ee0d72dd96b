package vn.hues.sdk;

/** 400/422, or rejected before sending: {@link #getField()} names the field. */
public class ValidationException extends ApiException {
  private static final long serialVersionUID = 1L;

  public ValidationException(String message, int httpStatus, String code, String requestId, String field,
      boolean retryable) {
    super(message, httpStatus, code, requestId, field, retryable);
  }
}
