package vn.hues.sdk.internal;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one bridge for interfaces an app implements (TokenStore, Logger, and every later one):
 * each Java implementation passed to the SDK gets a host id and a native host object; the SDK
 * invokes it through {@link Native}'s single upcall with the method index and args JSON, and
 * the answer goes back with hues_reply. The implementation stays strongly referenced until
 * the SDK releases its last reference (HUES_RELEASE), so a store referenced only by native
 * code survives garbage collection.
 */
public final class HostObjects {
  static final int RELEASE = -1;
  private static final AtomicLong NEXT = new AtomicLong(1);
  private static final Map<Long, Entry> LIVE = new ConcurrentHashMap<>();

  private static final class Entry {
    final String iface;
    final Object impl;

    Entry(String iface, Object impl) {
      this.iface = iface;
      this.impl = impl;
    }
  }

  private HostObjects() {}

  /** A new host object for impl; the caller owns one reference to the returned handle. */
  static long create(String iface, Object impl) {
    long id = NEXT.getAndIncrement();
    LIVE.put(id, new Entry(iface, impl));
    byte[][] error = new byte[1][];
    long h = Native.hostObjectNew(iface, id, error);
    if (h == 0) {
      LIVE.remove(id);
      throw ErrorMapper.fromJson(error[0]);
    }
    return h;
  }

  /** How many host objects the SDK still references (for tests). */
  public static int live() {
    return LIVE.size();
  }

  /** From the native upcall, on an SDK host thread. Never throws. */
  static void invoke(long hostId, int method, byte[] args, long reply) {
    if (method == RELEASE) {
      LIVE.remove(hostId);
      return;
    }
    Entry e = LIVE.get(hostId);
    if (e == null) {
      Native.reply(reply, 1, Json.write(Map.of("type", "error", "message", "host object " + hostId + " is gone")));
      return;
    }
    byte[] out;
    int status;
    try {
      Object result = CallbackDispatch.invoke(e.iface, e.impl, method, args == null || args.length == 0 ? null : Json.parse(args));
      out = Json.write(result);
      status = 0;
    } catch (Throwable t) {
      String message = t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
      if (t.getCause() != null && t.getCause().getMessage() != null && !message.contains(t.getCause().getMessage())) {
        message = message + ": " + t.getCause().getMessage();
      }
      out = Json.write(Map.of("type", ErrorMapper.hostErrorType(e.iface), "message", message));
      status = 1;
    }
    Native.reply(reply, status, out);
  }
}
