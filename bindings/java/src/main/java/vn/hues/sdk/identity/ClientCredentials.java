package vn.hues.sdk.identity;

import vn.hues.sdk.Credentials;

/**
 * A partner backend's own token (client credentials grant), fetched on first use, reused until
 * near expiry, then fetched again. Pass it to {@code HuesClient.Builder.credentials}.
 */
public final class ClientCredentials extends Credentials {
  private final vn.hues.sdk.internal.ClientCredentials credentials;

  public ClientCredentials(OidcClient oidc) {
    this(oidc, "");
  }

  /** scope: e.g. "reports:read reports:write"; "" for the client's default. */
  public ClientCredentials(OidcClient oidc, String scope) {
    this(oidc.call(() -> new vn.hues.sdk.internal.ClientCredentials(oidc.handle(), scope)));
  }

  private ClientCredentials(vn.hues.sdk.internal.ClientCredentials credentials) {
    super(credentials);
    this.credentials = credentials;
  }

  /** The current token, fetched or refreshed when needed. */
  public String accessToken() {
    return credentials.accessToken();
  }

  /** Tokens fetched so far. */
  public int fetchCount() {
    return credentials.fetchCount();
  }
}
