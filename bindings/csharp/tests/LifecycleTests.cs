using System;
using System.Linq;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Hues.Sdk.Tests {

// The seed's story (issue 8) with three roles, each signed in through the sandbox's identity
// provider: answered without the violation record, returned by the IOC, answered with it,
// approved, published and rated; citizen and agency talk in comments; an anonymous report
// whose reporter the agency never sees; two operators racing one step.
[TestFixture, Timeout(120000)]
public class LifecycleTests {
  const string Text = "Quán nhậu lấn chiếm vỉa hè, mở nhạc lớn sau 22 giờ — đường Trần Hưng Đạo, phường Đông Ba";
  const string First = "Công an phường đã lập biên bản vi phạm hành chính đối với chủ quán.";
  const string ReasonText = "Đề nghị bổ sung biên bản vi phạm hành chính đã lập.";
  const string Second = "Gửi kèm biên bản vi phạm hành chính số 12/BB-VPHC.";

  static string ETag(Report r) { return "\"" + r.Version + "\""; }

  [Test]
  public void TheSeedStoryWithThreeRoles() {
    using (var oidc = IdentityTests.App())
    using (var citizenUser = IdentityTests.SignedIn(oidc, "nguyen.van.an"))
    using (var iocUser = IdentityTests.SignedIn(oidc, "le.ioc"))
    using (var staffUser = IdentityTests.SignedIn(oidc, "dongba.staff"))
    using (var citizen = IdentityTests.ClientWith(citizenUser, tls: false))
    using (var ioc = IdentityTests.ClientWith(iocUser, tls: false))
    using (var staff = IdentityTests.ClientWith(staffUser, tls: false)) {
      // Attachments are media objects of the caller's: the staff member uploads them (raw tus).
      var bearer = "Bearer " + staffUser.Tokens().AccessToken;
      var photo = TusUpload.Upload(SandboxFixture.Sandbox.Url, TusUpload.Jpeg(80, 60), "photo", "Authorization", bearer);
      var record = TusUpload.Upload(SandboxFixture.Sandbox.Url, TusUpload.Pdf("Biên bản 12/BB-VPHC"), "document",
                                    "Authorization", bearer);
      var r = citizen.Reports.Create(new NewReport("urban_order", Text,
          new Location(16.4726, 107.5885, "Chợ Đông Ba, đường Trần Hưng Đạo", "Đông Ba")));
      Assert.That(r.Description, Is.EqualTo(Text));
      r = ioc.Reports.Receive(r.Id, ETag(r), new TransitionNote());
      r = ioc.Reports.Assign(r.Id, ETag(r), new Assignment("UBND_DONG_BA", "Chuyển UBND phường Đông Ba"));
      r = staff.Reports.Accept(r.Id, ETag(r), new TransitionNote());
      var accepted = r;
      Assert.That(staff.Agencies.Inbox("UBND_DONG_BA", new InboxQuery(limit: 2)).Count(x => x.Id == accepted.Id), Is.EqualTo(1));
      r = staff.Reports.Respond(r.Id, ETag(r), new AgencyAnswer(First));
      // Citizen and agency talk; the report is not anonymous, so the agency sees who asked.
      const string ask = "Khi nào phường xử lý? Quán vẫn mở nhạc đến 1 giờ sáng.";
      const string reply = "Tổ công tác sẽ kiểm tra tối nay.";
      Assert.That(citizen.Reports.AddComment(r.Id, new NewComment(ask)).Text, Is.EqualTo(ask));
      staff.Reports.AddComment(r.Id, new NewComment(reply, new[] { photo }));
      var talk = staff.Reports.Comments(r.Id);
      Assert.That(talk.Select(c => c.AuthorRole.Value + ": " + c.Text),
                  Is.EqualTo(new[] { "citizen: " + ask, "agency: " + reply }));
      Assert.That(talk[0].Author, Is.EqualTo(citizen.Me().Sub));
      Assert.That(talk[1].Author, Is.EqualTo(staff.Me().Sub));
      Assert.That(talk[1].Attachments, Is.EqualTo(new[] { photo }));
      Assert.That(staff.Reports.Get(r.Id).Reporter, Is.EqualTo(citizen.Me().Sub));
      r = ioc.Reports.ReturnToAgency(r.Id, ETag(r), new Reason(ReasonText));
      Assert.That(r.Status.Value, Is.EqualTo("returned"));
      r = staff.Reports.Respond(r.Id, ETag(r), new AgencyAnswer(Second, new[] { record }));

      var responded = r;
      var denied = Assert.Throws<PermissionDeniedException>(
          () => citizen.Reports.Approve(responded.Id, ETag(responded), new TransitionNote()));
      Assert.That(denied.Code, Is.EqualTo("role_not_allowed"));
      // Catch (not Throws, which wants the exact type): a stale ETag is a ConflictException's subclass.
      var stale = Assert.Catch<ConflictException>(() => ioc.Reports.Approve(responded.Id, "\"1\"", new TransitionNote()));
      Assert.That((stale.Status, stale.Code), Is.EqualTo((412, "precondition_failed")));
      var current = ((PreconditionFailedException)stale).Current;
      Assert.That((current.Status.Value, current.Version), Is.EqualTo(("responded", responded.Version)));

      r = ioc.Reports.Approve(r.Id, ETag(r), new TransitionNote("Công khai kết quả"));
      Assert.That(r.Status.Value, Is.EqualTo("resolved"));
      Assert.That(r.Answer, Is.EqualTo(Second));
      r = citizen.Reports.Rate(r.Id, new Rating(true, "Xử lý nhanh, cảm ơn!"));
      Assert.That(r.Status.Value, Is.EqualTo("rated"));
      Assert.That(r.Rating.Comment, Is.EqualTo("Xử lý nhanh, cảm ơn!"));
      var id = r.Id;
      var twice = Assert.Throws<ConflictException>(() => citizen.Reports.Rate(id, new Rating(false)));
      Assert.That((twice.Status, twice.Code), Is.EqualTo((409, "invalid_transition")));

      var timeline = citizen.Reports.Timeline(id);
      Assert.That(timeline.Select(e => e.Status.Value), Is.EqualTo(new[] {
          "submitted", "received", "assigned", "in_progress", "responded", "returned", "responded", "resolved", "rated" }));
      Assert.That(timeline.Select(e => e.ActorRole.Value), Is.EqualTo(new[] {
          "citizen", "ioc", "ioc", "agency", "agency", "ioc", "agency", "ioc", "citizen" }));
      Assert.That(new[] { timeline[4].Note, timeline[5].Note, timeline[6].Note },
                  Is.EqualTo(new[] { First, ReasonText, Second }));
      Assert.That(timeline[6].Attachments, Is.EqualTo(new[] { record }));
      Assert.That(timeline[2].AgencyCode, Is.EqualTo("UBND_DONG_BA"));
      Assert.That(timeline[0].Actor, Is.EqualTo(citizen.Me().Sub));
      Assert.That(timeline[1].Actor, Is.EqualTo(ioc.Me().Sub));
      Assert.That(timeline[3].Actor, Is.EqualTo(staff.Me().Sub));
    }
  }
  // An anonymous report: citizen and agency talk, and the agency never sees who reported it:
  // not in the report, its inbox, its comments, its timeline, nor a 412's current report.
  [Test]
  public void AnAnonymousReportHidesTheReporterFromTheAgency() {
    using (var oidc = IdentityTests.App())
    using (var citizenUser = IdentityTests.SignedIn(oidc, "nguyen.van.an"))
    using (var iocUser = IdentityTests.SignedIn(oidc, "le.ioc"))
    using (var staffUser = IdentityTests.SignedIn(oidc, "dongba.staff"))
    using (var citizen = IdentityTests.ClientWith(citizenUser, tls: false))
    using (var ioc = IdentityTests.ClientWith(iocUser, tls: false))
    using (var staff = IdentityTests.ClientWith(staffUser, tls: false)) {
      var sub = citizen.Me().Sub;
      var r = citizen.Reports.Create(new NewReport("urban_order", Text,
          new Location(16.4726, 107.5885, ward: "Đông Ba"), anonymous: true));
      Assert.That(r.Anonymous, Is.True);
      Assert.That(r.Reporter, Is.EqualTo(sub));  // the reporter sees their own
      r = ioc.Reports.Receive(r.Id, ETag(r), new TransitionNote());
      Assert.That(r.Reporter, Is.EqualTo(sub));  // and so does the IOC
      r = ioc.Reports.Assign(r.Id, ETag(r), new Assignment("UBND_DONG_BA"));
      r = staff.Reports.Accept(r.Id, ETag(r), new TransitionNote());
      Assert.That(r.Reporter, Is.Null);
      var id = r.Id;
      const string ask = "Tôi không muốn lộ danh tính, mong phường xử lý sớm.";
      const string reply = "Phường đã ghi nhận, sẽ kiểm tra trong tuần.";
      citizen.Reports.AddComment(id, new NewComment(ask));
      staff.Reports.AddComment(id, new NewComment(reply));

      var seen = staff.Reports.Comments(id);
      Assert.That(seen.Select(c => c.Text), Is.EqualTo(new[] { ask, reply }));
      Assert.That(seen[0].AuthorRole.Value, Is.EqualTo("citizen"));
      Assert.That(seen[0].Author, Is.EqualTo(""));
      Assert.That(seen[1].Author, Is.EqualTo(staff.Me().Sub));
      Assert.That(citizen.Reports.Comments(id)[0].Author, Is.EqualTo(sub));  // the reporter still sees it
      Assert.That(staff.Reports.Get(id).Reporter, Is.Null);
      Assert.That(staff.Agencies.Inbox("UBND_DONG_BA").Where(x => x.Id == id).Select(x => x.Reporter),
                  Is.EqualTo(new string[] { null }));
      Assert.That(staff.Reports.Timeline(id).Select(e => e.Actor), Has.None.EqualTo(sub));
      Assert.That(citizen.Reports.Timeline(id)[0].Actor, Is.EqualTo(sub));
      var stale = Assert.Throws<PreconditionFailedException>(
          () => staff.Reports.Respond(id, "\"1\"", new AgencyAnswer(reply)));
      Assert.That(stale.Current.Status.Value, Is.EqualTo("in_progress"));
      Assert.That(stale.Current.Reporter, Is.Null);
      Assert.That(stale.ToString().Contains(Text), Is.False);
    }
  }

  // Two IOC operators take one report in with one ETag, both calls in flight at once: exactly
  // one wins; the loser's PreconditionFailedException (a ConflictException) carries the
  // winner's report, whose version is the ETag the loser decides again with.
  [Test]
  public void TwoOperatorsRaceOneStepTheLoserGetsTheWinnersReport() {
    using (var oidc = IdentityTests.App())
    using (var citizenUser = IdentityTests.SignedIn(oidc, "nguyen.van.an"))
    using (var leUser = IdentityTests.SignedIn(oidc, "le.ioc"))
    using (var tranUser = IdentityTests.SignedIn(oidc, "tran.ioc"))
    using (var citizen = IdentityTests.ClientWith(citizenUser, tls: false))
    using (var le = IdentityTests.ClientWith(leUser, tls: false))
    using (var tran = IdentityTests.ClientWith(tranUser, tls: false)) {
      const string text = "Đèn đường hỏng trước chợ Đông Ba, đường Trần Hưng Đạo";
      var created = citizen.Reports.Create(new NewReport("street_light", text,
          new Location(16.4726, 107.5885, ward: "Đông Ba")));
      var clients = new[] { le, tran };
      var racers = clients.Select(c => c.Reports.ReceiveAsync(created.Id, ETag(created), new TransitionNote("nhận")))
                          .ToArray();
      try {
        Task.WaitAll(racers);
      } catch (AggregateException) {
      }
      Assert.That(racers.Count(t => t.Status == TaskStatus.RanToCompletion), Is.EqualTo(1));
      var winner = Array.FindIndex(racers, t => t.Status == TaskStatus.RanToCompletion);
      var won = racers[winner].Result;
      var conflict = racers[1 - winner].Exception.InnerException as ConflictException;  // caught by its base
      Assert.That(conflict, Is.InstanceOf<PreconditionFailedException>());
      var lost = (PreconditionFailedException)conflict;
      Assert.That((won.Status.Value, won.Version), Is.EqualTo(("received", created.Version + 1)));
      Assert.That((lost.Status, lost.Code), Is.EqualTo((412, "precondition_failed")));
      Assert.That(lost.Current, Is.Not.Null);
      Assert.That((lost.Current.Id, lost.Current.Status.Value, lost.Current.Version),
                  Is.EqualTo((created.Id, "received", won.Version)));
      Assert.That(lost.Current.Description, Is.EqualTo(text));
      Assert.That(lost.ToString().StartsWith("PreconditionFailedException: ", StringComparison.Ordinal), Is.True);
      Assert.That(lost.ToString().Contains(text), Is.False);
      var next = clients[1 - winner].Reports.Assign(created.Id, ETag(lost.Current), new Assignment("UBND_DONG_BA"));
      Assert.That((next.Status.Value, next.Version), Is.EqualTo(("assigned", won.Version + 1)));
      // Made by hand (a test double, say) it has no report.
      Assert.That(new PreconditionFailedException("HTTP 412", 412).Current, Is.Null);
    }
  }
}

}  // namespace Hues.Sdk.Tests
