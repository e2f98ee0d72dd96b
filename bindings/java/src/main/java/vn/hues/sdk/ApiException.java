package vn.hues.sdk;

/** The server answered with an error status. */
public class ApiException extends HuesException {
  private static final long serialVersionUID = 1L;

  public ApiException(String message, int httpStatus, String code, String requestId, String field,
      boolean retryable) {
    super(message, httpStatus, code, requestId, field, retryable);
  }
}
