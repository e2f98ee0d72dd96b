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
import vn.hues.sdk.identity.OidcClient
import vn.hues.sdk.identity.SandboxBrowser
import vn.hues.sdk.identity.TokenStore
import vn.hues.sdk.identity.UserCredentials
import vn.hues.sdk.testing.Sandbox

/** The device flow from coroutines, with a TokenStore written in Kotlin, against the sandbox. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class IdentityKotlinTest {
  private lateinit var sandbox: Sandbox
  private lateinit var browser: SandboxBrowser
  private lateinit var oidc: OidcClient

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
    oidc = oidcClient {
      issuer(sandbox.tlsUrl())
      clientId("hues-cli")
      caFile(sandbox.caFile())
    }
  }

  @AfterAll
  fun stop() {
    oidc.close()
    sandbox.close()
  }

  @Test
  fun `device flow from a coroutine signs An in and the store restores him`() = runBlocking {
    val device = oidc.startDeviceAuthorization("openid profile offline_access reports:read")
    val tokens = async { oidc.awaitDeviceToken(device) }
    withContext(Dispatchers.IO) { assertEquals(200, browser.decideDevice(device, "nguyen.van.an", "approve")) }
    val store = KotlinStore()
    UserCredentials(oidc, store, "an", tokens.await())
    assertEquals(tokens.await().refreshToken, store.saved["an"]?.refreshToken)

    val restored = UserCredentials(oidc, store, "an")
    huesClient {
      baseUrl(sandbox.tlsUrl())
      caFile(sandbox.caFile())
      credentials(restored)
    }.use { client -> assertEquals("Nguyễn Văn An", client.awaitMe().name) }
    restored.signOut()
    assertNull(store.saved["an"])
    assertFalse(restored.isSignedIn)
  }

  @Test
  fun `a denied device code fails the coroutine with access_denied`() = runBlocking {
    val device = oidc.startDeviceAuthorization("openid")
    val polled = async { runCatching { oidc.awaitDeviceToken(device) } }
    withContext(Dispatchers.IO) { browser.decideDevice(device, "tran.thi.binh", "deny") }
    val error = assertThrows<OAuthException> { polled.await().getOrThrow() }
    assertEquals("access_denied", error.code)
  }

  @Test
  fun `cancelling the coroutine cancels the native poll`() = runBlocking {
    val device = oidc.startDeviceAuthorization("openid")
    val options = callOptions { cancel = CancellationToken() }
    assertThrows<TimeoutCancellationException> {
      runBlocking { withTimeout(1500) { oidc.awaitDeviceToken(device, options) } }
    }
    assertTrue(options.cancel.cancelled())
  }
}
