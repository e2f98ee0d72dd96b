package vn.hues.sdk.kotlin

import java.security.MessageDigest
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.assertThrows
import vn.hues.sdk.NotFoundException
import vn.hues.sdk.media.TusUpload

/** media.get as a suspend function: a photo uploaded with raw tus HTTP, read through the SDK. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MediaKotlinTest : SandboxKotlinTest() {
  @Test
  fun `media get reads what an upload became`(): Unit = runBlocking {
    val data = TusUpload.jpeg(320, 200)
    val id = withContext(Dispatchers.IO) { TusUpload.upload(sandbox.url(), data, "photo", "X-Api-Key", sandbox.apiKey()) }
    val m = client.media.get(id)
    assertEquals(id, m.id)
    assertEquals("image/jpeg", m.contentType)
    assertEquals(320L, m.width)
    assertEquals(200L, m.height)
    assertNull(m.durationMs)
    assertEquals(MessageDigest.getInstance("SHA-256").digest(data).joinToString("") { "%02x".format(it) }, m.sha256)
    assertThrows<NotFoundException> { runBlocking { client.media.get("m_aaaaaaaaaaaaaaaaaaaaaaaa") } }
  }
}
