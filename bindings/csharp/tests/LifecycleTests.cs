using System.Linq;
using NUnit.Framework;

namespace Hues.Sdk.Tests {

// The seed's story (issue 8) with three roles, each signed in through the sandbox's identity
// provider: answered without the violation record, returned by the IOC, answered with it,
// approved, published and rated.
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
    using (var citizenUser = new UserCredentials(oidc, new MemoryTokenStore(), key: "an",
                                                 tokens: IdentityTests.SignInWithPkce(oidc, "nguyen.van.an")))
    using (var iocUser = new UserCredentials(oidc, new MemoryTokenStore(), key: "ioc",
                                             tokens: IdentityTests.SignInWithPkce(oidc, "le.ioc")))
    using (var staffUser = new UserCredentials(oidc, new MemoryTokenStore(), key: "staff",
                                               tokens: IdentityTests.SignInWithPkce(oidc, "dongba.staff")))
    using (var citizen = IdentityTests.ClientWith(citizenUser, tls: false))
    using (var ioc = IdentityTests.ClientWith(iocUser, tls: false))
    using (var staff = IdentityTests.ClientWith(staffUser, tls: false)) {
      var r = citizen.Reports.Create(new NewReport("urban_order", Text,
          new Location(16.4726, 107.5885, "Chợ Đông Ba, đường Trần Hưng Đạo", "Đông Ba")));
      Assert.That(r.Description, Is.EqualTo(Text));
      r = ioc.Reports.Receive(r.Id, ETag(r), new TransitionNote());
      r = ioc.Reports.Assign(r.Id, ETag(r), new Assignment("UBND_DONG_BA", "Chuyển UBND phường Đông Ba"));
      r = staff.Reports.Accept(r.Id, ETag(r), new TransitionNote());
      var accepted = r;
      Assert.That(staff.Agencies.Inbox("UBND_DONG_BA", new InboxQuery(limit: 2)).Count(x => x.Id == accepted.Id), Is.EqualTo(1));
      r = staff.Reports.Respond(r.Id, ETag(r), new AgencyAnswer(First));
      r = ioc.Reports.ReturnToAgency(r.Id, ETag(r), new Reason(ReasonText));
      Assert.That(r.Status.Value, Is.EqualTo("returned"));
      r = staff.Reports.Respond(r.Id, ETag(r), new AgencyAnswer(Second, new[] { "med_bien_ban_12" }));

      var responded = r;
      var denied = Assert.Throws<PermissionDeniedException>(
          () => citizen.Reports.Approve(responded.Id, ETag(responded), new TransitionNote()));
      Assert.That(denied.Code, Is.EqualTo("role_not_allowed"));
      var stale = Assert.Throws<ConflictException>(() => ioc.Reports.Approve(responded.Id, "\"1\"", new TransitionNote()));
      Assert.That((stale.Status, stale.Code), Is.EqualTo((412, "precondition_failed")));

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
      Assert.That(timeline[6].Attachments, Is.EqualTo(new[] { "med_bien_ban_12" }));
      Assert.That(timeline[2].AgencyCode, Is.EqualTo("UBND_DONG_BA"));
      Assert.That(timeline[0].Actor, Is.EqualTo(citizen.Me().Sub));
      Assert.That(timeline[1].Actor, Is.EqualTo(ioc.Me().Sub));
      Assert.That(timeline[3].Actor, Is.EqualTo(staff.Me().Sub));
    }
  }
}

}  // namespace Hues.Sdk.Tests
