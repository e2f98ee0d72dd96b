package vn.hues.sdk;

/**
 * A {@code TokenStore} written by the app failed; getCause() is what it threw.
 */
public class TokenStoreException extends HuesException {
  private static final long serialVersionUID = 1L;

  public TokenStoreException(String message, Throwable cause) {
    super(message + ": " + cause, 0, "token_store", "", "", false);
    initCause(cause);
  }
}
