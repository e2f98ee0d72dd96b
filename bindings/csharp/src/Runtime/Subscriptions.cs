// Subscriptions (x-hues-stream, GET /v1/events) as IObservable<T>: each Subscribe starts one
// stream call; its events (HUES_EVENT answers on the process's sink, in order, on the SDK's
// delivery thread) become OnNext, its one completion OnCompleted or OnError. Disposing the
// subscription (or cancelling the token given to the service call) closes the stream at once.
using System;
using System.Threading;

namespace Hues.Sdk.Runtime {

/// <summary>A subscription's handle: dispose it to stop; LastEventId is the id to resume from
/// after a restart (pass it as lastEventId).</summary>
public sealed class EventSubscription : IDisposable {
  internal Pending Pending;
  internal volatile string lastEventId;
  internal volatile bool closed;
  CancellationTokenRegistration registration;

  internal EventSubscription(string initial) { lastEventId = initial ?? ""; }

  /// <summary>The id of the last event given to the observer ("" before the first, or the id it resumed from).</summary>
  public string LastEventId { get { return lastEventId; } }

  internal void Watch(CancellationToken ct) {
    if (ct.CanBeCanceled) registration = ct.Register(Dispose);
  }

  /// <summary>Closes the stream at once; no event reaches the observer after it. Idempotent.</summary>
  public void Dispose() {
    closed = true;
    var p = Pending;
    if (p != null && p.CallId != 0) Native.hues_call_cancel(p.CallId);
  }

  internal void Unwatch() { registration.Dispose(); }
}

sealed class StreamPending<T> : Pending {
  readonly IObserver<T> observer;
  readonly Func<JsonNode, T> decode;
  readonly EventSubscription subscription;

  internal StreamPending(IObserver<T> observer, Func<JsonNode, T> decode, EventSubscription subscription) {
    this.observer = observer;
    this.decode = decode;
    this.subscription = subscription;
  }

  internal override void OnEvent(byte[] data) {
    if (subscription.closed) return;
    T value;
    string id;
    try {
      var n = JsonNode.Parse(data);
      id = n.Get("id").Text;
      value = decode(n.Get("data"));
    } catch (Exception e) {
      subscription.Dispose();
      observer.OnError(new ProtocolException("cannot decode the event: " + e.Message, code: "decode", innerException: e));
      return;
    }
    subscription.lastEventId = id;
    observer.OnNext(value);
  }

  internal override void Complete(int status, byte[] data) {
    subscription.Unwatch();
    if (status == Native.Ok) observer.OnCompleted();
    else observer.OnError(Errors.FromJson(data));
  }
}

/// <summary>A cold stream of events: each Subscribe opens its own subscription, which
/// reconnects by itself (Last-Event-ID: nothing lost or repeated).</summary>
public sealed class EventStream<T> : IObservable<T> {
  readonly HuesObject target;
  readonly uint callId;
  readonly Action<JsonWriter> args;
  readonly Func<JsonNode, T> decode;
  readonly string initial;
  readonly CancellationToken ct;

  internal EventStream(HuesObject target, uint callId, Action<JsonWriter> args, Func<JsonNode, T> decode,
                       string initial, CancellationToken ct) {
    this.target = target;
    this.callId = callId;
    this.args = args;
    this.decode = decode;
    this.initial = initial;
    this.ct = ct;
  }

  IDisposable IObservable<T>.Subscribe(IObserver<T> observer) { return Subscribe(observer); }

  /// <summary>Starts the subscription: OnNext per event, in order, on the SDK's delivery thread
  /// (keep it short); OnCompleted once closed; OnError with the typed error that ended it.</summary>
  public EventSubscription Subscribe(IObserver<T> observer) {
    if (observer == null) throw new ArgumentNullException("observer");
    var sub = new EventSubscription(initial);
    var p = new StreamPending<T>(observer, decode, sub);
    sub.Pending = p;
    Calls.Start(target, callId, args, null, p);
    sub.Watch(ct);
    if (sub.closed) sub.Dispose();
    return sub;
  }
}

}
