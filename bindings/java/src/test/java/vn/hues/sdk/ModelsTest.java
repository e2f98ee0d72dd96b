package vn.hues.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import vn.hues.sdk.internal.ErrorMapper;
import vn.hues.sdk.internal.Handles;
import vn.hues.sdk.internal.Json;
import vn.hues.sdk.internal.ModelCodec;
import vn.hues.sdk.model.AuthorizationRequest;
import vn.hues.sdk.model.ClientOptions;
import vn.hues.sdk.model.DeviceAuthorization;
import vn.hues.sdk.model.Location;
import vn.hues.sdk.model.NewReport;
import vn.hues.sdk.model.Report;
import vn.hues.sdk.model.ReportStatus;
import vn.hues.sdk.model.TokenSet;
import vn.hues.sdk.model.Visibility;

/** Generated models: secrets, open enums, absent vs zero, exact numbers and text, errors. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ModelsTest extends SandboxTest {

  static NewReport report(String description, double lat, double lon) {
    return NewReport.builder().category("road_damage").description(description)
        .location(Location.builder().lat(lat).lon(lon).build()).build();
  }

  @Test
  void secretsNeverAppearInToString() {
    TokenSet tokens = TokenSet.builder().accessToken("at-SECRET-1").refreshToken("rt-SECRET-2")
        .idToken("id-SECRET-3").scope("openid").expiresAt(1_900_000_000L).build();
    String s = tokens.toString();
    assertFalse(s.contains("SECRET"), s);
    assertTrue(s.contains("accessToken=***") && s.contains("scope=\"openid\""), s);

    AuthorizationRequest req = AuthorizationRequest.builder().url("https://id.example/authorize")
        .redirectUri("http://127.0.0.1:1/cb").state("st-SECRET").nonce("no-SECRET")
        .codeVerifier("cv-SECRET").build();
    assertFalse(req.toString().contains("SECRET"), req.toString());

    ClientOptions options = ClientOptions.builder().baseUrl("http://x").apiKey("hk_live_SECRET")
        .proxy("http://user:SECRET@proxy:3128").build();
    assertFalse(options.toString().contains("SECRET"), options.toString());

    // Equality still compares the secrets; a failing assertion's message shows none.
    TokenSet other = tokens.toBuilder().accessToken("at-SECRET-other").build();
    assertNotEquals(tokens, other);
    AssertionError e = assertThrows(AssertionError.class, () -> assertEquals(tokens, other));
    assertFalse(e.getMessage().contains("SECRET"), e.getMessage());
  }

  @Test
  void deviceCodeIsSecretInARealResponse() {
    try (OidcClient oidc = OidcClient.builder().issuer(sandbox.tlsUrl()).clientId("hues-cli")
        .caFile(sandbox.caFile()).build()) {
      DeviceAuthorization d = oidc.startDeviceAuthorization("openid");
      assertFalse(d.getDeviceCode().isEmpty());
      assertFalse(d.toString().contains(d.getDeviceCode()), d.toString());
      assertTrue(d.toString().contains(d.getUserCode()), d.toString());
    }
  }

  @Test
  void anUnknownEnumValueFromANewerServerDecodesAndReEncodesUnchanged() throws Exception {
    Report created = client.reports().create(report("Ổ gà trên đường Hùng Vương", 16.4620, 107.5950));
    // A newer server: the sandbox's answer with a status this SDK does not know.
    HttpClient http = HttpClient.newHttpClient();
    HttpServer newer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    newer.createContext("/", exchange -> {
      try {
        HttpResponse<String> upstream = http.send(HttpRequest.newBuilder(
            URI.create(sandbox.url() + exchange.getRequestURI())).header("X-Api-Key", sandbox.apiKey()).build(),
            HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        byte[] body = upstream.body().replace("\"status\":\"submitted\"", "\"status\":\"escalated\"")
            .getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(upstream.statusCode(), body.length);
        exchange.getResponseBody().write(body);
      } catch (InterruptedException e) {
        exchange.sendResponseHeaders(500, -1);
      } finally {
        exchange.close();
      }
    });
    newer.start();
    try (HuesClient c = HuesClient.builder().baseUrl("http://127.0.0.1:" + newer.getAddress().getPort())
        .apiKey("hk_test_proxy").build()) {
      Report r = c.reports().get(created.getId());
      assertEquals("escalated", r.getStatus().value());
      assertFalse(r.getStatus().isKnown());
      assertNotEquals(ReportStatus.SUBMITTED, r.getStatus());
      assertEquals(ReportStatus.of("escalated"), r.getStatus());
      assertEquals("escalated", Json.object(Json.parse(Json.write(ModelCodec.encode(r, Handles.NONE))), "r").get("status"));
      assertEquals(created.getDescription(), r.getDescription());
    } finally {
      newer.stop(0);
    }
    assertTrue(ReportStatus.SUBMITTED.isKnown());
    assertEquals(12, ReportStatus.values().size());  // transfer_requested came with issue 8
  }

  @Test
  void absentOptionalIsNotZero() {
    TokenSet none = TokenSet.builder().build();
    TokenSet zero = TokenSet.builder().expiresAt(0L).build();
    assertNull(none.getExpiresAt());
    assertEquals(0L, zero.getExpiresAt());
    assertNotEquals(none, zero);
    assertEquals("{}", Json.writeString(ModelCodec.encode(none, Handles.NONE)));
    assertEquals("{\"expires_at\":0}", Json.writeString(ModelCodec.encode(zero, Handles.NONE)));
    assertNull(ModelCodec.decodeTokenSet(Json.parse("{}")).getExpiresAt());
    assertEquals(0L, ModelCodec.decodeTokenSet(Json.parse("{\"expires_at\":0}")).getExpiresAt());

    // A default is a value: an unset visibility is the spec's "public", sent as such.
    NewReport r = report("x", 16.46, 107.59);
    assertEquals(Visibility.PUBLIC, r.getVisibility());
    assertEquals(List.of(), r.getMedia());
    assertEquals("", r.getLocation().getAddress());

    // From the server: an agency without a ward has none (null), not "".
    List<vn.hues.sdk.model.Agency> agencies = client.agencies().list().stream().collect(java.util.stream.Collectors.toList());
    assertTrue(agencies.stream().anyMatch(a -> a.getWard() == null), agencies.toString());
  }

  @Test
  void numbersRoundTripExactly() {
    SplittableRandom random = new SplittableRandom(6);
    for (int i = 0; i < 200_000; i++) {
      double d = Double.longBitsToDouble(random.nextLong());
      if (Double.isNaN(d) || Double.isInfinite(d)) continue;
      double back = Json.f64(Json.parse(Json.write(d)));
      assertEquals(Double.doubleToLongBits(d), Double.doubleToLongBits(back), () -> Double.toString(d));
    }
    assertEquals("2.2222222222222223E42", Json.writeString(2.2222222222222223E42));
    assertEquals(Long.MAX_VALUE, Json.i64(Json.parse(Long.toString(Long.MAX_VALUE))));
    // Through the SDK and the sandbox: a location keeps every bit.
    for (int i = 0; i < 10; i++) {
      double lat = 16.0 + random.nextDouble();
      double lon = 107.0 + random.nextDouble();
      Report r = client.reports().create(report("Số đo chính xác " + i, lat, lon));
      Report back = client.reports().get(r.getId());
      assertEquals(lat, back.getLocation().getLat());
      assertEquals(lon, back.getLocation().getLon());
    }
  }

  @Test
  void vietnameseTextRoundTripsByteForByte() {
    String nfc = "Nước ngập ở đường Lê Lợi, phường Phú Hội, Thành phố Huế — khẩn cấp ✅ 𝄞";
    String nfd = Normalizer.normalize(nfc, Normalizer.Form.NFD);
    assertNotEquals(nfc, nfd);
    for (String text : List.of(nfc, nfd, "tab\tquote\"backslash\\ nl\n ctl\u0001")) {
      Report r = client.reports().create(report(text, 16.47, 107.58));
      assertEquals(text, r.getDescription());
      assertEquals(text, client.reports().get(r.getId()).getDescription());
    }
    assertEquals(nfc, Json.str(Json.parse("\"" + "N\\u01b0\\u1edbc ng\\u1eadp \\u1edf \\u0111\\u01b0\\u1eddng L\\u00ea L\\u1ee3i, ph\\u01b0\\u1eddng Ph\\u00fa H\\u1ed9i, Th\\u00e0nh ph\\u1ed1 Hu\\u1ebf \\u2014 kh\\u1ea9n c\\u1ea5p \\u2705 \\ud834\\udd1e\"")));
  }

  @Test
  void timesAreInstants() {
    Instant before = Instant.now().minusSeconds(5);
    Report r = client.reports().create(report("Thời gian", 16.47, 107.58));
    assertTrue(r.getCreatedAt().isAfter(before), r.getCreatedAt().toString());
    assertFalse(r.getUpdatedAt().isBefore(r.getCreatedAt()));
  }

  @Test
  void errorsMapByTypeThenCodeThenStatusAndPrintOneFormat() {
    HuesException e = ErrorMapper.fromJson(("{\"type\":\"not_found\",\"message\":\"No such report\",\"status\":404,"
        + "\"code\":\"not_found\",\"request_id\":\"req_1\",\"field\":\"id\",\"retryable\":false}").getBytes(StandardCharsets.UTF_8));
    assertInstanceOf(NotFoundException.class, e);
    assertEquals("NotFoundException: No such report (status 404, code not_found, request_id req_1, field id)", e.toString());
    assertInstanceOf(NotFoundException.class, ErrorMapper.create("from_the_future", "m", 404, "", "", "", null, null));
    assertInstanceOf(RateLimitException.class, ErrorMapper.create("from_the_future", "m", 0, "rate_limited", "", "", null, null));
    HuesException teapot = ErrorMapper.create("from_the_future", "m", 418, "", "", "", null, null);
    assertEquals(ApiException.class, teapot.getClass());
    assertEquals("ApiException: m (status 418)", teapot.toString());
    assertEquals(HuesException.class, ErrorMapper.create("from_the_future", "m", 0, "", "", "", null, null).getClass());
    assertTrue(ErrorMapper.create("server", "m", 503, "", "", "", null, null).isRetryable());
    assertEquals("CancelledException: stop", ErrorMapper.cancelled("stop").toString().replace(" (code cancelled)", ""));
  }
}
