package vn.hues.sdk;

/** Refused, reset, DNS or proxy failure. */
public class ConnectionException extends TransportException {
  private static final long serialVersionUID = 1L;

  public ConnectionException(String message, int httpStatus, String code, String requestId, String field,
      boolean retryable) {
    super(message, httpStatus, code, requestId, field, retryable);
  }
}
