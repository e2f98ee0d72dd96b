// Per-call overrides (the spec's CallOptions model; absent means the client's). Hand-written
// until the IR carries CallOptions (it is not reachable from an operation yet).
using System;
using Hues.Sdk.Runtime;

namespace Hues.Sdk {

public sealed class CallOptions {
  public CallOptions(long? attemptTimeoutMs = null, long? deadlineMs = null, int? maxAttempts = null,
                     string idempotencyKey = null) {
    AttemptTimeoutMs = attemptTimeoutMs;
    DeadlineMs = deadlineMs;
    MaxAttempts = maxAttempts;
    IdempotencyKey = idempotencyKey;
  }

  public long? AttemptTimeoutMs { get; }
  public long? DeadlineMs { get; }
  public int? MaxAttempts { get; }
  // For creates: the key that makes retries safe. Absent: the SDK makes one per call.
  public string IdempotencyKey { get; }

  internal void Encode(JsonWriter w) {
    w.BeginObject();
    if (AttemptTimeoutMs.HasValue) w.Name("attempt_timeout_ms").Long(AttemptTimeoutMs.Value);
    if (DeadlineMs.HasValue) w.Name("deadline_ms").Long(DeadlineMs.Value);
    if (MaxAttempts.HasValue) w.Name("max_attempts").Int(MaxAttempts.Value);
    if (IdempotencyKey != null) w.Name("idempotency_key").String(IdempotencyKey);
    w.EndObject();
  }

  public override string ToString() {
    return "CallOptions { AttemptTimeoutMs = " + Codec.Show(AttemptTimeoutMs) + ", DeadlineMs = " + Codec.Show(DeadlineMs) +
           ", MaxAttempts = " + Codec.Show(MaxAttempts) + ", IdempotencyKey = " + Codec.Show(IdempotencyKey) + " }";
  }
}

}
