// Shared fixtures: one in-process sandbox per test run, Vietnamese sample data, a raw socket
// server that accepts connections and never answers (to cancel calls in flight), and the
// process's thread count.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Hues.Sdk.Testing;
using NUnit.Framework;

namespace Hues.Sdk.Tests {

// One sandbox for the run, started when a test first needs it (the model tests do not),
// stopped after the last test.
[SetUpFixture]
public class SandboxFixture {
  static readonly object gate = new object();
  static Sandbox sandbox;

  public static Sandbox Sandbox {
    get {
      lock (gate) return sandbox ?? (sandbox = new Sandbox());
    }
  }

  [TearDown]
  public void Stop() {
    lock (gate) {
      if (sandbox != null) sandbox.Dispose();
      sandbox = null;
    }
  }
}

static class Samples {
  public const string Description = "Đèn đường hỏng trước chợ Đông Ba, đường Trần Hưng Đạo";
  public const string Address = "Chợ Đông Ba, 2 Trần Hưng Đạo, Huế";
  public const string Ward = "Đông Ba";

  public static NewReport Report(string category, string description = Description,
                                 double lat = 16.4726, double lon = 107.5885) {
    return new NewReport(category, description, new Location(lat, lon, address: Address, ward: Ward));
  }

  // The raw body of GET path, decoded as UTF-8: what the server really holds.
  public static string RawGet(string path) {
    using (var web = new WebClient()) {
      web.Encoding = Encoding.UTF8;
      web.Headers.Add("X-Api-Key", SandboxFixture.Sandbox.ApiKey);
      return web.DownloadString(SandboxFixture.Sandbox.Url + path);
    }
  }

  // The threads of this process (Linux: one entry per thread in /proc/self/task).
  public static int ThreadCount() { return Directory.GetDirectories("/proc/self/task").Length; }
}

sealed class ListLogger : ILogger {
  public readonly ConcurrentQueue<string> Lines = new ConcurrentQueue<string>();
  public void Log(LogLevel level, string message) { Lines.Enqueue(level + " " + message); }
}

// Accepts TCP connections and holds them open without a byte of response.
sealed class StallServer : IDisposable {
  readonly TcpListener listener = new TcpListener(IPAddress.Loopback, 0);
  readonly List<TcpClient> held = new List<TcpClient>();
  int accepted;

  public StallServer() {
    listener.Start();
    Accept();
  }

  public string Url { get { return "http://127.0.0.1:" + ((IPEndPoint)listener.LocalEndpoint).Port; } }
  public int Accepted { get { lock (held) return accepted; } }

  void Accept() {
    listener.BeginAcceptTcpClient(ar => {
      try {
        var c = listener.EndAcceptTcpClient(ar);
        lock (held) {
          held.Add(c);
          accepted++;
        }
        Accept();
      } catch (ObjectDisposedException) {
      } catch (SocketException) {
      } catch (InvalidOperationException) {
      }
    }, null);
  }

  public void Dispose() {
    listener.Stop();
    lock (held) foreach (var c in held) c.Close();
  }
}

// A real HTTP/1.1 server on a socket that answers every request with one fixed JSON body
// (what a newer server would send): for decoding values the sandbox never produces.
sealed class FixedResponseServer : IDisposable {
  readonly TcpListener listener = new TcpListener(IPAddress.Loopback, 0);
  readonly byte[] response;
  readonly System.Threading.Thread thread;

  public FixedResponseServer(string body, int status = 200) {
    var b = Encoding.UTF8.GetBytes(body);
    var head = Encoding.ASCII.GetBytes("HTTP/1.1 " + status + " Status\r\nContent-Type: application/json\r\nX-Request-Id: req_fixed\r\n" +
                                       "Content-Length: " + b.Length + "\r\nConnection: close\r\n\r\n");
    response = new byte[head.Length + b.Length];
    Buffer.BlockCopy(head, 0, response, 0, head.Length);
    Buffer.BlockCopy(b, 0, response, head.Length, b.Length);
    listener.Start();
    thread = new System.Threading.Thread(Serve) { IsBackground = true };
    thread.Start();
  }

  public string Url { get { return "http://127.0.0.1:" + ((IPEndPoint)listener.LocalEndpoint).Port; } }

  void Serve() {
    try {
      while (true) {
        using (var c = listener.AcceptTcpClient()) {
          var s = c.GetStream();
          var buf = new byte[8192];
          var seen = new StringBuilder();
          while (!seen.ToString().Contains("\r\n\r\n")) {
            int n = s.Read(buf, 0, buf.Length);
            if (n <= 0) break;
            seen.Append(Encoding.ASCII.GetString(buf, 0, n));
          }
          s.Write(response, 0, response.Length);
        }
      }
    } catch (Exception) {
    }
  }

  public void Dispose() { listener.Stop(); }
}

}
