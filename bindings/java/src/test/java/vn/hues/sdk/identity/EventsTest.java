package vn.hues.sdk.identity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import vn.hues.sdk.AuthenticationException;
import vn.hues.sdk.EventSubscription;
import vn.hues.sdk.HuesClient;
import vn.hues.sdk.OidcClient;
import vn.hues.sdk.ValidationException;
import vn.hues.sdk.model.EventStreamQuery;
import vn.hues.sdk.model.Location;
import vn.hues.sdk.model.NewReport;
import vn.hues.sdk.model.Report;
import vn.hues.sdk.model.ReportEvent;
import vn.hues.sdk.model.ReportEventType;
import vn.hues.sdk.model.ReportStatus;
import vn.hues.sdk.model.StreamOptions;
import vn.hues.sdk.model.TransitionNote;

/**
 * client.events().stream (x-hues-stream, generated) from Java against the in-process sandbox:
 * events decoded as ReportEvent with Vietnamese notes intact, on the client's executor; a
 * saved id resumes with exactly the later events; a relay that cuts the connection mid-stream
 * several times loses and repeats nothing; close ends it at once; a wrong key ends it with
 * AuthenticationException.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EventsTest extends SignedInSandbox {
  static final String NOTE = "Đã tiếp nhận — chuyển UBND phường Đông Ba xử lý trong ngày";
  // Below the sandbox's retry: 2000, so reconnecting after a cut is quick.
  static final StreamOptions FAST = StreamOptions.builder().initialBackoffMs(10).maxBackoffMs(40).build();
  static final EventStreamQuery FROM_START = EventStreamQuery.builder().since("0").build();

  static NewReport report(String text) {
    return NewReport.builder().category("street_light").description(text)
        .location(Location.builder().lat(16.4726).lon(107.5885).address("Chợ Đông Ba").ward("Đông Ba").build())
        .build();
  }

  /** What a listener is told, and on which threads; waits (a hang guard) for a condition. */
  static final class Recorder implements Consumer<ReportEvent> {
    private final List<ReportEvent> events = new ArrayList<>();
    private final List<String> threads = new ArrayList<>();

    @Override
    public synchronized void accept(ReportEvent e) {
      events.add(e);
      threads.add(Thread.currentThread().getName());
      notifyAll();
    }

    synchronized boolean waitFor(Predicate<List<ReportEvent>> done) throws InterruptedException {
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!done.test(events)) {
        long left = TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime());
        if (left <= 0) return false;
        wait(left);
      }
      return true;
    }

    boolean waitForReport(String id, int count) throws InterruptedException {
      return waitFor(es -> es.stream().filter(e -> e.getReportId().equals(id)).count() >= count);
    }

    synchronized List<String> ids() {
      return events.stream().map(ReportEvent::getId).collect(Collectors.toList());
    }

    synchronized ReportEvent last(String reportId) {
      ReportEvent found = null;
      for (ReportEvent e : events) if (e.getReportId().equals(reportId)) found = e;
      return found;
    }

    synchronized List<String> threads() {
      return new ArrayList<>(threads);
    }
  }

  @Test
  void eventsArriveDecodedOnTheClientsExecutorAndResumeAfterASavedId() throws Exception {
    ExecutorService app = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "app-events");
      t.setDaemon(true);
      return t;
    });
    try (OidcClient oidc = IdentityTest.oidc("hues-demo-app", "");
         HuesClient ioc = LifecycleTest.signedIn(oidc, "le.ioc");
         HuesClient client = IdentityTest.sandbox.clientBuilder().executor(app).build()) {
      Report r = client.reports().create(report("Đèn đường hỏng trước chợ Đông Ba"));
      Recorder got = new Recorder();
      ReportEvent created;
      ReportEvent received;
      EventSubscription sub = client.events().stream(FROM_START, null, FAST, got);
      try (sub) {
        assertTrue(got.waitForReport(r.getId(), 1));
        created = got.last(r.getId());
        assertEquals(ReportEventType.REPORT_CREATED, created.getType());
        assertEquals(ReportStatus.SUBMITTED, created.getStatus());
        assertEquals("street_light", created.getCategory());
        assertEquals(1L, created.getVersion());
        // A change while the stream is open.
        ioc.reports().receive(r.getId(), LifecycleTest.etag(r), TransitionNote.builder().note(NOTE).build());
        assertTrue(got.waitForReport(r.getId(), 2));
        received = got.last(r.getId());
        assertEquals(ReportEventType.REPORT_STATUS_CHANGED, received.getType());
        assertEquals(ReportStatus.RECEIVED, received.getStatus());
        assertArrayEquals(NOTE.getBytes(StandardCharsets.UTF_8), received.getNote().getBytes(StandardCharsets.UTF_8));
        assertEquals(2L, received.getVersion());
        List<String> ids = got.ids();
        assertEquals(ids.get(ids.size() - 1), sub.lastEventId());
        assertTrue(got.threads().stream().allMatch("app-events"::equals), got.threads().toString());
      }
      sub.done().get(30, TimeUnit.SECONDS);  // closed: completes normally
      // Resuming after the creation gives exactly what followed it, starting with the change.
      List<String> all = got.ids();
      List<String> expected = all.subList(all.indexOf(created.getId()) + 1, all.size());
      Recorder again = new Recorder();
      try (EventSubscription resumed = client.events().stream(null, created.getId(), FAST, again)) {
        assertTrue(again.waitFor(es -> es.size() >= expected.size()));
        assertEquals(expected, again.ids().subList(0, expected.size()));
        assertEquals(received.getId(), again.ids().get(0));
        assertEquals(again.ids().get(again.ids().size() - 1), resumed.lastEventId());
      }
    } finally {
      app.shutdownNow();
    }
  }

  @Test
  void droppedConnectionsLoseAndRepeatNothing() throws Exception {
    try (CuttingRelay relay = new CuttingRelay(IdentityTest.sandbox.port(), 5);
         HuesClient client = IdentityTest.sandbox.client();
         HuesClient cutClient = HuesClient.builder().baseUrl(relay.url()).apiKey(IdentityTest.sandbox.apiKey()).build()) {
      Recorder cut = new Recorder();
      Recorder whole = new Recorder();
      String last = null;
      EventSubscription sub = cutClient.events().stream(FROM_START, null, FAST, cut);
      try (sub) {
        for (int i = 0; i < 40; i++) last = client.reports().create(report("Sự cố số " + i + " — đường Lê Lợi")).getId();
        assertTrue(cut.waitForReport(last, 1));
        assertFalse(sub.done().isDone());  // the cuts did not end it
      }
      sub.done().get(30, TimeUnit.SECONDS);
      try (EventSubscription unbroken = client.events().stream(FROM_START, null, FAST, whole)) {
        assertTrue(whole.waitForReport(last, 1));
        assertFalse(unbroken.done().isDone());
      }
      assertEquals(5, relay.cut.get());
      List<String> ids = cut.ids();
      List<String> wholeIds = whole.ids();
      int end = ids.indexOf(cut.last(last).getId());
      assertEquals(wholeIds.subList(0, wholeIds.indexOf(ids.get(end)) + 1), ids.subList(0, end + 1));
      assertEquals(ids.size(), new HashSet<>(ids).size());
    }
  }

  @Test
  void closeEndsItAtOnceFromAnotherThread() throws Exception {
    try (HuesClient client = IdentityTest.sandbox.client()) {
      // Mid-stream: events flowing from the first one ever.
      client.reports().create(report("Cây đổ chắn ngang đường Lê Lợi"));
      Recorder got = new Recorder();
      EventSubscription busy = client.events().stream(FROM_START, null, FAST, got);
      assertTrue(got.waitFor(es -> !es.isEmpty()));
      busy.close();
      busy.done().get(10, TimeUnit.SECONDS);  // a hang guard: it completes normally
      busy.close();  // idempotent
      // Idle (from now on: nothing comes unless a report changes), closed by another thread.
      EventSubscription idle = client.events().stream(null, got);
      assertEquals("", idle.lastEventId());
      Thread closer = new Thread(idle::close);
      closer.start();
      idle.done().get(10, TimeUnit.SECONDS);
      closer.join();
    }
  }

  @Test
  void aListenerThatThrowsEndsItsSubscriptionWithThatException() throws Exception {
    try (HuesClient client = IdentityTest.sandbox.client()) {
      client.reports().create(report("Ổ gà lớn giữa đường Hùng Vương"));
      client.reports().create(report("Ổ gà thứ hai, đường Hùng Vương"));
      java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
      IllegalStateException boom = new IllegalStateException("the app's own failure");
      EventSubscription sub = client.events().stream(FROM_START, null, FAST, e -> {
        calls.incrementAndGet();
        throw boom;
      });
      ExecutionException e = assertThrows(ExecutionException.class, () -> sub.done().get(30, TimeUnit.SECONDS));
      assertEquals(boom, e.getCause());
      assertEquals(1, calls.get());  // closed at once: no later event reached it
    }
  }

  @Test
  void aWrongKeyEndsWithAuthenticationExceptionAndABadIdIsRefused() throws Exception {
    try (HuesClient bad = HuesClient.builder().baseUrl(IdentityTest.sandbox.url()).apiKey("hk_test_wrong").build()) {
      Recorder got = new Recorder();
      EventSubscription sub = bad.events().stream(null, null, FAST, got);
      ExecutionException e = assertThrows(ExecutionException.class, () -> sub.done().get(30, TimeUnit.SECONDS));
      AuthenticationException auth = assertInstanceOf(AuthenticationException.class, e.getCause());
      assertEquals(401, auth.getStatus());
      assertTrue(got.ids().isEmpty());
    }
    try (HuesClient client = IdentityTest.sandbox.client()) {
      EventSubscription sub = client.events().stream(null, "not-a-number", FAST, e -> { });
      ExecutionException e = assertThrows(ExecutionException.class, () -> sub.done().get(30, TimeUnit.SECONDS));
      assertEquals("Last-Event-ID", assertInstanceOf(ValidationException.class, e.getCause()).getField());
    }
  }

  /**
   * A listener that blocks holds the stream back instead of piling events up on the Java side:
   * each event counts against maxBufferedEvents until the listener returned from it (the
   * bridge's "ack"), so while it is blocked at most the bound waits; once it goes on, every
   * event arrives once, in order.
   */
  @Test
  void aBlockedListenerHoldsAtMostMaxBufferedEvents() throws Exception {
    final int bound = 3;
    try (HuesClient client = IdentityTest.sandbox.client()) {
      String last = null;
      for (int i = 0; i < 4 * bound; i++) last = client.reports().create(report("Hàng đợi có giới hạn số " + i)).getId();
      Recorder whole = new Recorder();
      try (EventSubscription unbounded = client.events().stream(FROM_START, null, FAST, whole)) {
        assertTrue(whole.waitForReport(last, 1));
        assertFalse(unbounded.done().isDone());
      }
      java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
      java.util.concurrent.CountDownLatch first = new java.util.concurrent.CountDownLatch(1);
      Recorder got = new Recorder();
      StreamOptions small = StreamOptions.builder().initialBackoffMs(10).maxBackoffMs(40).maxBufferedEvents((long) bound).build();
      try (EventSubscription sub = client.events().stream(FROM_START, null, small, e -> {
        first.countDown();
        try {
          gate.await();
        } catch (InterruptedException x) {
          Thread.currentThread().interrupt();
        }
        got.accept(e);
      })) {
        assertTrue(first.await(30, TimeUnit.SECONDS));
        int peak = 0;
        for (int i = 0; i < 20; i++) {  // the listener is blocked; what the SDK reads meanwhile waits
          Thread.sleep(20);
          peak = Math.max(peak, sub.bufferedEvents());
        }
        assertTrue(peak >= 1 && peak <= bound, "buffered " + peak);
        gate.countDown();
        String end = last;
        assertTrue(got.waitForReport(end, 1));
        List<String> ids = got.ids();
        List<String> all = whole.ids();
        assertEquals(all.subList(0, all.indexOf(got.last(end).getId()) + 1), ids.subList(0, ids.indexOf(got.last(end).getId()) + 1));
      }
    }
  }
}
