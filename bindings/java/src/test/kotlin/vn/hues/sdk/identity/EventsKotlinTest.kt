package vn.hues.sdk.identity

import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.delay
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.transformWhile
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.assertThrows
import vn.hues.sdk.AuthenticationException
import vn.hues.sdk.internal.Native
import vn.hues.sdk.kotlin.FlowListener
import vn.hues.sdk.kotlin.HuesClient
import vn.hues.sdk.kotlin.huesClient
import vn.hues.sdk.kotlin.subscriptionFlow
import vn.hues.sdk.model.EventStreamQuery
import vn.hues.sdk.model.ReportEvent
import vn.hues.sdk.model.ReportEventType
import vn.hues.sdk.model.ReportStatus
import vn.hues.sdk.model.StreamOptions
import vn.hues.sdk.model.TransitionNote

/**
 * client.events.stream (x-hues-stream, generated) as a cold Flow against the in-process
 * sandbox: events decoded with Vietnamese notes intact, a saved id resumes with exactly the
 * later events, a cutting relay loses and repeats nothing, cancelling the collector closes the
 * subscription, a wrong key throws AuthenticationException from collect.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EventsKotlinTest {
  private val note = "Đã tiếp nhận — chuyển UBND phường Đông Ba xử lý trong ngày"
  private val fast = StreamOptions.builder().initialBackoffMs(10).maxBackoffMs(40).build()
  private val fromStart = EventStreamQuery.builder().since("0").build()

  @BeforeAll
  fun start() = IdentityTest.start()

  @AfterAll
  fun stop() = IdentityTest.stop()

  private fun client(url: String = IdentityTest.sandbox.url(), key: String = IdentityTest.sandbox.apiKey()) =
    huesClient { baseUrl = url; apiKey = key }

  private suspend fun create(c: HuesClient, text: String) =
    withContext(Dispatchers.IO) { c.java.reports().create(EventsTest.report(text)) }

  @Test
  fun `events come decoded as a Flow and resume after a saved id`(): Unit = runBlocking {
    IdentityTest.oidc("hues-demo-app", "").use { oidc ->
      val ioc = HuesClient(LifecycleTest.signedIn(oidc, "le.ioc"))
      client().use { c ->
        val r = create(c, "Ngập sâu 40 cm trên đường Phan Đình Phùng")
        val seen = Channel<ReportEvent>(Channel.UNLIMITED)
        val collector = launch {
          c.events.stream(fromStart, options = fast).collect { seen.send(it) }
        }
        var created: ReportEvent
        do created = withTimeout(60_000) { seen.receive() } while (created.reportId != r.id)
        assertEquals(ReportEventType.REPORT_CREATED, created.type)
        assertEquals(ReportStatus.SUBMITTED, created.status)
        ioc.reports.receive(r.id, LifecycleTest.etag(r), TransitionNote.builder().note(note).build())
        var received: ReportEvent
        do received = withTimeout(60_000) { seen.receive() } while (received.reportId != r.id)
        assertEquals(ReportEventType.REPORT_STATUS_CHANGED, received.type)
        assertEquals(ReportStatus.RECEIVED, received.status)
        assertEquals(note, received.note)
        assertEquals(2L, received.version)
        collector.cancelAndJoin()
        // Cold: a new collection opens a new subscription, here resuming after the creation.
        val first = c.events.stream(lastEventId = created.id, options = fast).first()
        assertEquals(received.id, first.id)
        assertEquals(note, first.note)
      }
      ioc.close()
    }
  }

  @Test
  fun `a cutting relay loses and repeats nothing`(): Unit = runBlocking {
    CuttingRelay(IdentityTest.sandbox.port(), 4).use { relay ->
      client().use { c ->
        client(url = relay.url()).use { cutClient ->
          val seen = Channel<ReportEvent>(Channel.UNLIMITED)
          val collector = launch { cutClient.events.stream(fromStart, options = fast).collect { seen.send(it) } }
          var last = ""
          for (i in 0 until 40) last = create(c, "Sự cố số $i — cầu Trường Tiền").id  // changes while it is cut
          val got = mutableListOf<ReportEvent>()
          do got.add(withTimeout(60_000) { seen.receive() }) while (got.last().reportId != last)
          collector.cancelAndJoin()
          val whole = c.events.stream(fromStart, options = fast).transformWhile { emit(it); it.reportId != last }.toList()
          assertEquals(4, relay.cut.get())
          assertEquals(whole.map { it.id }, got.map { it.id })
          assertEquals(got.size, got.map { it.id }.toSet().size)
        }
      }
    }
  }

  @Test
  fun `cancelling the collector closes the subscription`(): Unit = runBlocking {
    client().use { c ->
      val before = Native.pending()
      create(c, "Cây đổ chắn ngang đường Lê Lợi")
      val events = c.events.stream(fromStart, options = fast).take(1).toList()  // take cancels upstream
      assertEquals(1, events.size)
      val idle = launch { c.events.stream(options = fast).collect { } }
      withTimeout(10_000) { idle.cancelAndJoin() }
      // The native calls ended too (their completions arrived): nothing is left in flight.
      withTimeout(10_000) { while (Native.pending() > before) kotlinx.coroutines.delay(10) }
    }
  }

  @Test
  fun `a wrong key throws AuthenticationException from collect`(): Unit = runBlocking {
    client(key = "hk_test_wrong").use { bad ->
      val e = assertThrows<AuthenticationException> {
        runBlocking { withTimeout(30_000) { bad.events.stream(options = fast).collect { } } }
      }
      assertEquals(401, e.status)
    }
  }

  /**
   * The flow's own queue is bounded: each event counts against maxBufferedEvents until the
   * collector has taken it, so a collector busy with its first event lets at most the bound
   * wait; then it gets every event once, in order.
   */
  @Test
  fun `a slow collector holds at most maxBufferedEvents`(): Unit = runBlocking {
    client().use { c ->
      val bound = 3
      var last = ""
      repeat(4 * bound) { last = create(c, "Hàng đợi có giới hạn số $it").id }
      val whole = c.events.stream(fromStart, options = fast).transformWhile { emit(it.id); it.reportId != last }.toList()
      val small = StreamOptions.builder().initialBackoffMs(10).maxBackoffMs(40).maxBufferedEvents(bound.toLong()).build()
      var listener: FlowListener<ReportEvent>? = null
      var emitted = 0L
      var peak = 0L
      val ids = subscriptionFlow<ReportEvent> { l ->
        @Suppress("UNCHECKED_CAST")
        listener = l as FlowListener<ReportEvent>
        c.java.events().stream(fromStart, null, small, l)
      }.transformWhile { e ->
        if (emitted == 0L) delay(400)  // a busy collector: the SDK reads on meanwhile
        emitted++
        peak = maxOf(peak, listener!!.received - emitted)  // queued, not taken yet
        emit(e.id)
        e.reportId != last
      }.toList()
      assertEquals(whole, ids)
      assertTrue(peak in 1..bound.toLong(), "queued $peak")
    }
  }
}
