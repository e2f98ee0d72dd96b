package vn.hues.sdk.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import vn.hues.sdk.ConflictException;
import vn.hues.sdk.HuesClient;
import vn.hues.sdk.MemoryTokenStore;
import vn.hues.sdk.OidcClient;
import vn.hues.sdk.PermissionDeniedException;
import vn.hues.sdk.model.AgencyAnswer;
import vn.hues.sdk.model.Assignment;
import vn.hues.sdk.model.InboxQuery;
import vn.hues.sdk.model.Location;
import vn.hues.sdk.model.NewReport;
import vn.hues.sdk.model.Rating;
import vn.hues.sdk.model.Reason;
import vn.hues.sdk.model.Report;
import vn.hues.sdk.model.TimelineEntry;
import vn.hues.sdk.model.TransitionNote;
import vn.hues.sdk.testing.Sandbox;

/**
 * The seed's story (issue 8) with three roles, each signed in through the sandbox's identity
 * provider: answered without the violation record, returned by the IOC, answered with it,
 * approved, published and rated.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LifecycleTest {
  static final String TEXT = "Quán nhậu lấn chiếm vỉa hè, mở nhạc lớn sau 22 giờ — đường Trần Hưng Đạo, phường Đông Ba";
  static final String FIRST = "Công an phường đã lập biên bản vi phạm hành chính đối với chủ quán.";
  static final String REASON = "Đề nghị bổ sung biên bản vi phạm hành chính đã lập.";
  static final String SECOND = "Gửi kèm biên bản vi phạm hành chính số 12/BB-VPHC.";

  @BeforeAll
  static void start() throws Exception {
    IdentityTest.start();
  }

  @AfterAll
  static void stop() {
    IdentityTest.stop();
  }

  static String etag(Report r) {
    return "\"" + r.getVersion() + "\"";
  }

  static HuesClient signedIn(OidcClient oidc, String username) throws Exception {
    return IdentityTest.client(
        IdentityTest.user(oidc, new MemoryTokenStore(), username, IdentityTest.signIn(oidc, username)));
  }

  @Test
  void theSeedStoryWithThreeRoles() throws Exception {
    try (OidcClient oidc = IdentityTest.oidc("hues-demo-app", "")) {
      HuesClient citizen = signedIn(oidc, "nguyen.van.an");
      HuesClient ioc = signedIn(oidc, "le.ioc");
      HuesClient staff = signedIn(oidc, "dongba.staff");
      Report r = citizen.reports().create(NewReport.builder().category("urban_order").description(TEXT)
          .location(Location.builder().lat(16.4726).lon(107.5885).address("Chợ Đông Ba, đường Trần Hưng Đạo")
              .ward("Đông Ba").build())
          .build());
      assertEquals(TEXT, r.getDescription());
      r = ioc.reports().receive(r.getId(), etag(r), TransitionNote.builder().build());
      r = ioc.reports().assign(r.getId(), etag(r),
          Assignment.builder().agencyCode("UBND_DONG_BA").note("Chuyển UBND phường Đông Ba").build());
      r = staff.reports().accept(r.getId(), etag(r), TransitionNote.builder().build());
      List<String> inbox = new ArrayList<>();
      for (Report item : staff.agencies().inbox("UBND_DONG_BA", InboxQuery.builder().limit(2L).build())) {
        inbox.add(item.getId());
      }
      assertEquals(1, java.util.Collections.frequency(inbox, r.getId()));
      r = staff.reports().respond(r.getId(), etag(r), AgencyAnswer.builder().answer(FIRST).build());
      r = ioc.reports().returnToAgency(r.getId(), etag(r), Reason.builder().reason(REASON).build());
      assertEquals("returned", r.getStatus().value());
      r = staff.reports().respond(r.getId(), etag(r),
          AgencyAnswer.builder().answer(SECOND).attachments(List.of("med_bien_ban_12")).build());

      final Report responded = r;
      PermissionDeniedException denied = assertThrows(PermissionDeniedException.class,
          () -> citizen.reports().approve(responded.getId(), etag(responded), TransitionNote.builder().build()));
      assertEquals("role_not_allowed", denied.getCode());
      ConflictException stale = assertThrows(ConflictException.class,
          () -> ioc.reports().approve(responded.getId(), "\"1\"", TransitionNote.builder().build()));
      assertEquals(412, stale.getStatus());
      assertEquals("precondition_failed", stale.getCode());

      r = ioc.reports().approve(r.getId(), etag(r), TransitionNote.builder().note("Công khai kết quả").build());
      assertEquals("resolved", r.getStatus().value());
      assertEquals(SECOND, r.getAnswer());
      r = citizen.reports().rate(r.getId(), Rating.builder().satisfied(true).comment("Xử lý nhanh, cảm ơn!").build());
      assertEquals("rated", r.getStatus().value());
      assertEquals("Xử lý nhanh, cảm ơn!", r.getRating().getComment());
      final String id = r.getId();
      ConflictException twice = assertThrows(ConflictException.class,
          () -> citizen.reports().rate(id, Rating.builder().satisfied(false).build()));
      assertEquals(409, twice.getStatus());
      assertEquals("invalid_transition", twice.getCode());

      List<TimelineEntry> timeline = citizen.reports().timeline(id);
      List<String> states = new ArrayList<>();
      List<String> roles = new ArrayList<>();
      for (TimelineEntry e : timeline) {
        states.add(e.getStatus().value());
        roles.add(e.getActorRole().value());
      }
      assertEquals(List.of("submitted", "received", "assigned", "in_progress", "responded", "returned", "responded",
          "resolved", "rated"), states);
      assertEquals(List.of("citizen", "ioc", "ioc", "agency", "agency", "ioc", "agency", "ioc", "citizen"), roles);
      assertEquals(List.of(FIRST, REASON, SECOND),
          List.of(timeline.get(4).getNote(), timeline.get(5).getNote(), timeline.get(6).getNote()));
      assertEquals(List.of("med_bien_ban_12"), timeline.get(6).getAttachments());
      assertEquals("UBND_DONG_BA", timeline.get(2).getAgencyCode());
      assertEquals(citizen.me().getSub(), timeline.get(0).getActor());
      assertEquals(ioc.me().getSub(), timeline.get(1).getActor());
      assertEquals(staff.me().getSub(), timeline.get(3).getActor());
    }
  }
}
