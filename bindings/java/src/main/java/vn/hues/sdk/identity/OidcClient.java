package vn.hues.sdk.identity;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import vn.hues.sdk.internal.AuthorizationRequest;
import vn.hues.sdk.internal.CallOptions;
import vn.hues.sdk.internal.CitizenProfile;
import vn.hues.sdk.internal.ClientOptions;
import vn.hues.sdk.internal.DeviceAuthorization;
import vn.hues.sdk.internal.IdTokenClaims;
import vn.hues.sdk.internal.NativeCalls;
import vn.hues.sdk.internal.OidcOptions;
import vn.hues.sdk.internal.ProviderMetadata;
import vn.hues.sdk.internal.StringList;
import vn.hues.sdk.internal.TokenSet;

/**
 * An OpenID Connect client of the Hue-S identity provider: sign-in with code + PKCE or the
 * device flow, client credentials, refresh, revocation, ID-token validation and userinfo.
 * Thread-safe. Errors: {@code OAuthException} (the provider refused; getCode() is the OAuth
 * error), {@code InvalidTokenException} (a check failed; getCode() names it), and the
 * transport exceptions of every call.
 *
 * <pre>{@code
 * try (OidcClient oidc = OidcClient.builder().issuer(url).clientId("hues-cli").build()) {
 *   DeviceAuthorization d = oidc.startDeviceAuthorization("openid profile");
 *   System.out.println("Open " + d.getVerificationUri() + " and enter " + d.getUserCode());
 *   TokenSet tokens = oidc.pollDeviceToken(d);
 * }
 * }</pre>
 */
public final class OidcClient implements AutoCloseable {
  private static final CallOptions DEFAULTS = new CallOptions();
  private final vn.hues.sdk.internal.OidcClient oidc;
  private final NativeCalls calls;

