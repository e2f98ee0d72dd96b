package vn.hues.sdk;

/** An OAuth 2.0 error answer: getCode() is the OAuth error (invalid_grant, access_denied, ...). */
public class OAuthException extends ApiException {
  private static final long serialVersionUID = 1L;

  public OAuthException(String message, int httpStatus, String code, String requestId, String field,
      boolean retryable) {
    super(message, httpStatus, code, requestId, field, retryable);
  }
}
