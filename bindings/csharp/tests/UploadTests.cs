// Upload (a tus 1.0.0 client) from C#: progress as IProgress<UploadProgress>, pause and resume,
// cancel through a CancellationToken, a store written in C#, a dropped connection (a relay that
// resets once), bad input.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Hues.Sdk.Tests {

// Records what it is told, synchronously (Progress<T> posts to the thread pool, out of order).
sealed class ProgressRecorder : IProgress<UploadProgress> {
  public readonly List<long> Seen = new List<long>();
  public readonly ConcurrentBag<int> Threads = new ConcurrentBag<int>();
  public Action<UploadProgress> Also;
  public void Report(UploadProgress p) {
    lock (Seen) Seen.Add(p.Uploaded);
    Threads.Add(Thread.CurrentThread.ManagedThreadId);
    if (Also != null) Also(p);
  }
}

sealed class DictionaryUploadStore : IUploadStore {
  public readonly ConcurrentDictionary<string, UploadRecord> Records = new ConcurrentDictionary<string, UploadRecord>();
  public int Saves;
  public UploadRecord Load(string key) { UploadRecord r; return Records.TryGetValue(key, out r) ? r : null; }
  public void Save(string key, UploadRecord record) { Interlocked.Increment(ref Saves); Records[key] = record; }
  public void Remove(string key) { UploadRecord r; Records.TryRemove(key, out r); }
}

[TestFixture, Timeout(120000)]
public class UploadTests {
  const int MiB = 1 << 20;
  string dir;

  [SetUp]
  public void MakeDir() {
    dir = Path.Combine(Path.GetTempPath(), "hues-cs-upload-" + Guid.NewGuid().ToString("N"));
    Directory.CreateDirectory(dir);
  }

  [TearDown]
  public void RemoveDir() { Directory.Delete(dir, true); }

  static byte[] MakeFile(string path, int size, int seed) {
    var data = new byte[size];
    new Random(seed).NextBytes(data);
    var ftyp = new byte[] { 0, 0, 0, 0x18, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'i', (byte)'s', (byte)'o', (byte)'m',
                            0, 0, 2, 0, (byte)'i', (byte)'s', (byte)'o', (byte)'m', (byte)'i', (byte)'s', (byte)'o', (byte)'2' };
    Array.Copy(ftyp, data, Math.Min(ftyp.Length, size));  // an MP4 head: the sandbox sniffs video
    File.WriteAllBytes(path, data);
    return data;
  }

  static byte[] Stored(string url) {
    return File.ReadAllBytes(Path.Combine(SandboxFixture.Sandbox.DataDir, "uploads", url.Substring(url.LastIndexOf('/') + 1) + ".bin"));
  }

  static HuesClient NewClient(string url = null) {
    return new HuesClient(url ?? SandboxFixture.Sandbox.Url, apiKey: SandboxFixture.Sandbox.ApiKey);
  }

  [Test]
  public void UploadsInChunksReportingProgressAsIProgress() {
    var path = Path.Combine(dir, "ảnh-ngập-nước.mp4");
    var data = MakeFile(path, 5 * MiB + 9, 1);
    var progress = new ProgressRecorder();
    var store = new DictionaryUploadStore();
    using (var client = NewClient())
    using (var up = new Upload(client, UploadMediaType.Video, path: path, chunkSize: MiB, store: store, progress: progress)) {
      var r = up.Start();
      Assert.IsTrue(r.Complete);
      Assert.AreEqual(data.Length, r.Size);
      Assert.GreaterOrEqual(progress.Seen.Count, 6);
      for (int i = 1; i < progress.Seen.Count; i++) Assert.Greater(progress.Seen[i], progress.Seen[i - 1]);
      Assert.AreEqual(data.Length, progress.Seen.Last());
      Assert.IsFalse(progress.Threads.Contains(Thread.CurrentThread.ManagedThreadId));
      CollectionAssert.AreEqual(data, Stored(r.Url));
      Assert.AreEqual(1, store.Saves);
      Assert.IsEmpty(store.Records);
    }
  }

