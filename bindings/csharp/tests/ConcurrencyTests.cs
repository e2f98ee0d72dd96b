// Many calls in flight from one thread without a thread per call; cancellation races; a
// Mono process exiting with calls in flight.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Hues.Sdk.Tests {

[TestFixture]
public class ConcurrencyTests {
  static Testing.Sandbox Sandbox { get { return SandboxFixture.Sandbox; } }

  // The bound on extra threads while 1,000 calls are in flight, over the count measured
  // before them with the client already warm (its SDK threads started): Mono's thread-pool
  // threads that run the Task continuations may grow, up to the pool's minimum (created on
  // demand without delay; the processor count here) plus the threads its starvation
  // heuristic injects over the test's second or so, plus SDK threads started lazily on the
  // first calls of a kind. None of it grows with the number of calls.
  const int SmallConstant = 8;

  [Test, Timeout(120000)]
  public void AThousandConcurrentGetsFromOneThreadAllComplete() {
    using (var client = Sandbox.CreateClient()) {
      var category = client.Reports.Categories()[0].Code;
      var ids = Enumerable.Range(0, 10).Select(i => client.Reports.Create(
          Samples.Report(category, Samples.Description + " [" + i + "]")).Id).ToArray();
      // Warm: the SDK's runtime, delivery thread and connections exist before we count.
      Task.WhenAll(Enumerable.Range(0, 20).Select(i => client.Reports.GetAsync(ids[i % ids.Length]))).Wait();
      int minWorkers, minIo;
      ThreadPool.GetMinThreads(out minWorkers, out minIo);
      int before = Samples.ThreadCount();
      int peak = before;
      int completedOnTestThread = 0;
      int testThread = Thread.CurrentThread.ManagedThreadId;
      var watch = Stopwatch.StartNew();
      var tasks = new Task<Report>[1000];
      for (int i = 0; i < tasks.Length; i++) {
        tasks[i] = client.Reports.GetAsync(ids[i % ids.Length]);
        if (i % 100 == 0) peak = Math.Max(peak, Samples.ThreadCount());
      }
      int afterStart = Samples.ThreadCount();
      var sampled = tasks.Select((t, i) => i % 50 == 0 ? t.ContinueWith(x => {
        if (Thread.CurrentThread.ManagedThreadId == testThread) Interlocked.Increment(ref completedOnTestThread);
        return Samples.ThreadCount();
      }) : null).Where(t => t != null).ToArray();
      var all = Task.WhenAll(tasks);
      Assert.That(all.Wait(TimeSpan.FromSeconds(90)), Is.True, "all 1,000 complete");
      Task.WaitAll(sampled);
      peak = Math.Max(peak, Math.Max(afterStart, sampled.Max(t => t.Result)));
      var elapsed = watch.Elapsed;
      for (int i = 0; i < tasks.Length; i++)
        Assert.That(tasks[i].Result.Id, Is.EqualTo(ids[i % ids.Length]));
      Assert.That(tasks.Select(t => t.Result.Description).Distinct().Count(), Is.EqualTo(ids.Length));
      int bound = before + minWorkers + SmallConstant;
      Console.WriteLine("1,000 gets in flight from one thread: {0:F2} s; threads before {1}, after starting {2}, peak {3}; " +
                        "bound {4} (before + pool minimum {5} + {6})", elapsed.TotalSeconds, before, afterStart, peak,
                        bound, minWorkers, SmallConstant);
      Assert.That(afterStart - before, Is.LessThanOrEqualTo(2), "starting calls makes no threads");
      Assert.That(peak, Is.LessThanOrEqualTo(bound));
    }
  }

