// x-hues-handle values written into a config or call args: an SDK object's handle (held for
// the scope) or a host object made for a C# implementation of a callback interface (our
// reference dropped at the end of the scope; the SDK keeps its own).
using System;
using System.Collections.Generic;

namespace Hues.Sdk.Runtime {

sealed class HandleScope : IDisposable {
  List<HuesObject> held;
  List<ulong> hostHandles;

  internal ulong Add(object value, string iface) {
    if (value == null) return 0;
    var obj = value as HuesObject;
    if (obj != null) {
      ulong h = obj.AddRef();
      (held ?? (held = new List<HuesObject>())).Add(obj);
      return h;
    }
    ulong host = HostObjects.Create(iface, value);
    (hostHandles ?? (hostHandles = new List<ulong>())).Add(host);
    return host;
  }

  public void Dispose() {
    if (hostHandles != null) foreach (var h in hostHandles) Native.hues_object_release(h);
    if (held != null) foreach (var o in held) o.ReleaseRef();
    hostHandles = null;
    held = null;
  }
}

}
