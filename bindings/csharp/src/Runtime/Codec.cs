// What generated encoders and decoders call: typed reads from a JsonNode with the path of
// the value in errors ("report.location.lat"), list and handle writes, RFC 3339 timestamps.
using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Linq;

namespace Hues.Sdk.Runtime {

static class Codec {
  internal static ProtocolException Fail(string at, string what) {
    return new ProtocolException("cannot decode " + at + ": " + what, code: "decode");
  }

  internal static void Object(JsonNode n, string at) {
    if (n.Kind != JsonKind.Object) throw Fail(at, "expected an object, got " + n.Kind);
  }

  // A required member: absent is an error (a JSON null reaches the decoder).
  internal static T Req<T>(JsonNode obj, string name, string at, Func<JsonNode, string, T> decode) {
    var v = obj.Get(name);
    if (v == null) throw Fail(at + "." + name, "missing");
    return decode(v, at + "." + name);
  }

  // An optional reference-typed member: null when absent or JSON null.
  internal static T Ref<T>(JsonNode obj, string name, string at, Func<JsonNode, string, T> decode) where T : class {
    var v = obj.Get(name);
    return v == null || v.IsNull ? null : decode(v, at + "." + name);
  }

  // An optional value-typed member: null when absent or JSON null.
  internal static T? Val<T>(JsonNode obj, string name, string at, Func<JsonNode, string, T> decode) where T : struct {
    var v = obj.Get(name);
    return v == null || v.IsNull ? (T?)null : decode(v, at + "." + name);
  }

  internal static string String(JsonNode n, string at) {
    if (n.Kind != JsonKind.String) throw Fail(at, "expected a string, got " + n.Kind);
    return n.Text;
  }

  internal static bool Bool(JsonNode n, string at) {
    if (n.Kind != JsonKind.Bool) throw Fail(at, "expected true or false, got " + n.Kind);
    return n.Bool;
  }

  internal static long Long(JsonNode n, string at) {
    if (n.Kind != JsonKind.Number) throw Fail(at, "expected an integer, got " + n.Kind);
    long v;
    if (long.TryParse(n.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out v)) return v;
    // 1.0 or 1e3 are integers too; anything with a fraction is not.
    double d = JsonWriter.ParseDouble(n.Text);
    if (d != Math.Floor(d) || d < long.MinValue || d >= 9.2233720368547758E18) throw Fail(at, "not an int64: " + n.Text);
    return (long)d;
  }

  internal static int Int(JsonNode n, string at) {
    long v = Long(n, at);
    if (v < int.MinValue || v > int.MaxValue) throw Fail(at, "not an int32: " + n.Text);
    return (int)v;
  }

  internal static double Double(JsonNode n, string at) {
    if (n.Kind != JsonKind.Number) throw Fail(at, "expected a number, got " + n.Kind);
    return JsonWriter.ParseDouble(n.Text);
  }

  internal static DateTimeOffset DateTime(JsonNode n, string at) {
    var s = String(n, at);
    DateTimeOffset t;
    if (!TryParseDateTime(s, out t)) throw Fail(at, "not an RFC 3339 timestamp: " + s);
    return t;
  }

  static readonly string[] DateTimeFormats = {
    "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
  };

  internal static bool TryParseDateTime(string s, out DateTimeOffset t) {
    // More than 7 fractional digits: keep 7 (100 ns ticks), as .NET cannot hold more.
    int dot = s.IndexOf('.');
    if (dot > 0) {
      int end = dot + 1;
      while (end < s.Length && char.IsDigit(s[end])) end++;
      if (end - dot - 1 > 7) s = s.Substring(0, dot + 8) + s.Substring(end);
    }
    return DateTimeOffset.TryParseExact(s.Replace('t', 'T').Replace('z', 'Z'), DateTimeFormats,
                                        CultureInfo.InvariantCulture, DateTimeStyles.None, out t);
  }

  // UTC with a Z, fractional seconds only when there are any (trailing zeros dropped).
  internal static string FormatDateTime(DateTimeOffset t) {
    var u = t.UtcDateTime;
    var s = u.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
    long frac = u.Ticks % TimeSpan.TicksPerSecond;
    if (frac != 0) s += "." + frac.ToString("D7", CultureInfo.InvariantCulture).TrimEnd('0');
    return s + "Z";
  }

