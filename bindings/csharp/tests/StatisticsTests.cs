using System;
using System.Linq;
using System.Threading;
using NUnit.Framework;

namespace Hues.Sdk.Tests {

// The IOC declines an agency's transfer request, then reads its statistics for a period that
// holds only what this test did (issue 8); each role signed in through the sandbox.
[TestFixture, Timeout(120000)]
public class StatisticsTests {
  static string ETag(Report r) { return "\"" + r.Version + "\""; }

  [Test]
  public void TheIocDeclinesATransferAndCountsAFreshPeriod() {
    using (var oidc = IdentityTests.App())
    using (var citizenUser = IdentityTests.SignedIn(oidc, "tran.thi.binh"))
    using (var iocUser = IdentityTests.SignedIn(oidc, "tran.ioc"))
    using (var staffUser = IdentityTests.SignedIn(oidc, "dongba.staff"))
    using (var citizen = IdentityTests.ClientWith(citizenUser, tls: false))
    using (var ioc = IdentityTests.ClientWith(iocUser, tls: false))
    using (var staff = IdentityTests.ClientWith(staffUser, tls: false)) {
      // From the next whole second: nothing made before falls in the period.
      var start = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
      while (DateTimeOffset.UtcNow < start.AddMilliseconds(10)) Thread.Sleep(5);
      var period = new StatisticsQuery(from: start, to: start.AddHours(1), agency: "UBND_DONG_BA");
      var none = ioc.Statistics.ReportStatistics(period);
      Assert.That(none.Total, Is.EqualTo(0));
      Assert.That(none.MedianHandlingSeconds, Is.Null);
      Assert.That(none.SatisfactionRate, Is.Null);

      Func<Report> routed = () => {
        var n = citizen.Reports.Create(new NewReport("urban_order", "Bàn ghế quán cà phê kín vỉa hè đường Trần Hưng Đạo",
            new Location(16.4712, 107.5869, "Đường Trần Hưng Đạo", "Đông Ba")));
        n = ioc.Reports.Receive(n.Id, ETag(n), new TransitionNote());
        return ioc.Reports.Assign(n.Id, ETag(n), new Assignment("UBND_DONG_BA"));
      };
      var kept = routed();
      kept = staff.Reports.RequestTransfer(kept.Id, ETag(kept), new Reason("Đề nghị chuyển Công an thành phố"));
      var asked = kept;
      Assert.Throws<PermissionDeniedException>(() => staff.Reports.DeclineTransfer(asked.Id, ETag(asked), new Reason("x")));
      var empty = Assert.Throws<ValidationException>(
          () => ioc.Reports.DeclineTransfer(asked.Id, ETag(asked), new Reason("")));
      Assert.That(empty.Field, Is.EqualTo("reason"));
      const string reason = "Vỉa hè do phường Đông Ba quản lý, đề nghị tiếp tục xử lý.";
      kept = ioc.Reports.DeclineTransfer(kept.Id, ETag(kept), new Reason(reason));
      Assert.That((kept.Status.Value, kept.AgencyCode), Is.EqualTo(("in_progress", "UBND_DONG_BA")));
      var last = staff.Reports.Timeline(kept.Id).Last();
      Assert.That((last.Status.Value, last.ActorRole.Value, last.Note, last.Actor),
                  Is.EqualTo(("in_progress", "ioc", reason, ioc.Me().Sub)));

      var done = routed();
      done = staff.Reports.Accept(done.Id, ETag(done), new TransitionNote());
      done = staff.Reports.Respond(done.Id, ETag(done), new AgencyAnswer("Đã yêu cầu thu dọn."));
      done = ioc.Reports.Approve(done.Id, ETag(done), new TransitionNote());
      done = citizen.Reports.Rate(done.Id, new Rating(false, "Hôm sau lại bày ra."));

      var s = ioc.Statistics.ReportStatistics(period);
      Assert.That(s.Total, Is.EqualTo(2));
      Assert.That((s.ByState.InProgress, s.ByState.Rated, s.ByState.Submitted), Is.EqualTo((1L, 1L, 0L)));
      Assert.That(s.ByAgency.Select(a => (a.Code, a.Name, a.Count)),
                  Is.EqualTo(new[] { ("UBND_DONG_BA", "Ủy ban nhân dân phường Đông Ba", 2L) }));
      Assert.That((s.Ratings, s.Satisfied, s.SatisfactionRate), Is.EqualTo((1L, 0L, (double?)0.0)));
      var t = ioc.Reports.Timeline(done.Id);
      Assert.That(s.MedianHandlingSeconds, Is.EqualTo((long)(t[t.Count - 2].At - t[0].At).TotalSeconds));

      var denied = Assert.Throws<PermissionDeniedException>(() => citizen.Statistics.ReportStatistics(period));
      Assert.That(denied.Code, Is.EqualTo("role_not_allowed"));
      var reversed = Assert.Throws<ValidationException>(
          () => ioc.Statistics.ReportStatistics(new StatisticsQuery(from: period.To, to: period.From)));
      Assert.That(reversed.Field, Is.EqualTo("from"));
    }
  }
}

}  // namespace Hues.Sdk.Tests
