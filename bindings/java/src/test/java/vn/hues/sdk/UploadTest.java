package vn.hues.sdk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import vn.hues.sdk.model.UploadConfig;
import vn.hues.sdk.model.UploadMediaType;
import vn.hues.sdk.model.UploadProgress;
import vn.hues.sdk.model.UploadRecord;
import vn.hues.sdk.model.UploadResult;

/** Upload (tus 1.0.0) against the in-process sandbox over real sockets. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class UploadTest extends SandboxTest {
  static final int MiB = 1 << 20;
  @TempDir Path tmp;

  static final byte[] FTYP = {0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm', 0, 0, 2, 0, 'i', 's', 'o', 'm', 'i', 's', 'o', '2'};

  static byte[] makeFile(Path p, int size, long seed) throws IOException {
    byte[] data = new byte[size];
    new Random(seed).nextBytes(data);
    System.arraycopy(FTYP, 0, data, 0, Math.min(FTYP.length, size));  // an MP4 head: the sandbox sniffs video
    Files.write(p, data);
    return data;
  }

  static byte[] stored(String url) throws IOException {
    return Files.readAllBytes(Path.of(sandbox.dataDir(), "uploads", url.substring(url.lastIndexOf('/') + 1) + ".bin"));
  }

  /** An UploadStore written in Java, counting saves. */
  static final class MapStore implements UploadStore {
    final Map<String, UploadRecord> records = new ConcurrentHashMap<>();
    final AtomicInteger saves = new AtomicInteger();
    @Override public UploadRecord load(String key) { return records.get(key); }
    @Override public void save(String key, UploadRecord record) { saves.incrementAndGet(); records.put(key, record); }
    @Override public void remove(String key) { records.remove(key); }
  }

  static UploadConfig.Builder config(HuesClient c, Path p, UploadMediaType type) {
    return UploadConfig.builder().client(c).path(p.toString()).mediaType(type);
  }

  @Test
  void uploadsInChunksWithIncreasingProgressAndTheSameBytes() throws Exception {
    Path p = tmp.resolve("ảnh-ngập-nước.mp4");
    byte[] data = makeFile(p, 5 * MiB + 77, 1);
    List<Long> seen = new CopyOnWriteArrayList<>();
    List<String> threads = new CopyOnWriteArrayList<>();
    MapStore store = new MapStore();
    try (Upload up = new Upload(config(client, p, UploadMediaType.VIDEO).chunkSize(MiB).store(store)
        .progress(pr -> { seen.add(pr.getUploaded()); threads.add(Thread.currentThread().getName()); }).build())) {
      UploadResult r = up.start();
      assertTrue(r.getComplete());
      assertEquals(data.length, r.getSize());
      assertTrue(seen.size() >= 6);
      for (int i = 1; i < seen.size(); i++) assertTrue(seen.get(i) > seen.get(i - 1));
      assertEquals((long) data.length, seen.get(seen.size() - 1));
      assertFalse(threads.contains(Thread.currentThread().getName()));
      assertArrayEquals(data, stored(r.getUrl()));
      assertEquals(1, store.saves.get());
      assertTrue(store.records.isEmpty());
    }
  }

  @Test
  void pauseThenResumeFromANewObjectWithTheSameStore() throws Exception {
    Path p = tmp.resolve("v.mp4");
    byte[] data = makeFile(p, 4 * MiB, 2);
    MapStore store = new MapStore();
    AtomicReference<Upload> self = new AtomicReference<>();
    Upload up = new Upload(config(client, p, UploadMediaType.VIDEO).chunkSize(512 * 1024).store(store)
        .progress(pr -> { if (pr.getUploaded() >= MiB && pr.getUploaded() < pr.getTotal()) self.get().pause(); }).build());
    self.set(up);
    UploadResult first = up.start();
    up.close();
    assertFalse(first.getComplete());
    assertTrue(first.getOffset() >= MiB && first.getOffset() < first.getSize());
    assertEquals(1, store.records.size());
    try (Upload again = new Upload(config(client, p, UploadMediaType.VIDEO).store(store).build())) {
      UploadResult second = again.startAsync().get(60, TimeUnit.SECONDS);
      assertTrue(second.getComplete());
      assertTrue(second.getResumed());
      assertEquals(first.getUrl(), second.getUrl());
      assertArrayEquals(data, stored(second.getUrl()));
    }
  }

  @Test
  void cancellingTheFutureAbortsAndKeepsTheUrlThenTerminateForgetsIt() throws Exception {
    Path p = tmp.resolve("c.mp4");
    makeFile(p, 4 * MiB, 3);
    MapStore store = new MapStore();
    AtomicReference<CompletableFuture<UploadResult>> running = new AtomicReference<>();
    CompletableFuture<Void> firstChunk = new CompletableFuture<>();
    try (Upload up = new Upload(config(client, p, UploadMediaType.VIDEO).chunkSize(512 * 1024).store(store)
        .progress(pr -> firstChunk.complete(null)).build())) {
      running.set(up.startAsync());
      firstChunk.get(60, TimeUnit.SECONDS);
      running.get().cancel(true);
      assertThrows(CancellationException.class, () -> running.get().get());
      // The SDK side ends too: a new start is refused while the old one runs, so wait for it.
      String url = null;
      for (int i = 0; i < 100 && url == null; i++) {
        UploadRecord rec = store.records.values().stream().findFirst().orElse(null);
        url = rec == null ? null : rec.getUrl();
        if (url == null) Thread.sleep(50);
      }
      assertTrue(url != null);
      up.terminate();
      assertTrue(store.records.isEmpty());
    }
  }

  /** A relay to the sandbox that resets both sides once, after dropAfter bytes went upstream. */
  static final class ResettingRelay implements AutoCloseable {
    final ServerSocket server;
    final long dropAfter;
    final AtomicLong forwarded = new AtomicLong();
    volatile boolean dropped;

    ResettingRelay(long dropAfter) throws IOException {
      this.dropAfter = dropAfter;
      server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      Thread t = new Thread(this::serve);
      t.setDaemon(true);
      t.start();
    }

    String url() { return "http://127.0.0.1:" + server.getLocalPort(); }

    void serve() {
      while (true) {
        try {
          Socket c = server.accept();
          Socket u = new Socket(InetAddress.getLoopbackAddress(), sandbox.port());
          Thread down = new Thread(() -> copyDown(u, c));
          down.setDaemon(true);
          down.start();
          Thread upT = new Thread(() -> copyUp(c, u));
          upT.setDaemon(true);
          upT.start();
        } catch (IOException e) {
          return;
        }
      }
    }

    void copyDown(Socket u, Socket c) {
      byte[] from = (sandbox.url() + "/v1/uploads/").getBytes(StandardCharsets.ISO_8859_1);
      try (InputStream in = u.getInputStream(); OutputStream out = c.getOutputStream()) {
        byte[] buf = new byte[65536];
        int n;
        while ((n = in.read(buf)) > 0) {  // the sandbox's Location names itself: point it here
          String s = new String(buf, 0, n, StandardCharsets.ISO_8859_1)
              .replace(new String(from, StandardCharsets.ISO_8859_1), url() + "/v1/uploads/");
          out.write(s.getBytes(StandardCharsets.ISO_8859_1));
        }
      } catch (IOException ignored) {
      }
    }

    void copyUp(Socket c, Socket u) {
      try (InputStream in = c.getInputStream(); OutputStream out = u.getOutputStream()) {
        byte[] buf = new byte[65536];
        int n;
        while ((n = in.read(buf)) > 0) {
          if (!dropped && forwarded.addAndGet(n) > dropAfter) {
            dropped = true;
            c.setSoLinger(true, 0);
            u.setSoLinger(true, 0);
            c.close();
            u.close();
            return;
          }
          out.write(buf, 0, n);
        }
      } catch (IOException ignored) {
      }
    }

    @Override public void close() throws IOException { server.close(); }
  }

  @Test
  void aDroppedConnectionResumesFromTheServersOffset() throws Exception {
    Path p = tmp.resolve("d.mp4");
    byte[] data = makeFile(p, 6 * MiB, 5);
    try (ResettingRelay relay = new ResettingRelay(2L * MiB + 50000);
         HuesClient c = HuesClient.builder().baseUrl(relay.url()).apiKey(sandbox.apiKey()).build();
         Upload up = new Upload(config(c, p, UploadMediaType.VIDEO).chunkSize(MiB).retryBackoffMs(10L).build())) {
      UploadResult r = up.start();
      assertTrue(relay.dropped);
      assertTrue(r.getComplete());
      assertArrayEquals(data, stored(r.getUrl()));
    }
  }

  @Test
  void badInputIsTypedAndStoresNothing() throws Exception {
    MapStore store = new MapStore();
    ValidationException missing = assertThrows(ValidationException.class, () -> {
      try (Upload up = new Upload(config(client, tmp.resolve("missing.jpg"), UploadMediaType.PHOTO).store(store).build())) {
        up.start();
      }
    });
    assertEquals("path", missing.getField());
    assertEquals("file_not_found", missing.getCode());
    Path huge = tmp.resolve("huge.jpg");
    try (RandomAccessFile f = new RandomAccessFile(huge.toFile(), "rw")) {
      f.setLength(26L * MiB);  // over the photo limit (25 MiB): the server's 413
    }
    ValidationException big = assertThrows(ValidationException.class, () -> {
      try (Upload up = new Upload(config(client, huge, UploadMediaType.PHOTO).store(store).build())) {
        up.start();
      }
    });
    assertEquals("path", big.getField());
    assertEquals("payload_too_large", big.getCode());
    assertEquals(413, big.getStatus());
    assertEquals(0, store.saves.get());
    assertTrue(store.records.isEmpty());
  }

  // ---- upload from a stream (an InputStream) ----

  /** A non-seekable stream (a pipe, a socket) that counts what it hands out. */
  static final class ForwardOnly extends InputStream {
    final byte[] data;
    int pos;
    final AtomicLong bytesRead = new AtomicLong();
    ForwardOnly(byte[] data) { this.data = data; }
    @Override public int read() { return pos < data.length ? (data[pos++] & 0xFF) : -1; }
    @Override public int read(byte[] b, int off, int len) {
      if (pos >= data.length) return -1;
      int n = Math.min(len, data.length - pos);
      System.arraycopy(data, pos, b, off, n);
      pos += n;
      bytesRead.addAndGet(n);
      return n;
    }
  }

  static String sha256(byte[] data) throws Exception {
    return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(data));
  }

  @Test
  void uploadsFromAnInputStreamSeekableOrNotAndTheMediaSha256IsTheSources() throws Exception {
    Path p = tmp.resolve("s.mp4");
    byte[] data = makeFile(p, 3 * MiB + 777, 21);
    try (java.io.FileInputStream in = new java.io.FileInputStream(p.toFile());  // seekable: its channel
         Upload up = new Upload(UploadConfig.builder().client(client).mediaType(UploadMediaType.VIDEO).source(in)
             .chunkSize(MiB).build())) {
      UploadResult r = up.start();
      assertTrue(r.getComplete());
      assertEquals(data.length, r.getSize());
      assertEquals(sha256(data), client.media().get(r.getMediaId()).getSha256());
    }
    ForwardOnly stream = new ForwardOnly(data);
    try (Upload up = new Upload(UploadConfig.builder().client(client).mediaType(UploadMediaType.VIDEO)
        .source(stream).size((long) data.length).chunkSize(MiB).build())) {
      UploadResult r = up.start();
      assertTrue(r.getComplete());
      assertEquals(sha256(data), client.media().get(r.getMediaId()).getSha256());
      assertEquals(data.length, stream.bytesRead.get());
    }
  }

  @Test
  void aNonSeekableStreamResendsTheChunkItHoldsAfterADrop() throws Exception {
    byte[] data = makeFile(tmp.resolve("n.mp4"), 5 * MiB + 99, 31);
    ForwardOnly stream = new ForwardOnly(data);
    try (ResettingRelay relay = new ResettingRelay(2L * MiB + 300000);
         HuesClient c = HuesClient.builder().baseUrl(relay.url()).apiKey(sandbox.apiKey()).build();
         Upload up = new Upload(UploadConfig.builder().client(c).mediaType(UploadMediaType.VIDEO).source(stream)
             .size((long) data.length).chunkSize(MiB).retryBackoffMs(10L).build())) {
      UploadResult r = up.start();
      assertTrue(relay.dropped);
      assertTrue(r.getComplete());
      assertArrayEquals(data, stored(r.getUrl()));
      assertEquals(data.length, stream.bytesRead.get());  // never re-read: resent from the held chunk
    }
  }

  @Test
  void aStreamOfUnknownLengthUploadsWithUploadDeferLength() throws Exception {
    // No size: the sandbox advertises creation-defer-length, so the SDK creates with
    // Upload-Defer-Length: 1 and declares the length on the PATCH that finds the end (the
    // short last chunk; for an exact multiple of the chunk size, an empty PATCH after it).
    for (int size : new int[] {3 * MiB + 777, 2 * MiB}) {
      byte[] data = makeFile(tmp.resolve("u" + size + ".mp4"), size, 51);
      ForwardOnly stream = new ForwardOnly(data);
      try (Upload up = new Upload(UploadConfig.builder().client(client).mediaType(UploadMediaType.VIDEO)
          .source(stream).chunkSize(MiB).build())) {
        UploadResult r = up.start();
        assertTrue(r.getComplete());
        assertEquals(size, r.getSize());
        assertArrayEquals(data, stored(r.getUrl()));
        assertEquals(sha256(data), client.media().get(r.getMediaId()).getSha256());
        assertEquals(size, stream.bytesRead.get());
      }
    }
  }

  /** A tus server's discovery without creation-defer-length: OPTIONS is all an upload that cannot start reaches. */
  static com.sun.net.httpserver.HttpServer noDeferServer() throws IOException {
    var server = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", ex -> {
      ex.getResponseHeaders().set("Tus-Version", "1.0.0");
      ex.getResponseHeaders().set("Tus-Extension", "creation,termination,checksum");
      ex.sendResponseHeaders("OPTIONS".equals(ex.getRequestMethod()) ? 204 : 405, -1);
      ex.close();
    });
    server.start();
    return server;
  }

  @Test
  void aStreamOfUnknownLengthNeedsDeferLengthOrASize() throws Exception {
    var server = noDeferServer();
    try (HuesClient c = HuesClient.builder().baseUrl("http://127.0.0.1:" + server.getAddress().getPort())
             .apiKey(sandbox.apiKey()).build();
         Upload up = new Upload(UploadConfig.builder().client(c).mediaType(UploadMediaType.VIDEO)
             .source(new ForwardOnly(new byte[1000])).build())) {
      ValidationException e = assertThrows(ValidationException.class, up::start);
      assertEquals("source", e.getField());
      assertEquals("length_required", e.getCode());
    } finally {
      server.stop(0);
    }
  }
}
