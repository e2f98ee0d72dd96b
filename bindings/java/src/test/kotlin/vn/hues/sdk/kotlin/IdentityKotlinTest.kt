package vn.hues.sdk.kotlin

import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.assertThrows
import vn.hues.sdk.OAuthException
import vn.hues.sdk.TokenStore
import vn.hues.sdk.identity.SandboxBrowser
import vn.hues.sdk.internal.Native
import vn.hues.sdk.model.TokenSet
import vn.hues.sdk.testing.Sandbox

/** The device flow from coroutines, with a TokenStore written in Kotlin, against the sandbox. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class IdentityKotlinTest {
  private lateinit var sandbox: Sandbox
  private lateinit var browser: SandboxBrowser
  private lateinit var provider: OidcClient

  /** Keeps tokens in a map, as an app would in its keystore. */
  private class KotlinStore : TokenStore {
    val saved = ConcurrentHashMap<String, TokenSet>()
    override fun load(key: String): TokenSet? = saved[key]
    override fun save(key: String, tokens: TokenSet) { saved[key] = tokens }
    override fun remove(key: String) { saved.remove(key) }
  }

  @BeforeAll
  fun start() {
    sandbox = Sandbox()
    browser = SandboxBrowser(sandbox)
    val tls = sandbox.tlsUrl()
    val ca = sandbox.caFile()
    provider = oidcClient {
      issuer = tls
      clientId = "hues-cli"
      caFile = ca
    }
  }

  @AfterAll
  fun stop() {
    provider.close()
    sandbox.close()
  }

  @Test
  fun `device flow from a coroutine signs An in and the store restores him`() = runBlocking {
    val device = provider.startDeviceAuthorization("openid profile offline_access reports:read")
    val tokens = async { provider.pollDeviceToken(device) }
    withContext(Dispatchers.IO) { assertEquals(200, browser.decideDevice(device, "nguyen.van.an", "approve")) }
    val store = KotlinStore()
    val p = provider
    val signedIn = tokens.await()
    userCredentials { oidc = p; this.store = store; key = "an"; this.tokens = signedIn }
    assertEquals(tokens.await().refreshToken, store.saved["an"]?.refreshToken)

    val restored = userCredentials { oidc = p; this.store = store; key = "an" }
    val tls = sandbox.tlsUrl()
    val ca = sandbox.caFile()
    huesClient {
      baseUrl = tls
      caFile = ca
      credentials = restored
    }.use { client -> assertEquals("Nguyễn Văn An", client.me().name) }
    restored.signOut()
    assertNull(store.saved["an"])
    assertFalse(restored.signedIn())
  }

  @Test
  fun `a denied device code fails the coroutine with access_denied`() = runBlocking {
    val device = provider.startDeviceAuthorization("openid")
    val polled = async { runCatching { provider.pollDeviceToken(device) } }
    withContext(Dispatchers.IO) { browser.decideDevice(device, "tran.thi.binh", "deny") }
    val error = assertThrows<OAuthException> { polled.await().getOrThrow() }
    assertEquals("access_denied", error.code)
  }

  @Test
  fun `cancelling the coroutine cancels the native poll`() = runBlocking {
    val device = provider.startDeviceAuthorization("openid")
    val before = Native.pending()
    assertThrows<TimeoutCancellationException> {
      runBlocking { withTimeout(1500) { provider.pollDeviceToken(device) } }
    }
    // The poll's completion (cancelled) arrives at once, not when the device code expires.
    val deadline = System.nanoTime() + 3_000_000_000
    while (Native.pending() > before && System.nanoTime() < deadline) Thread.sleep(10)
    assertEquals(before, Native.pending())
  }
}