  [Test, Timeout(120000)]
  public void CancelRacingTheCompletionEndsEveryTaskOnce() {
    // The completion may fire before, during or after CancellationToken.Register and the
    // cancel: every task ends exactly once, as a result or as a cancelled Task carrying the
    // SDK's CancelledException; never faulted otherwise, never hung.
    using (var client = Sandbox.CreateClient()) {
      var category = client.Reports.Categories()[0].Code;
      var id = client.Reports.Create(Samples.Report(category)).Id;
      var rng = new Random(846);
      var tasks = new List<Task<Report>>();
      var sources = new List<CancellationTokenSource>();
      for (int i = 0; i < 600; i++) {
        var cts = new CancellationTokenSource();
        sources.Add(cts);
        int mode = i % 4;
        if (mode == 0) {
          // Cancel from another thread as the call starts.
          var go = new ManualResetEventSlim();
          var canceller = Task.Run(() => { go.Wait(); cts.Cancel(); });
          go.Set();
          tasks.Add(client.Reports.GetAsync(id, cts.Token));
          canceller.Wait();
        } else if (mode == 1) {
          tasks.Add(client.Reports.GetAsync(id, cts.Token));
          Thread.SpinWait(rng.Next(1, 20000));
          cts.Cancel();
        } else if (mode == 2) {
          cts.CancelAfter(rng.Next(0, 3));
          tasks.Add(client.Reports.GetAsync(id, cts.Token));
        } else {
          tasks.Add(client.Reports.GetAsync(id, cts.Token));  // cancelled after it completed
        }
      }
      Assert.That(Task.WhenAll(tasks.Select(t => t.ContinueWith(_ => 0))).Wait(TimeSpan.FromSeconds(60)), Is.True,
                  "no task hangs");
      foreach (var s in sources) s.Cancel();
      int ok = 0, cancelled = 0;
      foreach (var t in tasks) {
        if (t.Status == TaskStatus.RanToCompletion) {
          Assert.That(t.Result.Id, Is.EqualTo(id));
          ok++;
        } else {
          Assert.That(t.Status, Is.EqualTo(TaskStatus.Canceled), t.Exception == null ? "" : t.Exception.ToString());
          var e = Assert.Catch<OperationCanceledException>(() => t.GetAwaiter().GetResult());
          Assert.That(e.InnerException, Is.InstanceOf<CancelledException>());
          cancelled++;
        }
      }
      Console.WriteLine("cancel race: {0} completed, {1} cancelled", ok, cancelled);
      Assert.That(ok, Is.GreaterThan(0));
      Assert.That(cancelled, Is.GreaterThan(0));
      // Cancelling after completion changed nothing, and the client still works.
      Assert.That(client.Reports.Get(id).Id, Is.EqualTo(id));

      // Calls that fail as they start (an empty id): the completion is on its way before
      // Register has run; a cancel racing it never turns the error into anything else.
      var failing = new List<Task<Report>>();
      for (int i = 0; i < 200; i++) {
        var cts = new CancellationTokenSource();
        failing.Add(client.Reports.GetAsync("", cts.Token));
        if (i % 2 == 0) cts.Cancel();
      }
      Assert.That(Task.WhenAll(failing.Select(t => t.ContinueWith(_ => 0))).Wait(TimeSpan.FromSeconds(30)), Is.True);
      foreach (var t in failing) {
        if (t.IsCanceled) continue;
        Assert.That(t.IsFaulted, Is.True);
        var v = t.Exception.InnerException as ValidationException;
        Assert.That(v, Is.Not.Null, t.Exception.ToString());
        Assert.That(v.Field, Is.EqualTo("id"));
      }
    }
  }

  [Test, Timeout(60000)]
  public void CancellingOneCallLeavesTheOthers() {
    using (var stall = new StallServer())
    using (var client = new HuesClient(stall.Url, apiKey: "hk_test_x", retry: new RetryPolicy(maxAttempts: 1),
                                       attemptTimeoutMs: 60000, deadlineMs: 60000))
    using (var one = new CancellationTokenSource())
    using (var rest = new CancellationTokenSource()) {
      var a = client.Reports.GetAsync("rp_a", one.Token);
      var b = client.Reports.GetAsync("rp_b", rest.Token);
      Thread.Sleep(300);
      one.Cancel();
      Assert.Catch<OperationCanceledException>(() => a.GetAwaiter().GetResult());
      Thread.Sleep(200);
      Assert.That(b.IsCompleted, Is.False, "only the cancelled call ended");
      rest.Cancel();
      Assert.Catch<OperationCanceledException>(() => b.GetAwaiter().GetResult());
    }
  }

  [Test, Timeout(60000)]
  public void MonoExitsCleanlyWithCallsInFlight() { RunExitProbe(""); }

  [Test, Timeout(60000)]
  public void MonoExitsCleanlyWithCallsInFlightAfterACSharpLoggerRan() { RunExitProbe("logger"); }

  // A subprocess that starts 60 calls against a server that never answers, then returns from
  // Main: it must exit by itself, with status 0.
  static void RunExitProbe(string mode) {
    var probe = Path.Combine(Path.GetDirectoryName(typeof(HuesClient).Assembly.Location), "ExitProbe.exe");
    Assert.That(File.Exists(probe), Is.True, probe);
    using (var stall = new StallServer()) {
      for (int round = 0; round < 3; round++) {
        var info = new ProcessStartInfo("mono", "\"" + probe + "\" " + stall.Url + " 60 " + mode) {
          UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using (var p = Process.Start(info)) {
          var stdout = p.StandardOutput.ReadToEndAsync();
          var stderr = p.StandardError.ReadToEndAsync();
          bool exited = p.WaitForExit(20000);
          if (!exited) p.Kill();
          Assert.That(exited, Is.True, "mono exited by itself (no hang)");
          p.WaitForExit();
          Assert.That(p.ExitCode, Is.EqualTo(0), stderr.Result);
          StringAssert.Contains("in flight: ", stdout.Result);
          Assert.That(stdout.Result, Is.Not.StringContaining("in flight: 0"), "calls really were in flight");
        }
      }
    }
  }
}

}
