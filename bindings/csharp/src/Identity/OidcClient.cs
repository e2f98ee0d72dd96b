// Citizen sign-in with OpenID Connect (code + PKCE, device flow), client credentials and
// ID-token validation, over the C++ core (hues/identity.h).
//
//   using (var oidc = new OidcClient(new OidcClientOptions { Issuer = url, ClientId = "hues-cli" })) {
//     var device = oidc.StartDeviceAuthorization("openid profile reports:write");
//     Console.WriteLine("Open " + device.VerificationUri + " and enter " + device.UserCode);
//     var tokens = await oidc.PollDeviceTokenAsync(device, cancellationToken);
//     var user = new UserCredentials(oidc, TokenStore.InDirectory(dir), "citizen", tokens);
//     using (var client = new HuesClient(new HuesClientOptions { BaseUrl = api, Credentials = user }))
//       Console.WriteLine(client.Me().Name);
//   }
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Hues.Sdk.Native;

namespace Hues.Sdk.Identity {

public sealed class OidcClientOptions {
  public string Issuer { get; set; }        // e.g. "https://id.hue-s.vn" or a sandbox's TlsUrl
  public string ClientId { get; set; }
  public string ClientSecret { get; set; }  // confidential clients only
  public bool ClientSecretPost { get; set; }  // the secret in the form instead of Basic auth
  public string CaFile { get; set; }        // PEM of extra trusted CAs; wins over Http.CaFile
  // Other transport settings for calls to the provider (timeouts, proxy, logger...);
  // BaseUrl, ApiKey and Credentials are ignored.
  public HuesClientOptions Http { get; set; }
  public IList<string> AllowedAlgorithms { get; set; }  // null: RS256 and ES256
  public TimeSpan? ClockSkew { get; set; }              // null: 60 s
  public TimeSpan? RefreshMargin { get; set; }          // refresh this long before expiry; null: 60 s
}

// Thread-safe. Dispose releases this handle only: credentials made from it keep working.
public sealed class OidcClient : IDisposable {
  // Reachable as long as this object is, which credentials made from it ensure.
  readonly LoggerBridge logger;
  readonly NativeOidcClient native;
  readonly CallGate gate;

  public OidcClient(OidcClientOptions options) {
    if (options == null) throw new ArgumentNullException(nameof(options));
    var http = options.Http ?? new HuesClientOptions();
    if (http.Logger != null) logger = new LoggerBridge(http.Logger);
    using (var o = new OidcOptions())
    using (var client = http.ToNative(logger)) {
      o.Issuer = options.Issuer ?? "";
      o.ClientId = options.ClientId ?? "";
      o.ClientSecret = options.ClientSecret ?? "";
      o.ClientSecretPost = options.ClientSecretPost;
      if (options.CaFile != null) client.CaFile = options.CaFile;
      o.Http = client;
      if (options.AllowedAlgorithms != null) o.AllowedAlgorithms = new StringVector(options.AllowedAlgorithms);
      if (options.ClockSkew.HasValue) o.ClockSkewSeconds = (long)options.ClockSkew.Value.TotalSeconds;
      if (options.RefreshMargin.HasValue) o.RefreshMarginSeconds = (long)options.RefreshMargin.Value.TotalSeconds;
      native = new NativeOidcClient(o);
    }
    gate = new CallGate(this, native.Dispose);
  }

  // The discovery document, fetched once and then cached.
  public ProviderMetadata Metadata() { return gate.Run(() => native.Metadata()); }

  // Authorization code + PKCE S256 with fresh state and nonce: open request.Url in a browser
  // and keep request for ExchangeCode.
  public AuthorizationRequest CreateAuthorizationRequest(string redirectUri, string scope) {
    return gate.Run(() => native.CreateAuthorizationRequest(redirectUri, scope));
  }

  // Checks the redirect (state, iss, error), exchanges the code and validates the ID token.
  // InvalidTokenException (Code "state") on a state mismatch; OAuthException for an error
  // redirect or a refused exchange.
  public TokenSet ExchangeCode(AuthorizationRequest request, string redirectedTo) {
    if (request == null) throw new ArgumentNullException(nameof(request));
    return gate.Run(() => native.ExchangeCode(request, redirectedTo));
  }

