package vn.hues.sdk.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import vn.hues.sdk.ConflictException;
import vn.hues.sdk.HuesClient;
import vn.hues.sdk.MemoryTokenStore;
import vn.hues.sdk.OidcClient;
import vn.hues.sdk.PermissionDeniedException;
import vn.hues.sdk.PreconditionFailedException;
import vn.hues.sdk.media.TusUpload;
import vn.hues.sdk.model.AgencyAnswer;
import vn.hues.sdk.model.Assignment;
import vn.hues.sdk.model.InboxQuery;
import vn.hues.sdk.model.Comment;
import vn.hues.sdk.model.Location;
import vn.hues.sdk.model.NewComment;
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
class LifecycleTest extends SignedInSandbox {
  static final String TEXT = "Quán nhậu lấn chiếm vỉa hè, mở nhạc lớn sau 22 giờ — đường Trần Hưng Đạo, phường Đông Ba";
  static final String FIRST = "Công an phường đã lập biên bản vi phạm hành chính đối với chủ quán.";
  static final String REASON = "Đề nghị bổ sung biên bản vi phạm hành chính đã lập.";
  static final String SECOND = "Gửi kèm biên bản vi phạm hành chính số 12/BB-VPHC.";

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
      // Attachments are media objects of the caller's: the staff member uploads them (raw tus).
      String bearer = "Bearer " + IdentityTest.signIn(oidc, "dongba.staff").getAccessToken();
      String photo = TusUpload.upload(IdentityTest.sandbox.tlsUrl(), IdentityTest.sandbox.caFile(), TusUpload.jpeg(80, 60), "photo", "Authorization", bearer);
      String record = TusUpload.upload(IdentityTest.sandbox.tlsUrl(), IdentityTest.sandbox.caFile(), TusUpload.pdf("Biên bản 12/BB-VPHC"), "document",
          "Authorization", bearer);
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
      // Citizen and agency talk; the report is not anonymous, so the agency sees who asked.
      final String ask = "Khi nào phường xử lý? Quán vẫn mở nhạc đến 1 giờ sáng.";
      final String reply = "Tổ công tác sẽ kiểm tra tối nay.";
      Comment asked = citizen.reports().addComment(r.getId(), NewComment.builder().text(ask).build());
      assertEquals(ask, asked.getText());
      staff.reports().addComment(r.getId(),
          NewComment.builder().text(reply).attachments(List.of(photo)).build());
      List<Comment> talk = staff.reports().comments(r.getId());
      assertEquals(2, talk.size());
      assertEquals(List.of("citizen", "agency"),
          List.of(talk.get(0).getAuthorRole().value(), talk.get(1).getAuthorRole().value()));
      assertEquals(List.of(ask, reply), List.of(talk.get(0).getText(), talk.get(1).getText()));
      assertEquals(citizen.me().getSub(), talk.get(0).getAuthor());
      assertEquals(staff.me().getSub(), talk.get(1).getAuthor());
      assertEquals(List.of(photo), talk.get(1).getAttachments());
      assertEquals(citizen.me().getSub(), staff.reports().get(r.getId()).getReporter());
      r = ioc.reports().returnToAgency(r.getId(), etag(r), Reason.builder().reason(REASON).build());
      assertEquals("returned", r.getStatus().value());
      r = staff.reports().respond(r.getId(), etag(r),
          AgencyAnswer.builder().answer(SECOND).attachments(List.of(record)).build());

