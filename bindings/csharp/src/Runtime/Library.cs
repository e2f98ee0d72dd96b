// Loading libhues_csharp once: the spec check (generated code and the native library must
// come from the same docs/openapi.yaml) and hues_shutdown() at process exit, which cancels
// calls in flight (their Tasks end cancelled) and joins the SDK's threads.
using System;
using System.Threading;

namespace Hues.Sdk.Runtime {

// pthread_sigmask on Linux/glibc (sigset_t: 1024 bits). Elsewhere a no-op.
static class Signals {
  const int SIG_SETMASK = 2;
  // What the app's own threads are there to take: terminal and termination signals.
  static readonly int[] AppSignals = { 1 /* SIGHUP */, 2 /* SIGINT */, 3 /* SIGQUIT */, 15 /* SIGTERM */ };
  static bool unavailable;

  [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "pthread_sigmask")]
  static extern int pthread_sigmask(int how, byte[] set, IntPtr oldset);

  internal static void KeepOnlyAppSignalsBlocked() {
    if (unavailable || Environment.OSVersion.Platform != PlatformID.Unix) return;
    var set = new byte[128];
    foreach (var sig in AppSignals) set[(sig - 1) / 8] |= (byte)(1 << ((sig - 1) % 8));
    try {
      pthread_sigmask(SIG_SETMASK, set, IntPtr.Zero);
    } catch (Exception) {  // no glibc (macOS, musl naming): leave the mask alone
      unavailable = true;
    }
  }
}

static class Library {
  static readonly object gate = new object();
  static bool loaded;
  static int shuttingDown;

  internal static bool ShuttingDown { get { return Volatile.Read(ref shuttingDown) != 0; } }

  internal static void EnsureLoaded() {
    if (Volatile.Read(ref loaded)) return;
    lock (gate) {
      if (loaded) return;
      var native = Native.FromCString(Native.hues_spec_hash());
      if (native != Spec.Hash)
        throw new InvalidOperationException("libhues_csharp was built from spec " + native +
                                            " but Hues.Sdk.dll from spec " + Spec.Hash + ": rebuild both");
      AppDomain.CurrentDomain.ProcessExit += (s, e) => Shutdown();
      AppDomain.CurrentDomain.DomainUnload += (s, e) => Shutdown();
      Volatile.Write(ref loaded, true);
    }
  }

  [ThreadStatic] static bool sdkThreadMarked;

  // An SDK thread entering managed code is attached to the runtime as it first arrives.
  // Two things make it fit to run managed code:
  // - Signals: the SDK starts its threads with every signal blocked (so the app's SIGINT
  //   goes to the app's threads). Mono needs its own signals on every thread that runs
  //   managed code: SIGPWR/SIGXCPU to stop the world for the GC, SIGSEGV for
  //   NullReferenceException, real-time signals to interrupt; and threads this one starts
  //   (thread-pool workers, when it completes a Task) inherit its mask. Blocked, the first
  //   collection hangs the process. So this thread keeps only the app's signals blocked.
  // - Background: a runtime honouring it does not wait for the thread at exit. (Mono still
  //   waits for an attached thread alive at exit: hues_shutdown joins the SDK's threads and
  //   Shutdown drains completions first.)
  internal static void MarkSdkThread() {
    if (sdkThreadMarked) return;
    sdkThreadMarked = true;
    Signals.KeepOnlyAppSignalsBlocked();
    var t = Thread.CurrentThread;
    if (!t.IsBackground) t.IsBackground = true;
  }

  internal static void Shutdown() {
    if (Interlocked.Exchange(ref shuttingDown, 1) != 0) return;
    try {
      Calls.CancelAllAndDrain(TimeSpan.FromSeconds(3));
    } catch (Exception) {
    }
    Native.hues_shutdown();
  }
}

}
