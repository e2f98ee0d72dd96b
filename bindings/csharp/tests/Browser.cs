// A browser without JavaScript for the sign-in pages: GET a page, POST a form, never follow
// redirects. Plain HTTP only: Mono's TLS cannot read the sandbox's ECDSA certificate, so the
// sign-in tests use the sandbox's plain listener as their issuer.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Hues.Sdk.Tests {

sealed class Page {
  public int Status;
  public string Body;
  public string Location;
}

sealed class Browser {
  public const string Password = "HueS-demo-2025";
  // The sign-in forms are bound to a cookie (CSRF protection), as in a real browser.
  readonly CookieContainer cookies = new CookieContainer();

  public Page Send(string method, string url, IDictionary<string, string> form = null) {
    var req = (HttpWebRequest)WebRequest.Create(url);
    req.CookieContainer = cookies;
    req.Method = method;
    req.AllowAutoRedirect = false;
    req.Timeout = req.ReadWriteTimeout = 10000;
    if (form != null) {
      var body = Encoding.UTF8.GetBytes(string.Join("&", form.Select(
          f => Uri.EscapeDataString(f.Key) + "=" + Uri.EscapeDataString(f.Value))));
      req.ContentType = "application/x-www-form-urlencoded";
      using (var s = req.GetRequestStream()) s.Write(body, 0, body.Length);
    }
    HttpWebResponse res;
    try {
      res = (HttpWebResponse)req.GetResponse();
    } catch (WebException e) when (e.Response != null) {
      res = (HttpWebResponse)e.Response;
    }
    using (res)
    using (var reader = new StreamReader(res.GetResponseStream(), Encoding.UTF8))
      return new Page { Status = (int)res.StatusCode, Body = reader.ReadToEnd(), Location = res.Headers["Location"] };
  }

  // The named inputs of a page's forms (hidden ones carry the authorization request).
  public static Dictionary<string, string> FormFields(string html) {
    var fields = new Dictionary<string, string>();
    foreach (Match input in Regex.Matches(html, @"<input\b[^>]*>", RegexOptions.IgnoreCase)) {
      var name = Regex.Match(input.Value, "\\bname\\s*=\\s*\"([^\"]*)\"", RegexOptions.IgnoreCase);
      var value = Regex.Match(input.Value, "\\bvalue\\s*=\\s*\"([^\"]*)\"", RegexOptions.IgnoreCase);
      if (name.Success)
        fields[WebUtility.HtmlDecode(name.Groups[1].Value)] = value.Success ? WebUtility.HtmlDecode(value.Groups[1].Value) : "";
    }
    return fields;
  }

  // Logs username in on the authorize page at url; returns the redirect's Location.
  public static string SignIn(string url, string username, string decision = "approve") {
    var browser = new Browser();
    var page = browser.Send("GET", url);
    Assert.That(page.Status, Is.EqualTo(200), page.Body);
    var fields = FormFields(page.Body);
    fields["username"] = username;
    fields["password"] = Password;
    fields["decision"] = decision;
    var res = browser.Send("POST", SandboxFixture.Sandbox.Url + "/oauth/authorize", fields);
    Assert.That(res.Status, Is.EqualTo(302), res.Body);
    return res.Location;
  }

  // Approves or denies a device's user code on the verification page.
  public static void Device(DeviceAuthorization device, string username, string decision) {
    var browser = new Browser();
    var page = browser.Send("GET", string.IsNullOrEmpty(device.VerificationUriComplete)
                               ? device.VerificationUri : device.VerificationUriComplete);
    Assert.That(page.Status, Is.EqualTo(200), page.Body);
    var fields = FormFields(page.Body);
    fields["user_code"] = device.UserCode;
    fields["username"] = username;
    fields["password"] = Password;
    fields["decision"] = decision;
    var res = browser.Send("POST", SandboxFixture.Sandbox.Url + "/device", fields);
    Assert.That(res.Status, Is.EqualTo(200), res.Body);
  }
}

}
