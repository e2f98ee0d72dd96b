// Started by ShutdownTests as a subprocess: starts calls against the server at args[0]
// (one that never answers), then returns from Main with them in flight. The test asserts
// exit status 0 and no hang: AppDomain.ProcessExit runs hues_shutdown(), which cancels the
// calls (their Tasks end cancelled) and joins the SDK's threads.
using System;
using System.Threading;
using Hues.Sdk;

sealed class CountingLogger : ILogger {
  public int Lines;
  public void Log(LogLevel level, string message) { Interlocked.Increment(ref Lines); }
}

static class ExitProbe {
  // ExitProbe.exe <url> [calls] [logger]: with "logger", a C# logger (a host object the SDK
  // calls from its threads) is attached at debug level.
  static int Main(string[] args) {
    var logger = args.Length > 2 && args[2] == "logger" ? new CountingLogger() : null;
    var client = new HuesClient(args[0], apiKey: "hk_test_exit_probe", logger: logger,
                                logLevel: logger != null ? LogLevel.Debug : null,
                                retry: new RetryPolicy(maxAttempts: 1), attemptTimeoutMs: 60000, deadlineMs: 60000);
    int n = args.Length > 1 ? int.Parse(args[1]) : 50;
    var tasks = new System.Threading.Tasks.Task[n];
    using (var cts = new CancellationTokenSource()) {
      for (int i = 0; i < n; i++)
        tasks[i] = i % 2 == 0 ? (System.Threading.Tasks.Task)client.Reports.GetAsync("rp_" + i)
                              : client.Reports.GetAsync("rp_" + i, cts.Token);
      // A blocked synchronous call on another thread as well.
      var t = new Thread(() => { try { client.Reports.Get("rp_sync"); } catch (HuesException) {} });
      t.IsBackground = true;
      t.Start();
      Thread.Sleep(300);
      int pending = 0;
      foreach (var task in tasks) if (!task.IsCompleted) pending++;
      Console.WriteLine("in flight: " + pending + (logger != null ? ", logged: " + logger.Lines : ""));
    }
    return 0;  // the calls are still in flight
  }
}
