// The client's plumbing: TLS, cancellation, the logging hook, disposal, versions, the error
// format.
using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Hues.Sdk.Tests {

[TestFixture]
public class ClientTests {
  static Testing.Sandbox Sandbox { get { return SandboxFixture.Sandbox; } }

  static HuesClient Stalled(StallServer stall, long attemptTimeoutMs = 60000) {
    return new HuesClient(stall.Url, apiKey: "hk_test_x", retry: new RetryPolicy(maxAttempts: 1),
                          attemptTimeoutMs: attemptTimeoutMs, deadlineMs: 60000);
  }

  [Test]
  public void TlsWithTheSandboxCaWorks() {
    StringAssert.StartsWith("https://", Sandbox.TlsUrl);
    using (var client = Sandbox.CreateClient(tls: true))
      Assert.That(client.Reports.Categories(), Is.Not.Empty);
  }

  [Test]
  public void ACertificateForOtherNamesIsRefusedByHostNameAndByIpAddress() {
    using (var other = new Testing.Sandbox(tlsNames: new[] { "reports.other-city.example", "10.9.8.7" })) {
      foreach (var url in new[] { other.TlsUrl, "https://127.0.0.1:" + other.TlsPort }) {
        using (var client = new HuesClient(url, apiKey: other.ApiKey, caFile: other.CaFile,
                                           retry: new RetryPolicy(maxAttempts: 1))) {
          var e = Assert.Throws<TlsException>(() => client.Reports.Categories(), url);
          Assert.That(e.Code, Is.EqualTo("certificate_verify_failed"), url);
          StringAssert.Contains("mismatch", e.Message);
          Assert.That(e.Retryable, Is.False);
        }
      }
    }
  }

  [Test]
  public void TlsWithoutTheCaIsRejected() {
    // The system store does not trust the sandbox's development CA.
    var options = Sandbox.ClientOptions(tls: true).WithCaFile(null).WithRetry(new RetryPolicy(maxAttempts: 1));
    using (var client = new HuesClient(options)) {
      var e = Assert.Throws<TlsException>(() => client.Reports.Categories());
      Assert.That(e, Is.InstanceOf<TransportException>());
      Assert.That(e.Status, Is.EqualTo(0));
    }
  }

  [Test, Timeout(20000)]
  public void CancellingAnAsyncCallAbortsItsIo() {
    using (var stall = new StallServer())
    using (var client = Stalled(stall))
    using (var cts = new CancellationTokenSource()) {
      var task = client.Reports.GetAsync("rp_1", cts.Token);  // the token positionally
      Thread.Sleep(300);
      Assert.That(task.IsCompleted, Is.False, "the server never answers");
      var watch = Stopwatch.StartNew();
      cts.Cancel();
      var e = Assert.Catch<OperationCanceledException>(() => task.GetAwaiter().GetResult());
      Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
      Assert.That(task.IsCanceled, Is.True);
      Assert.That(e.InnerException, Is.InstanceOf<CancelledException>());
      Assert.That(e.CancellationToken, Is.EqualTo(cts.Token));
    }
  }

  [Test, Timeout(20000)]
  public void CancellingASyncCallThrowsCancelled() {
    using (var stall = new StallServer())
    using (var client = Stalled(stall))
    using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300))) {
      var watch = Stopwatch.StartNew();
      var e = Assert.Throws<CancelledException>(() => client.Reports.Get("rp_1", cts.Token));
      Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
      Assert.That(e.Retryable, Is.False);
    }
  }

  [Test]
  public void AlreadyCancelledTokenGivesACancelledTaskWithTheSdksException() {
    using (var stall = new StallServer())
    using (var client = Stalled(stall)) {
      var task = client.Reports.CategoriesAsync(new CancellationToken(true));
      Assert.That(task.IsCanceled, Is.True, "cancelled at once, before any I/O");
      var e = Assert.Catch<OperationCanceledException>(() => task.GetAwaiter().GetResult());
      Assert.That(e.InnerException, Is.InstanceOf<CancelledException>(), "the documented inner exception");
      var agg = Assert.Throws<AggregateException>(() => task.Wait());
      Assert.That(agg.InnerException, Is.InstanceOf<TaskCanceledException>().Or.InstanceOf<OperationCanceledException>());
      Assert.Throws<CancelledException>(() => client.Reports.Get("rp_1", new CancellationToken(true)));
      Thread.Sleep(200);
      Assert.That(stall.Accepted, Is.EqualTo(0), "no call was made");
    }
  }

  [Test]
  public void DeadlineEndsAStalledCallWithTimeout() {
    using (var stall = new StallServer())
    using (var client = Stalled(stall, attemptTimeoutMs: 500)) {
      var e = Assert.Throws<HuesTimeoutException>(() => client.Reports.Get("rp_1"));
      Assert.That(e, Is.InstanceOf<TransportException>());
      Assert.That(e.Code, Is.Not.Empty);
      Assert.That(e.Retryable, Is.True);
    }
  }

  [Test]
  public void LoggerReceivesLinesWithoutTheApiKey() {
    var logger = new ListLogger();
    var options = Sandbox.ClientOptions(logger: logger, logLevel: LogLevel.Debug);
    using (var client = new HuesClient(options)) {
      options = null;
      // The client alone keeps the C# logger reachable: collecting must not break it.
      for (int i = 0; i < 3; i++) {
        GC.Collect();
        GC.WaitForPendingFinalizers();
      }
      client.Reports.Categories();
      Assert.Throws<NotFoundException>(() => client.Reports.Get("rp_does_not_exist"));
    }
    Assert.That(logger.Lines.Any(l => l.Contains("GET") && l.Contains("/v1/categories")), Is.True,
                string.Join("\n", logger.Lines));
    Assert.That(logger.Lines.Any(l => l.Contains("/v1/reports/rp_does_not_exist")), Is.True);
    Assert.That(logger.Lines.Any(l => l.StartsWith("debug ") || l.StartsWith("info ")), Is.True, "levels decode");
    foreach (var line in logger.Lines)
      Assert.That(line.Contains(Sandbox.ApiKey), Is.False, line);
  }

  [Test]
  public void ThrowingLoggerDoesNotBreakCalls() {
    using (var client = new HuesClient(Sandbox.ClientOptions(logger: new ThrowingLogger(), logLevel: LogLevel.Debug)))
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
    Assert.Throws<ObjectDisposedException>(() => client.Reports.CategoriesAsync());
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
  public void DisposingWithAsyncCallsInFlightLetsThemFinish() {
    var client = Sandbox.CreateClient();
    var tasks = Enumerable.Range(0, 20).Select(_ => client.Reports.CategoriesAsync()).ToArray();
    client.Dispose();
    Assert.That(Task.WaitAll(tasks, TimeSpan.FromSeconds(20)), Is.True);
    Assert.That(tasks.All(t => t.Result.Count > 0), Is.True);
  }

  [Test]
  public void UnusableOptionsAreAValidationError() {
    var e = Assert.Throws<ValidationException>(() => new HuesClient("not a url", apiKey: "k"));
    Assert.That(e.Field, Is.EqualTo("base_url"));
    var typo = Assert.Throws<ValidationException>(() => new HuesClient(Sandbox.ClientOptions().WithRetry(new RetryPolicy(maxAttempts: 0))));
    StringAssert.Contains("max_attempts", typo.Field);
  }

  [Test]
  public void VersionsAreTheProjects() {
    StringAssert.IsMatch(@"^\d+\.\d+\.\d+", HuesClient.Version);
    var assembly = typeof(HuesClient).Assembly.GetName().Version;
    Assert.That(assembly, Is.Not.EqualTo(new Version(0, 0, 0, 0)));
    Assert.That(assembly.ToString(3), Is.EqualTo(HuesClient.Version), "assembly and libhues from one version");
    StringAssert.IsMatch(@"^\d+\.\d+\.\d+", HuesClient.SpecVersion);
  }

  [Test]
  public void ErrorsPrintTheSharedFormat() {
    using (var client = Sandbox.CreateClient()) {
      var e = Assert.Throws<NotFoundException>(() => client.Reports.Get("rp_does_not_exist"));
      StringAssert.IsMatch(@"^NotFoundException: .+ \(status 404, code not_found, request_id [A-Za-z0-9._-]+\)$", e.ToString());
      Assert.That(e.RequestId, Is.Not.Empty);
    }
    var v = new ValidationException("lat out of range", 400, "validation_error", "req_1", "location.lat");
    Assert.That(v.ToString(), Is.EqualTo(
        "ValidationException: lat out of range (status 400, code validation_error, request_id req_1, field location.lat)"));
    Assert.That(new CancelledException("cancelled").ToString(), Is.EqualTo("CancelledException: cancelled"));
    Assert.That(new HuesTimeoutException("slow", code: "timeout").ToString(), Is.EqualTo("HuesTimeoutException: slow (code timeout)"));
  }

  [Test]
  public void TheHierarchyFollowsTheSpec() {
    Assert.That(new NotFoundException("x"), Is.InstanceOf<ApiException>());
    Assert.That(new ApiException("x"), Is.InstanceOf<HuesException>());
    Assert.That(new HuesTimeoutException("x"), Is.InstanceOf<TransportException>());
    Assert.That(new TlsException("x"), Is.InstanceOf<TransportException>());
    Assert.That(new ConnectionException("x"), Is.InstanceOf<TransportException>());
    Assert.That(new ResourceExhaustedException("x"), Is.InstanceOf<TransportException>());
    Assert.That(new CancelledException("x"), Is.Not.InstanceOf<TransportException>());
    Assert.That(new RateLimitException("x").Retryable, Is.True);
    Assert.That(new OAuthException("x"), Is.InstanceOf<ApiException>());
  }
}

}
