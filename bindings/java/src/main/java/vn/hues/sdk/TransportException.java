package vn.hues.sdk;

/** No usable response arrived. */
public class TransportException extends HuesException {
  private static final long serialVersionUID = 1L;

  public TransportException(String message, int httpStatus, String code, String requestId, String field,
      boolean retryable) {
    super(message, httpStatus, code, requestId, field, retryable);
  }
}