  // The native exchange cannot be aborted: cancelling ends the Task at once and the exchange
  // finishes in the background within the client's deadline.
  public Task<TokenSet> ExchangeCodeAsync(AuthorizationRequest request, string redirectedTo,
                                          CancellationToken cancellationToken = default(CancellationToken)) {
    if (request == null) throw new ArgumentNullException(nameof(request));
    return AsyncCall.Abandonable(() => ExchangeCode(request, redirectedTo), cancellationToken);
  }

  // Device authorization grant (RFC 8628): show device.UserCode and device.VerificationUri.
  public DeviceAuthorization StartDeviceAuthorization(string scope) {
    return gate.Run(() => native.StartDeviceAuthorization(scope));
  }

  // Polls at the server's interval until the user approves; OAuthException access_denied or
  // expired_token otherwise. Cancelling stops the polling at once (CancelledException).
  public TokenSet PollDeviceToken(DeviceAuthorization device,
                                  CancellationToken cancellationToken = default(CancellationToken)) {
    if (device == null) throw new ArgumentNullException(nameof(device));
    using (var call = new NativeCall(null, cancellationToken))
      return gate.Run(() => native.PollDeviceToken(device, call.Options));
  }

  public Task<TokenSet> PollDeviceTokenAsync(DeviceAuthorization device,
                                             CancellationToken cancellationToken = default(CancellationToken)) {
    if (device == null) throw new ArgumentNullException(nameof(device));
    return AsyncCall.Run(() => PollDeviceToken(device, cancellationToken), cancellationToken);
  }

  // Client credentials grant, for partner backends (ClientCredentials caches and refreshes).
  public TokenSet ClientCredentialsGrant(string scope = "") {
    return gate.Run(() => native.ClientCredentialsGrant(scope ?? ""));
  }

  // Refresh grant; the result carries the rotated refresh token.
  public TokenSet Refresh(string refreshToken, string scope = "") {
    return gate.Run(() => native.Refresh(refreshToken, scope ?? ""));
  }

  // Token revocation (RFC 7009).
  public void Revoke(string token, string tokenTypeHint = "") {
    gate.Run(() => native.Revoke(token, tokenTypeHint ?? ""));
  }

  // Signature (JWKS), algorithm, iss, aud, azp, exp, nbf, iat and, when given, nonce.
  // InvalidTokenException, its Code naming the failed check.
  public IdTokenClaims ValidateIdToken(string idToken, string expectedNonce = "") {
    return gate.Run(() => native.ValidateIdToken(idToken, expectedNonce ?? ""));
  }

  public CitizenProfile UserInfo(string accessToken) { return gate.Run(() => native.Userinfo(accessToken)); }

  public void Dispose() { gate.Dispose(); }

  internal T Call<T>(Func<NativeOidcClient, T> call) { return gate.Run(() => call(native)); }
}

// A one-shot HTTP listener on 127.0.0.1 for a native app's sign-in redirect (RFC 8252).
// Listens on an ephemeral port from construction until Dispose.
public sealed class LoopbackReceiver : IDisposable {
  readonly NativeLoopbackReceiver native = new NativeLoopbackReceiver();
  readonly CallGate gate;

  public LoopbackReceiver() {
    gate = new CallGate(this, native.Dispose);
    RedirectUri = native.RedirectUri();
  }

  public string RedirectUri { get; }  // "http://127.0.0.1:PORT/callback"

  // Waits for the browser's redirect and returns the URL it requested (give it to
  // ExchangeCode). HuesTimeoutException after timeout.
  public string Wait(TimeSpan timeout) {
    return gate.Run(() => native.Wait(HuesClientOptions.Ms(timeout)));
  }

  public Task<string> WaitAsync(TimeSpan timeout) { return Task.Run(() => Wait(timeout)); }

  public void Dispose() { gate.Dispose(); }
}

}
