// Search (auto-paging sync and IAsyncEnumerable-style async, filters, sort by due) and
// duplicate hints against the in-process sandbox. Each test filters on a marker word of its
// own, so seeded reports change nothing.
using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;

namespace Hues.Sdk.Tests {

[TestFixture]
public class SearchTests {
  const double PerM = 1 / 111195.0;  // degrees of latitude per metre
  HuesClient client;

  [TestFixtureSetUp]
  public void SetUp() { client = SandboxFixture.Sandbox.CreateClient(); }

  [TestFixtureTearDown]
  public void TearDown() { client.Dispose(); }

  static string Marker() { return "mk" + Guid.NewGuid().ToString("N").Substring(0, 12); }

  Report Create(string category, string text, double lat = 16.4726, double lon = 107.5885) {
    return client.Reports.Create(new NewReport(category: category, description: text,
                                               location: new Location(lat: lat, lon: lon, ward: "Đông Ba")));
  }

  [Test]
  public void DenDuongHongFindsDenDuongHongAcrossPagesSyncAndAsync() {
    var m = Marker();
    var lights = new HashSet<string>();
    foreach (var cat in new[] { "street_light", "power_outage", "flooding" })
      lights.Add(Create(cat, "Đèn đường hỏng " + m).Id);
    var other = Create("street_light", "Đèn trang trí tắt " + m).Id;

    var query = new ReportQuery(q: "den duong hong " + m, limit: 1);
    var found = client.Reports.List(query).ToList();
    Assert.That(found.Count, Is.EqualTo(3), "three pages of one, each report once");
    Assert.That(new HashSet<string>(found.Select(r => r.Id)).SetEquals(lights), Is.True);
    Assert.That(found.All(r => r.Description == "Đèn đường hỏng " + m), Is.True, "byte for byte");
    var async = client.Reports.ListAsync(query).ToListAsync().GetAwaiter().GetResult();
    Assert.That(async.Select(r => r.Id).ToList(), Is.EqualTo(found.Select(r => r.Id).ToList()));

    var street = client.Reports.List(new ReportQuery(q: "ĐÈN " + m, category: "street_light")).Select(r => r.Id).ToList();
    Assert.That(street.Count, Is.EqualTo(2));
    Assert.That(street, Has.Member(other));
    var period = client.Reports.List(new ReportQuery(q: m, createdFrom: DateTimeOffset.UtcNow.AddHours(-1))).Count();
    Assert.That(period, Is.EqualTo(4));
    Assert.That(client.Reports.List(new ReportQuery(q: m, createdTo: DateTimeOffset.UtcNow.AddHours(-1))).Count(), Is.EqualTo(0));
  }

  [Test]
  public void SortByDuePagesInDeadlineOrder() {
    var m = Marker();
    var made = new List<string>();
    foreach (var cat in new[] { "street_light", "power_outage", "flooding", "street_light" })
      made.Add(Create(cat, "Báo cáo " + m).Id);
    var due = client.Reports.ListAsync(new ReportQuery(q: m, sort: ReportSort.Due, limit: 2)).ToListAsync()
                  .GetAwaiter().GetResult();
    Assert.That(due.Select(r => r.Id), Is.EquivalentTo(made));
    for (int i = 1; i < due.Count; i++) {
      Assert.That(due[i - 1].DueAt, Is.LessThanOrEqualTo(due[i].DueAt));
      if (due[i - 1].DueAt == due[i].DueAt)
        Assert.That(made.IndexOf(due[i - 1].Id), Is.LessThan(made.IndexOf(due[i].Id)), "ties by creation");
    }
    var newest = client.Reports.List(new ReportQuery(q: m, limit: 3)).Select(r => r.Id).ToList();
    made.Reverse();
    Assert.That(newest, Is.EqualTo(made));
  }

  [Test]
  public void ABadValueNamesItsParameter() {
    var e = Assert.Throws<ValidationException>(() => client.Reports.ListPage(new ReportQuery(agency: "NO_SUCH_AGENCY")));
    Assert.That(e.Field, Is.EqualTo("agency"));
    e = Assert.Throws<ValidationException>(() => client.Reports.ListPage(new ReportQuery(q: "-*-")));
    Assert.That(e.Field, Is.EqualTo("q"));
  }

  [Test]
  public void DuplicateHintsNearestFirstInTheOperationAndTheCreateResponse() {
    var m = Marker();
    double lat = 16.593, lon = 107.723;  // away from the seed
    var first = Create("road_damage", "Ổ gà sâu trên đường Lê Lợi " + m, lat, lon);
    Assert.That(first.PossibleDuplicates, Is.Empty);
    var second = Create("road_damage", "Hố ga mất nắp " + m, lat + 30 * PerM, lon);
    Assert.That(second.PossibleDuplicates.Select(h => h.Id), Is.EqualTo(new[] { first.Id }));
    Create("road_damage", "Xa hơn " + m, lat + 80 * PerM, lon);
    Create("noise", "Ồn ào " + m, lat, lon);

    var hints = client.Reports.Duplicates(new DuplicateQuery(category: "road_damage", lat: lat + 10 * PerM, lon: lon));
    Assert.That(hints.Select(h => h.Id), Is.EqualTo(new[] { first.Id, second.Id }));
    Assert.That(hints[0].DistanceM, Is.EqualTo(10).Within(0.3));
    Assert.That(hints[1].DistanceM, Is.EqualTo(20).Within(0.3));
    Assert.That(hints[0].Description, Is.EqualTo("Ổ gà sâu trên đường Lê Lợi " + m));
    Assert.That(hints[0].Status, Is.EqualTo(ReportStatus.Submitted));
    Assert.That(client.Reports.Get(second.Id).PossibleDuplicates, Is.Null);
    var e = Assert.Throws<ValidationException>(() => client.Reports.Duplicates(new DuplicateQuery(lat: lat, lon: lon)));
    Assert.That(e.Field, Is.EqualTo("category"));
  }
}

}  // namespace Hues.Sdk.Tests
