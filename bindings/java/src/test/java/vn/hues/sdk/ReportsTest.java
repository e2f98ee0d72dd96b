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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import vn.hues.sdk.internal.CallOptions;
import vn.hues.sdk.internal.CancellationToken;
import vn.hues.sdk.internal.Category;
import vn.hues.sdk.internal.CategoryAttribute;
import vn.hues.sdk.internal.Location;
import vn.hues.sdk.internal.LogLevel;
import vn.hues.sdk.internal.NewReport;
import vn.hues.sdk.internal.Report;
import vn.hues.sdk.internal.ReportPage;
import vn.hues.sdk.internal.ReportQuery;
import vn.hues.sdk.testing.Sandbox;

/** The Java API against an in-process sandbox over real sockets (HTTP and HTTPS). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReportsTest {
  // Vietnamese with every tone mark class, plus a character outside the BMP (JNI's
  // "modified UTF-8" would mangle it).
  static final String DESCRIPTION =
      "Đèn đường hỏng trước chợ Đông Ba, đường Trần Hưng Đạo — tối om từ 18 giờ 💡";
  static Sandbox sandbox;
  static HuesClient client;

  @BeforeAll
  static void start() {
    sandbox = new Sandbox();
    client = sandbox.client();
  }

  @AfterAll
  static void stop() {
    client.close();
    sandbox.close();
  }

  static NewReport streetLight(String description, double lat, double lon) {
    NewReport r = new NewReport();
    r.setCategory("street_light");
    r.setDescription(description);
    Location loc = new Location();
    loc.setLat(lat);
    loc.setLon(lon);
    loc.setAddress("Chợ Đông Ba, 2 Trần Hưng Đạo");
    loc.setWard("Đông Ba");
    r.setLocation(loc);
    return r;
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
    assertEquals("submitted", created.getStatus());
    assertEquals("QLDT_HUE", created.getAgencyCode());

    Report fetched = client.reports().get(created.getId());
    assertEquals(created, fetched);  // models compare by value (their JSON)
    assertEquals(DESCRIPTION, fetched.getDescription());

    ReportQuery q = new ReportQuery();
    q.setCategory("street_light");
    assertTrue(client.reports().list(q).stream().anyMatch(
        r -> r.getId().equals(created.getId()) && r.getDescription().equals(DESCRIPTION)));
  }

  @Test
  void wrongApiKeyThrowsAuthenticationException() {
    try (HuesClient bad = HuesClient.builder().baseUrl(sandbox.url()).apiKey("hk_test_wrong_key")
        .build()) {
      AuthenticationException e =
          assertThrows(AuthenticationException.class, () -> bad.reports().categories());
      assertEquals(401, e.getHttpStatus());
      assertEquals("invalid_api_key", e.getCode());
      assertFalse(e.getRequestId().isEmpty());
      assertFalse(e.isRetryable());
      assertInstanceOf(ApiException.class, e);
    }
  }

  @Test
  void validationErrorNamesTheField() {
    // Caught by the SDK before sending: no HTTP status.
    ValidationException local = assertThrows(ValidationException.class,
        () -> client.reports().create(streetLight(DESCRIPTION, 123.0, 107.5885)));
    assertEquals("location.lat", local.getField());
    assertEquals("validation_error", local.getCode());
    assertEquals(0, local.getHttpStatus());
    assertTrue(local.getMessage().contains("location.lat"), local.getMessage());

    // Refused by the server: only it knows the categories.
    NewReport unknown = streetLight(DESCRIPTION, 16.4726, 107.5885);
    unknown.setCategory("no_such_category");
    ValidationException remote =
        assertThrows(ValidationException.class, () -> client.reports().create(unknown));
    assertEquals(400, remote.getHttpStatus());
    assertEquals("category", remote.getField());
    assertEquals("validation_error", remote.getCode());
    assertFalse(remote.getRequestId().isEmpty());
  }

  @Test
  void unknownIdThrowsNotFound() {
    NotFoundException e =
        assertThrows(NotFoundException.class, () -> client.reports().get("rp_does_not_exist"));
    assertEquals(404, e.getHttpStatus());
    assertEquals("not_found", e.getCode());
  }

  @Test
  void autoPagingVisitsEveryReportOnce() {
    // A spot no other report uses (the seed data has reports of every category), so the
    // "near" filter selects exactly the five created here.
    double lat = 16.4101, lon = 107.6402;
    Set<String> created = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      NewReport r = streetLight("Cây xanh gãy đổ trên đường Lê Lợi, số " + i, lat, lon);
      r.setCategory("fallen_tree");
      created.add(client.reports().create(r).getId());
    }
    ReportQuery q = new ReportQuery();
    q.setCategory("fallen_tree");
    q.setNearLat(lat);
    q.setNearLon(lon);
    q.setRadiusM(50);
    q.setLimit(2);

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
  void tlsWithTheSandboxCaWorksAndWithoutItFails() {
    try (HuesClient tls = HuesClient.builder().baseUrl(sandbox.tlsUrl()).apiKey(sandbox.apiKey())
        .caFile(sandbox.caFile()).build()) {
      assertFalse(tls.reports().categories().isEmpty());
    }
    try (HuesClient untrusted = HuesClient.builder().baseUrl(sandbox.tlsUrl())
        .apiKey(sandbox.apiKey()).maxAttempts(1).build()) {
      TlsException e = assertThrows(TlsException.class, () -> untrusted.reports().categories());
      assertEquals(0, e.getHttpStatus());
      assertInstanceOf(TransportException.class, e);
    }
  }

  @Test
  void createAsyncCompletesWithTheReport() throws Exception {
    Report r = client.reports().createAsync(streetLight(DESCRIPTION, 16.4698, 107.5786))
        .get(30, TimeUnit.SECONDS);
    assertEquals(DESCRIPTION, r.getDescription());
    assertEquals(r, client.reports().getAsync(r.getId()).get(30, TimeUnit.SECONDS));
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
    CallOptions options = new CallOptions();
    options.setCancel(token);
    assertThrows(CancelledException.class, () -> client.reports().categories(options));
  }

  @Test
  void javaLoggerReceivesLinesWithoutTheApiKey() {
    List<String> lines = Collections.synchronizedList(new ArrayList<>());
    try (HuesClient logged = sandbox.clientBuilder().logLevel(LogLevel.DEBUG)
        .logger((level, message) -> lines.add(level + " " + message)).build()) {
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
  void stalledServerEndsInTimeoutException() throws Exception {
    // The kernel accepts connections into the backlog; nobody ever answers.
    try (ServerSocket stall = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        HuesClient c = HuesClient.builder().baseUrl("http://127.0.0.1:" + stall.getLocalPort())
            .apiKey("hk_test_x").attemptTimeout(Duration.ofMillis(300)).maxAttempts(1).build()) {
      long start = System.nanoTime();
      TimeoutException e = assertThrows(TimeoutException.class, () -> c.reports().categories());
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertTrue(ms >= 250 && ms < 5000, "took " + ms + " ms");
      assertEquals(0, e.getHttpStatus());
    }
  }

  @Test
  void cancellingTheFutureStopsTheNativeCall() throws Exception {
    List<String> lines = Collections.synchronizedList(new ArrayList<>());
    ExecutorService executor = Executors.newSingleThreadExecutor();
    try (ServerSocket stall = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        HuesClient c = HuesClient.builder().baseUrl("http://127.0.0.1:" + stall.getLocalPort())
            .apiKey("hk_test_x").attemptTimeout(Duration.ofSeconds(30)).maxAttempts(1)
            .executor(executor).logger((level, message) -> lines.add(message)).build()) {
      CompletableFuture<List<Category>> f = c.reports().categoriesAsync();
      Thread.sleep(300);  // let the call reach the stalled socket
      assertTrue(f.cancel(true));
      executor.shutdown();
      // Without cancellation the call would block for its 30 s attempt timeout.
      assertTrue(executor.awaitTermination(5, TimeUnit.SECONDS), "native call still running");
      assertTrue(lines.stream().anyMatch(l -> l.contains("cancelled")), "lines: " + lines);
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
  void invalidBaseUrlIsAValidationError() {
    ValidationException e = assertThrows(ValidationException.class,
        () -> HuesClient.builder().baseUrl("not a url").apiKey("k").build());
    assertEquals("base_url", e.getField());
    assertNotEquals("", e.getMessage());
  }
}
