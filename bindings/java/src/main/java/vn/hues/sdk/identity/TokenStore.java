package vn.hues.sdk.identity;

import java.nio.file.Path;
import vn.hues.sdk.internal.IdentityFactories;
import vn.hues.sdk.internal.TokenSet;

/**
 * Where an app keeps a user's tokens (Android keystore, an encrypted file, a database).
 * Implement it in Java or Kotlin, or use {@link #inMemory} / {@link #inDirectory}. Called from
 * the SDK's threads, so implementations must be thread-safe. An exception thrown here reaches
 * the caller of the SDK method that used the store as a {@code TokenStoreException}.
 */
public interface TokenStore {
  /** The saved tokens; null (or empty tokens) when none are saved under key. */
  TokenSet load(String key);

  /** tokens is the caller's own copy. */
  void save(String key, TokenSet tokens);

  void remove(String key);

  /** Kept in this process only. */
  static TokenStore inMemory() {
    return new NativeTokenStore(IdentityFactories.memoryTokenStore());
  }

  /** One JSON file per key in directory, created with mode 0600. */
  static TokenStore inDirectory(Path directory) {
    return new NativeTokenStore(IdentityFactories.fileTokenStore(directory.toString()));
  }
}
