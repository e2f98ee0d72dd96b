package vn.hues.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import vn.hues.sdk.model.Category;
import vn.hues.sdk.model.CategoryAttribute;
import vn.hues.sdk.model.Location;
import vn.hues.sdk.model.LogLevel;
import vn.hues.sdk.model.NewReport;
import vn.hues.sdk.model.Report;
import vn.hues.sdk.model.ReportPage;
import vn.hues.sdk.model.ReportQuery;
import vn.hues.sdk.model.ReportStatus;
import vn.hues.sdk.model.RetryPolicy;
import vn.hues.sdk.testing.Sandbox;

/** The Java API against an in-process sandbox over real sockets (HTTP and HTTPS). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReportsTest extends SandboxTest {
  // Vietnamese with every tone mark class, plus a character outside the BMP (JNI's
  // "modified UTF-8" would mangle it).
  static final String DESCRIPTION =
      "Đèn đường hỏng trước chợ Đông Ba, đường Trần Hưng Đạo — tối om từ 18 giờ 💡";

  static RetryPolicy attempts(int n) {
    return RetryPolicy.builder().maxAttempts(n).build();
  }

  static NewReport streetLight(String description, double lat, double lon) {
    return NewReport.builder()
        .category("street_light")
        .description(description)
        .location(Location.builder().lat(lat).lon(lon).address("Chợ Đông Ba, 2 Trần Hưng Đạo")
            .ward("Đông Ba").build())
        .build();
  }

  @Test
  void categoriesAreInVietnamese() {
    List<Category> categories = client.reports().categories();
    Category light = categories.stream().filter(c -> c.getCode().equals("street_light"))
        .findFirst().orElseThrow();
    assertEquals("Đèn chiếu sáng công cộng hỏng", light.getNameVi());
    assertEquals("QLDT_HUE", light.getAgencyCode());
    assertTrue(light.getSlaHours() > 0);
    CategoryAttribute state = light.getAttributes().stream()
        .filter(a -> a.getCode().equals("light_state")).findFirst().orElseThrow();
    assertTrue(state.getRequired());
    assertTrue(state.getValues().stream().anyMatch(v -> v.getName().equals("Chập chờn")));
  }

  @Test
  void createGetAndListRoundTripVietnameseExactly() {
    Report created = client.reports().create(streetLight(DESCRIPTION, 16.4726, 107.5885));
    assertFalse(created.getId().isEmpty());
    assertEquals(DESCRIPTION, created.getDescription());
    assertEquals("Chợ Đông Ba, 2 Trần Hưng Đạo", created.getLocation().getAddress());
    assertEquals("Đông Ba", created.getLocation().getWard());
    assertEquals(16.4726, created.getLocation().getLat());
    assertEquals(ReportStatus.SUBMITTED, created.getStatus());
    assertEquals("QLDT_HUE", created.getAgencyCode());

    Report fetched = client.reports().get(created.getId());
    // Only the create response carries the duplicate hints; otherwise the same value.
    Report plain = created.toBuilder().possibleDuplicates(null).build();
    assertEquals(plain, fetched);  // models are values
    assertEquals(plain.hashCode(), fetched.hashCode());
    assertEquals(DESCRIPTION, fetched.getDescription());

    ReportQuery q = ReportQuery.builder().category("street_light").build();
    assertTrue(client.reports().list(q).stream().anyMatch(
        r -> r.getId().equals(created.getId()) && r.getDescription().equals(DESCRIPTION)));
  }

  @Test
  void modelsAreImmutableValuesChangedThroughCopies() {
    NewReport r = streetLight(DESCRIPTION, 16.4726, 107.5885);
    NewReport moved = r.toBuilder().location(r.getLocation().toBuilder().lat(16.5).build()).build();
    assertEquals(16.4726, r.getLocation().getLat());  // the original is unchanged
    assertEquals(16.5, moved.getLocation().getLat());
    assertNotEquals(r, moved);
    assertThrows(UnsupportedOperationException.class, () -> moved.getMedia().add("x"));
  }

  @Test
  void wrongApiKeyThrowsAuthenticationException() {
    try (HuesClient bad = HuesClient.builder().baseUrl(sandbox.url()).apiKey("hk_test_wrong_key")
        .build()) {
      AuthenticationException e =
          assertThrows(AuthenticationException.class, () -> bad.reports().categories());
      assertEquals(401, e.getStatus());
      assertEquals("invalid_api_key", e.getCode());
      assertFalse(e.getRequestId().isEmpty());
      assertFalse(e.isRetryable());
      assertInstanceOf(ApiException.class, e);
      assertInstanceOf(HuesException.class, e);
      assertTrue(e.toString().startsWith("AuthenticationException: "), e.toString());
      assertTrue(e.toString().contains("(status 401, code invalid_api_key, request_id "), e.toString());
    }
  }

  @Test
  void validationErrorNamesTheField() {
    // Caught by the SDK before sending: no HTTP status.
    ValidationException local = assertThrows(ValidationException.class,
        () -> client.reports().create(streetLight(DESCRIPTION, 123.0, 107.5885)));
    assertEquals("location.lat", local.getField());
    assertEquals("validation_error", local.getCode());
    assertEquals(0, local.getStatus());
    assertTrue(local.getMessage().contains("location.lat"), local.getMessage());
    assertTrue(local.toString().contains("field location.lat"), local.toString());

    // Refused by the server: only it knows the categories.
    NewReport unknown = streetLight(DESCRIPTION, 16.4726, 107.5885).toBuilder()
        .category("no_such_category").build();
    ValidationException remote =
        assertThrows(ValidationException.class, () -> client.reports().create(unknown));
    assertEquals(400, remote.getStatus());
    assertEquals("category", remote.getField());
    assertEquals("validation_error", remote.getCode());
    assertFalse(remote.getRequestId().isEmpty());
  }

  @Test
  void aMissingRequiredFieldIsAValidationErrorNamingIt() {
    // A report with no location is refused, not stored at 0,0.
    ValidationException e = assertThrows(ValidationException.class,
        () -> NewReport.builder().category("street_light").description(DESCRIPTION).build());
    assertEquals("location", e.getField());
    ValidationException lat = assertThrows(ValidationException.class,
        () -> Location.builder().lon(107.5).build());
    assertEquals("lat", lat.getField());
  }

  @Test
  void unknownIdThrowsNotFound() {
    NotFoundException e =
        assertThrows(NotFoundException.class, () -> client.reports().get("rp_does_not_exist"));
    assertEquals(404, e.getStatus());
    assertEquals("not_found", e.getCode());
  }

  @Test
  void autoPagingVisitsEveryReportOnce() {
    // A spot no other report uses (the seed data has reports of every category), so the
    // "near" filter selects exactly the five created here.
    double lat = 16.4101, lon = 107.6402;
    Set<String> created = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      NewReport r = streetLight("Cây xanh gãy đổ trên đường Lê Lợi, số " + i, lat, lon).toBuilder()
          .category("fallen_tree").build();
      created.add(client.reports().create(r).getId());
    }
    ReportQuery q = ReportQuery.builder().category("fallen_tree").nearLat(lat).nearLon(lon)
        .radiusM(50.0).limit(2L).build();

    ReportPage first = client.reports().listPage(q);
    assertEquals(2, first.getItems().size());
    assertFalse(first.getNextCursor().isEmpty());

    List<String> seen = new ArrayList<>();
    for (Report r : client.reports().list(q)) seen.add(r.getId());
    assertEquals(created, new HashSet<>(seen));
    assertEquals(5, seen.size(), "duplicates in " + seen);
    // A second iteration starts over and sees the same order.
    assertEquals(seen, client.reports().list(q).stream().map(Report::getId)
        .collect(Collectors.toList()));
  }

  @Test
  void aCertificateForOtherNamesIsRefusedByHostNameAndByIpAddress() {
    java.util.Map<String, Object> config = new java.util.LinkedHashMap<>();
    config.put("tls_names", java.util.List.of("reports.other-city.example", "10.9.8.7"));
    try (Sandbox other = new Sandbox(config)) {
      for (String url : new String[] {other.tlsUrl(), "https://127.0.0.1:" + other.tlsPort()}) {
        try (HuesClient client = HuesClient.builder().baseUrl(url).apiKey(other.apiKey())
            .caFile(other.caFile()).retry(attempts(1)).build()) {
          TlsException e = assertThrows(TlsException.class, () -> client.reports().categories(), url);
          assertEquals("certificate_verify_failed", e.getCode(), url);
          assertTrue(e.getMessage().contains("mismatch"), e.getMessage());
          assertFalse(e.isRetryable());
        }
      }
    }
  }

  @Test
  void tlsWithTheSandboxCaWorksAndWithoutItFails() {
    try (HuesClient tls = HuesClient.builder().baseUrl(sandbox.tlsUrl()).apiKey(sandbox.apiKey())
        .caFile(sandbox.caFile()).build()) {
      assertFalse(tls.reports().categories().isEmpty());
    }
    try (HuesClient untrusted = HuesClient.builder().baseUrl(sandbox.tlsUrl())
        .apiKey(sandbox.apiKey()).retry(attempts(1)).build()) {
      TlsException e = assertThrows(TlsException.class, () -> untrusted.reports().categories());
      assertEquals(0, e.getStatus());
      assertInstanceOf(TransportException.class, e);
    }
  }

  @Test
  void createAsyncCompletesWithTheReport() throws Exception {
    Report r = client.reports().createAsync(streetLight(DESCRIPTION, 16.4698, 107.5786))
        .get(30, TimeUnit.SECONDS);
    assertEquals(DESCRIPTION, r.getDescription());
    assertEquals(r.toBuilder().possibleDuplicates(null).build(),  // the hints: create only
        client.reports().getAsync(r.getId()).get(30, TimeUnit.SECONDS));
  }

  @Test
  void asyncContinuationsRunOnTheClientsExecutorNotAnSdkThread() throws Exception {
    List<String> threads = Collections.synchronizedList(new ArrayList<>());
    java.util.concurrent.ExecutorService executor = java.util.concurrent.Executors.newSingleThreadExecutor(
        r -> new Thread(r, "app-executor"));
    java.util.concurrent.CountDownLatch registered = new java.util.concurrent.CountDownLatch(1);
    try (HuesClient c = sandbox.clientBuilder().executor(executor).build()) {
      // The executor first waits until the continuation is registered, so the future cannot
      // be complete yet when thenRun is called: the continuation runs where it completes.
      executor.execute(() -> {
        try {
          registered.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      CompletableFuture<Void> done = c.reports().categoriesAsync()
          .thenRun(() -> threads.add(Thread.currentThread().getName()));
      registered.countDown();
      done.get(30, TimeUnit.SECONDS);
    } finally {
      executor.shutdown();
    }
    assertEquals(List.of("app-executor"), threads);
  }

  @Test
  void asyncErrorsArriveTypedThroughTheFuture() {
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> client.reports().createAsync(streetLight(DESCRIPTION, 16.4698, 200.0))
            .get(30, TimeUnit.SECONDS));
    ValidationException cause = assertInstanceOf(ValidationException.class, e.getCause());
    assertEquals("location.lon", cause.getField());
  }

  @Test
  void cancelledTokenEndsTheCallWithCancelledException() {
    CancellationToken token = new CancellationToken();
    token.cancel();
    CallOptions options = CallOptions.cancel(token);
    assertThrows(CancelledException.class, () -> client.reports().categories(options));
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> client.reports().categoriesAsync(options).get(10, TimeUnit.SECONDS));
    assertInstanceOf(CancelledException.class, e.getCause());
  }

  @Test
  void javaLoggerReceivesLinesWithoutTheApiKey() {
    List<String> lines = Collections.synchronizedList(new ArrayList<>());
    try (HuesClient logged = sandbox.clientBuilder().logLevel(LogLevel.DEBUG)
        .logger((level, message) -> lines.add(level.value().toUpperCase(java.util.Locale.ROOT) + " " + message))
        .build()) {
      logged.reports().categories();
      assertThrows(NotFoundException.class, () -> logged.reports().get("rp_missing"));
    }
    assertTrue(lines.stream().anyMatch(l -> l.contains("/v1/categories")), "lines: " + lines);
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("WARNING") && l.contains("404")),
        "lines: " + lines);
    for (String line : lines) {
      assertFalse(line.contains(sandbox.apiKey()), "API key in log line: " + line);
    }
  }

  @Test
  void aThrowingLoggerFailsNoCallAndHostObjectsAreReleasedWithTheClient() throws Exception {
    int before = vn.hues.sdk.internal.HostObjects.live();
    try (HuesClient logged = sandbox.clientBuilder().logLevel(LogLevel.DEBUG)
        .logger((level, message) -> { throw new IllegalStateException("logger broke"); }).build()) {
      assertEquals(before + 1, vn.hues.sdk.internal.HostObjects.live());
      assertFalse(logged.reports().categories().isEmpty());
    }
    // The SDK dropped its last reference to the Java logger (HUES_RELEASE): nothing leaks.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
    while (vn.hues.sdk.internal.HostObjects.live() > before && System.nanoTime() < deadline) Thread.sleep(10);
    assertEquals(before, vn.hues.sdk.internal.HostObjects.live());
  }

  @Test
  void stalledServerEndsInTimeoutException() throws Exception {
    // The kernel accepts connections into the backlog; nobody ever answers.
    try (ServerSocket stall = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        HuesClient c = HuesClient.builder().baseUrl("http://127.0.0.1:" + stall.getLocalPort())
            .apiKey("hk_test_x").attemptTimeout(Duration.ofMillis(300)).retry(attempts(1)).build()) {
      long start = System.nanoTime();
      TimeoutException e = assertThrows(TimeoutException.class, () -> c.reports().categories());
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertTrue(ms >= 250 && ms < 5000, "took " + ms + " ms");
      assertEquals(0, e.getStatus());
    }
  }

  /** The stalled server's side of the call's connection reaches EOF: the client closed it. */
  static void assertConnectionClosedByClient(ServerSocket stall) throws Exception {
    stall.setSoTimeout(5000);
    try (java.net.Socket s = stall.accept()) {
      s.setSoTimeout(5000);  // without cancellation the call would hold it for 30 s
      s.getInputStream().readAllBytes();  // the request, then EOF
    }
  }

  @Test
  void cancellingTheFutureStopsTheNativeCall() throws Exception {
    try (ServerSocket stall = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        HuesClient c = HuesClient.builder().baseUrl("http://127.0.0.1:" + stall.getLocalPort())
            .apiKey("hk_test_x").attemptTimeout(Duration.ofSeconds(30)).retry(attempts(1)).build()) {
      CompletableFuture<List<Category>> f = c.reports().categoriesAsync();
      Thread.sleep(300);  // let the call reach the stalled socket
      assertTrue(f.cancel(true));
      assertTrue(f.isCancelled());
      assertThrows(java.util.concurrent.CancellationException.class, f::join);
      assertConnectionClosedByClient(stall);
    }
  }

  @Test
  void cancellingTheTokenAbortsASyncCallInFlight() throws Exception {
    try (ServerSocket stall = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        HuesClient c = HuesClient.builder().baseUrl("http://127.0.0.1:" + stall.getLocalPort())
            .apiKey("hk_test_x").attemptTimeout(Duration.ofSeconds(30)).retry(attempts(1)).build()) {
      CancellationToken token = new CancellationToken();
      CompletableFuture<Throwable> call = CompletableFuture.supplyAsync(() -> {
        try {
          c.reports().categories(CallOptions.cancel(token));
          return null;
        } catch (Throwable t) {
          return t;
        }
      }, java.util.concurrent.Executors.newSingleThreadExecutor());
      Thread.sleep(300);
      long start = System.nanoTime();
      token.cancel();
      assertInstanceOf(CancelledException.class, call.get(5, TimeUnit.SECONDS));
      assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(3));
      assertConnectionClosedByClient(stall);
    }
  }

  @Test
  void closedClientRefusesCalls() {
    HuesClient c = sandbox.client();
    c.close();
    assertThrows(IllegalStateException.class, () -> c.reports().categories());
    c.close();  // idempotent
  }

  @Test
  void theNativeLibraryIsTheSdksAndFromTheSameSpec() {
    assertFalse(HuesClient.version().isEmpty());
    assertEquals(vn.hues.sdk.internal.Spec.HASH.length(), 16);  // checked against hues_spec_hash() at load
  }

  @Test
  void invalidBaseUrlIsAValidationError() {
    ValidationException e = assertThrows(ValidationException.class,
        () -> HuesClient.builder().baseUrl("not a url").apiKey("k").build());
    assertEquals("base_url", e.getField());
    assertNotEquals("", e.getMessage());
  }
}
