package vn.hues.sdk.internal;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The JNI entry points over sdk/include/hues/c_api.h (bindings/java/native/hues_jni.cpp),
 * and the two upcalls the native side makes: {@link #complete} for every call's single
 * completion and {@link #invoke} for every host-object method. Both arrive on SDK host
 * threads, which the native side attaches to the JVM as daemons once per thread.
 */
public final class Native {
  /**
   * A call's completion, delivered once on an SDK host thread; must not block. A stream call
   * (x-hues-stream) is first told each of its events in order, as status {@link #EVENT}.
   */
  interface Completion {
    void done(int status, byte[] data);
  }

  /** HUES_EVENT (hues/c_api.h): one event of a stream call, before its one completion. */
  static final int EVENT = 2;

  private static final AtomicLong TAGS = new AtomicLong(1);
  private static final Map<Long, Completion> PENDING = new ConcurrentHashMap<>();

  static {
    NativeLoader.load("hues_jni");
    String hash = specHash();
    if (!Spec.HASH.equals(hash)) {
      throw new UnsatisfiedLinkError("Hue-S SDK: the native library was built from spec " + hash
          + " but these classes from spec " + Spec.HASH + "; rebuild both from one docs/openapi.yaml");
    }
    // Calls in flight at exit are cancelled (their completions run) and the SDK's threads
    // joined while the JVM is still whole, so exit neither hangs nor crashes.
    try {
      Runtime.getRuntime().addShutdownHook(new Thread(Native::shutdownAtExit, "hues-shutdown"));
    } catch (IllegalStateException alreadyExiting) {
      // First loaded from another shutdown hook: the JVM is exiting already; its exit ends the SDK threads.
    }
  }

  private Native() {}

  public static native String version();

  static native String specHash();

  /** Returns the handle, or 0 with error[0] = error JSON. */
  static native long objectNew(String type, byte[] config, byte[][] error);

  static native void objectRelease(long handle);

  /** Starts a call whose completion reaches {@link #complete} with tag; returns its call id. */
  static native long callStart(long target, int callId, byte[] args, byte[] options, long tag);

  static native void callCancel(long call);

  /** A stream call started with "ack": its app took n more events (hues_call_ack). */
  static native void callAck(long call, int n);

  /** Returns the handle, or 0 with error[0] = error JSON. */
  static native long hostObjectNew(String iface, long hostId, byte[][] error);

  static native void reply(long reply, int status, byte[] data);

  /** hues_shutdown(): cancels calls in flight, then stops and joins the SDK's threads. */
  public static native void shutdown();

  /** The exit hook: hues_shutdown(), then no more upcalls into the departing JVM. */
  private static native void shutdownAtExit();

  static long register(Completion c) {
    long tag = TAGS.getAndIncrement();
    PENDING.put(tag, c);
    return tag;
  }

  static void unregister(long tag) {
    PENDING.remove(tag);
  }

  /** Calls started and not completed yet (for tests). */
  public static int pending() {
    return PENDING.size();
  }

  // ---- upcalls from native code (SDK host threads) ----

  @SuppressWarnings("unused")
  private static void complete(long tag, int status, byte[] data) {
    // A stream call's events keep it registered; its final completion removes it.
    Completion c = status == EVENT ? PENDING.get(tag) : PENDING.remove(tag);
    if (c != null) {
      try {
        c.done(status, data);
      } catch (Throwable t) {
        // Never let an exception cross back into the SDK's thread.
      }
    }
  }

  @SuppressWarnings("unused")
  private static void invoke(long hostId, int method, byte[] args, long reply) {
    HostObjects.invoke(hostId, method, args, reply);
  }
}
