package vn.hues.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import vn.hues.sdk.model.WebhookEvent;
import vn.hues.sdk.model.WebhookEventType;
import vn.hues.sdk.model.WebhookVerifierConfig;

/** The generated WebhookVerifier (the C++ core verifies); signatures made here with javax.crypto. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WebhookVerifierTest {
  static final String SECRET = "whsec_" + Base64.getEncoder().encodeToString(new byte[32]);
  static final String OTHER = "whsec_" + Base64.getEncoder().encodeToString("k".repeat(32).getBytes(StandardCharsets.UTF_8));
  static final byte[] BODY = ("{\"type\":\"report.commented\",\"timestamp\":\"2026-11-28T09:16:16Z\","
      + "\"data\":{\"report_id\":\"rpt_Đông_Ba\",\"actor_role\":\"citizen\",\"comment_id\":\"cmt_1\"}}")
      .getBytes(StandardCharsets.UTF_8);

  static String sign(String secret, String id, long ts, byte[] body) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(Base64.getDecoder().decode(secret.substring(6)), "HmacSHA256"));
    mac.update((id + "." + ts + ".").getBytes(StandardCharsets.UTF_8));
    return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(body));
  }

  static Map<String, String> headers(String secret, String id, long ts, byte[] body) throws Exception {
    return Map.of("Webhook-Id", id, "webhook-timestamp", Long.toString(ts), "WEBHOOK-SIGNATURE", sign(secret, id, ts, body));
  }

  static long now() {
    return System.currentTimeMillis() / 1000;
  }

  static String refused(WebhookVerifier v, byte[] body, Map<String, String> h) {
    return assertThrows(WebhookVerificationException.class, () -> v.verify(body, h)).getCode();
  }

  @Test
  void validTamperedWrongSecretOldFutureReplay() throws Exception {
    try (WebhookVerifier v = WebhookVerifier.builder().secret(SECRET).build()) {
      WebhookEvent e = v.verify(BODY, headers(SECRET, "msg_j1", now(), BODY));
      assertEquals(WebhookEventType.REPORT_COMMENTED, e.getType());
      assertEquals("rpt_Đông_Ba", e.getData().getReportId());
      byte[] tampered = BODY.clone();
      tampered[tampered.length - 3] = '2';
      assertEquals("no_matching_signature", refused(v, tampered, headers(SECRET, "msg_j2", now(), BODY)));
      assertEquals("no_matching_signature", refused(v, BODY, headers(OTHER, "msg_j3", now(), BODY)));
      assertEquals("timestamp_too_old", refused(v, BODY, headers(SECRET, "msg_j4", now() - 301, BODY)));
      assertEquals("timestamp_too_new", refused(v, BODY, headers(SECRET, "msg_j5", now() + 301, BODY)));
      assertEquals("replayed", refused(v, BODY, headers(SECRET, "msg_j1", now(), BODY)));
      Throwable async = assertThrows(java.util.concurrent.CompletionException.class,
          () -> v.verifyAsync(BODY, headers(SECRET, "msg_j1", now(), BODY)).join()).getCause();
      assertEquals("replayed", ((WebhookVerificationException) async).getCode());
    }
  }

  @Test
  void twoSignaturesOneValidAndTheSecretNeverPrinted() throws Exception {
    WebhookVerifierConfig config = WebhookVerifierConfig.builder().secrets(List.of(OTHER, SECRET)).toleranceSeconds(60).build();
    try (WebhookVerifier v = new WebhookVerifier(config)) {
      long ts = now();
      String both = sign("whsec_" + Base64.getEncoder().encodeToString(new byte[]{1, 2, 3}), "msg_j6", ts, BODY)
          + " " + sign(SECRET, "msg_j6", ts, BODY);
      assertEquals("cmt_1", v.verify(BODY, Map.of("webhook-id", "msg_j6", "webhook-timestamp", Long.toString(ts),
          "webhook-signature", both)).getData().getCommentId());
      assertEquals("timestamp_too_old", refused(v, BODY, headers(SECRET, "msg_j7", ts - 61, BODY)));
      for (String s : List.of(config.toString(), v.toString())) {
        assertFalse(s.contains(SECRET.substring(6, 20)), s);
        assertFalse(s.contains(OTHER.substring(6, 20)), s);
      }
    }
    ValidationException bad = assertThrows(ValidationException.class,
        () -> WebhookVerifier.builder().secrets(List.of("whsec_!!")).build());
    assertEquals("secrets[0]", bad.getField());
  }
}
