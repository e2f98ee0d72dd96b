package vn.hues.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import vn.hues.sdk.media.TusUpload;
import vn.hues.sdk.model.Location;
import vn.hues.sdk.model.MediaType;
import vn.hues.sdk.model.NewReport;
import vn.hues.sdk.model.OutboxItem;
import vn.hues.sdk.model.OutboxItemState;
import vn.hues.sdk.model.OutboxMedia;
import vn.hues.sdk.model.Report;
import vn.hues.sdk.model.ReportQuery;
import vn.hues.sdk.testing.Sandbox;

/** The offline outbox from Java, against the in-process sandbox over real sockets. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class OutboxTest extends SandboxTest {
  static final String VI = "Ngập sâu 40 cm trên đường Phan Đình Phùng, xe máy chết máy; cần hỗ trợ gấp! 🌧";

  /** A listener in Java: records what it hears, and on which thread. */
  static final class Events implements OutboxListener {
    final List<OutboxItem> delivered = Collections.synchronizedList(new ArrayList<>());
    final List<OutboxItem> failed = Collections.synchronizedList(new ArrayList<>());
    final List<String> threads = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void delivered(OutboxItem item) {
      threads.add(Thread.currentThread().getName());
      delivered.add(item);
    }

    @Override
    public void failed(OutboxItem item) {
      failed.add(item);
    }

    void await(int d, int f) throws InterruptedException {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while ((delivered.size() < d || failed.size() < f) && System.nanoTime() < end) Thread.sleep(10);
      assertTrue(delivered.size() >= d && failed.size() >= f, "listener events");
    }
  }

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  static NewReport report(String text, String category) {
    return NewReport.builder().category(category).description(text)
        .location(Location.builder().lat(16.4726).lon(107.5885).address("Chợ Đông Ba, đường Trần Hưng Đạo")
            .ward("Đông Ba").build())
        .build();
  }

  static Outbox open(HuesClient client, Path path, OutboxListener listener) {
    Outbox.Builder b = Outbox.builder().client(client).path(path.toString()).initialBackoffMs(20L).maxBackoffMs(200L);
    if (listener != null) b.listener(listener);
    return b.build();
  }

  @Test
  void enqueuedOfflineThenDeliveredOnceInOrderWithEvents(@TempDir Path dir) throws Exception {
    int port = freePort();
    String word = "obx" + UUID.randomUUID().toString().substring(0, 8);
    Events events = new Events();
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < 4; i++) texts.add(VI + " " + word + " #" + i);
    try (HuesClient offline = HuesClient.builder().baseUrl("http://127.0.0.1:" + port)
             .apiKey("hk_test_hue_s_sandbox_0001").deadlineMs(8000L).build();
         Outbox outbox = open(offline, dir.resolve("outbox.db"), events)) {
      List<String> ids = new ArrayList<>();
      for (String t : texts) ids.add(outbox.enqueue(report(t, "street_light")).getLocalId());
      assertEquals(4, ids.stream().distinct().count());
      assertFalse(outbox.waitIdle(300L));
      List<OutboxItem> items = outbox.items().getItems();
      assertEquals(ids, items.stream().map(OutboxItem::getLocalId).collect(Collectors.toList()));
      assertEquals(texts, items.stream().map(i -> i.getReport().getDescription()).collect(Collectors.toList()));
      assertTrue(items.stream().noneMatch(i -> i.getState().equals(OutboxItemState.DELIVERED)));
      // The head's attempt ends with the refused connection (its last_error), and it waits to try again.
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (items.get(0).getLastError().isEmpty() && System.nanoTime() < end) {
        Thread.sleep(20);
        items = outbox.items().getItems();
      }
      assertTrue(items.get(0).getLastError().contains("connection"), items.get(0).getLastError());
      assertEquals(0, items.get(1).getAttempts());
      assertTrue(events.delivered.isEmpty());

      Map<String, Object> cfg = new LinkedHashMap<>();
      cfg.put("port", port);
      cfg.put("tls_port", -1);
      try (Sandbox sb = new Sandbox(cfg); HuesClient online = sb.client()) {
        assertTrue(outbox.waitIdle(30_000L));
        events.await(4, 0);
        items = outbox.items().getItems();
        for (OutboxItem i : items) assertEquals(OutboxItemState.DELIVERED, i.getState());
        assertEquals(ids, events.delivered.stream().map(OutboxItem::getLocalId).collect(Collectors.toList()));
        assertEquals(items.stream().map(OutboxItem::getReportId).collect(Collectors.toList()),
            events.delivered.stream().map(OutboxItem::getReportId).collect(Collectors.toList()));
        assertTrue(events.failed.isEmpty());
        assertTrue(events.threads.stream().noneMatch(n -> n.equals("main")));
        List<String> found = new ArrayList<>();
        for (Report r : online.reports().list(ReportQuery.builder().q(word).limit(100).build())) found.add(r.getDescription());
        Collections.sort(found);
        List<String> sorted = new ArrayList<>(texts);
        Collections.sort(sorted);
        assertEquals(sorted, found);  // each once
        for (int i = 0; i < 4; i++) {
          Report r = online.reports().get(items.get(i).getReportId());
          assertEquals(texts.get(i), r.getDescription());
          assertEquals(new String(texts.get(i).getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8), r.getDescription());
        }
      }
      assertEquals(4L, outbox.purge());
      assertTrue(outbox.items().getItems().isEmpty());
    }
  }

  @Test
  void aRefusedReportFailsOnceAndTheQueueGoesOn(@TempDir Path dir) throws Exception {
    Events events = new Events();
    String word = "obx" + UUID.randomUUID().toString().substring(0, 8);
    try (Outbox outbox = open(client, dir.resolve("o.db"), events)) {
      OutboxItem bad = outbox.enqueue(report("Danh mục không tồn tại " + word, "no_such_category"));
      OutboxItem good = outbox.enqueue(report("Đèn đường hỏng " + word, "street_light"));
      assertTrue(outbox.waitIdle(30_000L));
      events.await(1, 1);
      List<OutboxItem> items = outbox.items().getItems();
      assertEquals(bad.getLocalId(), items.get(0).getLocalId());
      assertEquals(OutboxItemState.FAILED, items.get(0).getState());
      assertEquals(1, items.get(0).getAttempts());
      assertEquals("category", items.get(0).getErrorField());
      assertEquals(OutboxItemState.DELIVERED, items.get(1).getState());
      outbox.flush();
      assertTrue(outbox.waitIdle(2_000L));
      assertEquals(1, outbox.items().getItems().get(0).getAttempts());
      assertEquals(bad.getLocalId(), events.failed.get(0).getLocalId());
      assertEquals(good.getLocalId(), events.delivered.get(0).getLocalId());
      assertEquals(1, events.failed.size());
    }
  }

  @Test
  void validationCancelReopenAndFileMode(@TempDir Path dir) throws Exception {
    int port = freePort();
    Path path = dir.resolve("outbox.db");
    try (HuesClient offline = HuesClient.builder().baseUrl("http://127.0.0.1:" + port)
             .apiKey("hk_test_hue_s_sandbox_0001").build()) {
      String a;
      try (Outbox outbox = open(offline, path, null)) {
        ValidationException v = assertThrows(ValidationException.class, () -> outbox.enqueue(report("", "street_light")));
        assertEquals("report.description", v.getField());
        assertTrue(outbox.items().getItems().isEmpty());
        a = outbox.enqueue(report("Rác chưa thu gom ở Vỹ Dạ", "street_light")).getLocalId();
        String b = outbox.enqueue(report("Cây đổ chắn đường Lê Lợi", "street_light")).getLocalId();
        assertTrue(outbox.cancel(b));
        NotFoundException nf = assertThrows(NotFoundException.class, () -> outbox.cancel(b));
        assertEquals("local_id", nf.getField());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(path)));
        ValidationException busy = assertThrows(ValidationException.class, () -> open(offline, path, null));
        assertEquals("path", busy.getField());
      }
      try (Outbox reopened = open(offline, path, null)) {
        List<OutboxItem> items = reopened.items().getItems();
        assertEquals(1, items.size());
        assertEquals(a, items.get(0).getLocalId());
        assertEquals("Rác chưa thu gom ở Vỹ Dạ", items.get(0).getReport().getDescription());
        // Pending again (its sender may have picked it up already: sending).
        assertTrue(items.get(0).getState().equals(OutboxItemState.PENDING)
            || items.get(0).getState().equals(OutboxItemState.SENDING), items.get(0).getState().toString());
        assertNotEquals(a, reopened.enqueue(report("Ngập nước ở Đập Đá", "street_light")).getLocalId());
      }
    }
  }

  @Test
  void aReportWithAPhotoIsDeliveredWithItAttached(@TempDir Path dir) throws Exception {
    byte[] photo = TusUpload.jpeg(320, 240);
    Path file = dir.resolve("ảnh-đèn-hỏng.jpg");
    Files.write(file, photo);
    Events events = new Events();
    String word = "obx" + UUID.randomUUID().toString().substring(0, 8);
    try (Outbox outbox = open(client, dir.resolve("m.db"), events)) {
      ValidationException v = assertThrows(ValidationException.class, () -> outbox.enqueue(report("Không có tệp", "street_light"),
          List.of(OutboxMedia.builder().path(dir.resolve("none.jpg").toString()).mediaType(MediaType.PHOTO).build())));
      assertEquals("media[0].path", v.getField());
      OutboxItem item = outbox.enqueue(report("Đèn đường hỏng có ảnh " + word, "street_light"),
          List.of(OutboxMedia.builder().path(file.toString()).mediaType(MediaType.PHOTO).build()));
      assertEquals((long) photo.length, item.getMediaTotal());
      assertTrue(outbox.waitIdle(30_000L));
      events.await(1, 0);
      OutboxItem done = outbox.items().getItems().get(0);
      assertEquals(OutboxItemState.DELIVERED, done.getState());
      assertEquals(done.getMediaTotal(), done.getMediaSent());
      String mediaId = done.getMedia().get(0).getMediaId();
      Report r = client.reports().get(done.getReportId());
      assertEquals(List.of(mediaId), r.getMedia());
      String sha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(photo));
      assertEquals(sha, client.media().get(mediaId).getSha256());
    }
  }
}
