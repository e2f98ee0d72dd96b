package vn.hues.sdk.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns handle-typed values (x-hues-handle fields) into native handles while a config or
 * call's args are encoded: an SDK object gives its own handle; a Java implementation of a
 * callback interface becomes a new host object, whose reference this scope drops once the
 * SDK holds its own ({@link #close}).
 */
public final class Handles implements AutoCloseable {
  /** For encoders that must not meet a handle. */
  public static final Handles NONE = new Handles(false);
  private final boolean allowed;
  private final List<Long> temporary = new ArrayList<>();
  private final List<NativeObject> pinned = new ArrayList<>();

  public Handles() {
    this(true);
  }

  private Handles(boolean allowed) {
    this.allowed = allowed;
  }

  public long handle(Object value, String iface) {
    if (!allowed) throw new IllegalStateException("no handle expected here");
    if (value instanceof Handleable) {
      NativeObject o = ((Handleable) value).nativeObject();
      pinned.add(o);
      return o.acquire();
    }
    if (CallbackDispatch.implementsInterface(value, iface)) {
      long h = HostObjects.create(iface, value);
      temporary.add(h);
      return h;
    }
    throw new IllegalArgumentException(value.getClass().getName() + " is not a " + iface);
  }

  @Override
  public void close() {
    for (long h : temporary) Native.objectRelease(h);
    temporary.clear();
    for (NativeObject o : pinned) o.releaseAcquired();
    pinned.clear();
  }
}
