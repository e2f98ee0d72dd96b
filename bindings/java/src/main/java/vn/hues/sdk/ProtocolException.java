package vn.hues.sdk;

/** Malformed, truncated or oversized response. */
public class ProtocolException extends TransportException {
  private static final long serialVersionUID = 1L;

  public ProtocolException(String message, int httpStatus, String code, String requestId, String field,
      boolean retryable) {
    super(message, httpStatus, code, requestId, field, retryable);
  }
}
