package vn.hues.sdk.internal;

import java.util.concurrent.CompletableFuture;

/** A call's future: {@code cancel(true)} (or {@code cancel(false)}) aborts the native call. */
final class HuesFuture<T> extends CompletableFuture<T> {
  private long call;          // 0 until started
  private boolean cancelWanted;

  synchronized void started(long call) {
    this.call = call;
    if (cancelWanted) Native.callCancel(call);
  }

  @Override
  public boolean cancel(boolean mayInterruptIfRunning) {
    boolean cancelled = super.cancel(mayInterruptIfRunning);
    if (cancelled) {
      long c;
      synchronized (this) {
        c = call;
        cancelWanted = true;
      }
      if (c != 0) Native.callCancel(c);
    }
    return cancelled;
  }

  @Override
  public <U> CompletableFuture<U> newIncompleteFuture() {
    return new CompletableFuture<>();
  }
}
