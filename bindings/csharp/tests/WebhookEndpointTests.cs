// client.Webhooks from C# (blocking, Task + CancellationToken, IEnumerable and AsyncPageable
// lists) against the shared sandbox, and real Standard Webhooks deliveries to an HttpListener
// on a loopback socket, checked with the generated WebhookVerifier: a status change made by
// the IOC (signed in through the sandbox's provider), tampering, a wrong secret, an old
// timestamp and a replay refused, and both signatures while a rotation's grace runs.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Hues.Sdk.Tests {

// A partner's endpoint: .NET's HttpListener on 127.0.0.1, recording each POST's headers and
// raw body bytes, answering 204.
sealed class WebhookReceiver : IDisposable {
  public sealed class Delivery {
    public readonly Dictionary<string, string> Headers;
    public readonly byte[] Body;
    public Delivery(Dictionary<string, string> headers, byte[] body) { Headers = headers; Body = body; }
    public string Header(string name) {
      foreach (var kv in Headers)
        if (string.Equals(kv.Key, name, StringComparison.OrdinalIgnoreCase)) return kv.Value;
      return null;
    }
    // The headers with one replaced.
    public Dictionary<string, string> With(string name, string value) {
      var h = Headers.Where(kv => !string.Equals(kv.Key, name, StringComparison.OrdinalIgnoreCase))
                     .ToDictionary(kv => kv.Key, kv => kv.Value);
      h[name] = value;
      return h;
    }
    public string Text { get { return Encoding.UTF8.GetString(Body); } }
  }

  readonly HttpListener listener = new HttpListener();
  readonly BlockingCollection<Delivery> got = new BlockingCollection<Delivery>();
  readonly Thread thread;

  public WebhookReceiver() {
    var probe = new TcpListener(IPAddress.Loopback, 0);
    probe.Start();
    int port = ((IPEndPoint)probe.LocalEndpoint).Port;
    probe.Stop();
    Url = "http://127.0.0.1:" + port + "/hooks/";
    listener.Prefixes.Add(Url);
    listener.Start();
    thread = new Thread(Serve) { IsBackground = true };
    thread.Start();
  }

  public string Url { get; }

  void Serve() {
    while (true) {
      HttpListenerContext c;
      try {
        c = listener.GetContext();
      } catch (Exception) {
        return;  // stopped
      }
      byte[] body;
      using (var ms = new MemoryStream()) {
        c.Request.InputStream.CopyTo(ms);
        body = ms.ToArray();
      }
      var headers = new Dictionary<string, string>();
      foreach (string k in c.Request.Headers.AllKeys) headers[k] = c.Request.Headers[k];
      c.Response.StatusCode = 204;
      c.Response.Close();
      if (c.Request.HttpMethod == "POST") got.Add(new Delivery(headers, body));
    }
  }

  // The next delivery whose body mentions text (a report id), skipping others; fails after 20 s.
  public Delivery Next(string text) {
    var end = DateTime.UtcNow.AddSeconds(20);
    while (true) {
      var left = end - DateTime.UtcNow;
      Delivery d;
      if (left <= TimeSpan.Zero || !got.TryTake(out d, left)) throw new AssertionException("no delivery about " + text);
      if (d.Text.Contains(text)) return d;
    }
  }

  public void Dispose() {
    listener.Stop();
    listener.Close();
    thread.Join(5000);
  }
}

[TestFixture, Timeout(120000)]
public class WebhookEndpointTests {
  const string Text = "Cây đổ chắn ngang đường Lê Lợi sau bão, gần cầu Trường Tiền";

  static NewReport Report() {
    return new NewReport("urban_order", Text, new Location(16.4668, 107.5905, "Đường Lê Lợi", "Vĩnh Ninh"));
  }

  static NewWebhookEndpoint Endpoint(string url, string description) {
    return new NewWebhookEndpoint(url, new[] { WebhookEventType.ReportStatusChanged, WebhookEventType.ReportCommented },
                                  description);
  }

  static string Refused(WebhookVerifier v, byte[] body, IReadOnlyDictionary<string, string> h) {
    return Assert.Throws<WebhookVerificationException>(() => v.Verify(body, h)).Code;
  }

  // The log's attempts of one message, once there are n (the log is written after the answer).
  static List<WebhookDelivery> Attempts(WebhooksService hooks, string endpointId, string messageId, int n) {
    var end = DateTime.UtcNow.AddSeconds(20);
    while (true) {
      var all = hooks.ListDeliveriesAsync(endpointId, new WebhookDeliveryQuery(limit: 2)).ToListAsync().GetAwaiter().GetResult();
      var mine = all.Where(d => d.MessageId == messageId).ToList();
      if (mine.Count >= n || DateTime.UtcNow > end) return mine;
      Thread.Sleep(50);
    }
  }

