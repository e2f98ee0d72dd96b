// A small generic JSON reader and writer over UTF-8 bytes (Mono has no System.Text.Json). It
// knows no model: generated code walks the tree and drives the writer.
// Numbers: kept as their text when read, parsed on use with the invariant culture (correctly
// rounded on Mono); written with "R" and checked by parsing back, else "G17" (round-trip
// exact, locale-independent). Strings are UTF-8 both ways, never normalised.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace Hues.Sdk.Runtime {

enum JsonKind { Null, Bool, Number, String, Array, Object }

sealed class JsonNode {
  internal readonly JsonKind Kind;
  internal readonly string Text;                       // String value, or a Number's text
  internal readonly bool Bool;
  internal readonly List<JsonNode> Items;              // Array
  internal readonly List<KeyValuePair<string, JsonNode>> Members;  // Object, in order

  internal static readonly JsonNode NullNode = new JsonNode(JsonKind.Null, null, false);
  internal static readonly JsonNode True = new JsonNode(JsonKind.Bool, null, true);
  internal static readonly JsonNode False = new JsonNode(JsonKind.Bool, null, false);

  JsonNode(JsonKind kind, string text, bool b) {
    Kind = kind;
    Text = text;
    Bool = b;
  }

  JsonNode(List<JsonNode> items) { Kind = JsonKind.Array; Items = items; }
  JsonNode(List<KeyValuePair<string, JsonNode>> members) { Kind = JsonKind.Object; Members = members; }

  internal static JsonNode String(string s) { return new JsonNode(JsonKind.String, s, false); }
  internal static JsonNode Number(string s) { return new JsonNode(JsonKind.Number, s, false); }
  internal static JsonNode Array(List<JsonNode> items) { return new JsonNode(items); }
  internal static JsonNode Object(List<KeyValuePair<string, JsonNode>> members) { return new JsonNode(members); }

  internal bool IsNull { get { return Kind == JsonKind.Null; } }

  // The member named name, or null when absent (a JSON null is a node of kind Null).
  internal JsonNode Get(string name) {
    if (Kind != JsonKind.Object) return null;
    for (int i = Members.Count - 1; i >= 0; i--)  // the last duplicate wins, as in most parsers
      if (Members[i].Key == name) return Members[i].Value;
    return null;
  }

  // ---- parsing ----
  static readonly UTF8Encoding Utf8 = new UTF8Encoding(false, true);

  internal static JsonNode Parse(byte[] utf8) { return Parse(Utf8.GetString(utf8)); }

  internal static JsonNode Parse(string text) {
    var p = new Parser(text);
    p.SkipSpace();
    var v = p.Value(0);
    p.SkipSpace();
    if (p.Pos != text.Length) throw p.Fail("trailing characters");
    return v;
  }

  sealed class Parser {
    readonly string s;
    internal int Pos;
    readonly StringBuilder sb = new StringBuilder();

    internal Parser(string s) { this.s = s; }

    internal FormatException Fail(string what) {
      return new FormatException("invalid JSON at offset " + Pos + ": " + what);
    }

    internal void SkipSpace() {
      while (Pos < s.Length) {
        char c = s[Pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') Pos++;
        else break;
      }
    }

    char Peek() {
      if (Pos >= s.Length) throw Fail("unexpected end");
      return s[Pos];
    }

    void Expect(string word) {
      if (string.CompareOrdinal(s, Pos, word, 0, word.Length) != 0) throw Fail("expected " + word);
      Pos += word.Length;
    }

    internal JsonNode Value(int depth) {
      if (depth > 256) throw Fail("nested too deeply");
      char c = Peek();
      switch (c) {
        case '{': return ObjectValue(depth);
        case '[': return ArrayValue(depth);
        case '"': return String(StringValue());
        case 't': Expect("true"); return True;
        case 'f': Expect("false"); return False;
        case 'n': Expect("null"); return NullNode;
        default:
          if (c == '-' || (c >= '0' && c <= '9')) return NumberValue();
          throw Fail("unexpected character");
      }
    }

    JsonNode ObjectValue(int depth) {
      Pos++;
      var members = new List<KeyValuePair<string, JsonNode>>();
      SkipSpace();
      if (Peek() == '}') { Pos++; return Object(members); }
      while (true) {
        SkipSpace();
        if (Peek() != '"') throw Fail("expected a member name");
        var name = StringValue();
        SkipSpace();
        if (Peek() != ':') throw Fail("expected ':'");
        Pos++;
        SkipSpace();
        members.Add(new KeyValuePair<string, JsonNode>(name, Value(depth + 1)));
        SkipSpace();
        char c = Peek();
        Pos++;
        if (c == '}') return Object(members);
        if (c != ',') throw Fail("expected ',' or '}'");
      }
    }

    JsonNode ArrayValue(int depth) {
      Pos++;
      var items = new List<JsonNode>();
      SkipSpace();
      if (Peek() == ']') { Pos++; return Array(items); }
      while (true) {
        SkipSpace();
        items.Add(Value(depth + 1));
        SkipSpace();
        char c = Peek();
        Pos++;
        if (c == ']') return Array(items);
        if (c != ',') throw Fail("expected ',' or ']'");
      }
    }

    string StringValue() {
      Pos++;  // the opening quote
      int start = Pos;
      while (Pos < s.Length && s[Pos] != '"' && s[Pos] != '\\' && s[Pos] >= ' ') Pos++;
      if (Pos < s.Length && s[Pos] == '"') {
        var plain = s.Substring(start, Pos - start);
        Pos++;
        return plain;
      }
      sb.Clear();
      sb.Append(s, start, Pos - start);
      while (true) {
        char c = Peek();
        Pos++;
        if (c == '"') return sb.ToString();
        if (c < ' ') throw Fail("control character in a string");
        if (c != '\\') { sb.Append(c); continue; }
        char e = Peek();
        Pos++;
        switch (e) {
          case '"': sb.Append('"'); break;
          case '\\': sb.Append('\\'); break;
          case '/': sb.Append('/'); break;
          case 'b': sb.Append('\b'); break;
          case 'f': sb.Append('\f'); break;
          case 'n': sb.Append('\n'); break;
          case 'r': sb.Append('\r'); break;
          case 't': sb.Append('\t'); break;
          case 'u':
            if (Pos + 4 > s.Length) throw Fail("short \\u escape");
            int code;
            if (!int.TryParse(s.Substring(Pos, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out code))
              throw Fail("bad \\u escape");
            sb.Append((char)code);
            Pos += 4;
            break;
          default: throw Fail("bad escape");
        }
      }
    }

    JsonNode NumberValue() {
      int start = Pos;
      if (s[Pos] == '-') Pos++;
      if (Pos >= s.Length || !char.IsDigit(s[Pos])) throw Fail("bad number");
      if (s[Pos] == '0') Pos++;
      else while (Pos < s.Length && s[Pos] >= '0' && s[Pos] <= '9') Pos++;
      if (Pos < s.Length && s[Pos] == '.') {
        Pos++;
        int digits = Pos;
        while (Pos < s.Length && s[Pos] >= '0' && s[Pos] <= '9') Pos++;
        if (Pos == digits) throw Fail("bad fraction");
      }
      if (Pos < s.Length && (s[Pos] == 'e' || s[Pos] == 'E')) {
        Pos++;
        if (Pos < s.Length && (s[Pos] == '+' || s[Pos] == '-')) Pos++;
        int digits = Pos;
        while (Pos < s.Length && s[Pos] >= '0' && s[Pos] <= '9') Pos++;
        if (Pos == digits) throw Fail("bad exponent");
      }
      return Number(s.Substring(start, Pos - start));
    }
  }
}

// Writes JSON as UTF-8 bytes. Handles (x-hues-handle fields) are written through the scope
// that the call or object creation owns, so host objects created for them are released after.
sealed class JsonWriter {
  readonly StringBuilder sb = new StringBuilder(256);
  readonly Stack<bool> first = new Stack<bool>();
  bool afterName;
  internal HandleScope Handles;

