package vn.hues.sdk.kotlin

import java.io.File
import java.net.InetAddress
import java.net.ServerSocket
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.GlobalScope
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.filter
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.assertThrows
import vn.hues.sdk.NotFoundException
import vn.hues.sdk.ValidationException
import vn.hues.sdk.internal.Json
import vn.hues.sdk.internal.ModelCodec
import vn.hues.sdk.model.ActorRole
import vn.hues.sdk.model.AgencyKind
import vn.hues.sdk.model.ReportStatus

private fun threads(): Int = File("/proc/self/task").list()!!.size

/** 1,000 coroutines on one thread, Flow for the new paged operation, secrets, enums, exit. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CoroutinesKotlinTest : SandboxKotlinTest() {
  /**
   * runBlocking's single thread starts all 1,000; none gets a thread of its own. Bound: the
   * count after one completed call (the SDK's fixed threads, the sandbox's, the common pool's
   * worker, this JVM's) plus 4 for pool workers that start late.
   */
  @Test
  fun `a thousand concurrent gets from one thread`(): Unit = runBlocking {
    val id = client.reports.create {
      category = "road_damage"; description = "Ổ gà trên đường Trần Phú"
      location { lat = 16.4550; lon = 107.5900 }
    }.id
    client.reports.get(id)
    val runtime = threads()
    var peak = runtime
    val sampler = launch(Dispatchers.IO) { while (isActive) { peak = maxOf(peak, threads()); delay(2) } }
    val thread = Thread.currentThread()
    val got = (1..1000).map {
      async(start = CoroutineStart.UNDISPATCHED) {
        check(Thread.currentThread() == thread)
        client.reports.get(id).id
      }
    }.awaitAll()
    sampler.cancel()
    assertEquals(1000, got.count { it == id })
    println("[1000 in flight, Kotlin] runtime=$runtime peak=$peak")
    // Dispatchers.IO's sampler adds one thread of its own.
    assertTrue(peak <= runtime + 1 + 4, "runtime=$runtime peak=$peak")
  }

  @Test
  fun `agencies arrive as a Flow and filter by kind`(): Unit = runBlocking {
    val all = client.agencies.list().toList()
    assertTrue(all.any { it.code == "HEPCO" })
    val paged = client.agencies.list { limit = 2 }.map { it.code }.toList()
    assertEquals(all.map { it.code }, paged)
    val wards = client.agencies.list { kind = AgencyKind.WARD }.toList()
    assertTrue(wards.isNotEmpty() && wards.all { it.kind == AgencyKind.WARD })
    assertEquals("limit", assertThrows<ValidationException> { runBlocking { client.agencies.listPage { limit = 0 } } }.field)
    // Flow is cold and lazy: filtering stops early once collection stops.
    assertEquals(1, client.agencies.list { limit = 1 }.filter { it.code == all[0].code }.toList().size)
  }

  @Test
  fun `a timeline from a coroutine`(): Unit = runBlocking {
    val r = client.reports.create {
      category = "street_light"; description = "Đèn tắt ở cầu Trường Tiền"
      location { lat = 16.4674; lon = 107.5905 }
    }
    val timeline = client.reports.timeline(r.id)
    assertEquals(ReportStatus.SUBMITTED, timeline.first().status)
    assertEquals(ActorRole.CITIZEN, timeline.first().actorRole)
    assertThrows<NotFoundException> { runBlocking { client.reports.timeline("rp_nope") } }
  }

  @Test
  fun `secrets stay out of toString and absent is not zero`() {
    val tokens = tokenSet { accessToken = "at-SECRET"; refreshToken = "rt-SECRET"; scope = "openid" }
    assertFalse(tokens.toString().contains("SECRET"), tokens.toString())
    assertNull(tokens.expiresAt)
    assertEquals(0L, tokenSet { expiresAt = 0 }.expiresAt)
    assertNotEquals(tokenSet { }, tokenSet { expiresAt = 0 })
    val options = clientOptions { baseUrl = "http://x"; apiKey = "hk_SECRET" }
    assertFalse(options.toString().contains("SECRET"), options.toString())
  }

  @Test
  fun `an unknown enum value decodes and re-encodes`() {
    val json = """{"at":"2026-11-28T09:16:16Z","status":"escalated","actor_role":"robot","actor":"","note":"Chuyển cấp","attachments":[]}"""
    val entry = ModelCodec.decodeTimelineEntry(Json.parse(json))
    assertEquals("escalated", entry.status.value())
    assertFalse(entry.status.isKnown)
    assertEquals("robot", entry.actorRole.value())
    val label = when (entry.status) {
      ReportStatus.SUBMITTED -> "new"
      else -> "other: ${entry.status}"
    }
    assertEquals("other: escalated", label)
    assertTrue(Json.writeString(ModelCodec.encode(entry, vn.hues.sdk.internal.Handles.NONE)).contains("\"status\":\"escalated\""))
  }

  @Test
  fun `the JVM exits cleanly with coroutines in flight`() {
    val cp = System.getProperty("hues.test.classpath", "") + File.pathSeparator + System.getProperty("java.class.path")
    val log: Path = Files.createTempFile("hues-kt-exit", ".log")
    try {
      val p = ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", cp,
        ExitWithCoroutinesInFlight::class.java.name).redirectErrorStream(true).redirectOutput(log.toFile()).start()
      val finished = p.waitFor(60, TimeUnit.SECONDS)
      if (!finished) p.destroyForcibly()
      val out = Files.readString(log)
      assertTrue(finished, "hung: $out")
      assertTrue(out.contains("started 100 coroutines"), out)
      assertEquals(0, p.exitValue(), out)
    } finally {
      Files.deleteIfExists(log)
    }
  }
}

/** Launches 100 calls that never finish on GlobalScope, then returns from main. */
object ExitWithCoroutinesInFlight {
  @OptIn(kotlinx.coroutines.DelicateCoroutinesApi::class)
  @JvmStatic
  fun main(args: Array<String>) {
    val stall = ServerSocket(0, 200, InetAddress.getLoopbackAddress())
    val c = huesClient {
      baseUrl = "http://127.0.0.1:${stall.localPort}"; apiKey = "hk_test_x"
      attemptTimeoutMs = 60_000; retry { maxAttempts = 1 }
    }
    repeat(100) { i -> GlobalScope.launch { c.reports.get("rp_$i") } }
    Thread.sleep(200)
    println("started 100 coroutines")
  }
}
