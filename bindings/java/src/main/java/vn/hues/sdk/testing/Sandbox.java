package vn.hues.sdk.testing;

import vn.hues.sdk.HuesClient;
import vn.hues.sdk.internal.SandboxOptions;

/**
 * The Hue-S sandbox in-process: a real HTTP and HTTPS server over a real SQLite database on
 * ephemeral loopback ports, for tests and demos.
 *
 * <pre>{@code
 * try (Sandbox sb = new Sandbox(); HuesClient client = sb.client()) { ... }
 * }</pre>
 */
public final class Sandbox implements AutoCloseable {
  private vn.hues.sdk.internal.Sandbox sandbox;

  /** Starts on free ports with a fresh temporary data directory. */
  public Sandbox() {
    this(new SandboxOptions());
  }

  /** Starts before returning; throws if it cannot (e.g. the port is taken). */
  public Sandbox(SandboxOptions options) {
    sandbox = new vn.hues.sdk.internal.Sandbox(options);
  }

  /** {@code http://127.0.0.1:PORT} */
  public String url() { return live().url(); }
  /** {@code https://localhost:PORT}; empty when TLS is off. */
  public String tlsUrl() { return live().tlsUrl(); }
  /** PEM of the development CA that signed the TLS certificate. */
  public String caFile() { return live().caFile(); }
  /** The seeded partner test key. */
  public String apiKey() { return live().apiKey(); }
  public String dataDir() { return live().dataDir(); }
  public int port() { return live().port(); }
  public int tlsPort() { return live().tlsPort(); }

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
    if (sandbox == null) return;
    sandbox.stop();
    sandbox.delete();
    sandbox = null;
  }

  private synchronized vn.hues.sdk.internal.Sandbox live() {
    if (sandbox == null) throw new IllegalStateException("Sandbox is closed");
    return sandbox;
  }
}
