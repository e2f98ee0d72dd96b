package vn.hues.sdk.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import vn.hues.sdk.AuthenticationException;
import vn.hues.sdk.CallOptions;
import vn.hues.sdk.CancellationToken;
import vn.hues.sdk.CancelledException;
import vn.hues.sdk.ClientCredentials;
import vn.hues.sdk.Credentials;
import vn.hues.sdk.FileTokenStore;
import vn.hues.sdk.HuesClient;
import vn.hues.sdk.InvalidTokenException;
import vn.hues.sdk.LoopbackReceiver;
import vn.hues.sdk.MemoryTokenStore;
import vn.hues.sdk.OAuthException;
import vn.hues.sdk.OidcClient;
import vn.hues.sdk.PermissionDeniedException;
import vn.hues.sdk.TokenStore;
import vn.hues.sdk.TokenStoreException;
import vn.hues.sdk.UserCredentials;
import vn.hues.sdk.internal.Native;
import vn.hues.sdk.model.AuthorizationRequest;
import vn.hues.sdk.model.CitizenProfile;
import vn.hues.sdk.model.DeviceAuthorization;
import vn.hues.sdk.model.FileTokenStoreConfig;
import vn.hues.sdk.model.TokenSet;
import vn.hues.sdk.testing.Sandbox;

