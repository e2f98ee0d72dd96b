package vn.hues.sdk.internal;

import java.lang.ref.Cleaner;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import vn.hues.sdk.CallOptions;
import vn.hues.sdk.CancellationToken;

/**
 * One native SDK object (a handle) and the generic call path every generated method uses:
 * args are encoded to JSON, the call is started by id, and its one completion is decoded
 * either on the waiting caller's thread (sync) or on the object's executor (async). The SDK's
 * own thread only hands the bytes over.
 */
public final class NativeObject {
  private static final Cleaner CLEANER = Cleaner.create();
  private final String type;
  private final long handle;
  private final Executor executor;
  private final Object lock = new Object();
  private int users;  // starts in progress that use the handle
  private boolean closed;
  private boolean released;
  private final Cleaner.Cleanable cleanable;

  private NativeObject(String type, long handle, Executor executor) {
    this.type = type;
    this.handle = handle;
    this.executor = executor == null ? ForkJoinPool.commonPool() : executor;
    long h = handle;
    // An object dropped without close() still releases its native reference.
    this.cleanable = CLEANER.register(this, () -> Native.objectRelease(h));
  }

  /** Creates a native object of an x-hues-sdk type from its encoded config. */
  public static NativeObject create(String type, Function<Handles, Map<String, Object>> config, Executor executor) {
    long h;
    try (Handles handles = new Handles()) {
      byte[] json = Json.write(config.apply(handles));
      byte[][] error = new byte[1][];
      h = Native.objectNew(type, json, error);
      if (h == 0) throw ErrorMapper.fromJson(error[0]);
    }
    return new NativeObject(type, h, executor);
  }

  public Executor executor() {
    return executor;
  }

  /** The handle, pinned until {@link #releaseAcquired}; throws once closed. */
  long acquire() {
    synchronized (lock) {
      if (closed) throw new IllegalStateException(type + " is closed");
      users++;
      return handle;
    }
  }

  void releaseAcquired() {
    boolean release;
    synchronized (lock) {
      users--;
      release = closed && users == 0 && !released;
      if (release) released = true;
    }
    if (release) cleanable.clean();
  }

  /** Drops the native reference (calls in flight keep what they use alive). Idempotent. */
  public void close() {
    boolean release;
    synchronized (lock) {
      if (closed) return;
      closed = true;
      release = users == 0 && !released;
      if (release) released = true;
    }
    if (release) cleanable.clean();
  }

  // ---- calls ----

  private static final class Sync implements Native.Completion {
    final CountDownLatch latch = new CountDownLatch(1);
    volatile int status;
    volatile byte[] data;

    @Override
    public void done(int status, byte[] data) {
      this.data = data;
      this.status = status;
      latch.countDown();
    }
  }

  /** Starts the call and blocks until it completes; interrupting the thread cancels it. */
  public <T> T call(int callId, Function<Handles, Map<String, Object>> args, CallOptions options,
      Function<Object, T> decoder) {
    Sync sync = new Sync();
    long call = start(callId, args, options, sync);
    Runnable unregister = watch(options, call);
    boolean interrupted = false;
    try {
      while (true) {
        try {
          sync.latch.await();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
          Native.callCancel(call);
        }
      }
    } finally {
      unregister.run();
      if (interrupted) Thread.currentThread().interrupt();
    }
    if (sync.status != 0) throw ErrorMapper.fromJson(sync.data);
    return decode(decoder, sync.data);
  }

  /** Starts the call; the future completes on this object's executor. */
  public <T> CompletableFuture<T> callAsync(int callId, Function<Handles, Map<String, Object>> args,
      CallOptions options, Function<Object, T> decoder) {
    HuesFuture<T> future = new HuesFuture<>();
    Executor exec = executor;
    Native.Completion completion = (status, data) -> {
      Runnable finish = () -> {
        if (status != 0) {
          future.completeExceptionally(ErrorMapper.fromJson(data));
          return;
        }
        try {
          future.complete(decode(decoder, data));
        } catch (Throwable t) {
          future.completeExceptionally(t);
        }
      };
      try {
        exec.execute(finish);
      } catch (RejectedExecutionException e) {
        ForkJoinPool.commonPool().execute(finish);
      }
    };
    long call;
    try {
      call = start(callId, args, options, completion);
    } catch (IllegalStateException e) {
      throw e;  // a closed object: a programming error, thrown at once
    } catch (RuntimeException e) {
      future.completeExceptionally(e);
      return future;
    }
    Runnable unregister = watch(options, call);
    future.started(call);
    future.whenComplete((v, t) -> unregister.run());
    return future;
  }

  /** What a stream call (x-hues-stream) is told on an SDK host thread; must not block. */
  public interface StreamSink {
    /** One event: {"id", "type", "data"}. */
    void event(byte[] data);

    /** The one completion after the events: status 0 (closed or over) or an error's JSON. */
    void end(int status, byte[] data);
  }

  /** A running stream call: close it, or acknowledge events its app took. */
  public interface StreamCall {
    /** Closes the stream (cancels the call). */
    void cancel();

    /**
     * The app took n more events: each event counts against the stream's max_buffered_events
     * from its delivery until this, so what waits on the Java side stays bounded too.
     */
    void ack(int n);
  }

  /**
   * Starts a stream call (for {@link vn.hues.sdk.EventSubscription}) with "ack": its events and
   * its end reach sink, and each event must be acknowledged once taken.
   */
  public StreamCall startStream(int callId, Function<Handles, Map<String, Object>> args, StreamSink sink) {
    long call = start(callId, handles -> {
      Map<String, Object> a = new java.util.LinkedHashMap<>(args.apply(handles));
      a.put("ack", Boolean.TRUE);
      return a;
    }, null, (status, data) -> {
      if (status == Native.EVENT) sink.event(data);
      else sink.end(status, data);
    });
    return new StreamCall() {
      @Override
      public void cancel() {
        Native.callCancel(call);
      }

      @Override
      public void ack(int n) {
        Native.callAck(call, n);
      }
    };
  }

  private long start(int callId, Function<Handles, Map<String, Object>> args, CallOptions options,
      Native.Completion completion) {
    CancellationToken token = options == null ? null : options.cancel();
    if (token != null && token.isCancelled()) throw ErrorMapper.cancelled("cancelled before the call started");
    long h = acquire();
    try (Handles handles = new Handles()) {
      byte[] json = Json.write(args.apply(handles));
      byte[] opts = options == null ? null : options.toJson();
      long tag = Native.register(completion);
      try {
        return Native.callStart(h, callId, json, opts, tag);
      } catch (RuntimeException | Error e) {
        Native.unregister(tag);
        throw e;
      }
    } finally {
      releaseAcquired();
    }
  }

  private static Runnable watch(CallOptions options, long call) {
    CancellationToken token = options == null ? null : options.cancel();
    if (token == null) return () -> {};
    return token.onCancel(() -> Native.callCancel(call));
  }

  private static <T> T decode(Function<Object, T> decoder, byte[] data) {
    try {
      return decoder.apply(data == null || data.length == 0 ? null : Json.parse(data));
    } catch (vn.hues.sdk.HuesException e) {
      throw e;
    } catch (RuntimeException e) {
      throw ErrorMapper.protocol("unexpected result from the SDK: " + e.getMessage(), e);
    }
  }
}