  static readonly UTF8Encoding Utf8 = new UTF8Encoding(false, false);

  internal JsonWriter(HandleScope handles = null) { Handles = handles; }

  void Comma() {
    if (afterName) { afterName = false; return; }
    if (first.Count > 0) {
      if (first.Peek()) { first.Pop(); first.Push(false); }
      else sb.Append(',');
    }
  }

  internal JsonWriter BeginObject() { Comma(); sb.Append('{'); first.Push(true); return this; }
  internal JsonWriter EndObject() { first.Pop(); sb.Append('}'); return this; }
  internal JsonWriter BeginArray() { Comma(); sb.Append('['); first.Push(true); return this; }
  internal JsonWriter EndArray() { first.Pop(); sb.Append(']'); return this; }

  internal JsonWriter Name(string name) {
    Comma();
    Quote(name);
    sb.Append(':');
    afterName = true;
    return this;
  }

  internal void Null() { Comma(); sb.Append("null"); }
  internal void Bool(bool b) { Comma(); sb.Append(b ? "true" : "false"); }
  internal void Long(long v) { Comma(); sb.Append(v.ToString(CultureInfo.InvariantCulture)); }
  internal void Int(int v) { Comma(); sb.Append(v.ToString(CultureInfo.InvariantCulture)); }
  internal void String(string s) { Comma(); Quote(s); }

  internal void Double(double d) {
    Comma();
    sb.Append(FormatDouble(d));
  }

  // Round-trip exact and locale-independent: "R" when it parses back to d (Mono's "R" does
  // not always), else 17 significant digits, which always do.
  internal static string FormatDouble(double d) {
    if (double.IsNaN(d) || double.IsInfinity(d))
      throw new ArgumentException("JSON has no NaN or infinity: " + d.ToString(CultureInfo.InvariantCulture));
    var r = d.ToString("R", CultureInfo.InvariantCulture);
    if (double.Parse(r, NumberStyles.Float, CultureInfo.InvariantCulture) != d ||
        (d == 0 && 1 / d < 0 && !r.StartsWith("-", StringComparison.Ordinal)))
      r = d.ToString("G17", CultureInfo.InvariantCulture);
    return r;
  }

  internal static double ParseDouble(string text) {
    return double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
  }

  internal void DateTime(DateTimeOffset t) { Comma(); Quote(Codec.FormatDateTime(t)); }

  // Raw JSON text already encoded (from another writer).
  internal void Raw(string json) { Comma(); sb.Append(json); }

  void Quote(string s) {
    sb.Append('"');
    int start = 0;
    for (int i = 0; i < s.Length; i++) {
      char c = s[i];
      if (c >= ' ' && c != '"' && c != '\\') continue;
      sb.Append(s, start, i - start);
      switch (c) {
        case '"': sb.Append("\\\""); break;
        case '\\': sb.Append("\\\\"); break;
        case '\n': sb.Append("\\n"); break;
        case '\r': sb.Append("\\r"); break;
        case '\t': sb.Append("\\t"); break;
        case '\b': sb.Append("\\b"); break;
        case '\f': sb.Append("\\f"); break;
        default: sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)); break;
      }
      start = i + 1;
    }
    sb.Append(s, start, s.Length - start);
    sb.Append('"');
  }

  public override string ToString() { return sb.ToString(); }
  internal byte[] ToUtf8() { return Utf8.GetBytes(sb.ToString()); }
}

}
