package vn.hues.sdk;

import vn.hues.sdk.internal.CredentialsProvider;
import vn.hues.sdk.internal.IdentityFactories;

/**
 * What authorizes a client's calls: see {@link HuesClient.Builder#credentials}. Instances are
 * {@code vn.hues.sdk.identity.ClientCredentials}, {@code vn.hues.sdk.identity.UserCredentials}
 * or {@link #apiKey}. A client keeps what it was given alive for as long as it needs it.
 */
public abstract class Credentials {
  private final CredentialsProvider provider;

  /** For the SDK's own subclasses: provider is the native one that authorizes requests. */
  protected Credentials(CredentialsProvider provider) {
    this.provider = provider;
  }

  /** A partner API key, sent as X-Api-Key. */
  public static Credentials apiKey(String key) {
    return new Credentials(IdentityFactories.apiKeyCredentials(key)) {};
  }

  final CredentialsProvider provider() {
    return provider;
  }
}
