// The sandbox's Open311 GeoReport v2 facade by plain HTTP (WebClient; it is not part of the
// SDK), against what the SDK reads and writes (tests/contract/test_open311.py covers the
// protocol).
using System;
using System.Collections.Specialized;
using System.Net;
using System.Text;
using System.Xml;
using NUnit.Framework;

namespace Hues.Sdk.Tests {

[TestFixture]
public class Open311Tests {
  HuesClient client;

  [TestFixtureSetUp]
  public void SetUp() { client = SandboxFixture.Sandbox.CreateClient(); }

  [TestFixtureTearDown]
  public void TearDown() { client.Dispose(); }

  static string V2 { get { return SandboxFixture.Sandbox.Url + "/open311/v2"; } }

  static XmlElement Xml(byte[] body) {
    var doc = new XmlDocument();
    doc.LoadXml(Encoding.UTF8.GetString(body));
    return doc.DocumentElement;
  }

  // The status and body of a request that may fail (WebClient throws on 4xx).
  static int Send(Func<WebClient, byte[]> call, out byte[] body, out string contentType) {
    using (var web = new WebClient()) {
      try {
        body = call(web);
        contentType = web.ResponseHeaders["Content-Type"];
        return 200;
      } catch (WebException e) {
        var res = (HttpWebResponse)e.Response;
        using (var s = res.GetResponseStream()) {
          var buf = new System.IO.MemoryStream();
          s.CopyTo(buf);
          body = buf.ToArray();
        }
        contentType = res.ContentType;
        return (int)res.StatusCode;
      }
    }
  }

  [Test]
  public void AGeoReportPostIsAReportTheSdkReads() {
    var form = new NameValueCollection {
      {"api_key", SandboxFixture.Sandbox.ApiKey}, {"service_code", "street_light"}, {"lat", "16.4726"},
      {"long", "107.5885"}, {"description", Samples.Description}, {"attribute[light_state]", "off"}};
    byte[] body;
    string type;
    // UploadValues form-encodes as UTF-8 and answers any 2xx (201 here) without throwing.
    Assert.That(Send(w => w.UploadValues(V2 + "/requests.xml", form), out body, out type), Is.EqualTo(200));
    Assert.That(type, Is.EqualTo("text/xml; charset=utf-8"));
    var root = Xml(body);
    Assert.That(root.Name, Is.EqualTo("service_requests"));
    var id = root.SelectSingleNode("request/service_request_id").InnerText;
    var report = client.Reports.Get(id);
    Assert.That(Encoding.UTF8.GetBytes(report.Description), Is.EqualTo(Encoding.UTF8.GetBytes(Samples.Description)));
    Assert.That(report.Category, Is.EqualTo("street_light"));
  }

  [Test]
  public void AnSdkReportShowsInTheFacadeXml() {
    var created = client.Reports.Create(Samples.Report("flooding", "Ngập sâu ở đường Phan Đình Phùng sau mưa lớn"));
    byte[] body;
    string type;
    Assert.That(Send(w => w.DownloadData(V2 + "/requests/" + created.Id + ".xml"), out body, out type), Is.EqualTo(200));
    var request = Xml(body).SelectSingleNode("request");
    Assert.That(request.SelectSingleNode("service_request_id").InnerText, Is.EqualTo(created.Id));
    Assert.That(request.SelectSingleNode("description").InnerText, Is.EqualTo("Ngập sâu ở đường Phan Đình Phùng sau mưa lớn"));
    Assert.That(request.SelectSingleNode("status").InnerText, Is.EqualTo("open"));
  }

  [Test]
  public void ErrorsInTheGeoReportShape() {
    byte[] body;
    string type;
    var form = new NameValueCollection {{"api_key", "hk_sai"}, {"service_code", "street_light"}};
    Assert.That(Send(w => w.UploadValues(V2 + "/requests.xml", form), out body, out type), Is.EqualTo(403));
    Assert.That(Xml(body).SelectSingleNode("error/code").InnerText, Is.EqualTo("403"));
    Assert.That(Send(w => w.DownloadData(V2 + "/services/ngap_lut.json"), out body, out type), Is.EqualTo(404));
    StringAssert.StartsWith("[{\"code\":404,", Encoding.UTF8.GetString(body));
  }
}

}  // namespace Hues.Sdk.Tests
