// The base of every SDK object (HuesClient, OidcClient, ...): a hues_handle made from a type
// name and a JSON config. Dispose may race with calls being started: each start holds a
// reference, and the handle is released when the last one has returned. Calls already in
// flight keep what they use alive inside the SDK.
using System;
using System.Threading;

namespace Hues.Sdk {

using Hues.Sdk.Runtime;

public abstract class HuesObject : IDisposable {
  readonly object gate = new object();
  ulong handle;
  int active;
  bool disposed;

  internal HuesObject(string type, Action<JsonWriter> config) {
    Library.EnsureLoaded();
    using (var scope = new HandleScope()) {
      var w = new JsonWriter(scope);
      if (config == null) w.BeginObject().EndObject();
      else config(w);
      var bytes = w.ToUtf8();
      var error = new HuesBytes();
      int status = Native.hues_object_new(Native.CString(type), bytes, Native.Len(bytes), out handle, ref error);
      var err = Native.Take(ref error);
      if (status != Native.Ok) {
        GC.SuppressFinalize(this);
        throw Errors.FromJson(err);
      }
    }
  }

  // The handle, held until ReleaseRef; ObjectDisposedException once disposed.
  internal ulong AddRef() {
    lock (gate) {
      if (disposed) throw new ObjectDisposedException(GetType().Name);
      active++;
      return handle;
    }
  }

  internal void ReleaseRef() {
    ulong release = 0;
    lock (gate) {
      if (--active == 0 && disposed) {
        release = handle;
        handle = 0;
      }
    }
    if (release != 0) Native.hues_object_release(release);
  }

  public bool IsDisposed { get { lock (gate) return disposed; } }

  // Drops this reference to the SDK object. Idempotent; safe while calls are in flight.
  public void Dispose() {
    Dispose(true);
    GC.SuppressFinalize(this);
  }

  void Dispose(bool disposing) {
    ulong release = 0;
    lock (gate) {
      if (disposed) return;
      disposed = true;
      if (active == 0) {
        release = handle;
        handle = 0;
      }
    }
    if (release != 0) Native.hues_object_release(release);
  }

  ~HuesObject() {
    try {
      if (!Library.ShuttingDown) Dispose(false);
    } catch (Exception) {
    }
  }

  public override string ToString() { return GetType().Name + (IsDisposed ? " (disposed)" : ""); }
}

}
