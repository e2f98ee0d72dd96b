// Reports and agencies against the in-process sandbox: Vietnamese text, errors, paging
// (sync and async), the timeline, async calls, models as values.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Hues.Sdk.Tests {

[TestFixture]
public class ReportsTests {
  HuesClient client;
  Category category;

  [TestFixtureSetUp]
  public void SetUp() {
    client = SandboxFixture.Sandbox.CreateClient();
    category = client.Reports.Categories()[0];
  }

  [TestFixtureTearDown]
  public void TearDown() { client.Dispose(); }

  [Test]
  public void CategoriesAreVietnameseAndMatchTheWire() {
    var categories = client.Reports.Categories();
    Assert.That(categories, Is.Not.Empty);
    var raw = Samples.RawGet("/v1/categories");
    foreach (var c in categories) {
      Assert.That(c.Code, Is.Not.Empty);
      Assert.That(c.NameVi, Is.Not.Empty);
      Assert.That(c.NameVi.IsNormalized(NormalizationForm.FormC), c.NameVi);
      StringAssert.Contains("\"" + c.NameVi + "\"", raw, "name_vi must cross P/Invoke unchanged");
    }
    // Vietnamese letters beyond Latin-1 (ư, ơ, đ, ạ...) prove the text was not narrowed.
    Assert.That(categories.Any(c => c.NameVi.Any(ch => ch > '\u00ff')), Is.True);
  }

  [Test]
  public void CreateGetAndListRoundTripVietnameseExactly() {
    var created = client.Reports.Create(Samples.Report(category.Code));
    Assert.That(created.Id, Is.Not.Empty);
    Assert.That(created.Description, Is.EqualTo(Samples.Description));
    Assert.That(created.Description.IsNormalized(NormalizationForm.FormC), Is.True);
    Assert.That(created.Status, Is.EqualTo(ReportStatus.Submitted));
    Assert.That(created.Status.IsKnown, Is.True);
    Assert.That(created.Visibility, Is.EqualTo(Visibility.Public));
    Assert.That(created.AgencyCode, Is.EqualTo(category.AgencyCode));

    var got = client.Reports.Get(created.Id);
    Assert.That(got.Description, Is.EqualTo(Samples.Description));
    Assert.That(got.Location.Address, Is.EqualTo(Samples.Address));
    Assert.That(got.Location.Ward, Is.EqualTo(Samples.Ward));
    Assert.That(got.Location.Lat, Is.EqualTo(16.4726));
    Assert.That(got.Location.Lon, Is.EqualTo(107.5885));
    Assert.That(got.Category, Is.EqualTo(category.Code));
    Assert.That(got.CreatedAt, Is.EqualTo(created.CreatedAt));
    Assert.That(got.CreatedAt.Offset, Is.EqualTo(TimeSpan.Zero));
    Assert.That(got.CreatedAt, Is.GreaterThan(DateTimeOffset.UtcNow.AddHours(-1)));
    // Only the create response carries the duplicate hints; otherwise the same value.
    Assert.That(created.PossibleDuplicates, Is.Not.Null);
    Assert.That(got.PossibleDuplicates, Is.Null);
    var plain = created.WithPossibleDuplicates(null);
    Assert.That(got, Is.EqualTo(plain), "models compare by value");
    Assert.That(got.GetHashCode(), Is.EqualTo(plain.GetHashCode()));

    // The bytes on the wire are the UTF-8 of the C# string, not a private encoding.
    StringAssert.Contains(Samples.Description, Samples.RawGet("/v1/reports/" + created.Id));

    var listed = client.Reports.List(new ReportQuery(category: category.Code)).First(r => r.Id == created.Id);
    Assert.That(listed.Description, Is.EqualTo(Samples.Description));
    Assert.That(listed.Location.Ward, Is.EqualTo(Samples.Ward));
  }

  [Test]
  public void TextIsCarriedByteForByteWithoutNormalising() {
    // Decomposed (NFD) text and a character outside the BMP come back exactly as sent.
    var nfd = "Ngập nước ở Đập Đá 🌧".Normalize(NormalizationForm.FormD);
    Assert.That(nfd.IsNormalized(NormalizationForm.FormC), Is.False);
    var got = client.Reports.Get(client.Reports.Create(Samples.Report(category.Code, nfd)).Id);
    Assert.That(got.Description, Is.EqualTo(nfd));
    Assert.That(Encoding.UTF8.GetBytes(got.Description), Is.EqualTo(Encoding.UTF8.GetBytes(nfd)));
  }

