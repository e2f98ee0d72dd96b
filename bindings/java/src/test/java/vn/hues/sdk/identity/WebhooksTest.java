package vn.hues.sdk.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import vn.hues.sdk.HuesClient;
import vn.hues.sdk.NotFoundException;
import vn.hues.sdk.OidcClient;
import vn.hues.sdk.WebhookReceiver;
import vn.hues.sdk.WebhookVerificationException;
import vn.hues.sdk.WebhookVerifier;
import vn.hues.sdk.WebhooksService;
import vn.hues.sdk.model.Assignment;
import vn.hues.sdk.model.Location;
import vn.hues.sdk.model.NewReport;
import vn.hues.sdk.model.NewWebhookEndpoint;
import vn.hues.sdk.model.Report;
import vn.hues.sdk.model.ReportStatus;
import vn.hues.sdk.model.TransitionNote;
import vn.hues.sdk.model.WebhookDelivery;
import vn.hues.sdk.model.WebhookDeliveryQuery;
import vn.hues.sdk.model.WebhookEndpoint;
import vn.hues.sdk.model.WebhookEndpointPage;
import vn.hues.sdk.model.WebhookEndpointQuery;
import vn.hues.sdk.model.WebhookEndpointUpdate;
import vn.hues.sdk.model.WebhookEndpointWithSecret;
import vn.hues.sdk.model.WebhookEvent;
import vn.hues.sdk.model.WebhookEventType;
import vn.hues.sdk.model.WebhookMessage;
import vn.hues.sdk.model.WebhookMessageState;
import vn.hues.sdk.model.WebhookReplay;
import vn.hues.sdk.model.WebhookSecretRotation;

