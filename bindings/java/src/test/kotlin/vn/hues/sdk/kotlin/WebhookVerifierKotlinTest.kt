package vn.hues.sdk.kotlin

import java.util.Base64
import java.util.concurrent.TimeUnit
import javax.crypto.Mac
import javax.crypto.spec.SecretKeySpec
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.assertThrows
import vn.hues.sdk.WebhookVerificationException
import vn.hues.sdk.model.ReportStatus

/** The Kotlin WebhookVerifier: a suspend verify over ByteArray, the DSL, typed errors. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WebhookVerifierKotlinTest {
  private val secret = "whsec_" + Base64.getEncoder().encodeToString(ByteArray(32) { it.toByte() })
  private val other = "whsec_" + Base64.getEncoder().encodeToString(ByteArray(24) { 9 })
  private val body = ("{\"type\":\"report.status_changed\",\"timestamp\":\"2026-11-28T09:16:16Z\"," +
      "\"data\":{\"report_id\":\"rpt_Huế\",\"status\":\"resolved\",\"actor_role\":\"ioc\"}}").toByteArray()

  private fun sign(key: String, id: String, ts: Long, bytes: ByteArray): String {
    val mac = Mac.getInstance("HmacSHA256")
    mac.init(SecretKeySpec(Base64.getDecoder().decode(key.removePrefix("whsec_")), "HmacSHA256"))
    mac.update("$id.$ts.".toByteArray())
    return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(bytes))
  }

  private fun headers(key: String, id: String, ts: Long = System.currentTimeMillis() / 1000, bytes: ByteArray = body) =
    mapOf("webhook-id" to id, "Webhook-Timestamp" to ts.toString(), "webhook-signature" to sign(key, id, ts, bytes))

  @Test
  fun verifiesAndRefusesEachWay() = runBlocking {
    webhookVerifier { this.secret = this@WebhookVerifierKotlinTest.secret; toleranceSeconds = 120 }.use { v ->
      val event = v.verify(body, headers(secret, "msg_k1"))
      assertEquals(ReportStatus.RESOLVED, event.data.status)
      assertEquals("rpt_Huế", event.data.reportId)
      suspend fun code(b: ByteArray, h: Map<String, String>) =
        assertThrows<WebhookVerificationException> { runBlocking { v.verify(b, h) } }.code
      val tampered = body.copyOf().also { it[10] = 'X'.code.toByte() }
      assertEquals("no_matching_signature", code(tampered, headers(secret, "msg_k2")))
      assertEquals("no_matching_signature", code(body, headers(other, "msg_k3")))
      val now = System.currentTimeMillis() / 1000
      assertEquals("timestamp_too_old", code(body, headers(secret, "msg_k4", now - 121)))
      assertEquals("timestamp_too_new", code(body, headers(secret, "msg_k5", now + 121)))
      assertEquals("replayed", code(body, headers(secret, "msg_k1")))
      val two = headers(secret, "msg_k6").toMutableMap()
      two["webhook-signature"] = sign(other, "msg_k6", two["Webhook-Timestamp"]!!.toLong(), body) + " " + two["webhook-signature"]
      assertEquals("rpt_Huế", v.verify(body, two).data.reportId)
      assertFalse(v.toString().contains(secret.substring(6, 20)))
    }
  }
}
