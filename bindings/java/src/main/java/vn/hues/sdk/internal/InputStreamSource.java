package vn.hues.sdk.internal;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.util.Arrays;

/**
 * The one stream adapter behind x-hues-byte-source callbacks ({@code UploadSource.of(InputStream)}):
 * reads the stream from its position when given. Offsets count from that position. A
 * {@link FileInputStream} seeks through its channel; any other stream is read forward only
 * (the SDK then resends a retried chunk from the copy it holds).
 */
public final class InputStreamSource {
  private final InputStream in;
  private final FileChannel channel;  // null: not seekable
  private final long base;

  public InputStreamSource(InputStream in) {
    this.in = java.util.Objects.requireNonNull(in, "source");
    this.channel = in instanceof FileInputStream ? ((FileInputStream) in).getChannel() : null;
    try {
      this.base = channel == null ? 0 : channel.position();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Up to size bytes; empty only at the end of the stream. */
  public byte[] read(long size) throws IOException {
    byte[] buf = new byte[(int) Math.min(size, 1 << 20)];
    int n = in.read(buf, 0, buf.length);
    if (n <= 0) return new byte[0];
    return n == buf.length ? buf : Arrays.copyOf(buf, n);
  }

  public boolean seek(long offset) throws IOException {
    if (channel == null) return false;
    channel.position(base + offset);
    return true;
  }

  public long size() throws IOException {
    return channel == null ? -1 : channel.size() - base;
  }
}
