package vn.hues.sdk.kotlin

import java.net.InetAddress
import java.net.ServerSocket
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.assertThrows
import vn.hues.sdk.AuthenticationException
import vn.hues.sdk.CallOptions
import vn.hues.sdk.CancellationToken
import vn.hues.sdk.CancelledException
import vn.hues.sdk.TlsException
import vn.hues.sdk.ValidationException
import vn.hues.sdk.model.ReportStatus

/** The Kotlin layer (suspend functions, Flow paging, DSL builders) against an in-process sandbox. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReportsKotlinTest : SandboxKotlinTest() {
  private val floodText = "Ngập sâu 40 cm trên đường Phan Đình Phùng, gần cầu Trường Tiền 🌧"
  /** A client of a server that accepts connections and never answers. */
  private fun stalled(stall: ServerSocket) = huesClient {
    baseUrl = "http://127.0.0.1:${stall.localPort}"
    apiKey = "hk_test_x"
    attemptTimeoutMs = 30_000
    retry { maxAttempts = 1 }
  }

  @Test
  fun `categories come in Vietnamese`(): Unit = runBlocking {
    val flooding = client.reports.categories().single { it.code == "flooding" }
    assertEquals("Ngập úng đường phố", flooding.nameVi)
    assertTrue(flooding.attributes.any { it.code == "water_depth_cm" && it.required })
  }

  @Test
  fun `suspend create with the DSL round-trips exactly`(): Unit = runBlocking {
    val created = client.reports.create {
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
    assertEquals(ReportStatus.SUBMITTED, created.status)
    // Only the create response carries the duplicate hints; otherwise the same value.
    assertEquals(created.copy { possibleDuplicates = null }, client.reports.get(created.id))
    val moved = created.copy { location = created.location.copy { lat = 16.47 } }
    assertEquals(16.47, moved.location.lat)
    assertEquals(16.4637, created.location.lat)
    val label = when (created.status) {
      ReportStatus.SUBMITTED -> "mới"
      ReportStatus.RESOLVED -> "xong"
      else -> "khác"
    }
    assertEquals("mới", label)
  }

  @Test
  fun `a Flow pages lazily without duplicates`(): Unit = runBlocking {
    val ids = (1..5).map { i ->
      async {
        client.reports.create(newReport {
          category = "water_supply"
          description = "Mất nước ở phường Phú Hội, hộ số $i"
          location { lat = 16.4203; lon = 107.6311 }
        }).id
      }
    }.awaitAll().toSet()
    assertEquals(5, ids.size)

    // Only these five lie within 50 m of that spot (the seed data has reports elsewhere).
    val query: ReportQueryBuilder.() -> Unit = {
      category = "water_supply"; nearLat = 16.4203; nearLon = 107.6311; radiusM = 50.0; limit = 2
    }
    val seen = client.reports.list(query = query).map { it.id }.toList()
    assertEquals(5, seen.size)
    assertEquals(ids, seen.toSet())
    // Lazy: taking one item fetches only the first page, and yields a real report.
    assertTrue(client.reports.list(query = query).first().id in ids)
    assertEquals(2, client.reports.listPage(query = query).items.size)
  }

  @Test
  fun `errors are typed in suspend calls`(): Unit = runBlocking {
    val e = assertThrows<ValidationException> {
      runBlocking {
        client.reports.create {
          category = "flooding"
          description = floodText
          location { lat = -91.0; lon = 107.59 }
        }
      }
    }
    assertEquals("location.lat", e.field)
    val missing = assertThrows<ValidationException> { newReport { category = "flooding"; description = floodText } }
    assertEquals("location", missing.field)

    val url = sandbox.url()
    huesClient { baseUrl = url; apiKey = "hk_test_not_a_key" }.use { bad ->
      val auth = assertThrows<AuthenticationException> { runBlocking { bad.reports.categories() } }
      assertEquals(401, auth.status)
      assertEquals("invalid_api_key", auth.code)
    }
  }

  @Test
  fun `TLS needs the sandbox CA`(): Unit = runBlocking {
    val tls = sandbox.tlsUrl()
    val key = sandbox.apiKey()
    val ca = sandbox.caFile()
    huesClient { baseUrl = tls; apiKey = key; caFile = ca }.use {
      assertFalse(it.reports.categories().isEmpty())
    }
    huesClient { baseUrl = tls; apiKey = key; retry { maxAttempts = 1 } }.use {
      assertThrows<TlsException> { runBlocking { it.reports.categories() } }
    }
  }

  @Test
  fun `a certificate for other names is refused by host name and by IP address`(): Unit = runBlocking {
    vn.hues.sdk.testing.Sandbox(mapOf("tls_names" to listOf("reports.other-city.example", "10.9.8.7"))).use { other ->
      for (url in listOf(other.tlsUrl(), "https://127.0.0.1:${other.tlsPort()}")) {
        val key = other.apiKey()
        val ca = other.caFile()
        huesClient { baseUrl = url; apiKey = key; caFile = ca; retry { maxAttempts = 1 } }.use {
          val e = assertThrows<TlsException> { runBlocking { it.reports.categories() } }
          assertEquals("certificate_verify_failed", e.code, url)
          assertTrue(e.message!!.contains("mismatch"), e.message)
        }
      }
    }
  }

  @Test
  fun `debug lines carry headers with the API key redacted`(): Unit = runBlocking {
    val lines = java.util.Collections.synchronizedList(mutableListOf<String>())
    val url = sandbox.url()
    val key = sandbox.apiKey()
    huesClient {
      baseUrl = url; apiKey = key
      logger = vn.hues.sdk.Logger { _, message -> lines.add(message) }
      logLevel = vn.hues.sdk.model.LogLevel.DEBUG
    }.use { it.reports.categories() }
    val text = lines.joinToString("\n")
    assertTrue(text.contains("X-Api-Key: [redacted]") && text.contains("User-Agent: "), text)
    assertFalse(text.contains(key), "API key in the log")
  }

  @Test
  fun `cancelling the coroutine cancels the native call`(): Unit = runBlocking {
    ServerSocket(0, 50, InetAddress.getLoopbackAddress()).use { stall ->
      stalled(stall).use { c ->
        assertThrows<TimeoutCancellationException> {
          runBlocking { withTimeout(300) { c.reports.categories() } }
        }
        // The call's connection is closed long before its 30 s attempt timeout.
        withContext(Dispatchers.IO) {
          stall.soTimeout = 5000
          stall.accept().use { s -> s.soTimeout = 5000; s.getInputStream().readAllBytes() }
        }
      }
    }
  }

  @Test
  fun `cancelling a job with a call in flight throws CancellationException inside it`(): Unit = runBlocking {
    ServerSocket(0, 50, InetAddress.getLoopbackAddress()).use { stall ->
      stalled(stall).use { c ->
        var caught: Throwable? = null
        val job = launch {
          try {
            c.reports.get("rp_1")
          } catch (t: Throwable) {
            caught = t
            throw t
          }
        }
        delay(300)
        job.cancel()
        job.join()
        assertTrue(caught is CancellationException, "caught $caught")
      }
    }
  }

  @Test
  fun `a token cancelled before the call fails it at once`(): Unit = runBlocking {
    val token = CancellationToken().apply { cancel() }
    assertThrows<CancelledException> { runBlocking { client.reports.categories(CallOptions.cancel(token)) } }
  }
}
