// Starting calls and completing them: one sink for the process, one static completion
// delegate (never a per-call delegate across the boundary), an integer tag per call that
// finds its TaskCompletionSource, CancellationToken -> hues_call_cancel.
using System;
using System.Collections.Concurrent;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Hues.Sdk.Runtime {

abstract class Pending {
  internal ulong CallId;  // set once hues_call_start returned
  internal abstract void Complete(int status, byte[] data);
  // A stream call's events (HUES_EVENT), each before the one completion.
  internal virtual void OnEvent(byte[] data) {}
}

sealed class Pending<T> : Pending {
  readonly TaskCompletionSource<T> tcs =
      new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
  readonly Func<JsonNode, T> decode;

  internal Pending(Func<JsonNode, T> decode) { this.decode = decode; }

  internal Task<T> Task { get { return tcs.Task; } }

  // Runs on an SDK host thread (or the starting thread when the start itself failed). The
  // continuations run on the thread pool (RunContinuationsAsynchronously), never here.
  internal override void Complete(int status, byte[] data) {
    try {
      if (status == Native.Ok) tcs.TrySetResult(decode(JsonNode.Parse(data)));
      else tcs.TrySetException(Errors.FromJson(data));
    } catch (Exception e) {
      tcs.TrySetException(e as HuesException ?? new ProtocolException("cannot decode the result: " + e.Message,
                                                                      code: "decode", innerException: e));
    }
  }
}

static class Calls {
  // Kept in a static field for the life of the process: the SDK holds its function pointer.
  static readonly CompletionFn OnCompletionFn = OnCompletion;
  static readonly ConcurrentDictionary<ulong, Pending> InFlight = new ConcurrentDictionary<ulong, Pending>();
  static readonly IntPtr Sink;
  static long lastTag;

  // The registration's callback; the call id is set before the token is registered.
  static readonly Action<object> CancelCallback = state => {
    var call = ((Pending)state).CallId;
    if (call != 0) Native.hues_call_cancel(call);
  };

  static Calls() {
    Library.EnsureLoaded();
    Sink = Native.hues_sink_callback(OnCompletionFn, IntPtr.Zero);
    if (Sink == IntPtr.Zero) throw new InvalidOperationException("hues_sink_callback failed");
  }

  internal static int InFlightCount { get { return InFlight.Count; } }

  // At exit, before hues_shutdown: cancel every async call in flight and wait (bounded) for
  // their completions, so they arrive on the SDK's delivery thread, which hues_shutdown then
  // joins, rather than on whatever SDK thread finishes a call after shutdown began (a
  // thread that entered managed code and outlives shutdown makes Mono wait for it at exit).
  internal static void CancelAllAndDrain(TimeSpan limit) {
    foreach (var p in InFlight.Values) {
      var call = p.CallId;
      if (call != 0) Native.hues_call_cancel(call);
    }
    var until = DateTime.UtcNow + limit;
    while (!InFlight.IsEmpty && DateTime.UtcNow < until) Thread.Sleep(5);
  }

  static void OnCompletion(IntPtr context, ulong tag, int status, IntPtr data, UIntPtr len) {
    // Never let an exception reach native code.
    try {
      Library.MarkSdkThread();
      Pending p;
      if (status == Native.Event) {
        if (InFlight.TryGetValue(tag, out p)) p.OnEvent(Native.Copy(data, len));
        return;
      }
      if (!InFlight.TryRemove(tag, out p)) return;
      p.Complete(status, Native.Copy(data, len));
    } catch (Exception) {
    }
  }

  internal static byte[] Options(CallOptions options) {
    if (options == null) return null;
    var w = new JsonWriter();
    options.Encode(w);
    return w.ToUtf8();
  }

  // A Task of the call. A token already cancelled: a cancelled Task whose exception is an
  // OperationCanceledException with the SDK's CancelledException inside, and no call made.
  internal static Task<T> Async<T>(HuesObject target, uint callId, Action<JsonWriter> args, CallOptions options,
                                   CancellationToken ct, Func<JsonNode, T> decode) {
    if (ct.IsCancellationRequested) return AlreadyCancelled<T>(ct);
    var p = Start(target, callId, args, options, decode);
    if (!ct.CanBeCanceled) return p.Task;
    return Cancellable(p, ct);
  }

  // Blocks the caller. Without a cancellable token: hues_call_sync. With one: the call is
  // started like an async one and waited for, so the token can cancel it at any moment.
  internal static T Sync<T>(HuesObject target, uint callId, Action<JsonWriter> args, CallOptions options,
                            CancellationToken ct, Func<JsonNode, T> decode) {
    if (ct.IsCancellationRequested) throw new CancelledException("cancelled before the call started", code: "cancelled");
    if (ct.CanBeCanceled) {
      var p = Start(target, callId, args, options, decode);
      using (ct.Register(CancelCallback, p))
        return p.Task.GetAwaiter().GetResult();
    }
    var opts = Options(options);
    byte[] result;
    int status;
    using (var scope = new HandleScope()) {
      var a = Encode(args, scope);
      ulong handle = target.AddRef();
      try {
        var output = new HuesBytes();
        status = Native.hues_call_sync(handle, callId, a, Native.Len(a), opts, Native.Len(opts), IntPtr.Zero, ref output);
        result = Native.Take(ref output);
      } finally {
        target.ReleaseRef();
      }
    }
    if (status != Native.Ok) throw Errors.FromJson(result);
    try {
      return decode(JsonNode.Parse(result));
    } catch (HuesException) {
      throw;
    } catch (Exception e) {
      throw new ProtocolException("cannot decode the result: " + e.Message, code: "decode", innerException: e);
    }
  }

  static byte[] Encode(Action<JsonWriter> args, HandleScope scope) {
    var w = new JsonWriter(scope);
    if (args == null) {
      w.BeginObject();
      w.EndObject();
    } else {
      args(w);
    }
    return w.ToUtf8();
  }

  static Pending<T> Start<T>(HuesObject target, uint callId, Action<JsonWriter> args, CallOptions options,
                             Func<JsonNode, T> decode) {
    return Start(target, callId, args, options, new Pending<T>(decode));
  }

  internal static P Start<P>(HuesObject target, uint callId, Action<JsonWriter> args, CallOptions options, P p)
      where P : Pending {
    var opts = Options(options);
    ulong tag = (ulong)Interlocked.Increment(ref lastTag);
    using (var scope = new HandleScope()) {
      var a = Encode(args, scope);
      ulong handle = target.AddRef();
      // Registered before the start: the completion may arrive before hues_call_start returns.
      InFlight[tag] = p;
      try {
        p.CallId = Native.hues_call_start(handle, callId, a, Native.Len(a), opts, Native.Len(opts), Sink, tag);
        if (p.CallId == 0) {  // the sink was refused: no completion will come
          Pending ignored;
          if (InFlight.TryRemove(tag, out ignored))
            p.Complete(Native.Error, Encoding.UTF8.GetBytes("{\"type\":\"error\",\"message\":\"the SDK refused the call (no sink)\"}"));
        }
      } catch {
        Pending ignored;
        InFlight.TryRemove(tag, out ignored);
        throw;
      } finally {
        target.ReleaseRef();
      }
    }
    return p;
  }

#pragma warning disable 1998
  static async Task<T> AlreadyCancelled<T>(CancellationToken ct) {
    throw new OperationCanceledException("The call was cancelled before it started.",
                                         new CancelledException("cancelled before the call started", code: "cancelled"), ct);
  }
#pragma warning restore 1998

  // The SDK's CancelledException becomes a cancelled Task (what await and Task.WhenAll
  // expect) when the caller's token asked for it; the CancelledException stays inside.
  // The token is registered after the start: its callback may run at once (cancelled
  // meanwhile), and the completion may fire while Register is still running; both end in
  // one completion of the TaskCompletionSource. The registration is disposed here, on the
  // continuation's thread, never on the SDK's completion thread (Dispose may wait for a
  // callback running hues_call_cancel on another thread).
  static async Task<T> Cancellable<T>(Pending<T> p, CancellationToken ct) {
    var registration = ct.Register(CancelCallback, p);
    try {
      return await p.Task.ConfigureAwait(false);
    } catch (CancelledException e) when (ct.IsCancellationRequested) {
      throw new OperationCanceledException(e.Message, e, ct);
    } finally {
      registration.Dispose();
    }
  }
}

}