  [Test]
  public void CoordinatesRoundTripExactly() {
    var rng = new Random(20261201);
    for (int i = 0; i < 20; i++) {
      double lat = 16 + rng.NextDouble(), lon = 107 + rng.NextDouble();
      var got = client.Reports.Get(client.Reports.Create(Samples.Report(category.Code, lat: lat, lon: lon)).Id);
      Assert.That(BitConverter.DoubleToInt64Bits(got.Location.Lat), Is.EqualTo(BitConverter.DoubleToInt64Bits(lat)), "lat " + lat.ToString("R"));
      Assert.That(BitConverter.DoubleToInt64Bits(got.Location.Lon), Is.EqualTo(BitConverter.DoubleToInt64Bits(lon)), "lon " + lon.ToString("R"));
    }
  }

  [Test]
  public void AnIdempotencyKeyReplaysTheCreate() {
    var key = "cs-" + Guid.NewGuid().ToString("N");
    var report = Samples.Report(category.Code, Samples.Description + " (idempotent)");
    var first = client.Reports.Create(report, options: new CallOptions(idempotencyKey: key));
    var again = client.Reports.CreateAsync(report, CancellationToken.None, new CallOptions(idempotencyKey: key))
                    .GetAwaiter().GetResult();
    Assert.That(again.Id, Is.EqualTo(first.Id), "the replay returns the first report");
    var e = Assert.Throws<ConflictException>(() => client.Reports.Create(
        report.WithDescription(Samples.Description + " (another body)"), options: new CallOptions(idempotencyKey: key)));
    Assert.That(e.Code, Is.EqualTo("idempotency_key_reused"));
    Assert.That(e.Status, Is.EqualTo(409));
  }

  [Test]
  public void WrongApiKeyIsAnAuthenticationError() {
    using (var bad = new HuesClient(SandboxFixture.Sandbox.ClientOptions().WithApiKey("hk_test_not_a_real_key_0000"))) {
      var e = Assert.Throws<AuthenticationException>(() => bad.Reports.Categories());
      Assert.That(e.Status, Is.EqualTo(401));
      Assert.That(e.Code, Is.EqualTo("invalid_api_key"));
      Assert.That(e.RequestId, Is.Not.Empty);
      Assert.That(e.Retryable, Is.False);
      Assert.That(e, Is.InstanceOf<ApiException>());
      Assert.That(e.ToString().Contains("hk_test_not_a_real_key_0000"), Is.False);
    }
  }

  [Test]
  public void BadInputIsAValidationErrorNamingTheField() {
    var e = Assert.Throws<ValidationException>(
        () => client.Reports.Create(Samples.Report(category.Code, lat: 123.0)));
    Assert.That(e.Field, Is.EqualTo("location.lat"));
    Assert.That(e.Code, Is.EqualTo("validation_error"));
    Assert.That(e.Retryable, Is.False);
    var limit = Assert.Throws<ValidationException>(() => client.Reports.ListPage(new ReportQuery(limit: 1000)));
    Assert.That(limit.Field, Is.EqualTo("limit"));
  }

  [Test]
  public void ServerValidationErrorNamesTheField() {
    var e = Assert.Throws<ValidationException>(() => client.Reports.Create(Samples.Report("khong_co_loai_nay")));
    Assert.That(e.Field, Is.EqualTo("category"));
    Assert.That(e.Code, Is.EqualTo("validation_error"));
    Assert.That(e.Status, Is.EqualTo(400));
    Assert.That(e.RequestId, Is.Not.Empty);
  }

  [Test]
  public void UnknownReportIsNotFound() {
    var e = Assert.Throws<NotFoundException>(() => client.Reports.Get("rp_does_not_exist"));
    Assert.That(e.Status, Is.EqualTo(404));
    Assert.That(e.Code, Is.EqualTo("not_found"));
  }

