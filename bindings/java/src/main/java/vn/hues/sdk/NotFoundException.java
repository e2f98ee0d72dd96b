package vn.hues.sdk;

/** 404: no such resource. */
public class NotFoundException extends ApiException {
  private static final long serialVersionUID = 1L;

  public NotFoundException(String message, int httpStatus, String code, String requestId, String field,
      boolean retryable) {
    super(message, httpStatus, code, requestId, field, retryable);
  }
}
