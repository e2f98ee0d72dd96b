package vn.hues.sdk;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import vn.hues.sdk.internal.Json;

/**
 * Per-call overrides of the client's options (the spec's CallOptions), and a cancellation
 * token. Absent values mean the client's own.
 *
 * <pre>{@code
 * CancellationToken token = new CancellationToken();
 * client.reports().get(id, CallOptions.builder().deadline(Duration.ofSeconds(5)).cancel(token).build());
 * }</pre>
 */
public final class CallOptions {
  private final Long attemptTimeoutMs;
  private final Long deadlineMs;
  private final Integer maxAttempts;
  private final String idempotencyKey;
  private final CancellationToken cancel;

  private CallOptions(Builder b) {
    attemptTimeoutMs = b.attemptTimeoutMs;
    deadlineMs = b.deadlineMs;
    maxAttempts = b.maxAttempts;
    idempotencyKey = b.idempotencyKey;
    cancel = b.cancel;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Options with only a cancellation token. */
  public static CallOptions cancel(CancellationToken token) {
    return builder().cancel(token).build();
  }

  public Long getAttemptTimeoutMs() { return attemptTimeoutMs; }
  public Long getDeadlineMs() { return deadlineMs; }
  public Integer getMaxAttempts() { return maxAttempts; }
  public String getIdempotencyKey() { return idempotencyKey; }
  /** The token that cancels the call, or null. */
  public CancellationToken cancel() { return cancel; }

  /** The JSON the native boundary takes (the token stays on this side). */
  public byte[] toJson() {
    Map<String, Object> o = new LinkedHashMap<>();
    if (attemptTimeoutMs != null) o.put("attempt_timeout_ms", attemptTimeoutMs);
    if (deadlineMs != null) o.put("deadline_ms", deadlineMs);
    if (maxAttempts != null) o.put("max_attempts", maxAttempts);
    if (idempotencyKey != null) o.put("idempotency_key", idempotencyKey);
    return o.isEmpty() ? null : Json.write(o);
  }

  @Override
  public String toString() {
    return "CallOptions{attemptTimeoutMs=" + attemptTimeoutMs + ", deadlineMs=" + deadlineMs
        + ", maxAttempts=" + maxAttempts + ", idempotencyKey=" + idempotencyKey + ", cancel=" + cancel + "}";
  }

  public static final class Builder {
    private Long attemptTimeoutMs;
    private Long deadlineMs;
    private Integer maxAttempts;
    private String idempotencyKey;
    private CancellationToken cancel;

    private Builder() {}

    /** One attempt, from connect to the last body byte. */
    public Builder attemptTimeout(Duration d) { attemptTimeoutMs = d.toMillis(); return this; }
    /** The whole call, across retries and backoff. */
    public Builder deadline(Duration d) { deadlineMs = d.toMillis(); return this; }
    /** Attempts in all, including the first; 1 disables retries. */
    public Builder maxAttempts(int n) { maxAttempts = n; return this; }
    /** For creates: the key that makes retries safe (default: one per call). */
    public Builder idempotencyKey(String key) { idempotencyKey = key; return this; }
    /** Cancelling the token aborts the call (CancelledException). */
    public Builder cancel(CancellationToken token) { cancel = token; return this; }

    public CallOptions build() {
      return new CallOptions(this);
    }
  }
}