  static T Wait<T>(Task<T> task) { return task.GetAwaiter().GetResult(); }

  [Test]
  public void EveryOperationFromCSharp() {
    using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
    using (var partner = SandboxFixture.Sandbox.CreateClient())
    using (var rx = new WebhookReceiver()) {
      var ct = cts.Token;
      var hooks = partner.Webhooks;
      var made = Wait(hooks.CreateEndpointAsync(Endpoint(rx.Url, "Taxi Huế: trạng thái phản ánh"), ct));
      var secret = made.Secret;
      StringAssert.IsMatch("^whsec_[A-Za-z0-9+/]+=*$", secret);
      Assert.That(Convert.FromBase64String(secret.Substring(6)).Length, Is.EqualTo(32));
      Assert.That(made.ToString(), Is.Not.StringContaining(secret.Substring(6, 14)));
      Assert.That(made.Description, Is.EqualTo("Taxi Huế: trạng thái phản ánh"));
      Assert.That(made.Enabled, Is.True);

      var got = hooks.GetEndpoint(made.Id);
      Assert.That(got.Url, Is.EqualTo(made.Url));
      Assert.That(got.EventTypes, Is.EqualTo(made.EventTypes));
      var other = hooks.CreateEndpoint(Endpoint(rx.Url + "other/", "thứ hai"));
      var ids = hooks.ListEndpoints(new WebhookEndpointQuery(limit: 1)).Select(e => e.Id).ToList();
      Assert.That(ids.IndexOf(made.Id), Is.LessThan(ids.IndexOf(other.Id)));  // oldest first, every page
      var listed = Wait(hooks.ListEndpointsAsync(new WebhookEndpointQuery(limit: 1), ct).ToListAsync(ct));
      Assert.That(listed.Select(e => e.Id), Is.EqualTo(ids));
      var page = Wait(hooks.ListEndpointsPageAsync(new WebhookEndpointQuery(limit: 1), ct));
      Assert.That(page.Items.Count, Is.EqualTo(1));
      Assert.That(page.NextCursor, Is.Not.Empty);
      Assert.That(Wait(hooks.DeleteEndpointAsync(other.Id, ct)).Id, Is.EqualTo(other.Id));

      // Disabled, it is sent nothing; enabled again, the next event reaches it.
      var off = Wait(hooks.UpdateEndpointAsync(made.Id, new WebhookEndpointUpdate(enabled: false, description: "tạm dừng"), ct));
      Assert.That((off.Enabled, off.Description), Is.EqualTo((false, "tạm dừng")));
      Assert.That(off.EventTypes, Is.EqualTo(made.EventTypes));  // left out: kept
      var unseen = Wait(partner.Reports.CreateAsync(Report(), ct));
      Assert.That(hooks.UpdateEndpoint(made.Id, new WebhookEndpointUpdate(enabled: true)).Enabled, Is.True);
      var seen = Wait(partner.Reports.CreateAsync(Report(), ct));
      var d = rx.Next("\"report_id\"");
      Assert.That(d.Text, Is.StringContaining(seen.Id).And.Not.StringContaining(unseen.Id));

      // The delivery log, then replays by message id and by attempt id: same webhook-id.
      var messageId = d.Header("webhook-id");
      var log = Attempts(hooks, made.Id, messageId, 1);
      Assert.That(log.Select(a => (a.Attempt, a.StatusCode, a.Error)), Is.EqualTo(new[] { (1, 204, "") }));
      Assert.That(log[0].MessageState, Is.EqualTo(WebhookMessageState.Delivered));
      var again = Wait(hooks.ReplayAsync(made.Id, new WebhookReplay(messageId: messageId), ct));
      Assert.That((again.Id, again.State), Is.EqualTo((messageId, WebhookMessageState.Pending)));
      var replayed = rx.Next(seen.Id);
      Assert.That((replayed.Header("webhook-id"), replayed.Text), Is.EqualTo((messageId, d.Text)));
      var both = Attempts(hooks, made.Id, messageId, 2);
      Assert.That(both.Select(a => a.Attempt), Is.EqualTo(new[] { 2, 1 }));  // newest first
      Assert.That(hooks.Replay(made.Id, new WebhookReplay(deliveryId: both[1].Id)).Id, Is.EqualTo(messageId));
      rx.Next(seen.Id);

      var rotated = Wait(hooks.RotateSecretAsync(made.Id, ct));
      Assert.That(rotated.Secret, Is.Not.EqualTo(secret));
      StringAssert.StartsWith("whsec_", rotated.Secret);
      Assert.That(rotated.ToString(), Is.Not.StringContaining(rotated.Secret.Substring(6, 14)));
      Assert.That(rotated.PreviousExpiresAt, Is.GreaterThan(DateTimeOffset.UtcNow.AddHours(1)));

      Assert.That(hooks.DeleteEndpoint(made.Id).Id, Is.EqualTo(made.Id));
      Assert.Throws<NotFoundException>(() => hooks.GetEndpoint(made.Id));
      Assert.Throws<NotFoundException>(() => Wait(hooks.RotateSecretAsync(made.Id, ct)));
      // A cancelled token: the call ends cancelled, nothing is made.
      var before = hooks.ListEndpoints().Count();
      using (var cancelled = new CancellationTokenSource()) {
        cancelled.Cancel();
        Assert.Catch<OperationCanceledException>(
            () => Wait(hooks.CreateEndpointAsync(Endpoint(rx.Url, "huỷ"), cancelled.Token)));
      }
      Assert.That(hooks.ListEndpoints().Count(), Is.EqualTo(before));
    }
  }