  [Test]
  public void AutoPagingVisitsEveryReportOnce() {
    var mine = new HashSet<string>();
    for (int i = 0; i < 5; i++)
      mine.Add(client.Reports.Create(Samples.Report(category.Code, Samples.Description + " #" + i)).Id);

    var first = client.Reports.ListPage(new ReportQuery(limit: 2));
    Assert.That(first.Items.Count, Is.EqualTo(2));
    Assert.That(first.NextCursor, Is.Not.Empty);

    var seen = client.Reports.List(new ReportQuery(limit: 2)).Select(r => r.Id).ToList();
    Assert.That(seen.Count, Is.GreaterThanOrEqualTo(5));
    Assert.That(seen, Is.Unique);
    Assert.That(mine.IsSubsetOf(seen), Is.True);
    // Newest first: the page API and the iterator agree on the order.
    Assert.That(seen.Take(2), Is.EqualTo(first.Items.Select(r => r.Id)));

    // Async paging sees the same reports in the same order.
    var async = client.Reports.ListAsync(new ReportQuery(limit: 2)).ToListAsync().GetAwaiter().GetResult();
    Assert.That(async.Select(r => r.Id).ToList(), Is.EqualTo(seen));
    var e = client.Reports.ListAsync(new ReportQuery(limit: 2), CancellationToken.None).GetAsyncEnumerator();
    var byHand = new List<string>();
    while (e.MoveNextAsync().GetAwaiter().GetResult()) byHand.Add(e.Current.Id);
    Assert.That(byHand, Is.EqualTo(seen));

    // A cancelled token stops async paging with a cancelled Task.
    using (var cts = new CancellationTokenSource()) {
      var pages = client.Reports.ListAsync(new ReportQuery(limit: 2), cts.Token).GetAsyncEnumerator();
      Assert.That(pages.MoveNextAsync().GetAwaiter().GetResult(), Is.True);
      Assert.That(pages.MoveNextAsync().GetAwaiter().GetResult(), Is.True);
      cts.Cancel();
      var next = pages.MoveNextAsync();
      var oce = Assert.Catch<OperationCanceledException>(() => next.GetAwaiter().GetResult());
      Assert.That(oce.InnerException, Is.InstanceOf<CancelledException>());
    }
  }

  [Test]
  public void AgenciesArePagedAndVietnamese() {
    var first = client.Agencies.ListPage(new AgencyQuery(limit: 2));
    Assert.That(first.Items.Count, Is.EqualTo(2));
    Assert.That(first.NextCursor, Is.Not.Empty);
    var all = client.Agencies.List(new AgencyQuery(limit: 2)).ToList();
    Assert.That(all.Count, Is.GreaterThan(2));
    Assert.That(all.Select(a => a.Code), Is.Unique);
    Assert.That(all.Take(2), Is.EqualTo(first.Items));
    Assert.That(all.Any(a => a.NameVi.Any(ch => ch > '\u00ff')), Is.True);
    foreach (var a in all) StringAssert.Contains("\"" + a.NameVi + "\"", Samples.RawGet("/v1/agencies?limit=100"));
    // The agency answering our category is one of them.
    Assert.That(all.Select(a => a.Code), Has.Member(category.AgencyCode));
    // Filtered by kind, asynchronously.
    var kind = all[0].Kind;
    var filtered = client.Agencies.ListAsync(new AgencyQuery(kind: kind)).ToListAsync().GetAwaiter().GetResult();
    Assert.That(filtered, Is.Not.Empty);
    Assert.That(filtered.All(a => a.Kind == kind), Is.True);
  }

  [Test]
  public void TimelineStartsWithTheSubmission() {
    var created = client.Reports.Create(Samples.Report(category.Code));
    var timeline = client.Reports.Timeline(created.Id);
    Assert.That(timeline, Is.Not.Empty);
    Assert.That(timeline[0].Status, Is.EqualTo(ReportStatus.Submitted));
    Assert.That(timeline[0].ActorRole, Is.EqualTo(ActorRole.Citizen));
    Assert.That(timeline[0].At.Offset, Is.EqualTo(TimeSpan.Zero));
    Assert.That(Math.Abs((timeline[0].At - created.CreatedAt).TotalSeconds), Is.LessThan(5));
    using (var cts = new CancellationTokenSource()) {
      var again = client.Reports.TimelineAsync(created.Id, cts.Token).GetAwaiter().GetResult();
      Assert.That(again, Is.EqualTo(timeline));
    }
    Assert.Throws<NotFoundException>(() => client.Reports.Timeline("rp_does_not_exist"));
  }

