// Sign-in flows against the sandbox's OpenID provider over real sockets: the test plays the
// browser (Browser.cs) and the SDK plays the app.
using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Hues.Sdk.Tests {

// A TokenStore written in C#: what the SDK saves lands in a dictionary the test can read.
sealed class DictionaryTokenStore : ITokenStore {
  public readonly ConcurrentDictionary<string, TokenSet> Tokens = new ConcurrentDictionary<string, TokenSet>();
  public int Saves;

  public TokenSet Load(string key) {
    TokenSet t;
    return Tokens.TryGetValue(key, out t) ? t : null;  // null: none (sent as an empty TokenSet)
  }
  public void Save(string key, TokenSet tokens) {
    Interlocked.Increment(ref Saves);
    Tokens[key] = tokens;
  }
  public void Remove(string key) {
    TokenSet ignored;
    Tokens.TryRemove(key, out ignored);
  }
}

// A store on a disk that is always full.
sealed class FailingTokenStore : ITokenStore {
  public TokenSet Load(string key) { throw new IOException("đĩa đầy (disk full) on load"); }
  public void Save(string key, TokenSet tokens) { throw new IOException("đĩa đầy (disk full)"); }
  public void Remove(string key) { throw new UnauthorizedAccessException("read-only"); }
}

[TestFixture, Timeout(60000)]
public class IdentityTests {
  const string AppScope = "openid profile offline_access reports:read reports:write";
  static Testing.Sandbox Sandbox { get { return SandboxFixture.Sandbox; } }

  // Over HTTPS trusting the sandbox's CA; flows that need Browser use the plain listener.
  static OidcClient Oidc(string clientId, string secret = null, bool post = false, bool tls = true) {
    return new OidcClient(tls ? Sandbox.TlsUrl : Sandbox.Url, clientId, clientSecret: secret,
                          clientSecretPost: post, caFile: tls ? Sandbox.CaFile : null);
  }

  internal static OidcClient App() { return Oidc("hues-demo-app", tls: false); }

  // On the listener whose issuer made the tokens: each listener is its own issuer, and its
  // tokens are good only there.
  internal static HuesClient ClientWith(Credentials credentials, bool tls = true) {
    return tls ? new HuesClient(Sandbox.TlsUrl, caFile: Sandbox.CaFile, credentials: credentials)
               : new HuesClient(Sandbox.Url, credentials: credentials);
  }

  // Code + PKCE: sign in on the login page, let the browser follow the redirect to the app's
  // loopback listener, exchange the code.
  // username signed in through the sandbox's provider, its tokens in a store of its own.
  internal static UserCredentials SignedIn(OidcClient oidc, string username) {
    return new UserCredentials(oidc, new MemoryTokenStore(), key: username, tokens: SignInWithPkce(oidc, username));
  }

  internal static TokenSet SignInWithPkce(OidcClient oidc, string username) {
    using (var receiver = new LoopbackReceiver()) {
      var request = oidc.AuthorizationRequest(receiver.RedirectUri(), AppScope);
      StringAssert.StartsWith(Sandbox.Url + "/oauth/authorize?", request.Url);
      var location = Browser.SignIn(request.Url, username);
      var redirected = receiver.WaitAsync(10000);
      var browser = Task.Run(() => new Browser().Send("GET", location));
      var url = redirected.GetAwaiter().GetResult();
      Assert.That(browser.GetAwaiter().GetResult().Status, Is.EqualTo(200));
      return oidc.ExchangeCodeAsync(request, url).GetAwaiter().GetResult();
    }
  }

  [Test]
  public void DiscoveryNamesTheEndpointsUnderTheIssuer() {
    using (var oidc = Oidc("hues-demo-app", tls: true)) {
      var md = oidc.Metadata();
      Assert.That(md.Issuer, Is.EqualTo(Sandbox.TlsUrl));
      StringAssert.StartsWith(md.Issuer, md.TokenEndpoint);
      Assert.That(md.CodeChallengeMethodsSupported, Has.Member("S256"));
    }
  }

  [Test]
  public void DebugLinesShowHeadersButNoTokenKeyOrClientSecret([Values(false, true)] bool secretInForm) {
    const string secret = "taxi-secret-2025";
    var logger = new ListLogger();
    string token;
    using (var oidc = new OidcClient(Sandbox.TlsUrl, "hues-taxi-backend", clientSecret: secret,
                                     clientSecretPost: secretInForm, caFile: Sandbox.CaFile,
                                     logger: logger, logLevel: LogLevel.Debug))
    using (var credentials = new ClientCredentials(oidc, scope: "reports:read")) {
      using (var client = new HuesClient(Sandbox.TlsUrl, caFile: Sandbox.CaFile, credentials: credentials,
                                         logger: logger, logLevel: LogLevel.Debug))
        Assert.That(client.Reports.Categories(), Is.Not.Empty);
      using (var client = new HuesClient(Sandbox.ClientOptions(logger: logger, logLevel: LogLevel.Debug)))
        Assert.That(client.Reports.Categories(), Is.Not.Empty);
      token = credentials.AccessToken();
    }
    var text = string.Join("\n", logger.Lines);
    // The headers are logged, so a leaked value would show...
    StringAssert.Contains("Authorization: [redacted]", text);
    StringAssert.Contains("X-Api-Key: [redacted]", text);
    StringAssert.Contains("/oauth/token request_id=", text);
    // ... and none is there.
    Assert.That(token, Is.Not.Empty);
    StringAssert.DoesNotContain(token, text);
    StringAssert.DoesNotContain(Sandbox.ApiKey, text);
    StringAssert.DoesNotContain(secret, text);
    StringAssert.DoesNotContain(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("hues-taxi-backend:" + secret)), text);
    StringAssert.DoesNotContain("Bearer", text);
    StringAssert.DoesNotContain("Basic", text);
  }

  [Test]
  public void ClientCredentialsFetchOneTokenAndReuseIt([Values(false, true)] bool secretInForm) {
    using (var oidc = Oidc("hues-taxi-backend", "taxi-secret-2025", secretInForm))
    using (var credentials = new ClientCredentials(oidc, scope: "reports:read reports:write"))
    using (var client = ClientWith(credentials)) {
      for (int i = 0; i < 3; i++) Assert.That(client.Reports.Categories(), Is.Not.Empty);
      var category = client.Reports.Categories()[0].Code;
      var created = client.Reports.Create(Samples.Report(category));
      Assert.That(client.Reports.Get(created.Id).Description, Is.EqualTo(Samples.Description));
      Assert.That(credentials.FetchCount(), Is.EqualTo(1));
      StringAssert.StartsWith("hat_", credentials.AccessToken());
    }
  }

  [Test]
  public void AWrongClientSecretIsAnOAuthError() {
    using (var oidc = Oidc("hues-taxi-backend", "wrong-secret")) {
      var e = Assert.Throws<OAuthException>(() => oidc.ClientCredentials());
      Assert.That(e.Code, Is.EqualTo("invalid_client"));
      Assert.That(e, Is.InstanceOf<ApiException>());
    }
  }

  [Test]
  public void CodeAndPkceThroughTheLoginPageSignsNguyenVanAnIn() {
    using (var oidc = App()) {
      var tokens = SignInWithPkce(oidc, "nguyen.van.an");
      Assert.That(tokens.AccessToken, Is.Not.Empty);
      Assert.That(tokens.RefreshToken, Is.Not.Empty);
      var claims = oidc.ValidateIdToken(tokens.IdToken);
      Assert.That(claims.Name, Is.EqualTo("Nguyễn Văn An"));
      Assert.That(claims.Aud, Is.EqualTo("hues-demo-app"));

      using (var store = new MemoryTokenStore())
      using (var user = new UserCredentials(oidc, store, key: "an", tokens: tokens))
      using (var client = ClientWith(user, tls: false)) {
        var me = client.Me();
        Assert.That(me.Name, Is.EqualTo("Nguyễn Văn An"));
        Assert.That(me.Name.IsNormalized(System.Text.NormalizationForm.FormC), Is.True);
        Assert.That(me.VerificationLevel, Is.EqualTo(2));
        Assert.That(me.Sub, Is.EqualTo(claims.Sub));
        Assert.That(client.MeAsync().GetAwaiter().GetResult().Name, Is.EqualTo("Nguyễn Văn An"));
      }
      Assert.That(oidc.Userinfo(tokens.AccessToken).Sub, Is.EqualTo(claims.Sub));
    }
  }

  [Test]
  public void ARedirectWithAnotherStateIsRefused() {
    using (var oidc = App()) {
      var request = oidc.AuthorizationRequest("http://127.0.0.1:9/callback", "openid");
      var e = Assert.Throws<InvalidTokenException>(
          () => oidc.ExchangeCode(request, "http://127.0.0.1:9/callback?code=abc&state=forged"));
      Assert.That(e.Code, Is.EqualTo("state"));
    }
  }

  [Test]
  public void ADeniedSignInIsAnOAuthError() {
    using (var oidc = App()) {
      var request = oidc.AuthorizationRequest("http://127.0.0.1:9/callback", "openid");
      var location = Browser.SignIn(request.Url, "tran.thi.binh", "deny");
      var e = Assert.Throws<OAuthException>(() => oidc.ExchangeCode(request, location));
      Assert.That(e.Code, Is.EqualTo("access_denied"));
    }
  }

  [Test]
  public void DeviceFlowApprovedOnAnotherDevice() {
    using (var oidc = Oidc("hues-cli", tls: false)) {
      var device = oidc.StartDeviceAuthorization("openid profile reports:read");
      Assert.That(device.UserCode.Length, Is.GreaterThanOrEqualTo(8));
      var polling = oidc.PollDeviceTokenAsync(device);
      Thread.Sleep(200);
      Assert.That(polling.IsCompleted, Is.False, "nobody has approved yet");
      Browser.Device(device, "nguyen.van.an", "approve");
      var tokens = polling.GetAwaiter().GetResult();
      Assert.That(oidc.ValidateIdToken(tokens.IdToken).Name, Is.EqualTo("Nguyễn Văn An"));
    }
  }

  [Test]
  public void DeviceFlowDeniedIsAccessDenied() {
    using (var oidc = Oidc("hues-cli", tls: false)) {
      var device = oidc.StartDeviceAuthorization("openid");
      var polling = oidc.PollDeviceTokenAsync(device);
      Browser.Device(device, "nguyen.van.an", "deny");
      var e = Assert.Throws<OAuthException>(() => polling.GetAwaiter().GetResult());
      Assert.That(e.Code, Is.EqualTo("access_denied"));
    }
  }

  [Test]
  public void CancellingDevicePollingEndsTheTaskAtOnce() {
    using (var oidc = Oidc("hues-cli", tls: false))
    using (var cts = new CancellationTokenSource()) {
      var polling = oidc.PollDeviceTokenAsync(oidc.StartDeviceAuthorization("openid"), cts.Token);
      Thread.Sleep(300);
      var watch = Stopwatch.StartNew();
      cts.Cancel();
      var e = Assert.Catch<OperationCanceledException>(() => polling.GetAwaiter().GetResult());
      Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)));
      Assert.That(polling.IsCanceled, Is.True);
      Assert.That(e.InnerException, Is.InstanceOf<CancelledException>());
    }
  }

  [Test]
  public void ACSharpTokenStoreKeepsTheTokensAndSignOutClearsThem() {
    var store = new DictionaryTokenStore();
    using (var oidc = App()) {
      var tokens = SignInWithPkce(oidc, "nguyen.van.an");
      using (new UserCredentials(oidc, store, key: "an", tokens: tokens)) {}
      Assert.That(store.Tokens["an"].RefreshToken, Is.EqualTo(tokens.RefreshToken));
      Assert.That(store.Tokens["an"].AccessToken, Is.EqualTo(tokens.AccessToken));

      // The app restarted: new credentials restore the user from the store.
      using (var restored = new UserCredentials(oidc, store, key: "an"))
      using (var client = ClientWith(restored, tls: false)) {
        Assert.That(restored.SignedIn(), Is.True);
        Assert.That(restored.Tokens().RefreshToken, Is.EqualTo(tokens.RefreshToken));
        Assert.That(client.Me().Name, Is.EqualTo("Nguyễn Văn An"));
        restored.SignOut();
        Assert.That(restored.SignedIn(), Is.False);
        Assert.That(store.Tokens.ContainsKey("an"), Is.False);
        Assert.That(Assert.Throws<AuthenticationException>(() => client.Me()).Code, Is.EqualTo("not_signed_in"));
      }
      Assert.That(Assert.Throws<OAuthException>(() => oidc.Refresh(tokens.RefreshToken)).Code,
                  Is.EqualTo("invalid_grant"));
    }
  }

  [Test]
  public void ExpiredTokensAreRefreshedOnceForManyThreadsAndSaved() {
    var store = new DictionaryTokenStore();
    using (var oidc = App()) {
      var tokens = SignInWithPkce(oidc, "tran.thi.binh");
      tokens = tokens.WithExpiresAt(1);  // as if it had expired long ago
      using (var user = new UserCredentials(oidc, store, key: "binh", tokens: tokens)) {
        var seen = Enumerable.Range(0, 20).Select(_ => Task.Run(() => user.Tokens().AccessToken)).ToArray();
        Task.WaitAll(seen);
        Assert.That(user.RefreshCount(), Is.EqualTo(1));
        Assert.That(seen.Select(t => t.Result).Distinct().Count(), Is.EqualTo(1));
        Assert.That(seen[0].Result, Is.Not.EqualTo(tokens.AccessToken));
        Assert.That(store.Saves, Is.EqualTo(2));  // the sign-in, then the refresh
        Assert.That(store.Tokens["binh"].AccessToken, Is.EqualTo(seen[0].Result));
      }
    }
  }

  [Test]
  public void AThrowingTokenStoreIsATypedErrorNotACrash() {
    using (var oidc = App()) {
      var tokens = new TokenSet(accessToken: "hat_x", refreshToken: "hrt_x");
      var e = Assert.Throws<TokenStoreException>(() => new UserCredentials(oidc, new FailingTokenStore(), key: "k", tokens: tokens));
      Assert.That(e.InnerException, Is.InstanceOf<IOException>());
      StringAssert.Contains("đĩa đầy (disk full)", e.Message);
      var load = Assert.Throws<TokenStoreException>(() => new UserCredentials(oidc, new FailingTokenStore(), key: "k"));
      Assert.That(load.InnerException, Is.InstanceOf<IOException>());
    }
  }

  // Made in its own frame so no local keeps the store reachable.
  [MethodImpl(MethodImplOptions.NoInlining)]
  static UserCredentials CredentialsWithUnreferencedStore(OidcClient oidc, TokenSet tokens,
                                                          ConcurrentQueue<string> saves, out WeakReference store) {
    var s = new QueueTokenStore(saves);
    store = new WeakReference(s);
    return new UserCredentials(oidc, s, key: "gc", tokens: tokens);
  }

  sealed class QueueTokenStore : ITokenStore {
    readonly ConcurrentQueue<string> saves;
    public QueueTokenStore(ConcurrentQueue<string> saves) { this.saves = saves; }
    public TokenSet Load(string key) { return new TokenSet(); }
    public void Save(string key, TokenSet tokens) { saves.Enqueue(tokens.AccessToken); }
    public void Remove(string key) {}
  }

  static void CollectGarbage() {
    for (int i = 0; i < 3; i++) {
      GC.Collect();
      GC.WaitForPendingFinalizers();
    }
  }

  [Test]
  public void AStoreOnlyTheSdkHoldsStaysAliveUntilTheSdkLetsGo() {
    var saves = new ConcurrentQueue<string>();
    WeakReference store;
    using (var oidc = App()) {
      var tokens = SignInWithPkce(oidc, "nguyen.van.an");
      tokens = tokens.WithExpiresAt(1);
      var user = CredentialsWithUnreferencedStore(oidc, tokens, saves, out store);
      CollectGarbage();
      Assert.That(store.IsAlive, Is.True, "the SDK still holds the store");
      var fresh = user.Tokens();  // refreshes, then saves through the C# store
      Assert.That(saves.Last(), Is.EqualTo(fresh.AccessToken));
      Assert.That(saves.Count, Is.EqualTo(2));
      user.Dispose();
    }
    CollectGarbage();
    Assert.That(store.IsAlive, Is.False, "released once no native object holds it");
  }
}

}
