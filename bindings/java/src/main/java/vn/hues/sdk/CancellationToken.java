package vn.hues.sdk;

import java.util.ArrayList;
import java.util.List;

/**
 * Cancels the calls it is passed to ({@link CallOptions.Builder#cancel}): their I/O stops and
 * they fail with {@link CancelledException}. A token cancelled before a call makes the call
 * fail at once without starting. Thread-safe; cancel is idempotent.
 */
public final class CancellationToken {
  private final List<Runnable> listeners = new ArrayList<>();
  private boolean cancelled;

  public void cancel() {
    List<Runnable> run;
    synchronized (this) {
      if (cancelled) return;
      cancelled = true;
      run = new ArrayList<>(listeners);
      listeners.clear();
    }
    for (Runnable r : run) r.run();
  }

  public synchronized boolean isCancelled() {
    return cancelled;
  }

  /** Runs action on cancel (at once if already cancelled); the result unregisters it. */
  public Runnable onCancel(Runnable action) {
    synchronized (this) {
      if (!cancelled) {
        listeners.add(action);
        return () -> {
          synchronized (this) {
            listeners.remove(action);
          }
        };
      }
    }
    action.run();
    return () -> {};
  }

  @Override
  public synchronized String toString() {
    return cancelled ? "CancellationToken{cancelled}" : "CancellationToken{}";
  }
}
