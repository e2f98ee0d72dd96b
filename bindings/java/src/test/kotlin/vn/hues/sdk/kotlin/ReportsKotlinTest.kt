package vn.hues.sdk.kotlin

import java.net.InetAddress
import java.net.ServerSocket
import java.time.Duration
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.delay
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.assertThrows
import vn.hues.sdk.AuthenticationException
import vn.hues.sdk.HuesClient
import vn.hues.sdk.TlsException
import vn.hues.sdk.ValidationException
import vn.hues.sdk.testing.Sandbox

/** The Kotlin layer (suspend functions, Sequence paging, DSL) against an in-process sandbox. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReportsKotlinTest {
  private val floodText = "Ngập sâu 40 cm trên đường Phan Đình Phùng, gần cầu Trường Tiền 🌧"
  private lateinit var sandbox: Sandbox
  private lateinit var client: HuesClient

  @BeforeAll
  fun start() {
    sandbox = Sandbox()
    client = huesClient {
      baseUrl(sandbox.url())
      apiKey(sandbox.apiKey())
    }
  }

  @AfterAll
  fun stop() {
    client.close()
    sandbox.close()
  }

  @Test
  fun `categories come in Vietnamese`(): Unit = runBlocking {
    val flooding = client.reports().awaitCategories().single { it.code == "flooding" }
    assertEquals("Ngập úng đường phố", flooding.nameVi)
    assertTrue(flooding.attributes.any { it.code == "water_depth_cm" && it.required })
  }

  @Test
  fun `suspend create with the DSL round-trips exactly`(): Unit = runBlocking {
    val created = client.reports().create {
      category = "flooding"
      description = floodText
      anonymous = true
      location {
        lat = 16.4637
        lon = 107.5909
        address = "Đường Phan Đình Phùng"
        ward = "Vĩnh Ninh"
      }
    }
    assertEquals(floodText, created.description)
    assertEquals("Vĩnh Ninh", created.location.ward)
    assertTrue(created.anonymous)
    assertEquals(created, client.reports().awaitGet(created.id))
  }

  @Test
  fun `sequence pages lazily without duplicates`(): Unit = runBlocking {
    val ids = (1..5).map { i ->
      async {
        client.reports().awaitCreate(newReport {
          category = "water_supply"
          description = "Mất nước ở phường Phú Hội, hộ số $i"
          location { lat = 16.4203; lon = 107.6311 }
        }).id
      }
    }.awaitAll().toSet()
    assertEquals(5, ids.size)

    // Only these five lie within 50 m of that spot (the seed data has reports elsewhere).
    val query: ReportQuery.() -> Unit = {
      category = "water_supply"; nearLat = 16.4203; nearLon = 107.6311; radiusM = 50.0; limit = 2
    }
    val seen = client.reports().sequence(query).map { it.id }.toList()
    assertEquals(5, seen.size)
    assertEquals(ids, seen.toSet())
    // Lazy: taking one item fetches only the first page, and yields a real report.
    assertTrue(client.reports().sequence(query).first().id in ids)
  }

  @Test
  fun `errors are typed in suspend calls`(): Unit = runBlocking {
    val e = assertThrows<ValidationException> {
      runBlocking {
        client.reports().create {
          category = "flooding"
          description = floodText
          location { lat = -91.0; lon = 107.59 }
        }
      }
    }
    assertEquals("location.lat", e.field)

    huesClient { baseUrl(sandbox.url()); apiKey("hk_test_not_a_key") }.use { bad ->
      val auth = assertThrows<AuthenticationException> { runBlocking { bad.reports().awaitCategories() } }
      assertEquals(401, auth.httpStatus)
      assertEquals("invalid_api_key", auth.code)
    }
  }

  @Test
  fun `TLS needs the sandbox CA`(): Unit = runBlocking {
    huesClient { baseUrl(sandbox.tlsUrl()); apiKey(sandbox.apiKey()); caFile(sandbox.caFile()) }.use {
      assertFalse(it.reports().awaitCategories().isEmpty())
    }
    huesClient { baseUrl(sandbox.tlsUrl()); apiKey(sandbox.apiKey()); maxAttempts(1) }.use {
      assertThrows<TlsException> { runBlocking { it.reports().awaitCategories() } }
    }
  }

  @Test
  fun `cancelling the coroutine cancels the native call`(): Unit = runBlocking {
    val lines = java.util.Collections.synchronizedList(mutableListOf<String>())
    ServerSocket(0, 50, InetAddress.getLoopbackAddress()).use { stall ->
      huesClient {
        baseUrl("http://127.0.0.1:${stall.localPort}")
        apiKey("hk_test_x")
        attemptTimeout(Duration.ofSeconds(30))
        maxAttempts(1)
        logger { _, message -> lines.add(message) }
      }.use { c ->
        assertThrows<TimeoutCancellationException> {
          runBlocking { withTimeout(300) { c.reports().awaitCategories() } }
        }
        // The native call ends long before its 30 s attempt timeout.
        val deadline = System.nanoTime() + 5_000_000_000
        while (lines.none { "cancelled" in it } && System.nanoTime() < deadline) delay(20)
        assertTrue(lines.any { "cancelled" in it }, "lines: $lines")
      }
    }
  }
}
