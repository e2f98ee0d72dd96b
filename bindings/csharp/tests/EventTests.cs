// client.Events.Stream (x-hues-stream, generated): the sandbox's Server-Sent Events as an
// IObservable<ReportEvent>. Events arrive decoded with Vietnamese intact, a saved id resumes
// with exactly the later events, a relay that cuts the connection mid-stream several times
// loses and repeats nothing, Dispose ends it, a wrong key ends with AuthenticationException.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using NUnit.Framework;

namespace Hues.Sdk.Tests {

[TestFixture]
public class EventTests {
  static readonly StreamOptions Fast = new StreamOptions(initialBackoffMs: 10, maxBackoffMs: 40);

  // Collects what an observer is told; waits (a hang guard) for an event of a report.
  sealed class Recorder : IObserver<ReportEvent> {
    readonly object gate = new object();
    public readonly List<ReportEvent> Events = new List<ReportEvent>();
    public Exception Error;
    public bool Completed;
    public void OnNext(ReportEvent e) { lock (gate) { Events.Add(e); Monitor.PulseAll(gate); } }
    public void OnError(Exception e) { lock (gate) { Error = e; Monitor.PulseAll(gate); } }
    public void OnCompleted() { lock (gate) { Completed = true; Monitor.PulseAll(gate); } }
    public bool WaitFor(Func<bool> done) {
      var until = DateTime.UtcNow.AddSeconds(60);
      lock (gate) {
        while (!done()) {
          var left = until - DateTime.UtcNow;
          if (left <= TimeSpan.Zero) return false;
          Monitor.Wait(gate, left);
        }
        return true;
      }
    }
    public bool WaitForReport(string id) { return WaitFor(() => Events.Any(e => e.ReportId == id)); }
    public List<string> Ids() { lock (gate) return Events.Select(e => e.Id).ToList(); }
  }

  // Relays to the sandbox, resetting both sides after a few kilobytes of the answer, drops times.
  sealed class CuttingRelay : IDisposable {
    readonly TcpListener listener = new TcpListener(IPAddress.Loopback, 0);
    readonly int upstream;
    readonly Random rng = new Random(7);
    int left;
    public int Cut;
    public CuttingRelay(int upstream, int drops) {
      this.upstream = upstream;
      left = drops;
      listener.Start();
      new Thread(Accept) { IsBackground = true }.Start();
    }
    public string Url { get { return "http://127.0.0.1:" + ((IPEndPoint)listener.LocalEndpoint).Port; } }
    void Accept() {
      for (;;) {
        TcpClient down;
        try { down = listener.AcceptTcpClient(); } catch (Exception) { return; }
        int budget = -1;
        lock (rng) if (left > 0) { left--; budget = rng.Next(300, 5000); }
        new Thread(() => Pipe(down, budget)) { IsBackground = true }.Start();
      }
    }
    void Pipe(TcpClient down, int budget) {
      var up = new TcpClient("127.0.0.1", upstream);
      var ds = down.GetStream();
      var us = up.GetStream();
      new Thread(() => { try { ds.CopyTo(us); } catch (Exception) { } }) { IsBackground = true }.Start();
      var buf = new byte[65536];
      try {
        for (;;) {
          int n = us.Read(buf, 0, buf.Length);
          if (n <= 0) break;
          if (budget >= 0 && n >= budget) {
            ds.Write(buf, 0, budget);
            Interlocked.Increment(ref Cut);
            down.Client.LingerState = new LingerOption(true, 0);
            up.Client.LingerState = new LingerOption(true, 0);
            break;
          }
          if (budget >= 0) budget -= n;
          ds.Write(buf, 0, n);
        }
      } catch (Exception) {
      }
      down.Close();
      up.Close();
    }
    public void Dispose() { listener.Stop(); }
  }

  [Test]
  public void EventsArriveDecodedAndResumeAfterASavedId() {
    using (var client = SandboxFixture.Sandbox.CreateClient()) {
      var category = client.Reports.Categories()[0].Code;
      const string text = "Cây đổ chắn ngang đường Lê Lợi — nguy hiểm";
      var first = client.Reports.Create(Samples.Report(category, text));
      var got = new Recorder();
      string saved;
      using (var sub = client.Events.Stream(new EventStreamQuery(since: "0"), stream: Fast).Subscribe(got)) {
        Assert.IsTrue(got.WaitForReport(first.Id));
        var created = got.Events.Last(e => e.ReportId == first.Id);
        Assert.AreEqual(ReportEventType.ReportCreated, created.Type);
        Assert.AreEqual(category, created.Category);
        Assert.AreEqual(text, client.Reports.Get(first.Id).Description);
        saved = created.Id;
        var second = client.Reports.Create(Samples.Report(category, "Thứ hai: ổ gà"));
        Assert.IsTrue(got.WaitForReport(second.Id));
        Assert.AreEqual(got.Ids().Last(), sub.LastEventId);
      }
      Assert.IsTrue(got.WaitFor(() => got.Completed));
      var expected = got.Ids().SkipWhile(id => id != saved).Skip(1).ToList();
      var again = new Recorder();
      using (client.Events.Stream(lastEventId: saved, stream: Fast).Subscribe(again)) {
        Assert.IsTrue(again.WaitFor(() => again.Events.Count >= expected.Count));
        CollectionAssert.AreEqual(expected, again.Ids().Take(expected.Count).ToList());
      }
    }
  }

