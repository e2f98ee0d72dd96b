package vn.hues.sdk;

/** The TLS handshake or certificate verification failed. */
public class TlsException extends TransportException {
  private static final long serialVersionUID = 1L;

  public TlsException(String message, int httpStatus, String code, String requestId, String field,
      boolean retryable) {
    super(message, httpStatus, code, requestId, field, retryable);
  }
}
