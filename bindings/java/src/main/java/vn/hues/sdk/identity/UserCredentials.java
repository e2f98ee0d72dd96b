package vn.hues.sdk.identity;

import vn.hues.sdk.Credentials;
import vn.hues.sdk.internal.TokenSet;

/**
 * A signed-in person's tokens: refreshed before expiry (one refresh at a time, however many
 * threads call), saved to the {@link TokenStore} after every change. Pass it to {@code
 * HuesClient.Builder.credentials}; {@link #signOut} revokes the tokens and clears the store.
 */
public final class UserCredentials extends Credentials {
  private final vn.hues.sdk.internal.UserCredentials credentials;

  /** Starts from tokens (e.g. from exchangeCode) and saves them to store under key. */
  public UserCredentials(OidcClient oidc, TokenStore store, String key, TokenSet tokens) {
    this(oidc.call(() -> TokenStoreBridge.withNative(store,
        s -> new vn.hues.sdk.internal.UserCredentials(oidc.handle(), s, key, tokens))));
  }

  /** Restores what store holds under key (e.g. when the app starts); see {@link #isSignedIn}. */
  public UserCredentials(OidcClient oidc, TokenStore store, String key) {
    this(oidc, store, key, new TokenSet());
  }

  private UserCredentials(vn.hues.sdk.internal.UserCredentials credentials) {
    super(credentials);
    this.credentials = credentials;
  }

  /** The current tokens, refreshed when near expiry. */
  public TokenSet tokens() {
    return credentials.tokens();
  }

  public int refreshCount() {
    return credentials.refreshCount();
  }

  public boolean isSignedIn() {
    return credentials.signedIn();
  }

  /** Forgets the tokens (store included) at once, then revokes them at the provider. */
  public void signOut() {
    credentials.signOut();
  }
}