  [Test]
  public void PauseThenResumeThenCancelByToken() {
    var path = Path.Combine(dir, "v.mp4");
    var data = MakeFile(path, 4 * MiB, 2);
    var store = new DictionaryUploadStore();
    using (var client = NewClient()) {
      Upload first = null;
      var progress = new ProgressRecorder { Also = p => { if (p.Uploaded >= MiB && p.Uploaded < p.Total) first.Pause(); } };
      first = new Upload(client, UploadMediaType.Video, path: path, chunkSize: 512 * 1024, store: store, progress: progress);
      var paused = first.StartAsync().GetAwaiter().GetResult();
      first.Dispose();
      Assert.IsFalse(paused.Complete);
      Assert.AreEqual(1, store.Records.Count);

      var cts = new CancellationTokenSource();
      var cancelling = new ProgressRecorder { Also = p => cts.Cancel() };
      using (var second = new Upload(client, UploadMediaType.Video, path: path, chunkSize: 256 * 1024, store: store, progress: cancelling)) {
        var task = second.StartAsync(cts.Token);
        var e = Assert.Catch<OperationCanceledException>(() => task.GetAwaiter().GetResult());
        Assert.That(e.InnerException, Is.InstanceOf<CancelledException>());
      }
      Assert.AreEqual(1, store.Records.Count);  // a cancelled start keeps the URL

      using (var third = new Upload(client, UploadMediaType.Video, path: path, store: store, progress: new Progress<UploadProgress>())) {
        var r = third.StartAsync().GetAwaiter().GetResult();
        Assert.IsTrue(r.Complete);
        Assert.IsTrue(r.Resumed);
        Assert.AreEqual(paused.Url, r.Url);
        CollectionAssert.AreEqual(data, Stored(r.Url));
        Assert.IsEmpty(store.Records);
      }
    }
  }

  // A relay to the sandbox that resets both sides once, after dropAfter bytes went upstream.
  sealed class ResettingRelay : IDisposable {
    readonly TcpListener listener = new TcpListener(IPAddress.Loopback, 0);
    readonly long dropAfter;
    long forwarded;
    public volatile bool Dropped;
    public ResettingRelay(long dropAfter) {
      this.dropAfter = dropAfter;
      listener.Start();
      new Thread(Serve) { IsBackground = true }.Start();
    }
    public string Url { get { return "http://127.0.0.1:" + ((IPEndPoint)listener.LocalEndpoint).Port; } }
    void Serve() {
      while (true) {
        TcpClient c;
        try { c = listener.AcceptTcpClient(); } catch (Exception) { return; }
        var u = new TcpClient();
        u.Connect(IPAddress.Loopback, SandboxFixture.Sandbox.Port);
        new Thread(() => Down(u, c)) { IsBackground = true }.Start();
        new Thread(() => Up(c, u)) { IsBackground = true }.Start();
      }
    }
    void Down(TcpClient u, TcpClient c) {
      var from = SandboxFixture.Sandbox.Url + "/v1/uploads/";
      var buf = new byte[65536];
      try {
        int n;
        while ((n = u.GetStream().Read(buf, 0, buf.Length)) > 0) {  // point the Location at the relay
          var s = Encoding.GetEncoding("ISO-8859-1").GetString(buf, 0, n).Replace(from, Url + "/v1/uploads/");
          var b = Encoding.GetEncoding("ISO-8859-1").GetBytes(s);
          c.GetStream().Write(b, 0, b.Length);
        }
      } catch (Exception) {}
      try { c.Close(); } catch (Exception) {}
    }
    void Up(TcpClient c, TcpClient u) {
      var buf = new byte[65536];
      try {
        int n;
        while ((n = c.GetStream().Read(buf, 0, buf.Length)) > 0) {
          if (!Dropped && Interlocked.Add(ref forwarded, n) > dropAfter) {
            Dropped = true;
            c.Client.LingerState = new LingerOption(true, 0);
            u.Client.LingerState = new LingerOption(true, 0);
            c.Close();
            u.Close();
            return;
          }
          u.GetStream().Write(buf, 0, n);
        }
      } catch (Exception) {}
      try { u.Close(); } catch (Exception) {}
    }
    public void Dispose() { listener.Stop(); }
  }

