package vn.hues.sdk;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;
import java.util.function.Supplier;
import vn.hues.sdk.internal.CallOptions;
import vn.hues.sdk.internal.CitizenProfile;
import vn.hues.sdk.internal.Client;
import vn.hues.sdk.internal.ClientOptions;
import vn.hues.sdk.internal.LogLevel;
import vn.hues.sdk.internal.NativeCalls;
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
  private static final CallOptions DEFAULTS = new CallOptions();
  private final Client client;
  private final ReportsService reports;
  private final NativeCalls calls;

  private HuesClient(Builder b) {
    b.options.setRetry(b.retry);
    this.client = new Client(b.options);
    this.reports = new ReportsService(this, client.reports());
    this.calls = new NativeCalls("HuesClient", b.executor, () -> {
      reports.release();
      client.delete();
    });
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Citizen reports: categories, create, get, list. */
  public ReportsService reports() {
    return reports;
  }

  /**
   * The signed-in person's profile (/v1/me). Needs user credentials ({@link
   * Builder#credentials}); without them it throws {@link AuthenticationException}.
   */
  public CitizenProfile me() { return me(null); }

  public CitizenProfile me(CallOptions options) {
    return call(() -> client.me(options == null ? DEFAULTS : options));
  }

  /** {@link #me} on the client's executor; cancelling the future cancels the call. */
  public CompletableFuture<CitizenProfile> meAsync() { return meAsync(null); }

  public CompletableFuture<CitizenProfile> meAsync(CallOptions options) {
    return async(options, this::me);
  }

  /** The SDK's version, e.g. "0.1.0". */
  public static String version() {
    return Client.version();
  }

  /** Releases the connection pool and the async executor (if the client created it). */
  @Override
  public void close() {
    calls.close();
  }

  <T> T call(Supplier<T> body) {
    return calls.call(body);
  }

  <T> CompletableFuture<T> async(CallOptions options, Function<CallOptions, T> call) {
    return calls.async(options, call);
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
    /**
     * Credentials other than an API key (a partner backend's {@code ClientCredentials}, a
     * signed-in user's {@code UserCredentials}); used instead of the API key when set.
     */
    public Builder credentials(Credentials credentials) {
      options.setCredentials(credentials == null ? null : credentials.provider());
      return this;
    }
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
