package vn.hues.sdk.identity;

import vn.hues.sdk.internal.TokenSet;

/** A store implemented in C++: handed to the SDK as is, without a Java round trip. */
final class NativeTokenStore implements TokenStore {
  final vn.hues.sdk.internal.TokenStore store;

  NativeTokenStore(vn.hues.sdk.internal.TokenStore store) {
    this.store = store;
  }

  @Override public TokenSet load(String key) { return store.load(key); }
  @Override public void save(String key, TokenSet tokens) { store.save(key, tokens); }
  @Override public void remove(String key) { store.remove(key); }
}
