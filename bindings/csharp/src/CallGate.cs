// Plumbing shared by the wrappers of native objects: safe disposal and Task forms of calls.
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Hues.Sdk {

// Lets Dispose race with calls in flight: they finish normally and the native object is
// released when the last one returns. Dispose is idempotent.
sealed class CallGate {
  readonly object gate = new object();
  readonly object owner;
  readonly Action release;
  int active;
  bool disposed;

  internal CallGate(object owner, Action release) {
    this.owner = owner;
    this.release = release;
  }

  internal T Run<T>(Func<T> call) {
    lock (gate) {
      if (disposed) throw new ObjectDisposedException(owner.GetType().Name);
      active++;
    }
    try {
      return call();
    } finally {
      lock (gate) {
        if (--active == 0 && disposed) release();
      }
      // The owner holds what native code calls back into (loggers, stores): keep it reachable
      // until the native call has returned.
      GC.KeepAlive(owner);
    }
  }

  internal void Run(Action call) { Run(() => { call(); return true; }); }

  internal void Dispose() {
    lock (gate) {
      if (disposed) return;
      disposed = true;
      if (active == 0) release();
    }
  }
}

static class AsyncCall {
  // Runs call on the thread pool. The token must also reach the native call (NativeCall),
  // which then ends with CancelledException; the Task ends as cancelled, as .NET expects.
  internal static async Task<T> Run<T>(Func<T> call, CancellationToken cancellationToken) {
    try {
      return await Task.Run(call, cancellationToken).ConfigureAwait(false);
    } catch (CancelledException e) when (cancellationToken.IsCancellationRequested) {
      throw new OperationCanceledException(e.Message, e, cancellationToken);
    }
  }

  // For native calls that take no cancellation token: the Task ends as cancelled at once and
  // the call finishes in the background within its own deadline, its result dropped.
  internal static async Task<T> Abandonable<T>(Func<T> call, CancellationToken cancellationToken) {
    var work = Task.Run(call, cancellationToken);
    if (!cancellationToken.CanBeCanceled) return await work.ConfigureAwait(false);
    var cancelled = new TaskCompletionSource<bool>();
    using (cancellationToken.Register(() => cancelled.TrySetResult(true))) {
      if (await Task.WhenAny(work, cancelled.Task).ConfigureAwait(false) != work) {
        // Observe the abandoned call's failure so it never surfaces as an unobserved exception.
        _ = work.ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
        cancellationToken.ThrowIfCancellationRequested();
      }
    }
    return await work.ConfigureAwait(false);
  }
}

}
