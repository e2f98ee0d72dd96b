package vn.hues.sdk.internal;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Not part of the API. Guards a native object (HuesClient, OidcClient) against close() while
 * calls are in flight, and runs calls on an executor with a cancellation token.
 */
public final class NativeCalls {
  private final String owner;
  private final Runnable release;
  private final Executor executor;
  private final ExecutorService ownedExecutor;
  // Calls hold the read lock, close() the write lock: close never frees native objects under a
  // call in flight (which would crash the JVM rather than throw).
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private volatile boolean closed;
  private final Set<CancellationToken> inFlight = ConcurrentHashMap.newKeySet();

  /** executor null: a cached pool of daemon threads, shut down by close(). */
  public NativeCalls(String owner, Executor executor, Runnable release) {
    this.owner = owner;
    this.release = release;
    this.ownedExecutor = executor == null ? Executors.newCachedThreadPool(daemonThreads(owner)) : null;
    this.executor = executor == null ? ownedExecutor : executor;
  }

  public <T> T call(Supplier<T> body) {
    lock.readLock().lock();
    try {
      if (closed) throw new IllegalStateException(owner + " is closed");
      return body.get();
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * Runs call on the executor with options that carry a cancellation token; cancelling the
   * returned future cancels the native call in flight.
   */
  public <T> CompletableFuture<T> async(CallOptions options, Function<CallOptions, T> call) {
    CallOptions opts = options == null ? new CallOptions() : new CallOptions(options);
    CancellationToken token = opts.getCancel();
    if (token == null) {
      token = new CancellationToken();
      opts.setCancel(token);
    }
    CompletableFuture<T> future = new CompletableFuture<>();
    CancellationToken cancel = token;
    inFlight.add(cancel);
    future.whenComplete((r, e) -> {
      inFlight.remove(cancel);
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

  /**
   * Cancels async calls in flight (a device poll may otherwise wait minutes), waits for every
   * call to end, then releases the native object once.
   */
  public void close() {
    if (!closed) inFlight.forEach(CancellationToken::cancel);
    lock.writeLock().lock();
    try {
      if (closed) return;
      closed = true;
      release.run();
      if (ownedExecutor != null) ownedExecutor.shutdown();
    } finally {
      lock.writeLock().unlock();
    }
  }

  private static ThreadFactory daemonThreads(String owner) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "hues-" + owner + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
