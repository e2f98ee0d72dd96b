// The client's plumbing: TLS, cancellation, the logging hook, disposal.
using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Hues.Sdk.Native;
using NUnit.Framework;

namespace Hues.Sdk.Tests {

[TestFixture]
public class ClientTests {
  static Testing.Sandbox Sandbox { get { return SandboxFixture.Sandbox; } }

  [Test]
  public void TlsWithTheSandboxCaWorks() {
    StringAssert.StartsWith("https://", Sandbox.TlsUrl);
    using (var client = Sandbox.CreateClient(tls: true))
      Assert.That(client.Reports.Categories(), Is.Not.Empty);
  }

  [Test]
  public void TlsWithoutTheCaIsRejected() {
    var options = Sandbox.ClientOptions(tls: true);
    options.CaFile = null;  // the system store does not trust the sandbox's development CA
    options.MaxAttempts = 1;
    using (var client = new HuesClient(options)) {
      var e = Assert.Throws<TlsException>(() => client.Reports.Categories());
      Assert.That(e, Is.InstanceOf<TransportException>());
      Assert.That(e.HttpStatus, Is.EqualTo(0));
    }
  }

  [Test, Timeout(20000)]
  public void CancellingAnAsyncCallAbortsItsIo() {
    using (var stall = new StallServer())
    using (var client = new HuesClient(new HuesClientOptions {
               BaseUrl = stall.Url, ApiKey = "hk_test_x", MaxAttempts = 1,
               AttemptTimeout = TimeSpan.FromSeconds(60), Deadline = TimeSpan.FromSeconds(60) }))
    using (var cts = new CancellationTokenSource()) {
      var task = client.Reports.GetAsync("rp_1", cancellationToken: cts.Token);
      Thread.Sleep(300);
      Assert.That(task.IsCompleted, Is.False, "the server never answers");
      var watch = Stopwatch.StartNew();
      cts.Cancel();
      var e = Assert.Catch<OperationCanceledException>(() => task.GetAwaiter().GetResult());
      Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
      Assert.That(task.IsCanceled, Is.True);
      Assert.That(e.InnerException, Is.InstanceOf<CancelledException>());
    }
  }

  [Test, Timeout(20000)]
  public void CancellingASyncCallThrowsCancelled() {
    using (var stall = new StallServer())
    using (var client = new HuesClient(new HuesClientOptions {
               BaseUrl = stall.Url, ApiKey = "hk_test_x", MaxAttempts = 1 }))
    using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300))) {
      var watch = Stopwatch.StartNew();
      var e = Assert.Throws<CancelledException>(() => client.Reports.Get("rp_1", cancellationToken: cts.Token));
      Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
      Assert.That(e.Retryable, Is.False);
    }
  }

  [Test]
  public void AlreadyCancelledAsyncCallNeverStarts() {
    using (var client = Sandbox.CreateClient()) {
      var task = client.Reports.CategoriesAsync(cancellationToken: new CancellationToken(true));
      Assert.Catch<OperationCanceledException>(() => task.GetAwaiter().GetResult());
      Assert.That(task.IsCanceled, Is.True);
    }
  }

  [Test]
  public void DeadlineEndsAStalledCallWithTimeout() {
    using (var stall = new StallServer())
    using (var client = new HuesClient(new HuesClientOptions {
               BaseUrl = stall.Url, ApiKey = "hk_test_x", MaxAttempts = 1,
               AttemptTimeout = TimeSpan.FromMilliseconds(500) })) {
      var e = Assert.Throws<HuesTimeoutException>(() => client.Reports.Get("rp_1"));
      Assert.That(e.Code, Is.Not.Empty);
    }
  }

  [Test]
  public void LoggerReceivesLinesWithoutTheApiKey() {
    var logger = new ListLogger();
    var options = Sandbox.ClientOptions();
    options.Logger = logger;
    options.LogLevel = LogLevel.Debug;
    using (var client = new HuesClient(options)) {
      options = null;
      // The client alone keeps the native logger reachable: collecting must not break it.
      for (int i = 0; i < 3; i++) {
        GC.Collect();
        GC.WaitForPendingFinalizers();
      }
      client.Reports.Categories();
      Assert.Throws<NotFoundException>(() => client.Reports.Get("rp_does_not_exist"));
    }
    Assert.That(logger.Lines.Any(l => l.Contains("GET") && l.Contains("/v1/categories")), Is.True);
    Assert.That(logger.Lines.Any(l => l.Contains("/v1/reports/rp_does_not_exist")), Is.True);
    foreach (var line in logger.Lines)
      Assert.That(line.Contains(Sandbox.ApiKey), Is.False, line);
  }

  [Test]
  public void ThrowingLoggerDoesNotBreakCalls() {
    var options = Sandbox.ClientOptions();
    options.Logger = new ThrowingLogger();
    options.LogLevel = LogLevel.Debug;
    using (var client = new HuesClient(options))
      Assert.That(client.Reports.Categories(), Is.Not.Empty);
  }

  sealed class ThrowingLogger : ILogger {
    public void Log(LogLevel level, string message) { throw new InvalidOperationException("boom"); }
  }

  [Test]
  public void DisposingTwiceIsHarmless() {
    var client = Sandbox.CreateClient();
    Assert.That(client.Reports.Categories(), Is.Not.Empty);
    client.Dispose();
    client.Dispose();
    Assert.Throws<ObjectDisposedException>(() => client.Reports.Categories());
  }

  [Test]
  public void DisposingDuringCallsIsSafe() {
    var client = Sandbox.CreateClient();
    var workers = Enumerable.Range(0, 4).Select(_ => Task.Run(() => {
      int ok = 0;
      try {
        while (true) { client.Reports.Categories(); ok++; }
      } catch (ObjectDisposedException) {
      }
      return ok;
    })).ToArray();
    Thread.Sleep(200);
    Parallel.For(0, 4, _ => client.Dispose());
    Assert.That(Task.WaitAll(workers, TimeSpan.FromSeconds(10)), Is.True);
    Assert.That(workers.Sum(w => w.Result), Is.GreaterThan(0));
  }

  [Test]
  public void UnusableOptionsAreAValidationError() {
    var e = Assert.Throws<ValidationException>(() => new HuesClient(new HuesClientOptions {
        BaseUrl = "not a url", ApiKey = "k" }));
    Assert.That(e.Field, Is.EqualTo("base_url"));
  }

  [Test]
  public void VersionIsSemantic() {
    StringAssert.IsMatch(@"^\d+\.\d+\.\d+", HuesClient.Version);
  }
}

}
