package vn.hues.sdk;

/** A token failed validation: getCode() names the check (signature, exp, aud, nonce, state, ...). */
public class InvalidTokenException extends HuesException {
  private static final long serialVersionUID = 1L;

  public InvalidTokenException(String message, int httpStatus, String code, String requestId, String field,
      boolean retryable) {
    super(message, httpStatus, code, requestId, field, retryable);
  }
}
