// The Hue-S sandbox in-process for tests and demos: a real HTTP and HTTPS server over a real
// SQLite database on ephemeral loopback ports (hues/testing/sandbox.h).
//
//   using (var sandbox = new Sandbox())
//   using (var client = sandbox.CreateClient()) { ... }
using System;

namespace Hues.Sdk.Testing {

public sealed class Sandbox : IDisposable {
  readonly object gate = new object();
  Native.Sandbox sandbox;

  // Null arguments keep the sandbox's defaults: a fresh temporary data directory (removed on
  // Dispose) and free ports. tlsPort -1 disables HTTPS.
  public Sandbox(string dataDir = null, int? port = null, int? tlsPort = null, int? threads = null) {
    using (var o = new Native.SandboxOptions()) {
      if (dataDir != null) o.DataDir = dataDir;
      if (port.HasValue) o.Port = port.Value;
      if (tlsPort.HasValue) o.TlsPort = tlsPort.Value;
      if (threads.HasValue) o.Threads = threads.Value;
      sandbox = new Native.Sandbox(o);
    }
    Url = sandbox.Url();
    TlsUrl = sandbox.TlsUrl();
    CaFile = sandbox.CaFile();
    ApiKey = sandbox.ApiKey();
    DataDir = sandbox.DataDir();
    Port = sandbox.Port();
    TlsPort = sandbox.TlsPort();
  }

  public string Url { get; }      // "http://127.0.0.1:PORT"
  public string TlsUrl { get; }   // "https://localhost:PORT"; "" when TLS is off
  public string CaFile { get; }   // PEM of the development CA that signed the TLS certificate
  public string ApiKey { get; }   // the seeded partner test key
  public string DataDir { get; }
  public int Port { get; }
  public int TlsPort { get; }

  // Options for a client of this sandbox, over HTTPS (trusting CaFile) when tls is true.
  public HuesClientOptions ClientOptions(bool tls = false) {
    return new HuesClientOptions {
      BaseUrl = tls ? TlsUrl : Url, ApiKey = ApiKey, CaFile = tls ? CaFile : null };
  }

  public HuesClient CreateClient(bool tls = false) { return new HuesClient(ClientOptions(tls)); }

  // Stops serving and closes the database. Idempotent.
  public void Dispose() {
    lock (gate) {
      if (sandbox == null) return;
      sandbox.Stop();
      sandbox.Dispose();
      sandbox = null;
    }
  }
}

}