  [Test]
  public void ARealDeliveryVerifiesAndBothSecretsDuringARotation() {
    using (var oidc = IdentityTests.App())
    using (var iocUser = IdentityTests.SignedIn(oidc, "le.ioc"))
    using (var ioc = IdentityTests.ClientWith(iocUser, tls: false))
    using (var partner = SandboxFixture.Sandbox.CreateClient())
    using (var rx = new WebhookReceiver()) {
      var ep = partner.Webhooks.CreateEndpoint(Endpoint(rx.Url, "Taxi Huế"));
      var r = partner.Reports.Create(Report());
      rx.Next(r.Id);  // submitted
      r = ioc.Reports.Receive(r.Id, "\"" + r.Version + "\"", new TransitionNote("Đã tiếp nhận"));
      var d = rx.Next(r.Id);
      StringAssert.StartsWith("application/json", d.Header("content-type"));

      using (var v = new WebhookVerifier(secret: ep.Secret))
      using (var wrong = new WebhookVerifier(secret: "whsec_" + Convert.ToBase64String(new byte[32]))) {
        var tampered = Encoding.UTF8.GetBytes(d.Text.Replace("received", "rejected"));
        Assert.That(Refused(v, tampered, d.Headers), Is.EqualTo("no_matching_signature"));
        Assert.That(Refused(wrong, d.Body, d.Headers), Is.EqualTo("no_matching_signature"));
        var old = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 301).ToString();
        Assert.That(Refused(v, d.Body, d.With("webhook-timestamp", old)), Is.EqualTo("timestamp_too_old"));
        var e = v.Verify(d.Body, d.Headers);
        Assert.That(e.Type, Is.EqualTo(WebhookEventType.ReportStatusChanged));
        Assert.That((e.Data.ReportId, e.Data.Status, e.Data.ActorRole.Value), Is.EqualTo((r.Id, ReportStatus.Received, "ioc")));
        Assert.That(Refused(v, d.Body, d.Headers), Is.EqualTo("replayed"));
      }

      // During the grace both signatures come, and the old secret still verifies.
      var rotated = partner.Webhooks.RotateSecret(ep.Id);
      r = ioc.Reports.Assign(r.Id, "\"" + r.Version + "\"", new Assignment("UBND_DONG_BA", "Chuyển UBND phường Đông Ba"));
      var two = rx.Next(r.Id);
      var signatures = two.Header("webhook-signature").Split(' ');
      Assert.That(signatures.Length, Is.EqualTo(2), two.Header("webhook-signature"));
      using (var oldOnly = new WebhookVerifier(secret: ep.Secret))
      using (var newOnly = new WebhookVerifier(secret: rotated.Secret)) {
        Assert.That(oldOnly.Verify(two.Body, two.Headers).Data.Status, Is.EqualTo(ReportStatus.Assigned));
        Assert.That(newOnly.VerifyAsync(two.Body, two.Headers).GetAwaiter().GetResult().Data.Status,
                    Is.EqualTo(ReportStatus.Assigned));
        // The second signature alone is the old secret's: the new secret does not match it.
        Assert.That(Refused(newOnly, two.Body, two.With("webhook-signature", signatures[1])),
                    Is.EqualTo("no_matching_signature"));
      }
      partner.Webhooks.DeleteEndpoint(ep.Id);
    }
  }
}

}
