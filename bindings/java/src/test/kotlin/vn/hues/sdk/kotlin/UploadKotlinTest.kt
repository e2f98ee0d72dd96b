package vn.hues.sdk.kotlin

import java.io.RandomAccessFile
import java.nio.file.Files
import java.nio.file.Path
import java.util.Random
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import vn.hues.sdk.UploadStore
import vn.hues.sdk.ValidationException
import vn.hues.sdk.model.UploadMediaType
import vn.hues.sdk.model.UploadRecord
import vn.hues.sdk.model.UploadResult

/** Upload from Kotlin: suspend start, progress as a Flow, pause/resume, coroutine cancel. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class UploadKotlinTest : SandboxKotlinTest() {
  @TempDir lateinit var tmp: Path

  private fun makeFile(p: Path, size: Int, seed: Long): ByteArray {
    val data = ByteArray(size).also { Random(seed).nextBytes(it) }
    // An MP4 head: the sandbox sniffs what is declared video.
    val ftyp = byteArrayOf(0, 0, 0, 0x18) + "ftypisom".toByteArray() + byteArrayOf(0, 0, 2, 0) + "isomiso2".toByteArray()
    ftyp.copyInto(data, 0, 0, minOf(ftyp.size, size))
    Files.write(p, data)
    return data
  }

  private fun stored(url: String): ByteArray =
    Files.readAllBytes(Path.of(sandbox.dataDir(), "uploads", url.substringAfterLast('/') + ".bin"))

  class MapStore : UploadStore {
    val records = ConcurrentHashMap<String, UploadRecord>()
    override fun load(key: String): UploadRecord? = records[key]
    override fun save(key: String, record: UploadRecord) { records[key] = record }
    override fun remove(key: String) { records.remove(key) }
  }

  @Test
  fun `progress as a Flow, increasing to the size, the same bytes`(): Unit = runBlocking {
    val p = tmp.resolve("ảnh.mp4")
    val data = makeFile(p, 3 * MiB + 5, 11)
    val c = client
    var result: UploadResult? = null
    val seen = uploadProgressListenerFlow { listener ->
      upload { client = c; path = p.toString(); mediaType = UploadMediaType.VIDEO; chunkSize = MiB.toLong(); progress = listener }
        .use { result = it.start() }
    }.toList().map { it.uploaded }
    val r = result!!
    assertTrue(r.complete)
    assertTrue(seen.size >= 4)
    assertEquals(seen.sorted().distinct(), seen)
    assertEquals(data.size.toLong(), seen.last())
    assertArrayEquals(data, stored(r.url))
  }

  @Test
  fun `pause then resume, cancel by cancelling the coroutine`(): Unit = runBlocking {
    val p = tmp.resolve("v.mp4")
    val data = makeFile(p, 4 * MiB, 12)
    val store = MapStore()
    val c = client
    lateinit var up: Upload
    up = upload {
      client = c; path = p.toString(); mediaType = UploadMediaType.VIDEO; chunkSize = 512L * 1024; this.store = store
      progress = vn.hues.sdk.UploadProgressListener { pr -> if (pr.uploaded >= MiB && pr.uploaded < pr.total) up.java.pause() }
    }
    val first = up.start()
    up.close()
    assertFalse(first.complete)
    assertEquals(1, store.records.size)

    val firstChunk = CompletableDeferred<Unit>()
    val again = upload {
      client = c; path = p.toString(); mediaType = UploadMediaType.VIDEO; chunkSize = 256L * 1024; this.store = store
      progress = vn.hues.sdk.UploadProgressListener { firstChunk.complete(Unit) }
    }
    val job = async { again.start() }
    firstChunk.await()
    job.cancel()
    assertThrows<kotlinx.coroutines.CancellationException> { job.await() }
    again.close()

    val last = upload { client = c; path = p.toString(); mediaType = UploadMediaType.VIDEO; this.store = store }
    val r = last.use { it.start() }
    assertTrue(r.complete)
    assertTrue(r.resumed)
    assertEquals(first.url, r.url)
    assertArrayEquals(data, stored(r.url))
    assertTrue(store.records.isEmpty())
  }

  @Test
  fun `bad input is a ValidationException naming path`(): Unit = runBlocking {
    val huge = tmp.resolve("huge.jpg")
    RandomAccessFile(huge.toFile(), "rw").use { it.setLength(26L * MiB) }
    val store = MapStore()
    val c = client
    val e = assertThrows<ValidationException> {
      runBlocking { upload { client = c; path = huge.toString(); mediaType = UploadMediaType.PHOTO; this.store = store }.use { it.start() } }
    }
    assertEquals("path", e.field)
    assertEquals("payload_too_large", e.code)
    assertTrue(store.records.isEmpty())
  }

  private companion object {
    const val MiB = 1 shl 20
  }

  @Test
  fun `upload from an InputStream, non-seekable, gives the stream bytes`(): Unit = runBlocking {
    val data = makeFile(tmp.resolve("s.mp4"), 2 * MiB + 3, 13)
    // A pipe-like stream: no FileInputStream, so it is read forward only.
    val stream = java.io.BufferedInputStream(java.io.ByteArrayInputStream(data))
    val c = client
    val r = upload { client = c; mediaType = UploadMediaType.VIDEO; source(stream); size = data.size.toLong(); chunkSize = MiB.toLong() }
      .use { it.start() }
    assertTrue(r.complete)
    assertArrayEquals(data, stored(r.url))
    // No size: the sandbox supports creation-defer-length (Upload-Defer-Length: 1, the length
    // declared with the last chunk). A server without it: UploadTest's length_required.
    val r2 = upload { client = c; mediaType = UploadMediaType.VIDEO; source(java.io.ByteArrayInputStream(data)); chunkSize = MiB.toLong() }
      .use { it.start() }
    assertTrue(r2.complete)
    assertEquals(data.size.toLong(), r2.size)
    assertArrayEquals(data, stored(r2.url))
  }
}
