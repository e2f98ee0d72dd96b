package vn.hues.sdk;

/** 5xx: the server failed. */
public class ServerException extends ApiException {
  private static final long serialVersionUID = 1L;

  public ServerException(String message, int httpStatus, String code, String requestId, String field,
      boolean retryable) {
    super(message, httpStatus, code, requestId, field, retryable);
  }
}
