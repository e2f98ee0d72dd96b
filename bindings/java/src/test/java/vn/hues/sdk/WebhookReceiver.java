package vn.hues.sdk;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A partner's webhook endpoint for tests: the JDK's HTTP server on a real loopback socket,
 * recording each POST (its headers, first value of each, and its raw body bytes) and
 * answering 204.
 */
public final class WebhookReceiver implements AutoCloseable {
  /** One delivery as received. */
  public static final class Delivery {
    public final Map<String, String> headers;
    public final byte[] body;

    Delivery(Map<String, String> headers, byte[] body) {
      this.headers = headers;
      this.body = body;
    }

    /** The headers with one of them replaced (names as received). */
    public Map<String, String> with(String name, String value) {
      Map<String, String> h = new LinkedHashMap<>(headers);
      h.keySet().removeIf(k -> k.equalsIgnoreCase(name));
      h.put(name, value);
      return h;
    }

    public String header(String name) {
      for (Map.Entry<String, String> e : headers.entrySet()) {
        if (e.getKey().equalsIgnoreCase(name)) return e.getValue();
      }
      return null;
    }
  }

  private final HttpServer server;
  private final BlockingQueue<Delivery> got = new LinkedBlockingQueue<>();

  public WebhookReceiver() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", exchange -> {
      byte[] body;
      try (InputStream in = exchange.getRequestBody()) {
        body = in.readAllBytes();
      }
      Map<String, String> headers = new LinkedHashMap<>();
      exchange.getRequestHeaders().forEach((k, v) -> headers.put(k, v.get(0)));
      exchange.sendResponseHeaders(204, -1);
      exchange.close();
      if ("POST".equals(exchange.getRequestMethod())) got.add(new Delivery(headers, body));
    });
    server.start();
  }

  /** http://127.0.0.1:PORT/hooks/hues (the sandbox accepts plain http to loopback). */
  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/hooks/hues";
  }

  /** The next delivery whose body mentions text (a report id), skipping others; fails after 20 s. */
  public Delivery next(String text) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      Delivery d = got.poll(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (d == null) throw new AssertionError("no webhook delivery about " + text + " within 20 s");
      if (new String(d.body, java.nio.charset.StandardCharsets.UTF_8).contains(text)) return d;
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
