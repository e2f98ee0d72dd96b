// The Hue-S client for .NET: a thin layer over the C++ core (SWIG-generated Hues.Sdk.Native).
//
//   using (var client = new HuesClient(new HuesClientOptions { BaseUrl = url, ApiKey = key }))
//     foreach (var c in client.Reports.Categories()) Console.WriteLine(c.NameVi);
//
// Models (Report, NewReport, Location, Category, ReportQuery, ReportPage) and the LogLevel
// enum live in Hues.Sdk.Native; they are generated from the one description in hues/models.h.
using System;
using System.Threading;
using System.Threading.Tasks;
using Hues.Sdk.Identity;
using Hues.Sdk.Native;

namespace Hues.Sdk {

// Receives the SDK's log lines, which never contain credentials. Called from the SDK's
// threads, so it must be thread-safe; exceptions it throws are swallowed.
public interface ILogger {
  void Log(LogLevel level, string message);
}

// Client settings. A null value keeps the SDK's default (hues/options.h).
public sealed class HuesClientOptions {
  public string BaseUrl { get; set; }
  public string ApiKey { get; set; }
  // Client credentials or a signed-in user (Hues.Sdk.Identity); used instead of ApiKey.
  public Credentials Credentials { get; set; }
  public TimeSpan? ConnectTimeout { get; set; }   // TCP connect + TLS handshake
  public TimeSpan? AttemptTimeout { get; set; }   // one attempt
  public TimeSpan? Deadline { get; set; }         // the whole call, across retries
  public int? MaxAttempts { get; set; }           // 1 disables retries
  public TimeSpan? InitialBackoff { get; set; }
  public TimeSpan? MaxBackoff { get; set; }
  public double? BackoffMultiplier { get; set; }
  public string CaFile { get; set; }              // PEM of extra trusted CAs
  public string Proxy { get; set; }               // "http://[user:pass@]host:port"
  public string UserAgent { get; set; }
  public ILogger Logger { get; set; }
  public LogLevel? LogLevel { get; set; }
  public int? MaxConnectionsPerHost { get; set; }
  public long? MaxResponseBytes { get; set; }

  internal ClientOptions ToNative(Logger logger, Credentials credentials = null) {
    var o = new ClientOptions();
    o.BaseUrl = BaseUrl ?? "";
    o.ApiKey = ApiKey ?? "";
    if (ConnectTimeout.HasValue) o.ConnectTimeoutMs = Ms(ConnectTimeout.Value);
    if (AttemptTimeout.HasValue) o.AttemptTimeoutMs = Ms(AttemptTimeout.Value);
    if (Deadline.HasValue) o.DeadlineMs = Ms(Deadline.Value);
    using (var retry = o.Retry) {
      if (MaxAttempts.HasValue) retry.MaxAttempts = MaxAttempts.Value;
      if (InitialBackoff.HasValue) retry.InitialBackoffMs = Ms(InitialBackoff.Value);
      if (MaxBackoff.HasValue) retry.MaxBackoffMs = Ms(MaxBackoff.Value);
      if (BackoffMultiplier.HasValue) retry.Multiplier = BackoffMultiplier.Value;
    }
    if (CaFile != null) o.CaFile = CaFile;
    if (Proxy != null) o.Proxy = Proxy;
    if (UserAgent != null) o.UserAgent = UserAgent;
    if (logger != null) o.Logger = logger;
    if (LogLevel.HasValue) o.LogLevel = LogLevel.Value;
    if (MaxConnectionsPerHost.HasValue) o.MaxConnectionsPerHost = MaxConnectionsPerHost.Value;
    if (MaxResponseBytes.HasValue) o.MaxResponseBytes = MaxResponseBytes.Value;
    if (credentials != null) credentials.Apply(o);
    return o;
  }

  internal static long Ms(TimeSpan t) { return (long)Math.Ceiling(t.TotalMilliseconds); }
}

// Per-call overrides of the client's settings.
public sealed class RequestOptions {
  public TimeSpan? AttemptTimeout { get; set; }
  public TimeSpan? Deadline { get; set; }
  public int? MaxAttempts { get; set; }
  // For creates: the key that makes retries safe. Null: the SDK generates one per call.
  public string IdempotencyKey { get; set; }
}

// Thread-safe; share one client. Dispose is idempotent and may race with calls in flight:
// they finish normally and the native client is freed when the last one returns.
public sealed class HuesClient : IDisposable {
  // The C++ core calls the logger director from its own threads and the credentials' token
  // store through them, so the client keeps both reachable.
  readonly LoggerBridge logger;
  readonly Credentials credentials;
  readonly Client client;
  readonly ReportsClient reports;
  readonly CallGate gate;

  public HuesClient(HuesClientOptions options) {
    if (options == null) throw new ArgumentNullException(nameof(options));
    if (options.Logger != null) logger = new LoggerBridge(options.Logger);
    credentials = options.Credentials;
    using (var native = options.ToNative(logger, credentials)) client = new Client(native);
    reports = client.Reports();
    gate = new CallGate(this, () => { reports.Dispose(); client.Dispose(); });
    Reports = new ReportsService(this);
  }

  // Citizen reports (phản ánh hiện trường).
  public ReportsService Reports { get; }

  // The signed-in person's profile (/v1/me); needs UserCredentials.
  public CitizenProfile Me(RequestOptions options = null,
                           CancellationToken cancellationToken = default(CancellationToken)) {
    using (var call = new NativeCall(options, cancellationToken))
      return gate.Run(() => client.Me(call.Options));
  }

  public Task<CitizenProfile> MeAsync(RequestOptions options = null,
                                      CancellationToken cancellationToken = default(CancellationToken)) {
    return AsyncCall.Run(() => Me(options, cancellationToken), cancellationToken);
  }

  // The SDK's version, e.g. "0.1.0".
  public static string Version { get { return Client.Version(); } }

  internal T Call<T>(Func<ReportsClient, T> call) { return gate.Run(() => call(reports)); }

  public void Dispose() { gate.Dispose(); }
}

// The director the C++ core logs through; forwards to the user's ILogger.
sealed class LoggerBridge : Logger {
  readonly ILogger target;

  internal LoggerBridge(ILogger target) { this.target = target; }

  public override void Log(LogLevel level, string message) {
    try {
      target.Log(level, message);
    } catch (Exception) {
      // An exception must not unwind into the C++ frames that called us.
    }
  }
}

// The native CallOptions of one call, with the .NET CancellationToken wired to a
// hues::CancellationToken so cancelling aborts the call's I/O.
sealed class NativeCall : IDisposable {
  internal readonly CallOptions Options = new CallOptions();
  readonly NativeCancellationToken token;
  readonly CancellationTokenRegistration registration;

  internal NativeCall(RequestOptions o, CancellationToken cancellationToken) {
    if (o != null) {
      if (o.AttemptTimeout.HasValue) Options.AttemptTimeoutMs = HuesClientOptions.Ms(o.AttemptTimeout.Value);
      if (o.Deadline.HasValue) Options.DeadlineMs = HuesClientOptions.Ms(o.Deadline.Value);
      if (o.MaxAttempts.HasValue) Options.MaxAttempts = o.MaxAttempts.Value;
      if (o.IdempotencyKey != null) Options.IdempotencyKey = o.IdempotencyKey;
    }
    if (cancellationToken.CanBeCanceled) {
      token = new NativeCancellationToken();
      Options.Cancel = token;
      registration = cancellationToken.Register(token.Cancel);
    }
  }

  public void Dispose() {
    registration.Dispose();  // waits for a Cancel() running on another thread
    if (token != null) token.Dispose();
    Options.Dispose();
  }
}

}
