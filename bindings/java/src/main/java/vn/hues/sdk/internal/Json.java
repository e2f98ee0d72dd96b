package vn.hues.sdk.internal;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A small generic JSON reader and writer (RFC 8259, UTF-8), so the SDK has no runtime
 * dependency. Parsed values: {@code Map<String, Object>} (insertion-ordered), {@code
 * List<Object>}, {@code String}, {@code Boolean}, {@link Num} (the number's text, converted
 * exactly on demand), and {@code null}. Locale-independent: doubles print with {@link
 * Double#toString} (which reads back to the same double) and parse with {@link
 * Double#parseDouble} (correctly rounded).
 */
public final class Json {
  private Json() {}

  /** A JSON number kept as its text until the model says which type it is. */
  public static final class Num {
    final String text;

    Num(String text) {
      this.text = text;
    }

    @Override
    public String toString() {
      return text;
    }
  }

  // ---- reading ----

  public static Object parse(byte[] utf8) {
    return parse(new String(utf8, StandardCharsets.UTF_8));
  }

  public static Object parse(String text) {
    Reader r = new Reader(text);
    r.ws();
    Object v = r.value(0);
    r.ws();
    if (r.i != text.length()) throw r.error("trailing characters");
    return v;
  }

  private static final class Reader {
    final String s;
    int i;

    Reader(String s) {
      this.s = s;
    }

    IllegalArgumentException error(String what) {
      return new IllegalArgumentException("JSON: " + what + " at offset " + i);
    }

    void ws() {
      while (i < s.length()) {
        char c = s.charAt(i);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') i++;
        else break;
      }
    }

    Object value(int depth) {
      if (depth > 200) throw error("nested too deeply");
      if (i >= s.length()) throw error("unexpected end");
      char c = s.charAt(i);
      switch (c) {
        case '{': {
          i++;
          Map<String, Object> m = new LinkedHashMap<>();
          ws();
          if (peek('}')) {
            i++;
            return m;
          }
          while (true) {
            ws();
            if (!peek('"')) throw error("expected a key");
            String k = string();
            ws();
            expect(':');
            ws();
            m.put(k, value(depth + 1));
            ws();
            if (peek(',')) {
              i++;
              continue;
            }
            expect('}');
            return m;
          }
        }
        case '[': {
          i++;
          List<Object> l = new ArrayList<>();
          ws();
          if (peek(']')) {
            i++;
            return l;
          }
          while (true) {
            ws();
            l.add(value(depth + 1));
            ws();
            if (peek(',')) {
              i++;
              continue;
            }
            expect(']');
            return l;
          }
        }
        case '"':
          return string();
        case 't':
          word("true");
          return Boolean.TRUE;
        case 'f':
          word("false");
          return Boolean.FALSE;
        case 'n':
          word("null");
          return null;
        default:
          return number();
      }
    }

    boolean peek(char c) {
      return i < s.length() && s.charAt(i) == c;
    }

    void expect(char c) {
      if (!peek(c)) throw error("expected '" + c + "'");
      i++;
    }

    void word(String w) {
      if (!s.startsWith(w, i)) throw error("unexpected token");
      i += w.length();
    }

    Num number() {
      int start = i;
      if (peek('-')) i++;
      int digits = i;
      while (i < s.length() && Character.isDigit(s.charAt(i)) && s.charAt(i) < 128) i++;
      if (i == digits) throw error("bad number");
      if (s.charAt(digits) == '0' && i - digits > 1) throw error("leading zero");
      if (peek('.')) {
        i++;
        int f = i;
        while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') i++;
        if (i == f) throw error("bad fraction");
      }
      if (peek('e') || peek('E')) {
        i++;
        if (peek('+') || peek('-')) i++;
        int e = i;
        while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') i++;
        if (i == e) throw error("bad exponent");
      }
      return new Num(s.substring(start, i));
    }

    String string() {
      expect('"');
      StringBuilder b = null;
      int run = i;
      while (true) {
        if (i >= s.length()) throw error("unterminated string");
        char c = s.charAt(i);
        if (c == '"') {
          String out = b == null ? s.substring(run, i) : b.append(s, run, i).toString();
          i++;
          return out;
        }
        if (c < 0x20) throw error("control character in string");
        if (c != '\\') {
          i++;
          continue;
        }
        if (b == null) b = new StringBuilder();
        b.append(s, run, i);
        i++;
        if (i >= s.length()) throw error("unterminated escape");
        char e = s.charAt(i++);
        switch (e) {
          case '"': b.append('"'); break;
          case '\\': b.append('\\'); break;
          case '/': b.append('/'); break;
          case 'b': b.append('\b'); break;
          case 'f': b.append('\f'); break;
          case 'n': b.append('\n'); break;
          case 'r': b.append('\r'); break;
          case 't': b.append('\t'); break;
          case 'u':
            if (i + 4 > s.length()) throw error("bad \\u escape");
            try {
              b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
            } catch (NumberFormatException x) {
              throw error("bad \\u escape");
            }
            i += 4;
            break;
          default:
            throw error("bad escape");
        }
        run = i;
      }
    }
  }

  // ---- writing ----

  public static byte[] write(Object value) {
    StringBuilder b = new StringBuilder(256);
    write(b, value);
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  public static String writeString(Object value) {
    StringBuilder b = new StringBuilder(256);
    write(b, value);
    return b.toString();
  }

  @SuppressWarnings("unchecked")
  private static void write(StringBuilder b, Object v) {
    if (v == null) {
      b.append("null");
    } else if (v instanceof String) {
      quote(b, (String) v);
    } else if (v instanceof Boolean) {
      b.append(((Boolean) v) ? "true" : "false");
    } else if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      if (Double.isNaN(d) || Double.isInfinite(d)) {
        throw new IllegalArgumentException("JSON has no " + d);
      }
      b.append(Double.toString(d));
    } else if (v instanceof Number || v instanceof Num) {
      b.append(v.toString());
    } else if (v instanceof Map) {
      b.append('{');
      boolean first = true;
      for (Map.Entry<String, Object> e : ((Map<String, Object>) v).entrySet()) {
        if (!first) b.append(',');
        first = false;
        quote(b, e.getKey());
        b.append(':');
        write(b, e.getValue());
      }
      b.append('}');
    } else if (v instanceof List) {
      b.append('[');
      boolean first = true;
      for (Object x : (List<Object>) v) {
        if (!first) b.append(',');
        first = false;
        write(b, x);
      }
      b.append(']');
    } else {
      throw new IllegalArgumentException("not a JSON value: " + v.getClass().getName());
    }
  }

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private static void quote(StringBuilder b, String s) {
    b.append('"');
    int run = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      b.append(s, run, i);
      run = i + 1;
      switch (c) {
        case '"': b.append("\\\""); break;
        case '\\': b.append("\\\\"); break;
        case '\n': b.append("\\n"); break;
        case '\r': b.append("\\r"); break;
        case '\t': b.append("\\t"); break;
        default:
          b.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 15]);
      }
    }
    b.append(s, run, s.length()).append('"');
  }

  // ---- typed access for generated code ----

  @SuppressWarnings("unchecked")
  public static Map<String, Object> object(Object v, String what) {
    if (v instanceof Map) return (Map<String, Object>) v;
    throw new IllegalArgumentException(what + ": expected a JSON object");
  }

  public static Object field(Object v, String name) {
    return object(v, "result").get(name);
  }

  public static String str(Object v) {
    if (v instanceof String) return (String) v;
    throw new IllegalArgumentException("expected a JSON string, got " + v);
  }

  public static String optStr(Object v, String absent) {
    return v == null ? absent : v instanceof String ? (String) v : v.toString();
  }

  private static String num(Object v) {
    if (v instanceof Num) return ((Num) v).text;
    if (v instanceof Number) return v.toString();
    throw new IllegalArgumentException("expected a JSON number, got " + v);
  }

  public static long i64(Object v) {
    String t = num(v);
    try {
      return Long.parseLong(t);
    } catch (NumberFormatException e) {
      double d = Double.parseDouble(t);  // 1e3 or 5.0: exact integers only
      long l = (long) d;
      if (l != d) throw new IllegalArgumentException("not an integer: " + t);
      return l;
    }
  }

  public static int i32(Object v) {
    return Math.toIntExact(i64(v));
  }

  public static double f64(Object v) {
    return Double.parseDouble(num(v));
  }

  public static boolean bool(Object v) {
    if (v instanceof Boolean) return (Boolean) v;
    throw new IllegalArgumentException("expected true or false, got " + v);
  }

  public static Instant instant(Object v) {
    try {
      return Instant.parse(str(v));
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("not an RFC 3339 UTC time: " + v, e);
    }
  }

  /** RFC 3339 in UTC with a Z suffix, as the API writes times. */
  public static String instant(Instant t) {
    return t.toString();
  }

  public static <T> List<T> list(Object v, Function<Object, T> item) {
    if (!(v instanceof List)) throw new IllegalArgumentException("expected a JSON array, got " + v);
    List<?> in = (List<?>) v;
    List<T> out = new ArrayList<>(in.size());
    for (Object x : in) out.add(item.apply(x));
    return Collections.unmodifiableList(out);
  }

  public static <T> List<Object> map(List<T> v, Function<T, Object> item) {
    List<Object> out = new ArrayList<>(v.size());
    for (T x : v) out.add(item.apply(x));
    return out;
  }

  /** bytes (the spec's {@code format: byte}) cross the JSON boundary as standard base64. */
  public static String bytes(byte[] v) {
    return java.util.Base64.getEncoder().encodeToString(v);
  }

  public static byte[] bytes(Object v) {
    return java.util.Base64.getDecoder().decode(str(v));
  }

  /** A JSON object with string keys (additionalProperties) -> an unmodifiable map. */
  public static <T> Map<String, T> dict(Object v, Function<Object, T> value) {
    Map<String, T> out = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : object(v, "map").entrySet()) out.put(e.getKey(), value.apply(e.getValue()));
    return Collections.unmodifiableMap(out);
  }

  public static <T> Map<String, Object> encodeDict(Map<String, T> v, Function<T, Object> value) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<String, T> e : v.entrySet()) out.put(String.valueOf(e.getKey()), value.apply(e.getValue()));
    return out;
  }

  /** Runs a model's build(), reporting a missing required field as a protocol error. */
  public static <T> T built(Supplier<T> build, String model) {
    try {
      return build.get();
    } catch (vn.hues.sdk.HuesException e) {
      throw ErrorMapper.protocol("malformed " + model + ": " + e.getMessage(), e);
    }
  }
}
