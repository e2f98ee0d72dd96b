// Shared fixtures: one in-process sandbox per test run, Vietnamese sample data, and a raw
// socket server that accepts connections and never answers (to cancel calls in flight).
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Hues.Sdk.Native;
using Hues.Sdk.Testing;
using NUnit.Framework;

namespace Hues.Sdk.Tests {

[SetUpFixture]
public class SandboxFixture {
  public static Sandbox Sandbox { get; private set; }

  [SetUp]
  public void Start() { Sandbox = new Sandbox(); }

  [TearDown]
  public void Stop() { Sandbox.Dispose(); }
}

static class Samples {
  public const string Description = "Đèn đường hỏng trước chợ Đông Ba, đường Trần Hưng Đạo";
  public const string Address = "Chợ Đông Ba, 2 Trần Hưng Đạo, Huế";
  public const string Ward = "Đông Ba";

  public static NewReport Report(string category, string description = Description,
                                 double lat = 16.4726, double lon = 107.5885) {
    return new NewReport {
      Category = category,
      Description = description,
      Location = new Location { Lat = lat, Lon = lon, Address = Address, Ward = Ward },
    };
  }

  // The raw body of GET path, decoded as UTF-8: what the server really holds.
  public static string RawGet(string path) {
    using (var web = new WebClient()) {
      web.Encoding = Encoding.UTF8;
      web.Headers.Add("X-Api-Key", SandboxFixture.Sandbox.ApiKey);
      return web.DownloadString(SandboxFixture.Sandbox.Url + path);
    }
  }
}

sealed class ListLogger : ILogger {
  public readonly ConcurrentQueue<string> Lines = new ConcurrentQueue<string>();
  public void Log(LogLevel level, string message) { Lines.Enqueue(level + " " + message); }
}

// Accepts TCP connections and holds them open without a byte of response.
sealed class StallServer : IDisposable {
  readonly TcpListener listener = new TcpListener(IPAddress.Loopback, 0);
  readonly List<TcpClient> held = new List<TcpClient>();

  public StallServer() {
    listener.Start();
    Accept();
  }

  public string Url { get { return "http://127.0.0.1:" + ((IPEndPoint)listener.LocalEndpoint).Port; } }

  void Accept() {
    listener.BeginAcceptTcpClient(ar => {
      try {
        lock (held) held.Add(listener.EndAcceptTcpClient(ar));
        Accept();
      } catch (ObjectDisposedException) {
      } catch (SocketException) {
      }
    }, null);
  }

  public void Dispose() {
    listener.Stop();
    lock (held) foreach (var c in held) c.Close();
  }
}

}
