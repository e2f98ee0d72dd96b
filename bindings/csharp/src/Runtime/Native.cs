// The native boundary: [DllImport] straight onto sdk/include/hues/c_api.h, exported by
// libhues_csharp.so (the SDK's objects, exporting only hues_*). Nothing here knows an
// operation or a model: calls go by number with JSON bytes (UTF-8) both ways.
using System;
using System.Runtime.InteropServices;
using System.Text;

namespace Hues.Sdk.Runtime {

[StructLayout(LayoutKind.Sequential)]
struct HuesBytes {
  public IntPtr Data;
  public UIntPtr Len;
}

// hues_completion_fn
[UnmanagedFunctionPointer(CallingConvention.Cdecl)]
delegate void CompletionFn(IntPtr context, ulong tag, int status, IntPtr data, UIntPtr len);

// hues_invoke_fn
[UnmanagedFunctionPointer(CallingConvention.Cdecl)]
delegate void InvokeFn(IntPtr context, ulong hostId, int method, IntPtr args, UIntPtr argsLen, ulong reply);

static class Native {
  const string Lib = "hues_csharp";
  internal const int Ok = 0;
  internal const int Error = 1;
  internal const int Event = 2;  // one event of a stream call (x-hues-stream), before its completion
  internal const int Release = -1;

  [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
  internal static extern void hues_bytes_free(ref HuesBytes bytes);

  [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
  internal static extern IntPtr hues_version();

  [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
  internal static extern IntPtr hues_spec_hash();

  [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
  internal static extern int hues_object_new(byte[] type, byte[] config, UIntPtr configLen,
                                             out ulong handle, ref HuesBytes error);

  [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
  internal static extern void hues_object_release(ulong handle);

  [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
  internal static extern IntPtr hues_sink_callback(CompletionFn fn, IntPtr context);

  [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
  internal static extern ulong hues_call_start(ulong target, uint callId, byte[] args, UIntPtr argsLen,
                                               byte[] options, UIntPtr optionsLen, IntPtr sink, ulong tag);

  [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
  internal static extern void hues_call_cancel(ulong call);
  [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
  internal static extern void hues_call_ack(ulong call, uint n);

  [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
  internal static extern int hues_call_sync(ulong target, uint callId, byte[] args, UIntPtr argsLen,
                                            byte[] options, UIntPtr optionsLen, IntPtr started, ref HuesBytes output);

  [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
  internal static extern int hues_host_object_new(byte[] interfaceName, InvokeFn invoke, IntPtr context,
                                                  ulong hostId, out ulong handle, ref HuesBytes error);

  [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
  internal static extern void hues_reply(ulong reply, int status, byte[] data, UIntPtr len);

  [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
  internal static extern void hues_shutdown();

  // ---- marshalling helpers: every string crosses as explicit UTF-8 ----
  static readonly UTF8Encoding Utf8 = new UTF8Encoding(false, true);

  // A NUL-terminated UTF-8 copy of s (for const char* parameters).
  internal static byte[] CString(string s) {
    var bytes = new byte[Utf8.GetByteCount(s) + 1];
    Utf8.GetBytes(s, 0, s.Length, bytes, 0);
    return bytes;
  }

  internal static string FromCString(IntPtr p) {
    if (p == IntPtr.Zero) return "";
    int n = 0;
    while (Marshal.ReadByte(p, n) != 0) n++;
    return FromBytes(p, n);
  }

  internal static byte[] Copy(IntPtr data, UIntPtr len) {
    var n = checked((int)len.ToUInt64());
    var bytes = new byte[n];
    if (n > 0) Marshal.Copy(data, bytes, 0, n);
    return bytes;
  }

  internal static string FromBytes(IntPtr p, int n) {
    var bytes = new byte[n];
    if (n > 0) Marshal.Copy(p, bytes, 0, n);
    return Utf8.GetString(bytes);
  }

  // Takes ownership of bytes the SDK allocated: copies and frees them.
  internal static byte[] Take(ref HuesBytes b) {
    if (b.Data == IntPtr.Zero) return new byte[0];
    try {
      return Copy(b.Data, b.Len);
    } finally {
      hues_bytes_free(ref b);
    }
  }

  internal static UIntPtr Len(byte[] b) { return new UIntPtr(b == null ? 0u : (uint)b.Length); }
}

}
