// Reports against the in-process sandbox: Vietnamese text, errors, paging, async.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Hues.Sdk.Native;
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
    Assert.That(created.Status, Is.EqualTo("submitted"));
    Assert.That(created.AgencyCode, Is.EqualTo(category.AgencyCode));

    var got = client.Reports.Get(created.Id);
    Assert.That(got.Description, Is.EqualTo(Samples.Description));
    Assert.That(got.Location.Address, Is.EqualTo(Samples.Address));
    Assert.That(got.Location.Ward, Is.EqualTo(Samples.Ward));
    Assert.That(got.Location.Lat, Is.EqualTo(16.4726));
    Assert.That(got.Location.Lon, Is.EqualTo(107.5885));
    Assert.That(got.Category, Is.EqualTo(category.Code));
    Assert.That(got.CreatedAt, Is.EqualTo(created.CreatedAt));
    StringAssert.EndsWith("Z", got.CreatedAt);

    // The bytes on the wire are the UTF-8 of the C# string, not a private encoding.
    StringAssert.Contains(Samples.Description, Samples.RawGet("/v1/reports/" + created.Id));

    var listed = client.Reports.List(new ReportQuery { Category = category.Code })
                     .First(r => r.Id == created.Id);
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
  public void WrongApiKeyIsAnAuthenticationError() {
    var options = SandboxFixture.Sandbox.ClientOptions();
    options.ApiKey = "hk_test_not_a_real_key_0000";
    using (var bad = new HuesClient(options)) {
      var e = Assert.Throws<AuthenticationException>(() => bad.Reports.Categories());
      Assert.That(e.HttpStatus, Is.EqualTo(401));
      Assert.That(e.Code, Is.EqualTo("invalid_api_key"));
      Assert.That(e.RequestId, Is.Not.Empty);
      Assert.That(e.Retryable, Is.False);
      Assert.That(e, Is.InstanceOf<ApiException>());
    }
  }

  [Test]
  public void ValidationErrorNamesTheField() {
    // The SDK rejects an out-of-range latitude before sending (no HTTP status, no request id).
    var e = Assert.Throws<ValidationException>(
        () => client.Reports.Create(Samples.Report(category.Code, lat: 123.0)));
    Assert.That(e.Field, Is.EqualTo("location.lat"));
    Assert.That(e.Code, Is.EqualTo("validation_error"));
    Assert.That(e.HttpStatus, Is.EqualTo(0));
    Assert.That(e.Retryable, Is.False);
  }

  [Test]
  public void ServerValidationErrorNamesTheField() {
    var e = Assert.Throws<ValidationException>(
        () => client.Reports.Create(Samples.Report("khong_co_loai_nay")));
    Assert.That(e.Field, Is.EqualTo("category"));
    Assert.That(e.Code, Is.EqualTo("validation_error"));
    Assert.That(e.HttpStatus, Is.EqualTo(400));
    Assert.That(e.RequestId, Is.Not.Empty);
  }

  [Test]
  public void UnknownReportIsNotFound() {
    var e = Assert.Throws<NotFoundException>(() => client.Reports.Get("rp_does_not_exist"));
    Assert.That(e.HttpStatus, Is.EqualTo(404));
    Assert.That(e.Code, Is.EqualTo("not_found"));
  }

  [Test]
  public void AutoPagingVisitsEveryReportOnce() {
    var mine = new HashSet<string>();
    for (int i = 0; i < 5; i++)
      mine.Add(client.Reports.Create(Samples.Report(category.Code, Samples.Description + " #" + i)).Id);

    var first = client.Reports.ListPage(new ReportQuery { Limit = 2 });
    Assert.That(first.Items.Count, Is.EqualTo(2));
    Assert.That(first.NextCursor, Is.Not.Empty);

    var seen = client.Reports.List(new ReportQuery { Limit = 2 }).Select(r => r.Id).ToList();
    Assert.That(seen.Count, Is.GreaterThanOrEqualTo(5));
    Assert.That(seen, Is.Unique);
    Assert.That(mine.IsSubsetOf(seen), Is.True);
    // Newest first: the page API and the iterator agree on the order.
    Assert.That(seen.Take(2), Is.EqualTo(first.Items.Select(r => r.Id)));
  }

  [Test]
  public void AsyncCreatesRunConcurrently() {
    var tasks = Enumerable.Range(0, 6).Select(i => client.Reports.CreateAsync(
        Samples.Report(category.Code, Samples.Description + " (async " + i + ")"))).ToArray();
    var created = Task.WhenAll(tasks).GetAwaiter().GetResult();
    Assert.That(created.Select(r => r.Id), Is.Unique);
    var fetched = Task.WhenAll(created.Select(r => client.Reports.GetAsync(r.Id)))
                      .GetAwaiter().GetResult();
    for (int i = 0; i < created.Length; i++)
      Assert.That(fetched[i].Description, Is.EqualTo(created[i].Description));
    Assert.That(fetched.Select(r => r.Description),
                Is.EquivalentTo(Enumerable.Range(0, 6).Select(i => Samples.Description + " (async " + i + ")")));
  }

  [Test]
  public void AsyncErrorsAreTheSameExceptions() {
    var task = client.Reports.GetAsync("rp_does_not_exist");
    var e = Assert.Throws<NotFoundException>(() => task.GetAwaiter().GetResult());
    Assert.That(e.HttpStatus, Is.EqualTo(404));
  }

  [Test]
  public void MemberProxiesKeepTheirReportAlive() {
    // report.Location points into the report's C++ memory; collecting the report must not free it.
    var location = client.Reports.Create(Samples.Report(category.Code)).Location;
    for (int i = 0; i < 3; i++) {
      GC.Collect();
      GC.WaitForPendingFinalizers();
    }
    Assert.That(location.Ward, Is.EqualTo(Samples.Ward));
    Assert.That(location.Address, Is.EqualTo(Samples.Address));
  }
}

}
