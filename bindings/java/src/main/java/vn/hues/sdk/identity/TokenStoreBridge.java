package vn.hues.sdk.identity;

import java.util.function.Function;
import vn.hues.sdk.TokenStoreException;
import vn.hues.sdk.internal.HuesNativeJNI;
import vn.hues.sdk.internal.TokenSet;

/** Adapts a Java {@link TokenStore} to the SWIG director the C++ credentials call. */
final class TokenStoreBridge extends vn.hues.sdk.internal.TokenStore {
  private final TokenStore target;

  private TokenStoreBridge(TokenStore target) {
    this.target = target;
  }

  /**
   * Calls make with the native form of store. A bridge is then owned by C++ alone: its director
   * holds a strong reference to it (and so to store) for as long as any C++ shared_ptr lives,
   * and the Java-held shared_ptr is dropped, so no reference cycle keeps either side alive.
   */
  static <T> T withNative(TokenStore store, Function<vn.hues.sdk.internal.TokenStore, T> make) {
    if (store == null) return make.apply(null);  // C++ uses a memory store
    if (store instanceof NativeTokenStore n) return make.apply(n.store);
    TokenStoreBridge bridge = new TokenStoreBridge(store);
    try {
      return make.apply(bridge);
    } finally {
      long holder = getCPtr(bridge);
      bridge.swigReleaseOwnership();
      HuesNativeJNI.delete_TokenStore(holder);
    }
  }

  // SWIG passes the C++ argument by reference, valid only during the call: the app gets a copy.
  @Override
  public void save(String key, TokenSet tokens) {
    TokenSet copy = new TokenSet(tokens);
    guard("save", () -> target.save(key, copy));
  }

  @Override
  public TokenSet load(String key) {
    TokenSet[] out = {null};
    guard("load", () -> out[0] = target.load(key));
    return out[0] == null ? new TokenSet() : out[0];
  }

  @Override
  public void remove(String key) {
    guard("remove", () -> target.remove(key));
  }

  private static void guard(String what, Runnable body) {
    try {
      body.run();
    } catch (RuntimeException e) {
      throw new TokenStoreException("TokenStore." + what + " failed", e);
    }
  }
}