  internal static IReadOnlyList<T> List<T>(JsonNode n, string at, Func<JsonNode, string, T> item) {
    if (n.Kind != JsonKind.Array) throw Fail(at, "expected an array, got " + n.Kind);
    var items = new T[n.Items.Count];
    for (int i = 0; i < items.Length; i++) items[i] = item(n.Items[i], at + "[" + i + "]");
    return new ReadOnlyCollection<T>(items);
  }

  // An immutable copy for a model's list property.
  internal static IReadOnlyList<T> Freeze<T>(IEnumerable<T> items) {
    if (items == null) return null;
    var r = items as ReadOnlyCollection<T>;
    return r ?? new ReadOnlyCollection<T>(items.ToArray());
  }

  internal static T Decode<T>(JsonNode n, string at, Func<JsonNode, string, T> decode) { return decode(n, at); }

  // x-hues-handle fields only go to the SDK; nothing sends one back.
  internal static T NoHandle<T>(JsonNode n, string at) { throw Fail(at, "a handle cannot be decoded"); }

  // bytes (the spec's format: byte) cross the JSON boundary as standard base64.
  internal static byte[] Bytes(JsonNode n, string at) {
    try {
      return Convert.FromBase64String(String(n, at));
    } catch (FormatException) {
      throw Fail(at, "expected base64 bytes");
    }
  }

  // A JSON object with string keys (additionalProperties).
  internal static IReadOnlyDictionary<string, T> Dict<T>(JsonNode n, string at, Func<JsonNode, string, T> value) {
    Object(n, at);
    var d = new Dictionary<string, T>();
    foreach (var m in n.Members) d[m.Key] = value(m.Value, at + "." + m.Key);
    return new ReadOnlyDictionary<string, T>(d);
  }

  internal static void WriteDict<T>(JsonWriter w, IEnumerable<KeyValuePair<string, T>> items, Action<JsonWriter, T> value) {
    w.BeginObject();
    foreach (var kv in items) {
      w.Name(kv.Key);
      value(w, kv.Value);
    }
    w.EndObject();
  }

  internal static void WriteList<T>(JsonWriter w, IReadOnlyList<T> items, Action<JsonWriter, T> item) {
    w.BeginArray();
    foreach (var x in items) item(w, x);
    w.EndArray();
  }

  // An x-hues-handle field: an SDK object's handle, or a host object made for a C# object
  // implementing the interface; released once the call or creation that carries it has run.
  internal static void WriteHandle(JsonWriter w, object value, string iface) {
    if (w.Handles == null) throw new InvalidOperationException("a handle outside a handle scope");
    w.Long((long)w.Handles.Add(value, iface));
  }

  internal static bool ListEquals<T>(IReadOnlyList<T> a, IReadOnlyList<T> b) {
    if (ReferenceEquals(a, b)) return true;
    if (a == null || b == null || a.Count != b.Count) return false;
    var eq = EqualityComparer<T>.Default;
    for (int i = 0; i < a.Count; i++)
      if (!eq.Equals(a[i], b[i])) return false;
    return true;
  }

  internal static int Hash<T>(T value) { return value == null ? 0 : EqualityComparer<T>.Default.GetHashCode(value); }

  internal static int ListHash<T>(IReadOnlyList<T> items) {
    if (items == null) return 0;
    int h = 17;
    foreach (var x in items) h = h * 31 + Hash(x);
    return h;
  }

  // How ToString shows a value: strings quoted, lists in brackets, timestamps in RFC 3339.
  internal static string Show(object value) {
    if (value == null) return "null";
    var s = value as string;
    if (s != null) return "\"" + s + "\"";
    if (value is DateTimeOffset) return FormatDateTime((DateTimeOffset)value);
    if (value is double) return JsonWriter.FormatDouble((double)value);
    if (value is bool) return (bool)value ? "true" : "false";
    if (value is IFormattable) return ((IFormattable)value).ToString(null, CultureInfo.InvariantCulture);
    var list = value as System.Collections.IEnumerable;
    if (list != null) return "[" + string.Join(", ", list.Cast<object>().Select(Show)) + "]";
    return value.ToString();
  }

  internal static string Secret(object value) { return value == null ? "null" : "***"; }
}

}
