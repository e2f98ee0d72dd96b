package vn.hues.sdk.identity;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP relay to the sandbox that cuts both sides (mid-event, with a reset) after a random few
 * kilobytes of the answer, drops times, then relays whole.
 */
final class CuttingRelay implements AutoCloseable {
  private final ServerSocket listener;
  private final int upstream;
  private final Random rng = new Random(7);
  private int left;
  final AtomicInteger cut = new AtomicInteger();

  CuttingRelay(int upstream, int drops) throws IOException {
    this.upstream = upstream;
    this.left = drops;
    listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    daemon(this::accept);
  }

  String url() {
    return "http://127.0.0.1:" + listener.getLocalPort();
  }

  private static void daemon(Runnable r) {
    Thread t = new Thread(r, "cutting-relay");
    t.setDaemon(true);
    t.start();
  }

  private void accept() {
    while (true) {
      Socket down;
      try {
        down = listener.accept();
      } catch (IOException e) {
        return;
      }
      int budget = -1;
      synchronized (rng) {
        if (left > 0) {
          left--;
          budget = 300 + rng.nextInt(4700);
        }
      }
      int b = budget;
      daemon(() -> pipe(down, b));
    }
  }

  private void pipe(Socket down, int budget) {
    try (Socket up = new Socket(InetAddress.getLoopbackAddress(), upstream); down) {
      InputStream di = down.getInputStream();
      OutputStream uo = up.getOutputStream();
      daemon(() -> {
        try {
          di.transferTo(uo);
        } catch (IOException ignored) {
          // the other side closed
        }
      });
      InputStream ui = up.getInputStream();
      OutputStream dout = down.getOutputStream();
      byte[] buf = new byte[65536];
      int n;
      while ((n = ui.read(buf)) > 0) {
        if (budget >= 0 && n >= budget) {
          dout.write(buf, 0, budget);  // cut mid-event
          dout.flush();
          cut.incrementAndGet();
          down.setSoLinger(true, 0);
          up.setSoLinger(true, 0);
          return;
        }
        if (budget >= 0) budget -= n;
        dout.write(buf, 0, n);
        dout.flush();
      }
    } catch (IOException ignored) {
      // a side went away: the relay's connection ends with it
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
  }
}
