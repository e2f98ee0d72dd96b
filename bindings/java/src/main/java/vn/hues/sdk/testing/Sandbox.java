package vn.hues.sdk.testing;

import java.util.LinkedHashMap;
import java.util.Map;
import vn.hues.sdk.HuesClient;
import vn.hues.sdk.internal.Json;
import vn.hues.sdk.internal.NativeLoader;

/**
 * The Hue-S sandbox in-process: a real HTTP and HTTPS server over a real SQLite database on
 * ephemeral loopback ports, for tests and demos. It lives in its own native library
 * (hues_sandbox_jni, over sandbox/include/hues/sandbox_c_api.h), loaded only when this class
 * is used: the SDK's own library never contains the sandbox.
 *
 * <pre>{@code
 * try (Sandbox sb = new Sandbox(); HuesClient client = sb.client()) { ... }
 * }</pre>
 */
public final class Sandbox implements AutoCloseable {
  static {
    NativeLoader.load("hues_sandbox_jni");
  }

  private static native long start0(byte[] config, byte[][] info);

  private static native void stop0(long sandbox);

  private long handle;
  private final Map<String, Object> info;

  /** Starts on free ports with a fresh temporary data directory. */
  public Sandbox() {
    this(new LinkedHashMap<>());
  }

  /**
   * Starts before returning; throws IllegalStateException if it cannot. config keys: host,
   * port, tls_port (-1: no TLS), data_dir, threads.
   */
  public Sandbox(Map<String, Object> config) {
    byte[][] out = new byte[1][];
    long h = start0(Json.write(config), out);
    Map<String, Object> o = Json.object(Json.parse(out[0]), "sandbox");
    if (h == 0) throw new IllegalStateException("sandbox: " + o.get("message"));
    handle = h;
    info = o;
  }

  /** {@code http://127.0.0.1:PORT} */
  public String url() { return str("url"); }
  /** {@code https://localhost:PORT}; empty when TLS is off. */
  public String tlsUrl() { return str("tls_url"); }
  /** PEM of the development CA that signed the TLS certificate. */
  public String caFile() { return str("ca_file"); }
  /** The seeded partner test key (a secret of the sandbox; never log it). */
  public String apiKey() { return str("api_key"); }
  public String adminKey() { return str("admin_key"); }
  public String dataDir() { return str("data_dir"); }
  public int port() { return Json.i32(live().get("port")); }
  public int tlsPort() { return Json.i32(live().get("tls_port")); }

  /** A builder for a client of this sandbox over plain HTTP, with its API key. */
  public HuesClient.Builder clientBuilder() {
    return HuesClient.builder().baseUrl(url()).apiKey(apiKey());
  }

  /** A client of this sandbox over plain HTTP, with its API key. */
  public HuesClient client() {
    return clientBuilder().build();
  }

  /** Stops serving and removes a temporary data directory. Idempotent. */
  @Override
  public synchronized void close() {
    if (handle == 0) return;
    stop0(handle);
    handle = 0;
  }

  private String str(String key) {
    Object v = live().get(key);
    return v == null ? "" : Json.str(v);
  }

  private synchronized Map<String, Object> live() {
    if (handle == 0) throw new IllegalStateException("Sandbox is closed");
    return info;
  }

  @Override
  public String toString() {
    return handle == 0 ? "Sandbox{closed}" : "Sandbox{url=" + info.get("url") + "}";
  }
}
