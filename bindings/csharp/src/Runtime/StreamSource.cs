// The one stream adapter behind x-hues-byte-source callbacks (an UploadConfig's Source): a
// System.IO.Stream read from its position when the SDK was given it. Offsets count from that
// position; a stream with CanSeek seeks back for a retry, any other is read forward only (the
// SDK then resends a retried chunk from the copy it holds).
using System;
using System.IO;

namespace Hues.Sdk.Runtime {

sealed class StreamSource {
  readonly Stream stream;
  readonly long origin;

  internal StreamSource(Stream stream) {
    if (stream == null) throw new ArgumentNullException("stream");
    if (!stream.CanRead) throw new ArgumentException("the upload's source stream cannot be read", "stream");
    this.stream = stream;
    origin = stream.CanSeek ? stream.Position : 0;
  }

  // Up to size bytes; empty only at the end.
  internal byte[] Read(long size) {
    var buf = new byte[(int)Math.Min(size, 1 << 20)];
    int n = stream.Read(buf, 0, buf.Length);
    if (n == buf.Length) return buf;
    var part = new byte[Math.Max(0, n)];
    Array.Copy(buf, part, part.Length);
    return part;
  }

  internal bool Seek(long offset) {
    if (!stream.CanSeek) return false;
    stream.Position = origin + offset;
    return true;
  }

  internal long Size() {
    return stream.CanSeek ? stream.Length - origin : -1;
  }
}

}