      final Report responded = r;
      PermissionDeniedException denied = assertThrows(PermissionDeniedException.class,
          () -> citizen.reports().approve(responded.getId(), etag(responded), TransitionNote.builder().build()));
      assertEquals("role_not_allowed", denied.getCode());
      ConflictException stale = assertThrows(ConflictException.class,
          () -> ioc.reports().approve(responded.getId(), "\"1\"", TransitionNote.builder().build()));
      assertEquals(412, stale.getStatus());
      assertEquals("precondition_failed", stale.getCode());
      Report current = assertInstanceOf(PreconditionFailedException.class, stale).getCurrent();
      assertEquals("responded", current.getStatus().value());
      assertEquals(responded.getVersion(), current.getVersion());

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
      assertEquals(List.of(record), timeline.get(6).getAttachments());
      assertEquals("UBND_DONG_BA", timeline.get(2).getAgencyCode());
      assertEquals(citizen.me().getSub(), timeline.get(0).getActor());
      assertEquals(ioc.me().getSub(), timeline.get(1).getActor());
      assertEquals(staff.me().getSub(), timeline.get(3).getActor());
    }
  }

  /**
   * An anonymous report: citizen and agency talk, and the agency never sees who reported it:
   * not in the report, its inbox, its comments, its timeline, nor a 412's current report.
   */
  @Test
  void anAnonymousReportHidesTheReporterFromTheAgency() throws Exception {
    try (OidcClient oidc = IdentityTest.oidc("hues-demo-app", "")) {
      HuesClient citizen = signedIn(oidc, "nguyen.van.an");
      HuesClient ioc = signedIn(oidc, "le.ioc");
      HuesClient staff = signedIn(oidc, "dongba.staff");
      String sub = citizen.me().getSub();
      Report r = citizen.reports().create(NewReport.builder().category("urban_order").description(TEXT).anonymous(true)
          .location(Location.builder().lat(16.4726).lon(107.5885).ward("Đông Ba").build()).build());
      assertTrue(r.getAnonymous());
      assertEquals(sub, r.getReporter());  // the reporter sees their own
      r = ioc.reports().receive(r.getId(), etag(r), TransitionNote.builder().build());
      assertEquals(sub, r.getReporter());  // and so does the IOC
      r = ioc.reports().assign(r.getId(), etag(r), Assignment.builder().agencyCode("UBND_DONG_BA").build());
      r = staff.reports().accept(r.getId(), etag(r), TransitionNote.builder().build());
      assertNull(r.getReporter());
      final String id = r.getId();
      final String ask = "Tôi không muốn lộ danh tính, mong phường xử lý sớm.";
      final String reply = "Phường đã ghi nhận, sẽ kiểm tra trong tuần.";
      citizen.reports().addComment(id, NewComment.builder().text(ask).build());
      staff.reports().addComment(id, NewComment.builder().text(reply).build());

      List<Comment> seenByAgency = staff.reports().comments(id);
      assertEquals(List.of(ask, reply), List.of(seenByAgency.get(0).getText(), seenByAgency.get(1).getText()));
      assertEquals("citizen", seenByAgency.get(0).getAuthorRole().value());
      assertEquals("", seenByAgency.get(0).getAuthor());
      assertEquals(staff.me().getSub(), seenByAgency.get(1).getAuthor());
      assertEquals(sub, citizen.reports().comments(id).get(0).getAuthor());  // the reporter still sees it
      assertNull(staff.reports().get(id).getReporter());
      for (Report item : staff.agencies().inbox("UBND_DONG_BA")) {
        if (item.getAnonymous()) assertNull(item.getReporter());
      }
      for (TimelineEntry e : staff.reports().timeline(id)) {
        assertFalse(sub.equals(e.getActor()), "timeline entry " + e.getStatus().value() + " names the reporter");
      }
      assertEquals(sub, citizen.reports().timeline(id).get(0).getActor());
      PreconditionFailedException stale = assertThrows(PreconditionFailedException.class,
          () -> staff.reports().respond(id, "\"1\"", AgencyAnswer.builder().answer(reply).build()));
      assertEquals("in_progress", stale.getCurrent().getStatus().value());
      assertNull(stale.getCurrent().getReporter());
      assertFalse(stale.toString().contains(TEXT));
    }
  }

  /**
   * Two IOC operators take one report in with one ETag: exactly one wins; the loser's
   * PreconditionFailedException (a ConflictException) carries the winner's report, whose
   * version is the ETag the loser decides again with.
   */
  @Test
  void twoOperatorsRaceOneStepTheLoserGetsTheWinnersReport() throws Exception {
    try (OidcClient oidc = IdentityTest.oidc("hues-demo-app", "")) {
      HuesClient citizen = signedIn(oidc, "nguyen.van.an");
      HuesClient le = signedIn(oidc, "le.ioc");
      HuesClient tran = signedIn(oidc, "tran.ioc");
      final String text = "Đèn đường hỏng trước chợ Đông Ba, đường Trần Hưng Đạo";
      Report created = citizen.reports().create(NewReport.builder().category("street_light").description(text)
          .location(Location.builder().lat(16.4726).lon(107.5885).ward("Đông Ba").build()).build());
      CountDownLatch go = new CountDownLatch(1);
      List<CompletableFuture<Object>> racers = new ArrayList<>();
      for (HuesClient c : List.of(le, tran)) {
        racers.add(CompletableFuture.supplyAsync(() -> {
          try {
            go.await();
            return c.reports().receive(created.getId(), etag(created), TransitionNote.builder().build());
          } catch (ConflictException e) {  // the subclass is caught by its base
            return e;
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
        }));
      }
      go.countDown();
      Object a = racers.get(0).get(30, TimeUnit.SECONDS);
      Object b = racers.get(1).get(30, TimeUnit.SECONDS);
      assertTrue(a instanceof Report ^ b instanceof Report, a + " / " + b);
      Report won = (Report) (a instanceof Report ? a : b);
      PreconditionFailedException lost = assertInstanceOf(PreconditionFailedException.class, a instanceof Report ? b : a);
      HuesClient loser = a instanceof Report ? tran : le;
      assertEquals("received", won.getStatus().value());
      assertEquals(created.getVersion() + 1, won.getVersion());
      assertEquals(412, lost.getStatus());
      assertEquals("precondition_failed", lost.getType());
      Report current = lost.getCurrent();
      assertNotNull(current);
      assertEquals(created.getId(), current.getId());
      assertEquals("received", current.getStatus().value());
      assertEquals(won.getVersion(), current.getVersion());
      assertEquals(text, current.getDescription());
      assertFalse(lost.toString().contains(text));
      assertTrue(lost.toString().startsWith("PreconditionFailedException: "), lost.toString());
      Report next = loser.reports().assign(created.getId(), etag(current),
          Assignment.builder().agencyCode("UBND_DONG_BA").build());
      assertEquals("assigned", next.getStatus().value());
      assertEquals(won.getVersion() + 1, next.getVersion());
    }
  }
}
