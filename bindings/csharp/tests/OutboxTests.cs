// The offline outbox from C#: queued with nothing listening, delivered once and in order when
// a sandbox comes up on that port (the listener told with the server's ids), a refusal that
// fails for good, cancel, reopen from the file, Vietnamese text byte for byte.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using Hues.Sdk.Testing;
using NUnit.Framework;

namespace Hues.Sdk.Tests {

[TestFixture]
public class OutboxTests {
  const string Vi = "Ngập sâu 40 cm trên đường Phan Đình Phùng, xe máy chết máy; cần hỗ trợ gấp! 🌧";

  sealed class Events : IOutboxListener {
    public readonly List<OutboxItem> DeliveredItems = new List<OutboxItem>();
    public readonly List<OutboxItem> FailedItems = new List<OutboxItem>();
    public readonly List<int> Threads = new List<int>();
    public void Delivered(OutboxItem item) {
      lock (this) { DeliveredItems.Add(item); Threads.Add(Thread.CurrentThread.ManagedThreadId); Monitor.PulseAll(this); }
    }
    public void Failed(OutboxItem item) {
      lock (this) { FailedItems.Add(item); Monitor.PulseAll(this); }
    }
    public void Await(int delivered, int failed) {
      var end = DateTime.UtcNow.AddSeconds(30);
      lock (this) {
        while ((DeliveredItems.Count < delivered || FailedItems.Count < failed) && DateTime.UtcNow < end)
          Monitor.Wait(this, 100);
        Assert.That(DeliveredItems.Count >= delivered && FailedItems.Count >= failed, "listener events");
      }
    }
  }

  static int FreePort() {
    var l = new TcpListener(IPAddress.Loopback, 0);
    l.Start();
    int port = ((IPEndPoint)l.LocalEndpoint).Port;
    l.Stop();
    return port;
  }

  static string TempDir() {
    var d = Path.Combine(Path.GetTempPath(), "hues-outbox-cs-" + Guid.NewGuid().ToString("N").Substring(0, 8));
    Directory.CreateDirectory(d);
    return d;
  }

  static NewReport Report(string text, string category = "street_light") {
    return new NewReport(category, text, new Location(16.4726, 107.5885, address: Samples.Address, ward: Samples.Ward));
  }

  [Test]
  public void QueuedOfflineThenDeliveredOnceInOrderWithEvents() {
    int port = FreePort();
    var dir = TempDir();
    var word = "obx" + Guid.NewGuid().ToString("N").Substring(0, 8);
    var events = new Events();
    var texts = Enumerable.Range(0, 3).Select(i => Vi + " " + word + " #" + i).ToList();
    using (var offline = new HuesClient("http://127.0.0.1:" + port, apiKey: "hk_test_hue_s_sandbox_0001", deadlineMs: 8000))
    using (var outbox = new Outbox(offline, Path.Combine(dir, "outbox.db"), events, initialBackoffMs: 20, maxBackoffMs: 200)) {
      var ids = texts.Select(t => outbox.Enqueue(Report(t)).LocalId).ToList();
      Assert.That(ids.Distinct().Count(), Is.EqualTo(3));
      Assert.That(outbox.WaitIdle(300), Is.False);
      var items = outbox.Items().Items;
      Assert.That(items.Select(i => i.LocalId), Is.EqualTo(ids));
      Assert.That(items.Select(i => i.Report.Description), Is.EqualTo(texts));
      Assert.That(items.All(i => !i.State.Equals(OutboxItemState.Delivered)), Is.True);
      var until = DateTime.UtcNow.AddSeconds(20);  // the head's attempt ends with the refused connection
      while (string.IsNullOrEmpty(items[0].LastError) && DateTime.UtcNow < until) {
        Thread.Sleep(20);
        items = outbox.Items().Items;
      }
      StringAssert.Contains("connection", items[0].LastError);
      Assert.That(items[1].Attempts, Is.EqualTo(0));

      using (var sb = new Sandbox(port: port, tlsPort: -1))
      using (var online = sb.CreateClient()) {
        Assert.That(outbox.WaitIdle(30000), Is.True);
        events.Await(3, 0);
        items = outbox.Items().Items;
        Assert.That(items.All(i => i.State.Equals(OutboxItemState.Delivered)), Is.True);
        lock (events) {
          Assert.That(events.DeliveredItems.Select(e => e.LocalId), Is.EqualTo(ids));
          Assert.That(events.DeliveredItems.Select(e => e.ReportId), Is.EqualTo(items.Select(i => i.ReportId)));
          Assert.That(events.FailedItems, Is.Empty);
          Assert.That(events.Threads.Contains(Thread.CurrentThread.ManagedThreadId), Is.False);
        }
        var found = online.Reports.List(new ReportQuery(q: word, limit: 100)).Select(r => r.Description).OrderBy(s => s, StringComparer.Ordinal).ToList();
        Assert.That(found, Is.EqualTo(texts.OrderBy(s => s, StringComparer.Ordinal).ToList()));
        for (int i = 0; i < 3; i++) {
          var r = online.Reports.Get(items[i].ReportId);
          Assert.That(Encoding.UTF8.GetBytes(r.Description), Is.EqualTo(Encoding.UTF8.GetBytes(texts[i])));
        }
      }
      Assert.That(outbox.Purge(), Is.EqualTo(3));
    }
    Directory.Delete(dir, true);
  }

