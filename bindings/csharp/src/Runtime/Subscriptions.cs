// Subscriptions (x-hues-stream, GET /v1/events) as IObservable<T>: each Subscribe starts one
// stream call with "ack"; its events (HUES_EVENT answers on the process's sink, in order) wait
// in the subscription's own queue and become OnNext one at a time, in order, on the thread
// pool, and its one completion OnCompleted or OnError after them. Each event is acknowledged
// (hues_call_ack) once OnNext returned, so a slow observer holds at most max_buffered_events
// here and the SDK stops reading the stream beyond it. Disposing the subscription (or
// cancelling the token given to the service call) closes the stream at once.
using System;
using System.Collections.Generic;
using System.Threading;

namespace Hues.Sdk.Runtime {

/// <summary>A subscription's handle: dispose it to stop; LastEventId is the id to resume from
/// after a restart (pass it as lastEventId).</summary>
public sealed class EventSubscription : IDisposable {
  internal Pending Pending;
  internal volatile string lastEventId;
  internal volatile bool closed;
  internal int buffered;
  CancellationTokenRegistration registration;

  internal EventSubscription(string initial) { lastEventId = initial ?? ""; }

  /// <summary>The id of the last event given to the observer ("" before the first, or the id it resumed from).</summary>
  public string LastEventId { get { return lastEventId; } }

  /// <summary>Events received and not yet handled by the observer (the one in OnNext included):
  /// at most the stream's MaxBufferedEvents, however slow the observer.</summary>
  public int BufferedEvents { get { return Volatile.Read(ref buffered); } }

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

  // The observer's calls, in order, one at a time, off the SDK's delivery thread.
  readonly Queue<Action> chain = new Queue<Action>();
  bool running;
  int unsentAcks;  // under chain: acknowledged before hues_call_start returned the call id

  void Enqueue(Action task) {
    lock (chain) {
      chain.Enqueue(task);
      if (running) return;
      running = true;
    }
    ThreadPool.QueueUserWorkItem(_ => Drain());
  }

  void Drain() {
    for (;;) {
      Action task;
      lock (chain) {
        if (chain.Count == 0) {
          running = false;
          return;
        }
        task = chain.Dequeue();
      }
      try { task(); } catch (Exception) { }
    }
  }

  void Ack() {
    ulong call;
    lock (chain) {
      call = CallId;
      if (call == 0) {
        unsentAcks++;
        return;
      }
    }
    Native.hues_call_ack(call, 1);
  }

  // Once hues_call_start returned: the acknowledgements that waited for the call id.
  internal void Started() {
    int early;
    lock (chain) {
      early = unsentAcks;
      unsentAcks = 0;
    }
    if (early > 0 && CallId != 0) Native.hues_call_ack(CallId, (uint)early);
  }

  internal override void OnEvent(byte[] data) {
    Interlocked.Increment(ref subscription.buffered);
    Enqueue(() => {
      try {
        Deliver(data);
      } finally {
        Interlocked.Decrement(ref subscription.buffered);
        Ack();
      }
    });
  }

  void Deliver(byte[] data) {
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
    Enqueue(() => {
      subscription.Unwatch();
      if (status == Native.Ok) observer.OnCompleted();
      else observer.OnError(Errors.FromJson(data));
    });
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

  /// <summary>Starts the subscription: OnNext per event, in order and one at a time, on the
  /// thread pool (a slow observer holds the stream back: at most MaxBufferedEvents wait for
  /// it); OnCompleted once closed; OnError with the typed error that ended it.</summary>
  public EventSubscription Subscribe(IObserver<T> observer) {
    if (observer == null) throw new ArgumentNullException("observer");
    var sub = new EventSubscription(initial);
    var p = new StreamPending<T>(observer, decode, sub);
    sub.Pending = p;
    Calls.Start(target, callId, args, null, p);
    p.Started();
    sub.Watch(ct);
    if (sub.closed) sub.Dispose();
    return sub;
  }
}

}