  [Test]
  public void ADroppedConnectionResumesFromTheServersOffset() {
    var path = Path.Combine(dir, "d.mp4");
    var data = MakeFile(path, 6 * MiB, 5);
    using (var relay = new ResettingRelay(2L * MiB + 50000))
    using (var client = NewClient(relay.Url))
    using (var up = new Upload(client, UploadMediaType.Video, path: path, chunkSize: MiB, retryBackoffMs: 10)) {
      var r = up.Start();
      Assert.IsTrue(relay.Dropped);
      Assert.IsTrue(r.Complete);
      CollectionAssert.AreEqual(data, Stored(r.Url));
    }
  }

  [Test]
  public void BadInputIsAValidationExceptionNamingPath() {
    var store = new DictionaryUploadStore();
    using (var client = NewClient()) {
      var missing = Assert.Throws<ValidationException>(() => {
        using (var up = new Upload(client, UploadMediaType.Photo, path: Path.Combine(dir, "missing.jpg"), store: store)) up.Start();
      });
      Assert.AreEqual("path", missing.Field);
      Assert.AreEqual("file_not_found", missing.Code);
      var huge = Path.Combine(dir, "huge.jpg");
      using (var f = File.Create(huge)) f.SetLength(26L * MiB);  // over the photo limit: the server's 413
      var big = Assert.Throws<ValidationException>(() => {
        using (var up = new Upload(client, UploadMediaType.Photo, path: huge, store: store)) up.Start();
      });
      Assert.AreEqual("path", big.Field);
      Assert.AreEqual("payload_too_large", big.Code);
      Assert.AreEqual(413, big.Status);
      Assert.AreEqual(0, store.Saves);
      Assert.IsEmpty(store.Records);
    }
  }

  // ---- upload from a stream (System.IO.Stream) ----

  // A non-seekable stream (a pipe, a network stream) that counts what it hands out.
  sealed class ForwardOnlyStream : Stream {
    readonly byte[] data;
    int pos;
    public long BytesRead;
    public ForwardOnlyStream(byte[] data) { this.data = data; }
    public override bool CanRead { get { return true; } }
    public override bool CanSeek { get { return false; } }
    public override bool CanWrite { get { return false; } }
    public override long Length { get { throw new NotSupportedException(); } }
    public override long Position { get { throw new NotSupportedException(); } set { throw new NotSupportedException(); } }
    public override void Flush() {}
    public override int Read(byte[] buffer, int offset, int count) {
      int n = Math.Min(count, data.Length - pos);
      Array.Copy(data, pos, buffer, offset, n);
      pos += n;
      BytesRead += n;
      return n;
    }
    public override long Seek(long offset, SeekOrigin origin) { throw new NotSupportedException(); }
    public override void SetLength(long value) { throw new NotSupportedException(); }
    public override void Write(byte[] buffer, int offset, int count) { throw new NotSupportedException(); }
  }

  static string Sha256Hex(byte[] data) {
    using (var sha = System.Security.Cryptography.SHA256.Create())
      return string.Concat(sha.ComputeHash(data).Select(b => b.ToString("x2")));
  }

  [Test]
  public void UploadsFromAStreamSeekableOrNotAndTheMediaSha256IsTheSources() {
    var path = Path.Combine(dir, "s.mp4");
    var data = MakeFile(path, 3 * MiB + 777, 21);
    using (var client = NewClient()) {
      using (var file = File.OpenRead(path))
      using (var up = new Upload(client, UploadMediaType.Video, source: file, chunkSize: MiB)) {
        var r = up.Start();
        Assert.IsTrue(r.Complete);
        Assert.That(r.Size, Is.EqualTo(data.Length));
        Assert.That(client.Media.Get(r.MediaId).Sha256, Is.EqualTo(Sha256Hex(data)));
      }
      var stream = new ForwardOnlyStream(data);
      using (var up = new Upload(client, UploadMediaType.Video, source: stream, size: data.Length, chunkSize: MiB)) {
        var r = up.Start();
        Assert.IsTrue(r.Complete);
        Assert.That(client.Media.Get(r.MediaId).Sha256, Is.EqualTo(Sha256Hex(data)));
        Assert.That(stream.BytesRead, Is.EqualTo(data.Length));
      }
    }
  }

