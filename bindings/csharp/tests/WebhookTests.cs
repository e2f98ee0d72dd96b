// The generated WebhookVerifier (the C++ core verifies): valid, tampered, wrong secret, old
// and future timestamps, replay, two signatures with one valid, secrets never printed.
// Signatures are made here with System.Security.Cryptography.
using System;
using System.Collections.Generic;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Hues.Sdk.Tests {

[TestFixture]
public class WebhookTests {
  static readonly string Secret = "whsec_" + Convert.ToBase64String(new byte[32]);
  static readonly string Other = "whsec_" + Convert.ToBase64String(Encoding.ASCII.GetBytes(new string('z', 40)));
  static readonly byte[] Body = Encoding.UTF8.GetBytes(
      "{\"type\":\"report.status_changed\",\"timestamp\":\"2026-11-28T09:16:16Z\"," +
      "\"data\":{\"report_id\":\"rpt_Thừa_Thiên\",\"status\":\"assigned\",\"actor_role\":\"ioc\"}}");

  static long Now() { return DateTimeOffset.UtcNow.ToUnixTimeSeconds(); }

  static string Sign(string secret, string id, long ts, byte[] body) {
    using (var mac = new HMACSHA256(Convert.FromBase64String(secret.Substring(6)))) {
      var prefix = Encoding.UTF8.GetBytes(id + "." + ts + ".");
      var all = new byte[prefix.Length + body.Length];
      Buffer.BlockCopy(prefix, 0, all, 0, prefix.Length);
      Buffer.BlockCopy(body, 0, all, prefix.Length, body.Length);
      return "v1," + Convert.ToBase64String(mac.ComputeHash(all));
    }
  }

  static Dictionary<string, string> Headers(string secret, string id, long ts, byte[] body) {
    return new Dictionary<string, string> {
      { "Webhook-Id", id }, { "webhook-timestamp", ts.ToString() }, { "WEBHOOK-SIGNATURE", Sign(secret, id, ts, body) } };
  }

  static string Refused(WebhookVerifier v, byte[] body, Dictionary<string, string> h) {
    return Assert.Throws<WebhookVerificationException>(() => v.Verify(body, h)).Code;
  }

  [Test]
  public void VerifiesAndRefusesEachWay() {
    using (var v = new WebhookVerifier(secret: Secret)) {
      var e = v.Verify(Body, Headers(Secret, "msg_c1", Now(), Body));
      Assert.That(e.Type, Is.EqualTo(WebhookEventType.ReportStatusChanged));
      Assert.That(e.Data.ReportId, Is.EqualTo("rpt_Thừa_Thiên"));
      var tampered = (byte[])Body.Clone();
      tampered[12] ^= 1;
      Assert.That(Refused(v, tampered, Headers(Secret, "msg_c2", Now(), Body)), Is.EqualTo("no_matching_signature"));
      Assert.That(Refused(v, Body, Headers(Other, "msg_c3", Now(), Body)), Is.EqualTo("no_matching_signature"));
      Assert.That(Refused(v, Body, Headers(Secret, "msg_c4", Now() - 301, Body)), Is.EqualTo("timestamp_too_old"));
      Assert.That(Refused(v, Body, Headers(Secret, "msg_c5", Now() + 301, Body)), Is.EqualTo("timestamp_too_new"));
      Assert.That(Refused(v, Body, Headers(Secret, "msg_c1", Now(), Body)), Is.EqualTo("replayed"));
    }
  }

  [Test]
  public void TwoSignaturesOneValidAsync() {
    using (var v = new WebhookVerifier(secrets: new[] { Other, Secret }, toleranceSeconds: 60)) {
      long ts = Now();
      var h = Headers(Secret, "msg_c6", ts, Body);
      h["WEBHOOK-SIGNATURE"] = Sign("whsec_" + Convert.ToBase64String(new byte[] { 5, 6, 7 }), "msg_c6", ts, Body) + " " +
                               h["WEBHOOK-SIGNATURE"];
      var e = v.VerifyAsync(Body, h).GetAwaiter().GetResult();
      Assert.That(e.Data.Status, Is.EqualTo(ReportStatus.Assigned));
      var ex = Assert.Throws<WebhookVerificationException>(() => v.VerifyAsync(Body, h).GetAwaiter().GetResult());
      Assert.That(ex.Code, Is.EqualTo("replayed"));
    }
  }

  [Test]
  public void SecretsNeverPrintedAndABadOneNamesItsField() {
    var config = new WebhookVerifierConfig(secret: Secret, secrets: new[] { Other });
    using (var v = new WebhookVerifier(config)) {
      foreach (var s in new[] { config.ToString(), v.ToString() }) {
        Assert.That(s.Contains(Secret.Substring(6, 14)), Is.False, s);
        Assert.That(s.Contains(Other.Substring(6, 14)), Is.False, s);
      }
    }
    var bad = Assert.Throws<ValidationException>(() => new WebhookVerifier(secrets: new[] { "whsec_%%%" }));
    Assert.That(bad.Field, Is.EqualTo("secrets[0]"));
  }
}

}
