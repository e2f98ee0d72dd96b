package vn.hues.sdk.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import vn.hues.sdk.HuesClient;
import vn.hues.sdk.OidcClient;
import vn.hues.sdk.PermissionDeniedException;
import vn.hues.sdk.ValidationException;
import vn.hues.sdk.model.AgencyAnswer;
import vn.hues.sdk.model.AgencyStatistics;
import vn.hues.sdk.model.Assignment;
import vn.hues.sdk.model.Location;
import vn.hues.sdk.model.NewReport;
import vn.hues.sdk.model.Rating;
import vn.hues.sdk.model.Reason;
import vn.hues.sdk.model.Report;
import vn.hues.sdk.model.ReportStatistics;
import vn.hues.sdk.model.StatisticsQuery;
import vn.hues.sdk.model.TimelineEntry;
import vn.hues.sdk.model.TransitionNote;

/**
 * The IOC declines an agency's transfer request, then reads its statistics for a period that
 * holds only what this test did (issue 8), each role signed in through the sandbox.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StatisticsTest extends SignedInSandbox {
  @Test
  void theIocDeclinesATransferAndCountsAFreshPeriod() throws Exception {
    try (OidcClient oidc = IdentityTest.oidc("hues-demo-app", "")) {
      HuesClient citizen = LifecycleTest.signedIn(oidc, "nguyen.van.an");
      HuesClient ioc = LifecycleTest.signedIn(oidc, "le.ioc");
      HuesClient staff = LifecycleTest.signedIn(oidc, "dongba.staff");
      // From the next whole second: nothing made before falls in the period.
      Instant start = Instant.now().truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
      while (Instant.now().isBefore(start.plusMillis(10))) Thread.sleep(5);
      StatisticsQuery period = StatisticsQuery.builder().from(start).to(start.plus(Duration.ofHours(1)))
          .agency("UBND_DONG_BA").build();
      ReportStatistics none = ioc.statistics().reportStatistics(period);
      assertEquals(0, none.getTotal());
      assertNull(none.getMedianHandlingSeconds());
      assertNull(none.getSatisfactionRate());

      NewReport n = NewReport.builder().category("urban_order")
          .description("Xe ba gác tập kết vật liệu xây dựng trên vỉa hè đường Trần Hưng Đạo")
          .location(Location.builder().lat(16.4712).lon(107.5869).address("Đường Trần Hưng Đạo").ward("Đông Ba").build())
          .build();
      Report kept = routed(citizen, ioc, n);
      kept = staff.reports().requestTransfer(kept.getId(), LifecycleTest.etag(kept),
          Reason.builder().reason("Đề nghị chuyển Sở Xây dựng").build());
      final Report asked = kept;
      assertThrows(PermissionDeniedException.class, () -> staff.reports().declineTransfer(asked.getId(), LifecycleTest.etag(asked),
          Reason.builder().reason("x").build()));
      ValidationException empty = assertThrows(ValidationException.class,
          () -> ioc.reports().declineTransfer(asked.getId(), LifecycleTest.etag(asked), Reason.builder().reason("").build()));
      assertEquals("reason", empty.getField());
      String reason = "Vỉa hè do phường Đông Ba quản lý, đề nghị tiếp tục xử lý.";
      kept = ioc.reports().declineTransfer(kept.getId(), LifecycleTest.etag(kept), Reason.builder().reason(reason).build());
      assertEquals("in_progress", kept.getStatus().value());
      assertEquals("UBND_DONG_BA", kept.getAgencyCode());
      List<TimelineEntry> t = staff.reports().timeline(kept.getId());
      TimelineEntry last = t.get(t.size() - 1);
      assertEquals(List.of("in_progress", "ioc", reason, ioc.me().getSub()),
          List.of(last.getStatus().value(), last.getActorRole().value(), last.getNote(), last.getActor()));

      Report done = routed(citizen, ioc, n);
      done = staff.reports().accept(done.getId(), LifecycleTest.etag(done), TransitionNote.builder().build());
      done = staff.reports().respond(done.getId(), LifecycleTest.etag(done), AgencyAnswer.builder().answer("Đã yêu cầu di dời.").build());
      done = ioc.reports().approve(done.getId(), LifecycleTest.etag(done), TransitionNote.builder().build());
      done = citizen.reports().rate(done.getId(), Rating.builder().satisfied(true).comment("Cảm ơn phường").build());

      ReportStatistics s = ioc.statistics().reportStatistics(period);
      assertEquals(2, s.getTotal());
      assertEquals(1, s.getByState().getInProgress());
      assertEquals(1, s.getByState().getRated());
      assertEquals(0, s.getByState().getSubmitted());
      assertEquals(1, s.getByAgency().size());
      AgencyStatistics ward = s.getByAgency().get(0);
      assertEquals(List.of("UBND_DONG_BA", "Ủy ban nhân dân phường Đông Ba"), List.of(ward.getCode(), ward.getName()));
      assertEquals(2, ward.getCount());
      assertEquals(1, s.getRatings());
      assertEquals(1, s.getSatisfied());
      assertEquals(1.0, s.getSatisfactionRate());
      List<TimelineEntry> dt = ioc.reports().timeline(done.getId());
      assertEquals(Duration.between(dt.get(0).getAt(), dt.get(dt.size() - 2).getAt()).getSeconds(),
          (long) s.getMedianHandlingSeconds());

      PermissionDeniedException denied = assertThrows(PermissionDeniedException.class,
          () -> staff.statistics().reportStatistics(period));
      assertEquals("role_not_allowed", denied.getCode());
      assertTrue(denied.getMessage().contains("agency"));
      ValidationException reversed = assertThrows(ValidationException.class, () -> ioc.statistics().reportStatistics(
          StatisticsQuery.builder().from(period.getTo()).to(period.getFrom()).build()));
      assertEquals("from", reversed.getField());
    }
  }

  static Report routed(HuesClient citizen, HuesClient ioc, NewReport n) {
    Report r = citizen.reports().create(n);
    r = ioc.reports().receive(r.getId(), LifecycleTest.etag(r), TransitionNote.builder().build());
    return ioc.reports().assign(r.getId(), LifecycleTest.etag(r), Assignment.builder().agencyCode("UBND_DONG_BA").build());
  }
}
