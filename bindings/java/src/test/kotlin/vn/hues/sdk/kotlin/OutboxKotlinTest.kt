package vn.hues.sdk.kotlin

import java.net.InetAddress
import java.net.ServerSocket
import java.nio.file.Files
import java.util.Collections
import java.util.UUID
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.assertThrows
import vn.hues.sdk.NotFoundException
import vn.hues.sdk.media.TusUpload
import vn.hues.sdk.model.MediaType
import vn.hues.sdk.OutboxListener
import vn.hues.sdk.model.NewReport
import vn.hues.sdk.model.OutboxItem
import vn.hues.sdk.model.OutboxItemState
import vn.hues.sdk.testing.Sandbox

/** The offline outbox from Kotlin: suspend calls, the DSL, a listener, against the sandbox. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class OutboxKotlinTest : SandboxKotlinTest() {
  private val vi = "Ngập sâu 40 cm trên đường Phan Đình Phùng, gần cầu Trường Tiền 🌧"

  private class Events : OutboxListener {
    val delivered: MutableList<OutboxItem> = Collections.synchronizedList(mutableListOf())
    val failed: MutableList<OutboxItem> = Collections.synchronizedList(mutableListOf())
    override fun delivered(item: OutboxItem) { delivered.add(item) }
    override fun failed(item: OutboxItem) { failed.add(item) }
    fun await(d: Int, f: Int) {
      val end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30)
      while ((delivered.size < d || failed.size < f) && System.nanoTime() < end) Thread.sleep(10)
      assertTrue(delivered.size >= d && failed.size >= f, "listener events")
    }
  }

  private fun report(text: String, cat: String = "street_light"): NewReport = newReport {
    category = cat
    description = text
    location { lat = 16.4726; lon = 107.5885; address = "Chợ Đông Ba"; ward = "Đông Ba" }
  }

  @Test
  fun `queued offline, delivered once in order when the sandbox comes up`(): Unit = runBlocking {
    val port = ServerSocket(0, 1, InetAddress.getLoopbackAddress()).use { it.localPort }
    val dir = Files.createTempDirectory("hues-outbox-kt")
    val word = "obx" + UUID.randomUUID().toString().take(8)
    val events = Events()
    val offline = huesClient { baseUrl = "http://127.0.0.1:$port"; apiKey = "hk_test_hue_s_sandbox_0001"; deadlineMs = 8000 }
    val box = outbox {
      client = offline
      path = dir.resolve("outbox.db").toString()
      listener = events
      initialBackoffMs = 20
      maxBackoffMs = 200
    }
    box.use {
      val texts = (0 until 3).map { "$vi $word #$it" }
      val ids = texts.map { box.enqueue(report(it)).localId }
      assertFalse(box.waitIdle(300))
      val pending = box.items().items
      assertEquals(ids, pending.map { it.localId })
      assertEquals(texts, pending.map { it.report.description })
      assertTrue(pending.none { it.state == OutboxItemState.DELIVERED })

      Sandbox(mapOf<String, Any>("port" to port, "tls_port" to -1)).use { sb ->
        assertTrue(box.waitIdle(30_000))
        events.await(3, 0)
        val items = box.items().items
        assertTrue(items.all { it.state == OutboxItemState.DELIVERED })
        assertEquals(ids, events.delivered.map { it.localId })
        assertEquals(items.map { it.reportId }, events.delivered.map { it.reportId })
        val key = sb.apiKey()
        val url = sb.url()
        huesClient { baseUrl = url; apiKey = key }.use { online ->
          val found = online.reports.list { q = word; limit = 100 }.toList().map { it.description }
          assertEquals(texts.sorted(), found.sorted())
          for ((i, item) in items.withIndex()) assertEquals(texts[i], online.reports.get(item.reportId).description)
        }
      }
      assertEquals(3L, box.purge())
    }
    offline.close()
  }

  @Test
  fun `a refused report fails once, then cancel and reopen`(): Unit = runBlocking {
    val dir = Files.createTempDirectory("hues-outbox-kt")
    val events = Events()
    val path = dir.resolve("o.db").toString()
    val c = client
    outbox { client = c; this.path = path; listener = events; initialBackoffMs = 20 }.use { box ->
      val bad = box.enqueue(report("Danh mục không tồn tại", "no_such_category"))
      assertTrue(box.waitIdle(30_000))
      events.await(0, 1)
      val item = box.items().items.single()
      assertEquals(bad.localId, item.localId)
      assertEquals(OutboxItemState.FAILED, item.state)
      assertEquals(1L, item.attempts)
      assertEquals("category", item.errorField)
      assertFalse(box.cancel(bad.localId))
      assertThrows<NotFoundException> { runBlocking { box.cancel("obx_999999") } }
    }
    outbox { client = c; this.path = path }.use { box ->
      assertEquals(OutboxItemState.FAILED, box.items().items.single().state)
      assertEquals(1L, box.purge())
    }
  }

  @Test
  fun `the listener's calls as a Flow`(): Unit = runBlocking {
    val dir = Files.createTempDirectory("hues-outbox-kt")
    val stream = eventFlow<OutboxListener>()
    val c = client
    val word = "obx" + UUID.randomUUID().toString().take(8)
    outbox { client = c; path = dir.resolve("f.db").toString(); listener = stream.listener; initialBackoffMs = 20 }.use { box ->
      val good = box.enqueue(report("Đèn đường hỏng $word"))
      val bad = box.enqueue(report("Sai danh mục $word", "no_such_category"))
      val seen = withTimeout(30_000) { stream.events.take(2).toList() }
      assertEquals(listOf("delivered" to good.localId, "failed" to bad.localId),
        seen.map { it.method to (it.args[0] as OutboxItem).localId })
      assertTrue((seen[0].args[0] as OutboxItem).reportId.isNotEmpty())
    }
    stream.close()
  }

  @Test
  fun `a report with a photo is delivered with the photo attached`(): Unit = runBlocking {
    val dir = Files.createTempDirectory("hues-outbox-kt")
    val photo = TusUpload.jpeg(200, 150)
    val file = dir.resolve("ảnh.jpg")
    Files.write(file, photo)
    val c = client
    val word = "obx" + UUID.randomUUID().toString().take(8)
    outbox { client = c; path = dir.resolve("m.db").toString(); initialBackoffMs = 20; copyMedia = true }.use { box ->
      val item = box.enqueue(report("Ảnh ổ gà $word"), listOf(outboxMedia { path = file.toString(); mediaType = MediaType.PHOTO }))
      assertEquals(photo.size.toLong(), item.mediaTotal)
      assertTrue(item.media.single().copied)
      Files.delete(file)  // the outbox has its own copy
      assertTrue(box.waitIdle(30_000))
      val done = box.items().items.single()
      assertEquals(OutboxItemState.DELIVERED, done.state)
      val report = c.reports.get(done.reportId)
      assertEquals(listOf(done.media.single().mediaId), report.media)
      val sha = java.security.MessageDigest.getInstance("SHA-256").digest(photo).joinToString("") { "%02x".format(it) }
      assertEquals(sha, c.media.get(report.media[0]).sha256)
    }
  }
}