  [Test]
  public void ARefusedReportFailsOnceCancelAndReopen() {
    var dir = TempDir();
    var path = Path.Combine(dir, "o.db");
    var events = new Events();
    using (var client = SandboxFixture.Sandbox.CreateClient()) {
      string kept;
      using (var outbox = new Outbox(client, path, events, initialBackoffMs: 20)) {
        var bad = outbox.Enqueue(Report("Danh mục không tồn tại", "no_such_category"));
        Assert.That(outbox.WaitIdle(30000), Is.True);
        events.Await(0, 1);
        var item = outbox.Items().Items.Single();
        Assert.That(item.LocalId, Is.EqualTo(bad.LocalId));
        Assert.That(item.State, Is.EqualTo(OutboxItemState.Failed));
        Assert.That(item.Attempts, Is.EqualTo(1));
        Assert.That(item.ErrorField, Is.EqualTo("category"));
        outbox.Flush();
        Assert.That(outbox.WaitIdle(2000), Is.True);
        Assert.That(outbox.Items().Items.Single().Attempts, Is.EqualTo(1));
        Assert.That(outbox.Cancel(bad.LocalId), Is.False);
        var nf = Assert.Throws<NotFoundException>(() => outbox.Cancel("obx_424242"));
        Assert.That(nf.Field, Is.EqualTo("local_id"));
        var v = Assert.Throws<ValidationException>(() => outbox.Enqueue(Report("")));
        Assert.That(v.Field, Is.EqualTo("report.description"));
        var busy = Assert.Throws<ValidationException>(() => new Outbox(client, path));
        Assert.That(busy.Field, Is.EqualTo("path"));
        lock (events) Assert.That(events.FailedItems.Count, Is.EqualTo(1));
      }
      using (var offline = new HuesClient("http://127.0.0.1:" + FreePort(), apiKey: "hk_test_hue_s_sandbox_0001"))
      using (var outbox = new Outbox(offline, path, initialBackoffMs: 20)) {
        kept = outbox.Enqueue(Report("Rác chưa thu gom ở Vỹ Dạ")).LocalId;
        var gone = outbox.Enqueue(Report("Cây đổ chắn đường Lê Lợi")).LocalId;
        Assert.That(outbox.Cancel(gone), Is.True);
      }
      using (var offline = new HuesClient("http://127.0.0.1:" + FreePort(), apiKey: "hk_test_hue_s_sandbox_0001"))
      using (var reopened = new Outbox(offline, path)) {
        var items = reopened.Items().Items;
        Assert.That(items.Count, Is.EqualTo(2));
        Assert.That(items[0].State, Is.EqualTo(OutboxItemState.Failed));
        Assert.That(items[1].LocalId, Is.EqualTo(kept));
        Assert.That(items[1].Report.Description, Is.EqualTo("Rác chưa thu gom ở Vỹ Dạ"));
        Assert.That(items[1].State.Equals(OutboxItemState.Pending) || items[1].State.Equals(OutboxItemState.Sending), Is.True);
      }
    }
    Directory.Delete(dir, true);
  }

