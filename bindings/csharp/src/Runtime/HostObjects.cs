// The one bridge for interfaces implemented in C# (TokenStore, Logger, and every later
// callback interface): one static reverse-P/Invoke delegate invoke(hostId, method, args,
// reply) for all of them; a table hostId -> the C# object, which keeps it alive exactly
// until the SDK drops its last reference (HUES_RELEASE). What a method does is generated
// (Callbacks.cs): decode args, call the interface method, encode the result.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;

namespace Hues.Sdk.Runtime {

delegate void HostDispatch(object target, int method, JsonNode args, JsonWriter result);

sealed class HostInterface {
  internal readonly string Name;
  internal readonly Type Type;
  internal readonly string ErrorType;  // the error type a failing method is reported as
  internal readonly HostDispatch Dispatch;
  internal readonly Func<object, object> Wrap;  // the idiom's adapter (a Stream's StreamSource), or null

  internal HostInterface(string name, Type type, string errorType, HostDispatch dispatch,
                         Func<object, object> wrap = null) {
    Name = name;
    Type = type;
    ErrorType = errorType;
    Dispatch = dispatch;
    Wrap = wrap;
  }
}

static class HostObjects {
  sealed class Entry {
    internal object Target;
    internal HostInterface Interface;
  }

  static readonly InvokeFn OnInvokeFn = OnInvoke;  // alive for the process
  static readonly ConcurrentDictionary<ulong, Entry> Live = new ConcurrentDictionary<ulong, Entry>();
  static long lastId;

  internal static int LiveCount { get { return Live.Count; } }

  internal static ulong Create(string iface, object target) {
    var hi = Callbacks.Find(iface);
    if (hi == null) throw new ArgumentException("no callback interface " + iface + " for " + target.GetType().Name);
    if (!hi.Type.IsInstanceOfType(target))
      throw new ArgumentException(target.GetType().Name + " does not implement " + hi.Type.Name);
    ulong id = (ulong)Interlocked.Increment(ref lastId);
    Live[id] = new Entry { Target = hi.Wrap != null ? hi.Wrap(target) : target, Interface = hi };
    ulong handle;
    var error = new HuesBytes();
    int status = Native.hues_host_object_new(Native.CString(iface), OnInvokeFn, IntPtr.Zero, id, out handle, ref error);
    var err = Native.Take(ref error);
    if (status != Native.Ok) {
      Entry ignored;
      Live.TryRemove(id, out ignored);
      throw Errors.FromJson(err);
    }
    return handle;
  }

  // On an SDK host thread. Replies during the invoke; nothing escapes into native code.
  static void OnInvoke(IntPtr context, ulong hostId, int method, IntPtr args, UIntPtr argsLen, ulong reply) {
    try {
      Library.MarkSdkThread();
      Entry e;
      if (method == Native.Release) {
        Live.TryRemove(hostId, out e);
        return;
      }
      if (!Live.TryGetValue(hostId, out e)) {
        Reply(reply, Native.Error, ErrorJson("error", "no such host object"));
        return;
      }
      try {
        var a = JsonNode.Parse(Native.Copy(args, argsLen));
        var w = new JsonWriter();
        e.Interface.Dispatch(e.Target, method, a, w);
        var text = w.ToUtf8();
        Reply(reply, Native.Ok, text.Length == 0 ? Null : text);
      } catch (Exception ex) {
        Remember(ex, e.Interface.ErrorType);
        Reply(reply, Native.Error, ErrorJson(e.Interface.ErrorType, ex.Message));
      }
    } catch (Exception) {
    }
  }

  static readonly byte[] Null = { (byte)'n', (byte)'u', (byte)'l', (byte)'l' };

  static void Reply(ulong reply, int status, byte[] data) {
    Native.hues_reply(reply, status, data, Native.Len(data));
  }

  static byte[] ErrorJson(string type, string message) {
    var w = new JsonWriter();
    w.BeginObject();
    w.Name("type").String(type);
    w.Name("message").String(message ?? "");
    w.EndObject();
    return w.ToUtf8();
  }

  // The C# exception a host method threw, so that the SDK error it turns into can carry it
  // as InnerException (matched by its message; the last few only, each taken once).
  // The error is reported as the interface's error type (TokenStore -> TokenStoreException),
  // whatever type the SDK gave the failure it caused.
  static readonly LinkedList<KeyValuePair<Exception, string>> Recent = new LinkedList<KeyValuePair<Exception, string>>();

  static void Remember(Exception e, string errorType) {
    lock (Recent) {
      Recent.AddLast(new KeyValuePair<Exception, string>(e, errorType));
      while (Recent.Count > 32) Recent.RemoveFirst();
    }
  }

  internal static Exception TakeHostException(string message, out string errorType) {
    errorType = null;
    if (string.IsNullOrEmpty(message)) return null;
    lock (Recent) {
      for (var n = Recent.Last; n != null; n = n.Previous) {
        var m = n.Value.Key.Message;
        if (!string.IsNullOrEmpty(m) && message.Contains(m)) {
          Recent.Remove(n);
          errorType = n.Value.Value;
          return n.Value.Key;
        }
      }
    }
    return null;
  }
}

}
