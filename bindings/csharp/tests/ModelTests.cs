// Generated models on their own: secrets never printed, absent vs default vs zero, open
// enums, exact numbers, timestamps, JSON round trips. No network here.
using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;

namespace Hues.Sdk.Tests {

[TestFixture]
public class ModelTests {
  [Test]
  public void SecretsNeverAppearInToString() {
    var tokens = new TokenSet(accessToken: "hat_secret_access", refreshToken: "hrt_secret_refresh",
                              idToken: "eyJ.secret.id", scope: "openid", expiresAt: 1767225600);
    var s = tokens.ToString();
    foreach (var secret in new[] { "hat_secret_access", "hrt_secret_refresh", "eyJ.secret.id" })
      Assert.That(s.Contains(secret), Is.False, s);
    StringAssert.Contains("AccessToken = ***", s);
    StringAssert.Contains("Scope = \"openid\"", s);
    StringAssert.Contains("ExpiresAt = 1767225600", s);
    StringAssert.Contains("AccessToken = null", new TokenSet().ToString());

    var options = new ClientOptions("https://api.hue-s.vn", apiKey: "hk_live_do_not_print", proxy: "http://user:pw@proxy:3128");
    Assert.That(options.ToString().Contains("hk_live_do_not_print"), Is.False, options.ToString());
    Assert.That(options.ToString().Contains("pw@proxy"), Is.False, options.ToString());
    var oidc = new OidcOptions("https://id.hue-s.vn", "app", clientSecret: "taxi-secret-2025");
    Assert.That(oidc.ToString().Contains("taxi-secret-2025"), Is.False);
    var request = new AuthorizationRequest("https://id/authorize", "http://127.0.0.1/cb", "state_s3cret", "nonce_s3cret", "verifier_s3cret");
    foreach (var secret in new[] { "state_s3cret", "nonce_s3cret", "verifier_s3cret" })
      Assert.That(request.ToString().Contains(secret), Is.False);
    var device = new DeviceAuthorization("dc_s3cret", "BCDF-GHJK", "https://id/device", "https://id/device?c", 600, 5);
    Assert.That(device.ToString().Contains("dc_s3cret"), Is.False);
    StringAssert.Contains("BCDF-GHJK", device.ToString());
    // Equality still sees them (two token sets differing only in a secret differ).
    Assert.That(tokens.WithAccessToken("hat_other"), Is.Not.EqualTo(tokens));
  }

  [Test]
  public void AbsentOptionalIsNotZero() {
    var absent = new TokenSet();
    var zero = new TokenSet(expiresAt: 0);
    Assert.That(absent.ExpiresAt, Is.Null);
    Assert.That(zero.ExpiresAt, Is.EqualTo(0));
    Assert.That(absent, Is.Not.EqualTo(zero));
    Assert.That(absent.ToJson(), Is.EqualTo("{}"));
    Assert.That(zero.ToJson(), Is.EqualTo("{\"expires_at\":0}"));
    Assert.That(TokenSet.FromJson("{}").ExpiresAt, Is.Null);
    Assert.That(TokenSet.FromJson("{\"expires_at\":0}").ExpiresAt, Is.EqualTo(0));
    Assert.That(TokenSet.FromJson("{\"expires_at\":null}").ExpiresAt, Is.Null);
    // An optional string: absent (null) vs empty.
    Assert.That(Agency.FromJson("{\"code\":\"X\",\"name_vi\":\"Phường\",\"name_en\":\"W\",\"kind\":\"ward\",\"phone\":\"\"}").Ward, Is.Null);
    Assert.That(Agency.FromJson("{\"code\":\"X\",\"name_vi\":\"Phường\",\"name_en\":\"W\",\"kind\":\"ward\",\"phone\":\"\",\"ward\":\"\"}").Ward, Is.EqualTo(""));
  }

  [Test]
  public void DefaultsApplyWhenAbsentAndRequiredFieldsAreRequired() {
    var r = new NewReport("street_light", "Đèn hỏng", new Location(0, 0));
    Assert.That(r.Anonymous, Is.False);
    Assert.That(r.Visibility, Is.EqualTo(Visibility.Public));
    Assert.That(r.Media, Is.Empty);
    Assert.That(r.Location.Address, Is.EqualTo(""));
    StringAssert.Contains("\"location\":{\"lat\":0,\"lon\":0", r.ToJson());
    // A report without a location cannot be made (it used to be stored at 0,0).
    var e = Assert.Throws<ArgumentNullException>(() => new NewReport("street_light", "Đèn hỏng", null));
    Assert.That(e.ParamName, Is.EqualTo("location"));
    // Decoding a report without a required field fails, naming it.
    var p = Assert.Throws<ProtocolException>(() => Location.FromJson("{\"lat\":1}"));
    StringAssert.Contains("Location.lon", p.Message);
    var c = new ClientOptions("http://x");
    Assert.That(c.ConnectTimeoutMs, Is.EqualTo(10000));
    Assert.That(c.LogLevel, Is.EqualTo(LogLevel.Info));
    Assert.That(c.ApiKey, Is.Null);
    Assert.That(new RetryPolicy().Multiplier, Is.EqualTo(2.0));
  }

