package vn.hues.sdk.kotlin

import java.util.Base64
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.filter
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.assertThrows
import vn.hues.sdk.NotFoundException
import vn.hues.sdk.WebhookReceiver
import vn.hues.sdk.WebhookVerificationException
import vn.hues.sdk.model.ReportStatus
import vn.hues.sdk.model.WebhookDelivery
import vn.hues.sdk.model.WebhookEventType
import vn.hues.sdk.model.WebhookMessageState

/**
 * client.webhooks from coroutines: suspend calls with builder blocks, lists as Flows, and a
 * real delivery to a JDK HttpServer verified by the suspend WebhookVerifier (tampered body,
 * wrong secret, old timestamp and replay refused).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class WebhooksKotlinTest : SandboxKotlinTest() {
  private suspend fun newReport(text: String) = client.reports.create {
    category = "urban_order"
    description = text
    location { lat = 16.4637; lon = 107.5909; address = "Đường Hùng Vương"; ward = "Phú Nhuận" }
  }

  private suspend fun code(v: WebhookVerifier, body: ByteArray, headers: Map<String, String>): String =
    try {
      v.verify(body, headers)
      "accepted"
    } catch (e: WebhookVerificationException) {
      e.code
    }

  /** The log's attempts of one message, once there are n (the log is written after the answer). */
  private suspend fun attempts(endpointId: String, messageId: String, n: Int): List<WebhookDelivery> {
    val end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20)
    while (true) {
      val mine = client.webhooks.listDeliveries(endpointId) { limit = 2 }.filter { it.messageId == messageId }.toList()
      if (mine.size >= n || System.nanoTime() > end) return mine
      delay(50)
    }
  }

  @Test
  fun `every operation as a suspend call, lists as Flows, a real delivery verified`(): Unit = runBlocking {
    WebhookReceiver().use { rx ->
      val made = client.webhooks.createEndpoint {
        url = rx.url()
        eventTypes = listOf(WebhookEventType.REPORT_STATUS_CHANGED)
        description = "Xe ôm công nghệ Huế"
      }
      assertTrue(made.secret.startsWith("whsec_"))
      assertFalse(made.toString().contains(made.secret.substring(6, 20)), made.toString())
      val second = client.webhooks.createEndpoint { url = rx.url() + "/b"; eventTypes = listOf(WebhookEventType.REPORT_COMMENTED) }
      assertEquals(listOf(made.id, second.id), client.webhooks.listEndpoints { limit = 1 }.map { it.id }.toList())
      assertEquals(listOf(WebhookEventType.REPORT_COMMENTED), client.webhooks.getEndpoint(second.id).eventTypes)
      val changed = client.webhooks.updateEndpoint(second.id) { enabled = false; description = "tắt" }
      assertFalse(changed.enabled)
      assertEquals("tắt", changed.description)
      assertEquals(second.id, client.webhooks.deleteEndpoint(second.id).id)
      assertThrows<NotFoundException> { runBlocking { client.webhooks.getEndpoint(second.id) } }

      val r = newReport("Ổ gà lớn giữa đường Hùng Vương, xe máy dễ ngã")
      val d = rx.next(r.id)
      webhookVerifier { secret = made.secret }.use { v ->
        val wrongSecret = "whsec_" + Base64.getEncoder().encodeToString(ByteArray(32) { 3 })
        webhookVerifier { secret = wrongSecret }.use { wrong ->
          assertEquals("no_matching_signature", code(wrong, d.body, d.headers))
        }
        val tampered = String(d.body, Charsets.UTF_8).replace("submitted", "resolved").toByteArray()
        assertEquals("no_matching_signature", code(v, tampered, d.headers))
        val old = (System.currentTimeMillis() / 1000 - 301).toString()
        assertEquals("timestamp_too_old", code(v, d.body, d.with("webhook-timestamp", old)))
        val event = v.verify(d.body, d.headers)
        assertEquals(r.id, event.data.reportId)
        assertEquals(ReportStatus.SUBMITTED, event.data.status)
        assertEquals("replayed", code(v, d.body, d.headers))
      }

      val messageId = d.header("webhook-id")
      val log = attempts(made.id, messageId, 1)
      assertEquals(listOf(204), log.map { it.statusCode })
      assertEquals(WebhookMessageState.DELIVERED, log[0].messageState)
      val again = client.webhooks.replay(made.id) { this.messageId = messageId }
      assertEquals(messageId, again.id)
      assertEquals(messageId, rx.next(r.id).header("webhook-id"))
      assertEquals(listOf(2, 1), attempts(made.id, messageId, 2).map { it.attempt })

      val rotated = client.webhooks.rotateSecret(made.id)
      assertNotEquals(made.secret, rotated.secret)
      val r2 = newReport("Cống thoát nước bị tắc trên đường Hùng Vương")
      val two = rx.next(r2.id)
      assertEquals(2, two.header("webhook-signature").split(" ").size)
      webhookVerifier { secret = made.secret }.use { oldOnly ->
        assertEquals(r2.id, oldOnly.verify(two.body, two.headers).data.reportId)
      }
      client.webhooks.deleteEndpoint(made.id)
      assertFalse(client.webhooks.listEndpoints().map { it.id }.toList().contains(made.id))
    }
  }
}
