// Where an app keeps a signed-in user's tokens. Subclass TokenStore in C# (DPAPI, a
// database, the OS keychain) or use a built-in one.
using System;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Threading;
using Hues.Sdk.Native;

namespace Hues.Sdk.Identity {

// Called from the SDK's threads (one refresh at a time per UserCredentials), so an
// implementation must be thread-safe. An exception it throws reaches the caller of the SDK
// call that needed the store as a TokenStoreException wrapping it.
public abstract class TokenStore {
  // The tokens saved under key; null, or a TokenSet without access and refresh token, for none.
  public abstract TokenSet Load(string key);
  // tokens is the caller's own copy: keep it if you like.
  public abstract void Save(string key, TokenSet tokens);
  public abstract void Remove(string key);

  // Tokens kept in this process only.
  public static TokenStore InMemory() { return new BuiltInTokenStore(HuesNative.MakeMemoryTokenStore()); }

  // One JSON file per key in directory, created with mode 0600 and replaced atomically.
  public static TokenStore InDirectory(string directory) {
    if (directory == null) throw new ArgumentNullException(nameof(directory));
    return new BuiltInTokenStore(HuesNative.MakeFileTokenStore(directory));
  }

  // Runs use with a native store the SDK may keep: for a C# store, a pinned bridge.
  internal virtual T WithNative<T>(Func<NativeTokenStore, T> use) {
    using (var native = TokenStoreBridge.Adapt(this)) return use(native);
  }
}

// A store implemented in C++; no callbacks into .NET.
sealed class BuiltInTokenStore : TokenStore {
  readonly NativeTokenStore store;

  internal BuiltInTokenStore(NativeTokenStore store) { this.store = store; }

  public override TokenSet Load(string key) { return store.Load(key); }
  public override void Save(string key, TokenSet tokens) { store.Save(key, tokens); }
  public override void Remove(string key) { store.Remove(key); }
  internal override T WithNative<T>(Func<NativeTokenStore, T> use) { return use(store); }
}

// The director the SDK calls a C# TokenStore through (see "Token stores written in C#" in
// hues.i). Pinned by a GCHandle from Adapt until the native adapter calls Release.
sealed class TokenStoreBridge : ManagedTokenStore {
  static readonly ConcurrentDictionary<int, Exception> failures = new ConcurrentDictionary<int, Exception>();
  static int lastFailure;
  // Load's result, kept reachable until C++ has copied it out of the returned proxy.
  [ThreadStatic] static TokenSet loaded;

  readonly TokenStore target;
  GCHandle pin;

  TokenStoreBridge(TokenStore target) { this.target = target; }

  internal static NativeTokenStore Adapt(TokenStore target) {
    var bridge = new TokenStoreBridge(target);
    bridge.pin = GCHandle.Alloc(bridge);
    try {
      return HuesNative.AdaptTokenStore(bridge);
    } catch {
      bridge.pin.Free();
      throw;
    }
  }

  // The C# exception behind a StoreFailure, once.
  internal static Exception TakeFailure(int id) {
    Exception e;
    return failures.TryRemove(id, out e) ? e : null;
  }

  public override TokenSet Load(string key) {
    try {
      loaded = target.Load(key) ?? new TokenSet();
    } catch (Exception e) {
      Fail(e);
      loaded = new TokenSet();
    }
    return loaded;
  }

  public override void Save(string key, TokenSet tokens) {
    // tokens points into C++ memory that is valid during this call only.
    try { target.Save(key, new TokenSet(tokens)); } catch (Exception e) { Fail(e); }
  }

  public override void Remove(string key) {
    try { target.Remove(key); } catch (Exception e) { Fail(e); }
  }

  public override void Release() { pin.Free(); }

  // An exception must not unwind into C++ frames: park it and let the adapter throw.
  static void Fail(Exception e) {
    int id = Interlocked.Increment(ref lastFailure);
    failures[id] = e;
    HuesNative.StoreFailed(id);
  }
}

}
