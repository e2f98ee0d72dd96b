package vn.hues.sdk;

/** The caller cancelled the call. */
public class CancelledException extends HuesException {
  private static final long serialVersionUID = 1L;

  public CancelledException(String message, int httpStatus, String code, String requestId, String field,
      boolean retryable) {
    super(message, httpStatus, code, requestId, field, retryable);
  }
}
