package vn.hues.sdk;

/** A connect, attempt or overall deadline passed. */
public class TimeoutException extends TransportException {
  private static final long serialVersionUID = 1L;

  public TimeoutException(String message, int httpStatus, String code, String requestId, String field,
      boolean retryable) {
    super(message, httpStatus, code, requestId, field, retryable);
  }
}