  [Test]
  public void TheListenerAsCSharpEvents() {
    var events = new OutboxListenerEvents();
    var delivered = new List<OutboxItem>();
    var failed = new List<OutboxItem>();
    events.Delivered += item => { lock (delivered) delivered.Add(item); };
    events.Failed += item => { lock (failed) failed.Add(item); };
    var dir = TempDir();
    var word = "obx" + Guid.NewGuid().ToString("N").Substring(0, 8);
    using (var client = SandboxFixture.Sandbox.CreateClient())
    using (var outbox = new Outbox(client, Path.Combine(dir, "e.db"), events, initialBackoffMs: 20)) {
      var good = outbox.Enqueue(Report("Đèn đường hỏng " + word));
      var bad = outbox.Enqueue(Report("Sai danh mục " + word, "no_such_category"));
      Assert.That(outbox.WaitIdle(30000), Is.True);
      var until = DateTime.UtcNow.AddSeconds(30);
      while (DateTime.UtcNow < until) {
        lock (delivered) lock (failed) if (delivered.Count == 1 && failed.Count == 1) break;
        Thread.Sleep(10);
      }
      lock (delivered) {
        Assert.That(delivered.Select(i => i.LocalId), Is.EqualTo(new[] { good.LocalId }));
        Assert.That(delivered[0].ReportId, Is.Not.Empty);
      }
      lock (failed) Assert.That(failed.Select(i => i.LocalId), Is.EqualTo(new[] { bad.LocalId }));
    }
    Directory.Delete(dir, true);
  }

  [Test]
  public void AReportWithAPhotoIsDeliveredWithItAttached() {
    var dir = TempDir();
    var photo = TusUpload.Jpeg(320, 240);
    var file = Path.Combine(dir, "ảnh-ngập.jpg");
    File.WriteAllBytes(file, photo);
    var word = "obx" + Guid.NewGuid().ToString("N").Substring(0, 8);
    using (var client = SandboxFixture.Sandbox.CreateClient())
    using (var outbox = new Outbox(client, Path.Combine(dir, "m.db"), initialBackoffMs: 20, mediaChunkSize: 1024)) {
      var bad = Assert.Throws<ValidationException>(() =>
          outbox.Enqueue(Report("Không có tệp"), new[] { new OutboxMedia(Path.Combine(dir, "none.jpg"), MediaType.Photo) }));
      Assert.That(bad.Field, Is.EqualTo("media[0].path"));
      var item = outbox.Enqueue(Report("Ngập có ảnh " + word), new[] { new OutboxMedia(file, MediaType.Photo) });
      Assert.That(item.MediaTotal, Is.EqualTo(photo.Length));
      Assert.That(outbox.WaitIdle(30000), Is.True);
      var done = outbox.Items().Items.Single();
      Assert.That(done.State, Is.EqualTo(OutboxItemState.Delivered));
      Assert.That(done.MediaSent, Is.EqualTo(done.MediaTotal));
      var report = client.Reports.Get(done.ReportId);
      Assert.That(report.Media, Is.EqualTo(new[] { done.Media[0].MediaId }));
      string sha;
      using (var h = System.Security.Cryptography.SHA256.Create())
        sha = BitConverter.ToString(h.ComputeHash(photo)).Replace("-", "").ToLowerInvariant();
      Assert.That(client.Media.Get(report.Media[0]).Sha256, Is.EqualTo(sha));
    }
  }
}
}
