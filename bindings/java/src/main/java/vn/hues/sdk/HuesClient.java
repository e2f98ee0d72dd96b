package vn.hues.sdk;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
import java.util.function.Supplier;
import vn.hues.sdk.internal.CallOptions;
import vn.hues.sdk.internal.CancellationToken;
import vn.hues.sdk.internal.Client;
import vn.hues.sdk.internal.ClientOptions;
import vn.hues.sdk.internal.LogLevel;
import vn.hues.sdk.internal.RetryPolicy;

/**
 * The Hue-S client. Thread-safe: share one per application; it pools connections.
 *
 * <pre>{@code
 * try (HuesClient client = HuesClient.builder().baseUrl(url).apiKey(key).build()) {
 *   for (Category c : client.reports().categories()) System.out.println(c.getNameVi());
 * }
 * }</pre>
 */
public final class HuesClient implements AutoCloseable {
  private final Client client;
  private final ReportsService reports;
  private final Executor executor;
  private final ExecutorService ownedExecutor;
  // Calls hold the read lock, close() the write lock: close never frees native objects under a
  // call in flight (which would crash the JVM rather than throw).
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private boolean closed;

  private HuesClient(Builder b) {
    b.options.setRetry(b.retry);
    this.client = new Client(b.options);
    this.ownedExecutor = b.executor == null ? Executors.newCachedThreadPool(daemonThreads()) : null;
    this.executor = b.executor == null ? ownedExecutor : b.executor;
    this.reports = new ReportsService(this, client.reports());
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Citizen reports: categories, create, get, list. */
  public ReportsService reports() {
    return reports;
  }

  /** The SDK's version, e.g. "0.1.0". */
  public static String version() {
    return Client.version();
  }

  /** Releases the connection pool and the async executor (if the client created it). */
  @Override
  public void close() {
    lock.writeLock().lock();
    try {
      if (closed) return;
      closed = true;
      reports.release();
      client.delete();
      if (ownedExecutor != null) ownedExecutor.shutdown();
    } finally {
      lock.writeLock().unlock();
    }
  }

  <T> T call(Supplier<T> body) {
    lock.readLock().lock();
    try {
      if (closed) throw new IllegalStateException("HuesClient is closed");
      return body.get();
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * Runs call on the executor with options that carry a cancellation token; cancelling the
   * returned future cancels the native call in flight.
   */
  <T> CompletableFuture<T> async(CallOptions options, Function<CallOptions, T> call) {
    CallOptions opts = options == null ? new CallOptions() : new CallOptions(options);
    CancellationToken token = opts.getCancel();
    if (token == null) {
      token = new CancellationToken();
      opts.setCancel(token);
    }
    CompletableFuture<T> future = new CompletableFuture<>();
    CancellationToken cancel = token;
    future.whenComplete((r, e) -> {
      if (future.isCancelled()) cancel.cancel();
    });
    try {
      executor.execute(() -> {
        if (future.isDone()) return;
        try {
          future.complete(call.apply(opts));
        } catch (Throwable e) {
          future.completeExceptionally(e);
        }
      });
    } catch (RuntimeException e) {  // rejected: executor shut down
      future.completeExceptionally(e);
    }
    return future;
  }

  private static ThreadFactory daemonThreads() {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "hues-async-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** Options for a client; unset values keep the SDK's defaults. */
  public static final class Builder {
    private final ClientOptions options = new ClientOptions();
    private final RetryPolicy retry = new RetryPolicy();
    private Executor executor;

    private Builder() {}

    /** e.g. {@code https://api.hue-s.vn} or a sandbox's url(). Required. */
    public Builder baseUrl(String url) { options.setBaseUrl(url); return this; }
    /** Partner API key, sent as X-Api-Key and never logged. */
    public Builder apiKey(String key) { options.setApiKey(key); return this; }
    /** TCP connect + TLS handshake. */
    public Builder connectTimeout(Duration d) { options.setConnectTimeoutMs(d.toMillis()); return this; }
    /** One attempt, from connect to the last body byte. */
    public Builder attemptTimeout(Duration d) { options.setAttemptTimeoutMs(d.toMillis()); return this; }
    /** The whole call, across retries and backoff. */
    public Builder deadline(Duration d) { options.setDeadlineMs(d.toMillis()); return this; }
    /** Attempts in all, including the first; 1 disables retries. */
    public Builder maxAttempts(int n) { retry.setMaxAttempts(n); return this; }
    public Builder backoff(Duration initial, Duration max) {
      retry.setInitialBackoffMs(initial.toMillis());
      retry.setMaxBackoffMs(max.toMillis());
      return this;
    }
    /** PEM file of extra trusted CAs (e.g. the sandbox's); default: the system's store. */
    public Builder caFile(String pem) { options.setCaFile(pem); return this; }
    public Builder caFile(Path pem) { return caFile(pem.toString()); }
    /** {@code http://[user:pass@]host:port}; HTTPS goes through it with CONNECT. */
    public Builder proxy(String url) { options.setProxy(url); return this; }
    /** Appended to the SDK's User-Agent. */
    public Builder userAgent(String ua) { options.setUserAgent(ua); return this; }
    public Builder logger(HuesLogger logger) { LoggerBridge.install(options, logger); return this; }
    public Builder logLevel(LogLevel level) { options.setLogLevel(level); return this; }
    public Builder maxConnectionsPerHost(int n) { options.setMaxConnectionsPerHost(n); return this; }
    public Builder maxResponseBytes(long n) { options.setMaxResponseBytes(n); return this; }
    /** Runs the *Async calls; default: a cached pool of daemon threads owned by the client. */
    public Builder executor(Executor e) { this.executor = e; return this; }

    /** Throws {@link ValidationException} naming the field of an unusable option. */
    public HuesClient build() {
      return new HuesClient(this);
    }
  }
}