  [Test]
  public void DroppedConnectionsLoseAndRepeatNothing() {
    var sb = SandboxFixture.Sandbox;
    using (var relay = new CuttingRelay(sb.Port, 5))
    using (var client = sb.CreateClient())
    using (var cutClient = new HuesClient(baseUrl: relay.Url, apiKey: sb.ApiKey)) {
      var category = client.Reports.Categories()[0].Code;
      var cut = new Recorder();
      var whole = new Recorder();
      string last = null;
      using (cutClient.Events.Stream(new EventStreamQuery(since: "0"), stream: Fast).Subscribe(cut)) {
        for (int i = 0; i < 40; i++) last = client.Reports.Create(Samples.Report(category, "Sự cố số " + i)).Id;
        Assert.IsTrue(cut.WaitForReport(last));
      }
      using (client.Events.Stream(new EventStreamQuery(since: "0"), stream: Fast).Subscribe(whole))
        Assert.IsTrue(whole.WaitForReport(last));
      Assert.AreEqual(5, relay.Cut);
      var ids = cut.Ids();
      var wholeIds = whole.Ids();
      int end = ids.IndexOf(cut.Events.First(e => e.ReportId == last).Id);
      CollectionAssert.AreEqual(wholeIds.Take(wholeIds.IndexOf(ids[end]) + 1).ToList(), ids.Take(end + 1).ToList());
      Assert.AreEqual(ids.Count, ids.Distinct().Count());
      Assert.IsNull(cut.Error);
    }
  }

  // A blocked observer holds the stream back instead of piling events up: each event counts
  // against MaxBufferedEvents until OnNext returned (hues_call_ack), so while OnNext blocks at
  // most the bound waits; then every event arrives once, in order. The observer runs off the
  // SDK's delivery thread, so other calls complete meanwhile.
  [Test]
  public void ABlockedObserverHoldsAtMostMaxBufferedEvents() {
    const int bound = 3;
    using (var client = SandboxFixture.Sandbox.CreateClient()) {
      var category = client.Reports.Categories()[0].Code;
      string last = null;
      for (int i = 0; i < 4 * bound; i++) last = client.Reports.Create(Samples.Report(category, "Hàng đợi có giới hạn số " + i)).Id;
      var whole = new Recorder();
      using (client.Events.Stream(new EventStreamQuery(since: "0"), stream: Fast).Subscribe(whole))
        Assert.IsTrue(whole.WaitForReport(last));
      var gate = new ManualResetEventSlim(false);
      var first = new ManualResetEventSlim(false);
      var got = new Recorder();
      var blocking = new Blocking(got, first, gate);
      var small = new StreamOptions(initialBackoffMs: 10, maxBackoffMs: 40, maxBufferedEvents: bound);
      using (var sub = client.Events.Stream(new EventStreamQuery(since: "0"), stream: small).Subscribe(blocking)) {
        Assert.IsTrue(first.Wait(TimeSpan.FromSeconds(30)));
        // OnNext is blocked: another call still completes (it is not the delivery thread).
        Assert.AreEqual(category, client.Reports.Get(last).Category);
        int peak = 0;
        for (int i = 0; i < 20; i++) {
          Thread.Sleep(20);
          peak = Math.Max(peak, sub.BufferedEvents);
        }
        Assert.That(peak, Is.InRange(1, bound));
        gate.Set();
        Assert.IsTrue(got.WaitForReport(last));
        var ids = got.Ids();
        var all = whole.Ids();
        var end = got.Events.First(e => e.ReportId == last).Id;
        CollectionAssert.AreEqual(all.Take(all.IndexOf(end) + 1).ToList(), ids.Take(ids.IndexOf(end) + 1).ToList());
      }
    }
  }

  sealed class Blocking : IObserver<ReportEvent> {
    readonly Recorder inner;
    readonly ManualResetEventSlim first, gate;
    public Blocking(Recorder inner, ManualResetEventSlim first, ManualResetEventSlim gate) {
      this.inner = inner;
      this.first = first;
      this.gate = gate;
    }
    public void OnNext(ReportEvent e) {
      first.Set();
      gate.Wait(TimeSpan.FromSeconds(60));
      inner.OnNext(e);
    }
    public void OnError(Exception e) { inner.OnError(e); }
    public void OnCompleted() { inner.OnCompleted(); }
  }

  [Test]
  public void AWrongKeyEndsWithAuthenticationException() {
    using (var bad = new HuesClient(baseUrl: SandboxFixture.Sandbox.Url, apiKey: "hk_test_wrong")) {
      var got = new Recorder();
      using (bad.Events.Stream(stream: Fast).Subscribe(got)) {
        Assert.IsTrue(got.WaitFor(() => got.Error != null));
        Assert.IsInstanceOf<AuthenticationException>(got.Error);
      }
    }
  }
}

}