  [Test]
  public void OpenEnumsKeepUnknownValues() {
    var known = ReportStatus.FromValue("in_progress");
    Assert.That(known, Is.SameAs(ReportStatus.InProgress));
    Assert.That(known.IsKnown, Is.True);
    var unknown = ReportStatus.FromValue("escalated");
    Assert.That(unknown.IsKnown, Is.False);
    Assert.That(unknown.Value, Is.EqualTo("escalated"));
    Assert.That(unknown.ToString(), Is.EqualTo("escalated"));
    Assert.That(unknown == ReportStatus.FromValue("escalated"), Is.True);
    Assert.That(ReportStatus.Values, Has.Member(ReportStatus.Rated));
    Assert.That(ReportStatus.Values, Has.No.Member(unknown));
  }

  [Test]
  public void DoublesRoundTripExactlyThroughTheJsonCodec() {
    var rng = new Random(42);
    var bytes = new byte[8];
    int checkedCount = 0;
    for (int i = 0; i < 200000; i++) {
      rng.NextBytes(bytes);
      double d = BitConverter.ToDouble(bytes, 0);
      if (double.IsNaN(d) || double.IsInfinity(d)) continue;
      var text = new Location(d, 0).ToJson();
      double back = Location.FromJson(text).Lat;
      if (BitConverter.DoubleToInt64Bits(back) != BitConverter.DoubleToInt64Bits(d))
        Assert.Fail(d.ToString("G17") + " came back as " + back.ToString("G17") + " via " + text);
      checkedCount++;
    }
    Assert.That(checkedCount, Is.GreaterThan(190000));
    var loc = new Location(16.4726, 107.5885);
    Assert.That(loc.ToJson(), Is.EqualTo("{\"lat\":16.4726,\"lon\":107.5885,\"address\":\"\",\"ward\":\"\"}"));
    Assert.That(Location.FromJson(new Location(0.1 + 0.2, -0.0).ToJson()).Lat, Is.EqualTo(0.1 + 0.2));
  }

  [Test]
  public void NumbersIgnoreTheThreadCulture() {
    var saved = System.Threading.Thread.CurrentThread.CurrentCulture;
    try {
      System.Threading.Thread.CurrentThread.CurrentCulture = new System.Globalization.CultureInfo("vi-VN");
      Assert.That(new Location(16.4726, 107.5885).ToJson(), Is.StringContaining("16.4726"));
      Assert.That(Location.FromJson("{\"lat\":16.4726,\"lon\":1e2}").Lon, Is.EqualTo(100.0));
    } finally {
      System.Threading.Thread.CurrentThread.CurrentCulture = saved;
    }
  }

  [Test]
  public void VietnameseTextRoundTripsThroughJson() {
    var s = "Ngập nước sâu khoảng 40 cm trên đường Phan Đình Phùng \"quận\" \\ \u0001 🌧";
    var loc = new Location(1, 2, address: s);
    Assert.That(Location.FromJson(loc.ToJson()).Address, Is.EqualTo(s));
    Assert.That(Location.FromJson("{\"lat\":1,\"lon\":2,\"address\":\"\\u0110\\u00f4ng Ba \\ud83c\\udf27\"}").Address, Is.EqualTo("Đông Ba 🌧"));
  }

  [Test]
  public void TimestampsAreDateTimeOffsetsInUtc() {
    var e = TimelineEntry.FromJson("{\"at\":\"2026-11-28T09:16:16Z\",\"status\":\"submitted\",\"actor_role\":\"citizen\",\"actor\":\"\",\"note\":\"\",\"attachments\":[]}");
    Assert.That(e.At, Is.EqualTo(new DateTimeOffset(2026, 11, 28, 9, 16, 16, TimeSpan.Zero)));
    Assert.That(e.ToJson(), Is.StringContaining("\"at\":\"2026-11-28T09:16:16Z\""));
    var f = TimelineEntry.FromJson("{\"at\":\"2026-11-28T09:16:16.25Z\",\"status\":\"x\",\"actor_role\":\"ioc\",\"actor\":\"\",\"note\":\"n\",\"attachments\":[]}");
    Assert.That(f.At.Millisecond, Is.EqualTo(250));
    Assert.That(f.ToJson(), Is.StringContaining("\"at\":\"2026-11-28T09:16:16.25Z\""));
  }
}

}