/**
 * client.webhooks() from Java (blocking, CompletableFuture, auto-paging) against the
 * in-process sandbox, and real Standard Webhooks deliveries to a JDK HttpServer on a loopback
 * socket, checked with the generated WebhookVerifier: a report's status changes (the IOC
 * steps it, signed in through the sandbox's provider), tampering, a wrong secret, an old
 * timestamp and a replay refused, and both signatures during a secret rotation.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WebhooksTest extends SignedInSandbox {
  static final String TEXT = "Cây đổ chắn ngang đường Lê Lợi sau bão, gần cầu Trường Tiền";

  static NewReport report() {
    return NewReport.builder().category("urban_order").description(TEXT)
        .location(Location.builder().lat(16.4668).lon(107.5905).address("Đường Lê Lợi").ward("Vĩnh Ninh").build())
        .build();
  }

  static NewWebhookEndpoint endpoint(String url, String description) {
    return NewWebhookEndpoint.builder().url(url).description(description)
        .eventTypes(List.of(WebhookEventType.REPORT_STATUS_CHANGED, WebhookEventType.REPORT_COMMENTED)).build();
  }

  static String code(WebhookVerifier v, byte[] body, java.util.Map<String, String> headers) {
    return assertThrows(WebhookVerificationException.class, () -> v.verify(body, headers)).getCode();
  }

  /** The delivery log's attempts of one message, once the attempt count reaches n (the log is written after the answer). */
  static List<WebhookDelivery> attempts(WebhooksService hooks, String endpointId, String messageId, int n)
      throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      List<WebhookDelivery> mine = new ArrayList<>();
      for (WebhookDelivery d : hooks.listDeliveries(endpointId, WebhookDeliveryQuery.builder().limit(2).build())) {
        if (d.getMessageId().equals(messageId)) mine.add(d);
      }
      if (mine.size() >= n || System.nanoTime() > end) return mine;
      Thread.sleep(50);
    }
  }

  @Test
  void everyOperationFromJava() throws Exception {
    try (HuesClient partner = IdentityTest.sandbox.client(); WebhookReceiver rx = new WebhookReceiver()) {
      WebhooksService hooks = partner.webhooks();
      WebhookEndpointWithSecret made = hooks.createEndpoint(endpoint(rx.url(), "Taxi Huế: trạng thái phản ánh"));
      String secret = made.getSecret();
      assertTrue(secret.matches("whsec_[A-Za-z0-9+/]+=*"), "secret shape");
      assertEquals(32, java.util.Base64.getDecoder().decode(secret.substring(6)).length);
      assertFalse(made.toString().contains(secret.substring(6, 20)), made.toString());
      assertTrue(made.toString().contains("secret=***"), made.toString());
      assertEquals("Taxi Huế: trạng thái phản ánh", made.getDescription());
      assertTrue(made.getEnabled());

      WebhookEndpoint got = hooks.getEndpoint(made.getId());
      assertEquals(made.getUrl(), got.getUrl());
      assertEquals(made.getEventTypes(), got.getEventTypes());
      WebhookEndpointWithSecret other = hooks.createEndpointAsync(endpoint(rx.url() + "/other", "thứ hai"))
          .get(20, TimeUnit.SECONDS);
      List<String> ids = new ArrayList<>();
      for (WebhookEndpoint e : hooks.listEndpoints()) ids.add(e.getId());
      assertEquals(List.of(made.getId(), other.getId()), ids);  // oldest first, over every page
      WebhookEndpointPage first = hooks.listEndpointsPage(WebhookEndpointQuery.builder().limit(1L).build());
      assertEquals(List.of(made.getId()), first.getItems().stream().map(WebhookEndpoint::getId).toList());
      assertFalse(first.getNextCursor().isEmpty());
      assertEquals(other.getId(), hooks.listEndpointsPageAsync(WebhookEndpointQuery.builder().limit(1L)
          .cursor(first.getNextCursor()).build()).get(20, TimeUnit.SECONDS).getItems().get(0).getId());
      assertEquals(other.getId(), hooks.deleteEndpoint(other.getId()).getId());

      // Disabled, it is sent nothing; enabled again, the next event reaches it.
      WebhookEndpoint off = hooks.updateEndpoint(made.getId(),
          WebhookEndpointUpdate.builder().enabled(false).description("tạm dừng").build());
      assertFalse(off.getEnabled());
      assertEquals("tạm dừng", off.getDescription());
      assertEquals(made.getEventTypes(), off.getEventTypes());  // left out: kept
      Report unseen = partner.reports().create(report());
      WebhookEndpoint on = hooks.updateEndpointAsync(made.getId(), WebhookEndpointUpdate.builder().enabled(true).build())
          .get(20, TimeUnit.SECONDS);
      assertTrue(on.getEnabled());
      Report seen = partner.reports().create(report());
      WebhookReceiver.Delivery d = rx.next("\"report_id\"");
      String body = new String(d.body, StandardCharsets.UTF_8);
      assertTrue(body.contains(seen.getId()), body);
      assertFalse(body.contains(unseen.getId()), body);

      // The delivery log, then a replay of the message: same webhook-id, a second attempt.
      String messageId = d.header("webhook-id");
      List<WebhookDelivery> log = attempts(hooks, made.getId(), messageId, 1);
      assertEquals(1, log.size());
      assertEquals(204, log.get(0).getStatusCode());
      assertEquals("", log.get(0).getError());
      assertEquals(WebhookMessageState.DELIVERED, log.get(0).getMessageState());
      assertEquals(WebhookEventType.REPORT_STATUS_CHANGED, log.get(0).getEventType());
      WebhookMessage again = hooks.replay(made.getId(), WebhookReplay.builder().messageId(messageId).build());
      assertEquals(messageId, again.getId());
      assertEquals(WebhookMessageState.PENDING, again.getState());
      WebhookReceiver.Delivery replayed = rx.next(seen.getId());
      assertEquals(messageId, replayed.header("webhook-id"));
      assertEquals(body, new String(replayed.body, StandardCharsets.UTF_8));
      List<WebhookDelivery> both = attempts(hooks, made.getId(), messageId, 2);
      assertEquals(List.of(2, 1), both.stream().map(WebhookDelivery::getAttempt).toList());  // newest first
      WebhookMessage byDelivery = hooks.replayAsync(made.getId(),
          WebhookReplay.builder().deliveryId(both.get(1).getId()).build()).get(20, TimeUnit.SECONDS);
      assertEquals(messageId, byDelivery.getId());
      rx.next(seen.getId());

      // Rotation: a new secret, shown once, the old one signing until previous_expires_at.
      WebhookSecretRotation rotated = hooks.rotateSecret(made.getId());
      assertNotEquals(secret, rotated.getSecret());
      assertTrue(rotated.getSecret().startsWith("whsec_"));
      assertFalse(rotated.toString().contains(rotated.getSecret().substring(6, 20)), rotated.toString());
      assertTrue(rotated.getPreviousExpiresAt().isAfter(Instant.now().plusSeconds(3600)));

      assertEquals(made.getId(), hooks.deleteEndpointAsync(made.getId()).get(20, TimeUnit.SECONDS).getId());
      assertThrows(NotFoundException.class, () -> hooks.getEndpoint(made.getId()));
      ExecutionException gone = assertThrows(ExecutionException.class,
          () -> hooks.rotateSecretAsync(made.getId()).get(20, TimeUnit.SECONDS));
      assertInstanceOf(NotFoundException.class, gone.getCause());
    }
  }

  @Test
  void aRealDeliveryVerifiesAndBothSecretsDuringARotation() throws Exception {
    try (OidcClient oidc = IdentityTest.oidc("hues-demo-app", "");
         HuesClient ioc = LifecycleTest.signedIn(oidc, "le.ioc");
         HuesClient partner = IdentityTest.sandbox.client();
         WebhookReceiver rx = new WebhookReceiver()) {
      WebhookEndpointWithSecret ep = partner.webhooks().createEndpoint(endpoint(rx.url(), "Taxi Huế"));
      Report r = partner.reports().create(report());
      rx.next(r.getId());  // submitted
      r = ioc.reports().receive(r.getId(), LifecycleTest.etag(r), TransitionNote.builder().note("Đã tiếp nhận").build());
      WebhookReceiver.Delivery d = rx.next(r.getId());
      assertEquals("application/json", d.header("content-type"));

      try (WebhookVerifier v = WebhookVerifier.builder().secret(ep.getSecret()).build();
           WebhookVerifier wrong = WebhookVerifier.builder()
               .secret("whsec_" + java.util.Base64.getEncoder().encodeToString(new byte[32])).build()) {
        byte[] tampered = new String(d.body, StandardCharsets.UTF_8).replace("received", "rejected")
            .getBytes(StandardCharsets.UTF_8);
        assertEquals("no_matching_signature", code(v, tampered, d.headers));
        assertEquals("no_matching_signature", code(wrong, d.body, d.headers));
        String old = Long.toString(Instant.now().getEpochSecond() - 301);
        assertEquals("timestamp_too_old", code(v, d.body, d.with("webhook-timestamp", old)));
        WebhookEvent event = v.verify(d.body, d.headers);
        assertEquals(WebhookEventType.REPORT_STATUS_CHANGED, event.getType());
        assertEquals(r.getId(), event.getData().getReportId());
        assertEquals(ReportStatus.RECEIVED, event.getData().getStatus());
        assertEquals("ioc", event.getData().getActorRole().value());
        assertEquals("replayed", code(v, d.body, d.headers));
      }

      // During the grace both signatures come, and the old secret still verifies.
      WebhookSecretRotation rotated = partner.webhooks().rotateSecret(ep.getId());
      r = ioc.reports().assign(r.getId(), LifecycleTest.etag(r),
          Assignment.builder().agencyCode("UBND_DONG_BA").note("Chuyển UBND phường Đông Ba").build());
      WebhookReceiver.Delivery two = rx.next(r.getId());
      String[] signatures = two.header("webhook-signature").split(" ");
      assertEquals(2, signatures.length, two.header("webhook-signature"));
      try (WebhookVerifier oldOnly = WebhookVerifier.builder().secret(ep.getSecret()).build();
           WebhookVerifier newOnly = WebhookVerifier.builder().secret(rotated.getSecret()).build()) {
        assertEquals(ReportStatus.ASSIGNED, oldOnly.verify(two.body, two.headers).getData().getStatus());
        assertEquals(ReportStatus.ASSIGNED, newOnly.verifyAsync(two.body, two.headers).get(20, TimeUnit.SECONDS)
            .getData().getStatus());
        // Each signature alone: the new one is the new secret's, the old one the old's.
        assertEquals("no_matching_signature", code(newOnly, two.body, two.with("webhook-signature", signatures[1])));
      }
      partner.webhooks().deleteEndpoint(ep.getId());
    }
  }
}
