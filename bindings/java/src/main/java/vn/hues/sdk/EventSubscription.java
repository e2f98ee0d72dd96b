package vn.hues.sdk;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import vn.hues.sdk.internal.DeferredAck;
import vn.hues.sdk.internal.ErrorMapper;
import vn.hues.sdk.internal.Handles;
import vn.hues.sdk.internal.Json;
import vn.hues.sdk.internal.NativeObject;

/**
 * A running subscription (an x-hues-stream call such as {@code client.events().stream(...)}):
 * it reconnects by itself with Last-Event-ID, so nothing is lost or repeated. The listener is
 * called once per event, in order, one call at a time, on the client's executor (never an SDK
 * thread). {@link #close} stops it at once; {@link #done} completes normally once it is closed
 * (or the server ended it), or exceptionally with the typed {@link HuesException} that ended it.
 * A slow listener holds the stream back instead of piling events up: each event counts against
 * the stream's {@code maxBufferedEvents} until the listener has returned from it, and beyond
 * that bound the SDK stops reading the connection ({@link #bufferedEvents}).
 */
public final class EventSubscription implements AutoCloseable {
  private final Executor executor;
  private final ConcurrentLinkedQueue<Runnable> chain = new ConcurrentLinkedQueue<>();
  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicInteger buffered = new AtomicInteger();
  private final CompletableFuture<Void> done = new CompletableFuture<>();
  private volatile String lastEventId;
  private volatile boolean closed;
  private volatile NativeObject.StreamCall call;
  private final Object ackLock = new Object();
  private int unsentAcks;  // under ackLock

  private EventSubscription(Executor executor, String lastEventId) {
    this.executor = executor;
    this.lastEventId = lastEventId == null ? "" : lastEventId;
  }

  /**
   * For generated code: starts stream call callId on target; decoder reads an event's data,
   * listener is told each event. lastEventId is the id it resumes after (or null).
   */
  public static <T> EventSubscription start(NativeObject target, int callId,
      Function<Handles, Map<String, Object>> args, String lastEventId, Function<Object, T> decoder,
      Consumer<? super T> listener) {
    java.util.Objects.requireNonNull(listener, "listener");
    EventSubscription sub = new EventSubscription(target.executor(), lastEventId);
    boolean deferred = listener instanceof DeferredAck;
    if (deferred) ((DeferredAck) listener).attach(sub::ack);
    NativeObject.StreamCall call = target.startStream(callId, args, new NativeObject.StreamSink() {
      @Override
      public void event(byte[] data) {
        sub.buffered.incrementAndGet();
        sub.enqueue(() -> {
          try {
            sub.deliver(data, decoder, listener);
          } finally {
            sub.buffered.decrementAndGet();
            if (!deferred) sub.ack(1);  // else the listener's consumer acknowledges
          }
        });
      }

      @Override
      public void end(int status, byte[] data) {
        sub.enqueue(() -> {
          if (status == 0) sub.done.complete(null);
          else sub.done.completeExceptionally(ErrorMapper.fromJson(data));
        });
      }
    });
    int early;
    synchronized (sub.ackLock) {
      sub.call = call;
      early = sub.unsentAcks;
      sub.unsentAcks = 0;
    }
    if (early > 0) call.ack(early);
    if (sub.closed) call.cancel();
    return sub;
  }

  // Events may be handled before startStream has returned the call: their acknowledgements wait.
  private void ack(int n) {
    NativeObject.StreamCall c;
    synchronized (ackLock) {
      c = call;
      if (c == null) {
        unsentAcks += n;
        return;
      }
    }
    c.ack(n);
  }

  /**
   * Events received and not yet handled by the listener (the one it is handling included): at
   * most the stream's maxBufferedEvents, however slow the listener.
   */
  public int bufferedEvents() {
    return buffered.get();
  }

  /** The id of the last event given to the listener ("" before the first, or the id it resumed after). */
  public String lastEventId() {
    return lastEventId;
  }

  /** Completes once the subscription is over: normally when closed, else with the error that ended it. */
  public CompletableFuture<Void> done() {
    return done;
  }

  /** Closes the stream at once: no listener call starts after it returns. Idempotent. */
  @Override
  public void close() {
    closed = true;
    NativeObject.StreamCall c = call;
    if (c != null) c.cancel();
  }

  private <T> void deliver(byte[] data, Function<Object, T> decoder, Consumer<? super T> listener) {
    if (closed) return;
    T value;
    String id;
    try {
      Map<String, Object> event = Json.object(Json.parse(data), "event");
      id = Json.str(event.get("id"));
      value = decoder.apply(event.get("data"));
    } catch (RuntimeException e) {
      close();
      done.completeExceptionally(e instanceof HuesException ? e
          : ErrorMapper.protocol("cannot decode the event: " + e.getMessage(), e));
      return;
    }
    lastEventId = id;
    try {
      listener.accept(value);
    } catch (RuntimeException | Error e) {
      // A listener that throws ends its subscription with that exception.
      close();
      done.completeExceptionally(e);
    }
  }

  // One ordered chain on the executor: each task runs after the one before it has returned.
  private void enqueue(Runnable task) {
    chain.add(task);
    if (queued.getAndIncrement() == 0) schedule();
  }

  private void schedule() {
    try {
      executor.execute(this::drain);
    } catch (RejectedExecutionException e) {
      ForkJoinPool.commonPool().execute(this::drain);
    }
  }

  private void drain() {
    do {
      Runnable task = chain.poll();
      try {
        task.run();
      } catch (Throwable ignored) {
        // Tasks handle their own failures; the chain goes on.
      }
    } while (queued.decrementAndGet() != 0);
  }
}