  [Test]
  public void ANonSeekableStreamResendsTheChunkItHoldsAfterADrop() {
    var data = MakeFile(Path.Combine(dir, "n.mp4"), 5 * MiB + 99, 31);
    var stream = new ForwardOnlyStream(data);
    using (var relay = new ResettingRelay(2L * MiB + 300000))
    using (var client = NewClient(relay.Url))
    using (var up = new Upload(client, UploadMediaType.Video, source: stream, size: data.Length, chunkSize: MiB,
                               retryBackoffMs: 10)) {
      var r = up.Start();
      Assert.IsTrue(relay.Dropped);
      Assert.IsTrue(r.Complete);
      CollectionAssert.AreEqual(data, Stored(r.Url));
      Assert.That(stream.BytesRead, Is.EqualTo(data.Length));  // never re-read: resent from the held chunk
    }
  }

  [Test]
  public void AStreamOfUnknownLengthUploadsWithUploadDeferLength() {
    // No size: the sandbox advertises creation-defer-length, so the SDK creates with
    // Upload-Defer-Length: 1 and declares the length on the PATCH that finds the end (the
    // short last chunk; for an exact multiple of the chunk size, an empty PATCH after it).
    using (var client = NewClient()) {
      foreach (var size in new[] {3 * MiB + 777, 2 * MiB}) {
        var data = MakeFile(Path.Combine(dir, "u" + size + ".mp4"), size, 51);
        var stream = new ForwardOnlyStream(data);
        using (var up = new Upload(client, UploadMediaType.Video, source: stream, chunkSize: MiB)) {
          var r = up.Start();
          Assert.IsTrue(r.Complete);
          Assert.That(r.Size, Is.EqualTo(size));
          CollectionAssert.AreEqual(data, Stored(r.Url));
          Assert.That(client.Media.Get(r.MediaId).Sha256, Is.EqualTo(Sha256Hex(data)));
          Assert.That(stream.BytesRead, Is.EqualTo(size));
        }
      }
    }
  }

  // A tus server's discovery without creation-defer-length: it answers every request (OPTIONS
  // is all an upload that cannot start reaches) with 204 and Tus-Extension lacking it.
  sealed class NoDeferServer : IDisposable {
    readonly TcpListener listener = new TcpListener(IPAddress.Loopback, 0);
    public readonly string Url;
    public NoDeferServer() {
      listener.Start();
      Url = "http://127.0.0.1:" + ((IPEndPoint)listener.LocalEndpoint).Port;
      new Thread(Serve) {IsBackground = true}.Start();
    }
    void Serve() {
      try {
        for (;;) {
          var c = listener.AcceptTcpClient();
          new Thread(() => {
            using (c) {
              var s = c.GetStream();
              var head = new StringBuilder();
              var buf = new byte[1];
              try {
                while (!head.ToString().EndsWith("\r\n\r\n") && s.Read(buf, 0, 1) == 1) head.Append((char)buf[0]);
                var answer = Encoding.ASCII.GetBytes("HTTP/1.1 204 No Content\r\nTus-Version: 1.0.0\r\n" +
                                                     "Tus-Extension: creation,termination,checksum\r\nConnection: close\r\n\r\n");
                s.Write(answer, 0, answer.Length);
              } catch (IOException) {
              }
            }
          }) {IsBackground = true}.Start();
        }
      } catch (SocketException) {  // stopped
      } catch (ObjectDisposedException) {
      }
    }
    public void Dispose() { listener.Stop(); }
  }

  [Test]
  public void AStreamOfUnknownLengthNeedsDeferLengthOrASize() {
    using (var server = new NoDeferServer())
    using (var client = NewClient(server.Url))
    using (var up = new Upload(client, UploadMediaType.Video, source: new ForwardOnlyStream(new byte[1000]))) {
      var e = Assert.Throws<ValidationException>(() => up.Start());
      Assert.That(e.Field, Is.EqualTo("source"));
      Assert.That(e.Code, Is.EqualTo("length_required"));
    }
  }
}

}