  [Test]
  public void AsyncCreatesRunConcurrently() {
    var tasks = Enumerable.Range(0, 6).Select(i => client.Reports.CreateAsync(
        Samples.Report(category.Code, Samples.Description + " (async " + i + ")"))).ToArray();
    var created = Task.WhenAll(tasks).GetAwaiter().GetResult();
    Assert.That(created.Select(r => r.Id), Is.Unique);
    var fetched = Task.WhenAll(created.Select(r => client.Reports.GetAsync(r.Id))).GetAwaiter().GetResult();
    for (int i = 0; i < created.Length; i++)
      Assert.That(fetched[i].Description, Is.EqualTo(created[i].Description));
    Assert.That(fetched.Select(r => r.Description),
                Is.EquivalentTo(Enumerable.Range(0, 6).Select(i => Samples.Description + " (async " + i + ")")));
  }

  [Test]
  public void AsyncErrorsAreTheSameExceptions() {
    var task = client.Reports.GetAsync("rp_does_not_exist");
    var e = Assert.Throws<NotFoundException>(() => task.GetAwaiter().GetResult());
    Assert.That(e.Status, Is.EqualTo(404));
    Assert.That(task.IsFaulted, Is.True);
  }

  [Test]
  public void ModelsAreValuesNotViews() {
    var report = client.Reports.Create(Samples.Report(category.Code));
    var location = report.Location;
    report = null;
    for (int i = 0; i < 3; i++) {
      GC.Collect();
      GC.WaitForPendingFinalizers();
    }
    Assert.That(location.Ward, Is.EqualTo(Samples.Ward));
    Assert.That(location.Address, Is.EqualTo(Samples.Address));
    // A change is a copy; the original is untouched.
    var moved = location.WithLat(16.5);
    Assert.That(moved.Lat, Is.EqualTo(16.5));
    Assert.That(location.Lat, Is.EqualTo(16.4726));
    Assert.That(moved, Is.Not.EqualTo(location));
    Assert.That(moved.WithLat(16.4726), Is.EqualTo(location));
  }

  [Test]
  public void AnUnknownEnumValueFromTheServerDecodesAndIsKeptUnchanged() {
    // A newer server's status ("escalated"), served over a real socket and decoded by the SDK.
    var created = client.Reports.Create(Samples.Report(category.Code));
    var raw = Samples.RawGet("/v1/reports/" + created.Id);
    StringAssert.Contains("\"status\":\"submitted\"", raw.Replace(" ", ""));
    var newer = raw.Replace("\"submitted\"", "\"escalated\"");
    using (var server = new FixedResponseServer(newer))
    using (var c = new HuesClient(server.Url, apiKey: "hk_test_x")) {
      var got = c.Reports.Get(created.Id);
      Assert.That(got.Status.Value, Is.EqualTo("escalated"));
      Assert.That(got.Status.IsKnown, Is.False);
      Assert.That(got.Status, Is.Not.EqualTo(ReportStatus.Submitted));
      Assert.That(got.Status, Is.EqualTo(ReportStatus.FromValue("escalated")));
      Assert.That(got.Description, Is.EqualTo(Samples.Description));
      // Sent back unchanged.
      StringAssert.Contains("\"status\":\"escalated\"", got.ToJson());
      Assert.That(Report.FromJson(got.ToJson()), Is.EqualTo(got));
    }
  }

  [Test]
  public void AnUnknownErrorCodeMapsByItsStatus() {
    var body = "{\"error\":{\"code\":\"brand_new_conflict\",\"message\":\"xung đột mới\",\"request_id\":\"req_new1\"}}";
    using (var server = new FixedResponseServer(body, 409))
    using (var c = new HuesClient(server.Url, apiKey: "hk_test_x", retry: new RetryPolicy(maxAttempts: 1))) {
      var e = Assert.Throws<ConflictException>(() => c.Reports.Get("rp_1"));
      Assert.That(e.Code, Is.EqualTo("brand_new_conflict"));
      Assert.That(e.Status, Is.EqualTo(409));
      StringAssert.Contains("xung đột mới", e.Message);
    }
    using (var server = new FixedResponseServer(body.Replace("brand_new_conflict", "teapot"), 418))
    using (var c = new HuesClient(server.Url, apiKey: "hk_test_x", retry: new RetryPolicy(maxAttempts: 1))) {
      var e = Assert.Throws<ApiException>(() => c.Reports.Get("rp_1"));
      Assert.That(e.GetType(), Is.EqualTo(typeof(ApiException)));
      Assert.That(e.Status, Is.EqualTo(418));
    }
  }
}

}