/** Sign-in flows against the in-process sandbox's OpenID provider, over real TLS sockets. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class IdentityTest {
  static final String AN = "Nguyễn Văn An";
  static final String SCOPE = "openid profile offline_access reports:read reports:write";
  static Sandbox sandbox;
  static SandboxBrowser browser;

  @BeforeAll
  static void start() throws Exception {
    sandbox = new Sandbox();
    browser = new SandboxBrowser(sandbox);
  }

  @AfterAll
  static void stop() {
    sandbox.close();
  }

  static OidcClient oidc(String clientId, String secret) {
    return OidcClient.builder().issuer(sandbox.tlsUrl()).clientId(clientId)
        .clientSecret(secret.isEmpty() ? null : secret).caFile(sandbox.caFile()).build();
  }

  static HuesClient client(Credentials credentials) {
    return HuesClient.builder().baseUrl(sandbox.tlsUrl()).caFile(sandbox.caFile())
        .credentials(credentials).build();
  }

  static UserCredentials user(OidcClient oidc, TokenStore store, String key, TokenSet tokens) {
    return UserCredentials.builder().oidc(oidc).store(store).key(key).tokens(tokens).build();
  }

  /** Code + PKCE: the browser logs in and follows the redirect to the app's loopback listener. */
  static TokenSet signIn(OidcClient oidc, String username) throws Exception {
    try (LoopbackReceiver receiver = new LoopbackReceiver()) {
      AuthorizationRequest req = oidc.authorizationRequest(receiver.redirectUri(), SCOPE);
      String location = browser.signIn(req.getUrl(), username, "approve");
      CompletableFuture<String> redirected = receiver.waitForAsync(10_000L);
      browser.get(location);
      return oidc.exchangeCode(req, redirected.get(10, TimeUnit.SECONDS));
    }
  }

  /** A TokenStore written in Java: a map, counting saves, failing on demand. */
  static final class MapStore implements TokenStore {
    final Map<String, TokenSet> saved = new ConcurrentHashMap<>();
    final AtomicInteger saves = new AtomicInteger();
    volatile boolean failing;

    @Override public TokenSet load(String key) { return saved.get(key); }
    @Override public void save(String key, TokenSet tokens) {
      if (failing) throw new UncheckedIOException(new java.io.IOException("keystore locked"));
      saves.incrementAndGet();
      saved.put(key, tokens);
    }
    @Override public void remove(String key) { saved.remove(key); }
  }

  @Test
  void discoveryNamesTheIssuer() {
    try (OidcClient oidc = oidc("hues-demo-app", "")) {
      assertEquals(sandbox.tlsUrl(), oidc.metadata().getIssuer());
      assertTrue(oidc.metadata().getCodeChallengeMethodsSupported().contains("S256"));
    }
  }

  @Test
  void debugLinesShowHeadersButNoTokenKeyOrClientSecret() {
    String secret = "taxi-secret-2025";
    for (boolean post : new boolean[] {false, true}) {
      java.util.List<String> lines = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
      vn.hues.sdk.Logger sink = (level, message) -> lines.add(message);
      try (OidcClient oidc = OidcClient.builder().issuer(sandbox.tlsUrl()).clientId("hues-taxi-backend")
          .clientSecret(secret).clientSecretPost(post).caFile(sandbox.caFile())
          .logger(sink).logLevel(vn.hues.sdk.model.LogLevel.DEBUG).build()) {
        ClientCredentials creds = ClientCredentials.builder().oidc(oidc).scope("reports:read").build();
        try (HuesClient client = HuesClient.builder().baseUrl(sandbox.tlsUrl()).caFile(sandbox.caFile())
            .credentials(creds).logger(sink).logLevel(vn.hues.sdk.model.LogLevel.DEBUG).build()) {
          assertFalse(client.reports().categories().isEmpty());
        }
        try (HuesClient client = sandbox.clientBuilder().logger(sink).logLevel(vn.hues.sdk.model.LogLevel.DEBUG).build()) {
          assertFalse(client.reports().categories().isEmpty());
        }
        String token = creds.accessToken();
        String text = String.join("\n", lines);
        // The headers are logged, so a leaked value would show...
        assertTrue(text.contains("Authorization: [redacted]"), text);
        assertTrue(text.contains("X-Api-Key: [redacted]"), text);
        assertTrue(text.contains("/oauth/token request_id="), text);
        // ... and none is there.
        assertFalse(token.isEmpty());
        assertFalse(text.contains(token), "access token in the log");
        assertFalse(text.contains(sandbox.apiKey()), "API key in the log");
        assertFalse(text.contains(secret), "client secret in the log");
        String basic = java.util.Base64.getEncoder().encodeToString(
            ("hues-taxi-backend:" + secret).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertFalse(text.contains(basic), "Basic credentials in the log");
        assertFalse(text.contains("Bearer") || text.contains("Basic"), text);
      }
    }
  }

  @Test
  void clientCredentialsFetchOneTokenAndReuseIt() {
    try (OidcClient oidc = oidc("hues-taxi-backend", "taxi-secret-2025")) {
      ClientCredentials creds = ClientCredentials.builder().oidc(oidc).scope("reports:read reports:write").build();
      try (HuesClient client = client(creds)) {
        for (int i = 0; i < 3; i++) assertFalse(client.reports().categories().isEmpty());
      }
      assertEquals(1, creds.fetchCount());
    }
    try (OidcClient wrong = oidc("hues-taxi-backend", "wrong-secret")) {
      OAuthException e = assertThrows(OAuthException.class, () -> wrong.clientCredentials(""));
      assertEquals("invalid_client", e.getCode());
    }
  }

  @Test
  void codeAndPkceThroughTheLoginPageSignsAnIn() throws Exception {
    try (OidcClient oidc = oidc("hues-demo-app", "")) {
      TokenSet tokens = signIn(oidc, "nguyen.van.an");
      assertFalse(tokens.getRefreshToken().isEmpty());
      assertEquals(AN, oidc.validateIdToken(tokens.getIdToken()).getName());
      UserCredentials user = user(oidc, new MemoryTokenStore(), "an", tokens);
      try (HuesClient client = client(user)) {
        CitizenProfile me = client.me();
        assertEquals(AN, me.getName());
        assertEquals(2, me.getVerificationLevel());
        assertEquals(me.getSub(), oidc.userinfo(tokens.getAccessToken()).getSub());
        assertEquals(AN, client.meAsync().get(10, TimeUnit.SECONDS).getName());
      }
    }
  }

  @Test
  void meNeedsASignedInPerson() {
    try (HuesClient client = sandbox.client()) {  // a partner API key is no person
      assertThrows(PermissionDeniedException.class, client::me);
    }
    try (OidcClient oidc = oidc("hues-demo-app", "")) {
      UserCredentials nobody = UserCredentials.builder().oidc(oidc).store(new MemoryTokenStore()).key("nobody").build();
      assertFalse(nobody.signedIn());
      try (HuesClient client = client(nobody)) {
        assertEquals("not_signed_in", assertThrows(AuthenticationException.class, client::me).getCode());
      }
    }
  }

  @Test
  void aRedirectWithAnotherStateIsRefusedAsCsrf() {
    try (OidcClient oidc = oidc("hues-demo-app", "")) {
      AuthorizationRequest req = oidc.authorizationRequest("http://127.0.0.1:9/callback", "openid");
      InvalidTokenException e = assertThrows(InvalidTokenException.class,
          () -> oidc.exchangeCode(req, "http://127.0.0.1:9/callback?code=abc&state=forged"));
      assertEquals("state", e.getCode());
    }
  }

  @Test
  void deviceFlowApprovedAndDenied() throws Exception {
    try (OidcClient oidc = oidc("hues-cli", "")) {
      DeviceAuthorization device = oidc.startDeviceAuthorization("openid profile reports:read");
      CompletableFuture<TokenSet> polled = oidc.pollDeviceTokenAsync(device);
      assertEquals(200, browser.decideDevice(device, "nguyen.van.an", "approve"));
      TokenSet tokens = polled.get(30, TimeUnit.SECONDS);
      assertEquals(AN, oidc.validateIdToken(tokens.getIdToken()).getName());

      DeviceAuthorization denied = oidc.startDeviceAuthorization("openid");
      CompletableFuture<TokenSet> refused = oidc.pollDeviceTokenAsync(denied);
      browser.decideDevice(denied, "nguyen.van.an", "deny");
      ExecutionException e = assertThrows(ExecutionException.class, () -> refused.get(30, TimeUnit.SECONDS));
      assertEquals("access_denied", assertInstanceOf(OAuthException.class, e.getCause()).getCode());
    }
  }

  @Test
  void cancellingStopsTheNativePoll() throws Exception {
    try (OidcClient oidc = oidc("hues-cli", "")) {
      DeviceAuthorization device = oidc.startDeviceAuthorization("openid");
      CancellationToken token = new CancellationToken();
      CompletableFuture<Throwable> poll = CompletableFuture.supplyAsync(() -> {
        try {
          oidc.pollDeviceToken(device, CallOptions.cancel(token));
          return null;
        } catch (Throwable t) {
          return t;
        }
      });
      Thread.sleep(300);
      long start = System.nanoTime();
      token.cancel();
      assertInstanceOf(CancelledException.class, poll.get(5, TimeUnit.SECONDS));
      assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(3));

      // The async form: cancelling the future aborts the native poll, whose (cancelled)
      // completion then arrives at once instead of after the device code expires.
      int before = Native.pending();
      CompletableFuture<TokenSet> future = oidc.pollDeviceTokenAsync(device);
      Thread.sleep(200);
      assertTrue(future.cancel(true));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
      while (Native.pending() > before && System.nanoTime() < deadline) Thread.sleep(10);
      assertEquals(before, Native.pending(), "the native poll is still running");
    }
  }

  @Test
  void aJavaTokenStoreKeepsTheTokensAndSignOutClearsIt() throws Exception {
    try (OidcClient oidc = oidc("hues-demo-app", "")) {
      TokenSet tokens = signIn(oidc, "nguyen.van.an");
      MapStore store = new MapStore();
      user(oidc, store, "an", tokens);
      assertEquals(tokens.getRefreshToken(), store.saved.get("an").getRefreshToken());

      // The app restarts: new credentials restore from the store, only the store is referenced.
      UserCredentials restored = UserCredentials.builder().oidc(oidc).store(store).key("an").build();
      assertTrue(restored.signedIn());
      try (HuesClient client = client(restored)) {
        assertEquals(AN, client.me().getName());
      }
      restored.signOut();
      assertFalse(restored.signedIn());
      assertNull(store.saved.get("an"));
      assertEquals("invalid_grant",
          assertThrows(OAuthException.class, () -> oidc.refresh(tokens.getRefreshToken())).getCode());
      assertFalse(UserCredentials.builder().oidc(oidc).store(store).key("an").build().signedIn());
    }
  }

  @Test
  void aFileTokenStoreKeepsTokensAcrossInstances(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    try (OidcClient oidc = oidc("hues-demo-app", "")) {
      TokenSet tokens = signIn(oidc, "nguyen.van.an");
      FileTokenStore store = new FileTokenStore(FileTokenStoreConfig.builder().directory(dir.toString()).build());
      user(oidc, store, "an", tokens);
      FileTokenStore again = new FileTokenStore(FileTokenStoreConfig.builder().directory(dir.toString()).build());
      assertTrue(UserCredentials.builder().oidc(oidc).store(again).key("an").build().signedIn());
    }
  }

  @Test
  void aStoreReferencedOnlyByNativeCodeSurvivesGarbageCollection() throws Exception {
    try (OidcClient oidc = oidc("hues-demo-app", "")) {
      TokenSet tokens = signIn(oidc, "nguyen.van.an").toBuilder().expiresAt(1L).build();  // long expired
      AtomicInteger saves = new AtomicInteger();
      UserCredentials user = user(oidc, new TokenStore() {
        @Override public TokenSet load(String key) { return null; }
        @Override public void save(String key, TokenSet t) { saves.incrementAndGet(); }
        @Override public void remove(String key) {}
      }, "an", tokens);
      for (int i = 0; i < 3; i++) {
        System.gc();
        Thread.sleep(50);
      }
      try (HuesClient client = client(user)) {
        assertEquals(AN, client.meAsync().get(10, TimeUnit.SECONDS).getName());  // refreshes first
      }
      assertEquals(1, user.refreshCount());
      assertEquals(2, saves.get());
    }
  }

  @Test
  void anExceptionInAJavaStoreBecomesATypedError() throws Exception {
    try (OidcClient oidc = oidc("hues-demo-app", "")) {
      TokenSet tokens = signIn(oidc, "nguyen.van.an");
      MapStore store = new MapStore();
      store.failing = true;
      TokenStoreException direct = assertThrows(TokenStoreException.class,
          () -> user(oidc, store, "an", tokens));
      assertTrue(direct.getMessage().contains("keystore locked"), direct.getMessage());

      // Through the pipeline on an SDK thread: the refresh before the call saves, and the
      // save fails. The refreshed tokens stay in memory, so the next call works.
      store.failing = false;
      TokenSet expired = tokens.toBuilder().expiresAt(1L).build();
      UserCredentials user = user(oidc, store, "an", expired);
      store.failing = true;
      try (HuesClient client = client(user)) {
        ExecutionException async = assertThrows(ExecutionException.class, () -> client.meAsync().get(10, TimeUnit.SECONDS));
        TokenStoreException viaCall = assertInstanceOf(TokenStoreException.class, async.getCause());
        assertTrue(viaCall.getMessage().contains("keystore locked"), viaCall.getMessage());
        assertEquals(AN, client.me().getName());
      }
      assertNotEquals(tokens.getAccessToken(), user.tokens().getAccessToken());
      assertEquals(tokens.getAccessToken(), store.saved.get("an").getAccessToken());  // not overwritten
    }
  }

  @Test
  void aClosedOidcClientThrowsButItsCredentialsKeepWorking() {
    OidcClient oidc = oidc("hues-taxi-backend", "taxi-secret-2025");
    ClientCredentials creds = ClientCredentials.builder().oidc(oidc).build();
    oidc.close();
    assertThrows(IllegalStateException.class, oidc::metadata);
    assertFalse(creds.accessToken().isEmpty());
    assertSame(IllegalStateException.class,
        assertThrows(IllegalStateException.class, () -> ClientCredentials.builder().oidc(oidc).build()).getClass());
  }
}
