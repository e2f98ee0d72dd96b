package vn.hues.sdk.internal;

/** Internal: a Java object backed by a native SDK object, passable where a handle is expected. */
public interface Handleable {
  NativeObject nativeObject();
}
