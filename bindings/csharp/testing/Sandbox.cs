// The Hue-S sandbox in-process for tests and demos: a real HTTP and HTTPS server over a real
// SQLite database on ephemeral loopback ports, from libhues_sandbox (sandbox_c_api.h; never
// part of what an app ships: only this testing class loads it).
//
//   using (var sandbox = new Sandbox())
//   using (var client = sandbox.CreateClient()) { ... }
using System;
using System.Runtime.InteropServices;
using Hues.Sdk.Runtime;

namespace Hues.Sdk.Testing {

public sealed class Sandbox : IDisposable {
  [StructLayout(LayoutKind.Sequential)]
  struct SandboxBytes {
    public IntPtr Data;
    public UIntPtr Len;
  }

  const string Lib = "hues_sandbox";

  [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
  static extern int hues_sandbox_start(byte[] config, UIntPtr configLen, out ulong sandbox, ref SandboxBytes info);

  [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
  static extern void hues_sandbox_stop(ulong sandbox);

  [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
  static extern void hues_sandbox_bytes_free(ref SandboxBytes bytes);

  readonly object gate = new object();
  ulong handle;

  // Null arguments keep the sandbox's defaults: a fresh temporary data directory (removed on
  // Dispose), free ports, HTTPS on. tlsPort -1 disables HTTPS.
  // tlsNames: the host names and IP addresses the TLS certificate names (default localhost,
  // 127.0.0.1, ::1); another name makes a certificate that clients of localhost must refuse.
  public Sandbox(string dataDir = null, int? port = null, int? tlsPort = null, int? threads = null,
                 string[] tlsNames = null) {
    var w = new JsonWriter();
    w.BeginObject();
    if (dataDir != null) w.Name("data_dir").String(dataDir);
    if (port.HasValue) w.Name("port").Int(port.Value);
    if (tlsPort.HasValue) w.Name("tls_port").Int(tlsPort.Value);
    if (threads.HasValue) w.Name("threads").Int(threads.Value);
    if (tlsNames != null) {
      w.Name("tls_names").BeginArray();
      foreach (var name in tlsNames) w.String(name);
      w.EndArray();
    }
    w.EndObject();
    var config = w.ToUtf8();
    var info = new SandboxBytes();
    int status = hues_sandbox_start(config, Native.Len(config), out handle, ref info);
    byte[] bytes = new byte[0];
    if (info.Data != IntPtr.Zero) {
      bytes = Native.Copy(info.Data, info.Len);
      hues_sandbox_bytes_free(ref info);
    }
    var n = bytes.Length > 0 ? JsonNode.Parse(bytes) : JsonNode.NullNode;
    if (status != 0)
      throw new InvalidOperationException("the sandbox did not start: " + Str(n, "message"));
    Url = Str(n, "url");
    TlsUrl = Str(n, "tls_url");
    CaFile = Str(n, "ca_file");
    ApiKey = Str(n, "api_key");
    AdminKey = Str(n, "admin_key");
    DataDir = Str(n, "data_dir");
    Port = Int(n, "port");
    TlsPort = Int(n, "tls_port");
  }

  static string Str(JsonNode n, string name) {
    var v = n.Get(name);
    return v != null && v.Kind == JsonKind.String ? v.Text : "";
  }

  static int Int(JsonNode n, string name) {
    var v = n.Get(name);
    return v != null && v.Kind == JsonKind.Number ? Codec.Int(v, name) : 0;
  }

  public string Url { get; }      // "http://127.0.0.1:PORT"
  public string TlsUrl { get; }   // "https://localhost:PORT"; "" when TLS is off
  public string CaFile { get; }   // PEM of the development CA that signed the TLS certificate
  public string ApiKey { get; }   // the seeded partner test key (a secret: never printed)
  public string AdminKey { get; } // the sandbox's admin key (moves reports through their lifecycle)
  public string DataDir { get; }
  public int Port { get; }
  public int TlsPort { get; }

  // Options for a client of this sandbox, over HTTPS (trusting CaFile) when tls is true.
  public ClientOptions ClientOptions(bool tls = false, ILogger logger = null, LogLevel logLevel = null,
                                     RetryPolicy retry = null) {
    return new ClientOptions(tls ? TlsUrl : Url, apiKey: ApiKey, caFile: tls ? CaFile : null, logger: logger,
                             logLevel: logLevel, retry: retry);
  }

  public HuesClient CreateClient(bool tls = false) { return new HuesClient(ClientOptions(tls)); }

  // Stops serving and closes the database. Idempotent.
  public void Dispose() {
    lock (gate) {
      if (handle == 0) return;
      hues_sandbox_stop(handle);
      handle = 0;
    }
  }

  public override string ToString() { return "Sandbox { Url = " + Url + " }"; }
}

}