  private OidcClient(Builder b) {
    b.options.setHttp(b.http);
    this.oidc = new vn.hues.sdk.internal.OidcClient(b.options);
    this.calls = new NativeCalls("OidcClient", b.executor, oidc::delete);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The provider's discovery document (fetched once, then cached). */
  public ProviderMetadata metadata() {
    return call(oidc::metadata);
  }

  /**
   * Prepares a code + PKCE (S256) sign-in with fresh state and nonce: open getUrl() in a
   * browser, keep the request for {@link #exchangeCode}.
   */
  public AuthorizationRequest authorizationRequest(String redirectUri, String scope) {
    return call(() -> oidc.authorizationRequest(redirectUri, scope));
  }

  /**
   * Checks the redirect the browser came back with (state, iss, error), exchanges the code and
   * validates the ID token. A state mismatch throws {@code InvalidTokenException} with code
   * "state"; an error redirect or a refused exchange, {@code OAuthException}.
   */
  public TokenSet exchangeCode(AuthorizationRequest request, String redirectedTo) {
    return call(() -> oidc.exchangeCode(request, redirectedTo));
  }

  /** {@link #exchangeCode} on the executor. */
  public CompletableFuture<TokenSet> exchangeCodeAsync(AuthorizationRequest request, String redirectedTo) {
    AuthorizationRequest copy = new AuthorizationRequest(request);
    return calls.async(null, o -> exchangeCode(copy, redirectedTo));
  }

  /** Starts the device flow (RFC 8628): show the user getUserCode() and getVerificationUri(). */
  public DeviceAuthorization startDeviceAuthorization(String scope) {
    return call(() -> oidc.startDeviceAuthorization(scope));
  }

  /**
   * Polls at the provider's interval until the user approves; throws {@code OAuthException}
   * access_denied or expired_token, or {@code CancelledException} when options' token cancels.
   */
  public TokenSet pollDeviceToken(DeviceAuthorization device) {
    return pollDeviceToken(device, null);
  }

  public TokenSet pollDeviceToken(DeviceAuthorization device, CallOptions options) {
    return call(() -> oidc.pollDeviceToken(device, options == null ? DEFAULTS : options));
  }

  /** {@link #pollDeviceToken} on the executor; cancelling the future stops the polling. */
  public CompletableFuture<TokenSet> pollDeviceTokenAsync(DeviceAuthorization device) {
    return pollDeviceTokenAsync(device, null);
  }

  public CompletableFuture<TokenSet> pollDeviceTokenAsync(DeviceAuthorization device, CallOptions options) {
    DeviceAuthorization copy = new DeviceAuthorization(device);
    return calls.async(options, o -> pollDeviceToken(copy, o));
  }

  /** A token for this client itself (client credentials grant, confidential clients). */
  public TokenSet clientCredentials(String scope) {
    return call(() -> oidc.clientCredentials(scope));
  }

  /** Refresh grant; the result carries the rotated refresh token. */
  public TokenSet refresh(String refreshToken) {
    return call(() -> oidc.refresh(refreshToken));
  }

  public TokenSet refresh(String refreshToken, String scope) {
    return call(() -> oidc.refresh(refreshToken, scope));
  }

  /** Revokes a token (RFC 7009); tokenTypeHint: "refresh_token", "access_token" or "". */
  public void revoke(String token, String tokenTypeHint) {
    call(() -> {
      oidc.revoke(token, tokenTypeHint);
      return null;
    });
  }

  /**
   * Validates an ID token (signature, alg, iss, aud, azp, exp, nbf, iat, and nonce when not
   * empty); throws {@code InvalidTokenException} naming the failed check.
   */
  public IdTokenClaims validateIdToken(String idToken) {
    return validateIdToken(idToken, "");
  }

  public IdTokenClaims validateIdToken(String idToken, String expectedNonce) {
    return call(() -> oidc.validateIdToken(idToken, expectedNonce));
  }

  /** The profile of the person an access token belongs to. */
  public CitizenProfile userinfo(String accessToken) {
    return call(() -> oidc.userinfo(accessToken));
  }

  /**
   * Cancels async polls, waits for calls in flight and releases this client. Credentials made
   * from it keep working: they hold the native client themselves.
   */
  @Override
  public void close() {
    calls.close();
  }

  <T> T call(Supplier<T> body) {
    return calls.call(body);
  }

  /** For the credentials classes: the native client, which they then share. */
  vn.hues.sdk.internal.OidcClient handle() {
    return oidc;
  }

  /** Options for an OIDC client; unset values keep the SDK's defaults. */
  public static final class Builder {
    private final OidcOptions options = new OidcOptions();
    private final ClientOptions http = new ClientOptions();
    private Executor executor;

    private Builder() {}

    /** e.g. {@code https://id.hue-s.vn} or a sandbox's tlsUrl(). Required. */
    public Builder issuer(String issuer) { options.setIssuer(issuer); return this; }
    public Builder clientId(String id) { options.setClientId(id); return this; }
    /** Confidential clients only (partner backends); never logged. */
    public Builder clientSecret(String secret) { options.setClientSecret(secret); return this; }
    /** Sends the secret in the form (client_secret_post) instead of Basic auth. */
    public Builder clientSecretPost(boolean post) { options.setClientSecretPost(post); return this; }
    /** PEM file of extra trusted CAs (e.g. the sandbox's); default: the system's store. */
    public Builder caFile(String pem) { http.setCaFile(pem); return this; }
    public Builder caFile(Path pem) { return caFile(pem.toString()); }
    public Builder proxy(String url) { http.setProxy(url); return this; }
    public Builder connectTimeout(Duration d) { http.setConnectTimeoutMs(d.toMillis()); return this; }
    public Builder attemptTimeout(Duration d) { http.setAttemptTimeoutMs(d.toMillis()); return this; }
    public Builder deadline(Duration d) { http.setDeadlineMs(d.toMillis()); return this; }
    /** ID-token algorithms accepted; default RS256 and ES256. */
    public Builder allowedAlgorithms(String... algs) {
      options.setAllowedAlgorithms(new StringList(Arrays.asList(algs)));
      return this;
    }
    public Builder clockSkew(Duration d) { options.setClockSkewSeconds(d.toSeconds()); return this; }
    /** Credentials refresh a token this long before it expires. */
    public Builder refreshMargin(Duration d) { options.setRefreshMarginSeconds(d.toSeconds()); return this; }
    /** Runs the *Async calls; default: a cached pool of daemon threads owned by the client. */
    public Builder executor(Executor e) { this.executor = e; return this; }

    public OidcClient build() {
      return new OidcClient(this);
    }
  }
}
