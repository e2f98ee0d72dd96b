#include "internal/json_codec.h"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace hues::internal {

std::string join_path(const std::string& path, std::string_view name) {
  std::string out;
  out.reserve(path.size() + 1 + name.size());
  out += path;
  if (!path.empty()) out += '.';
  out += name;
  return out;
}

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0, n = s.size();
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  while (i < n) {
    // ASCII runs (most of any document) 8 bytes at a time.
    while (i + 8 <= n) {
      std::uint64_t word;
      std::memcpy(&word, p + i, 8);
      if (word & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > n) return false;
    std::uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    // Reject overlong forms, surrogates and values past U+10FFFF.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      return false;
    i += len;
  }
  return true;
}

std::string valid_utf8(std::string_view s) {
  if (is_valid_utf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    // Length and the allowed range of the second byte (Unicode 15 Table 3-7).
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) len = 3, lo = 0xA0;
    else if (c == 0xED) len = 3, hi = 0x9F;  // no surrogates
    else if (c >= 0xE1 && c <= 0xEF) len = 3;
    else if (c == 0xF0) len = 4, lo = 0x90;
    else if (c == 0xF4) len = 4, hi = 0x8F;
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    std::size_t k = 1;  // bytes of a well-formed prefix
    while (len && k < len && i + k < n) {
      const unsigned char b = p[i + k];
      if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) break;
      ++k;
    }
    if (len && k == len) out.append(reinterpret_cast<const char*>(p + i), len);
    else out += "\xEF\xBF\xBD";  // U+FFFD for the maximal ill-formed subpart
    i += len && k == len ? len : std::max<std::size_t>(k, 1);
  }
  return out;
}

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

void write_json(boost::json::value& out, const std::string& v) { out = boost::json::string(v); }
void write_json(boost::json::value& out, double v) { out = v; }
void write_json(boost::json::value& out, std::int64_t v) { out = v; }
void write_json(boost::json::value& out, std::int32_t v) { out = std::int64_t{v}; }
void write_json(boost::json::value& out, bool v) { out = v; }

void read_json(const boost::json::value& in, std::string& v, const std::string& path) {
  const auto* s = in.if_string();
  if (!s) throw FieldError(path, "expected a string");
  if (!is_valid_utf8(*s)) throw FieldError(path, "is not valid UTF-8");
  v.assign(s->data(), s->size());
}

void read_json(const boost::json::value& in, double& v, const std::string& path) {
  if (in.is_double()) {
    v = in.get_double();
  } else if (in.is_int64()) {
    v = static_cast<double>(in.get_int64());
  } else if (in.is_uint64()) {
    v = static_cast<double>(in.get_uint64());
  } else {
    throw FieldError(path, "expected a number");
  }
  if (!std::isfinite(v)) throw FieldError(path, "expected a finite number");
}

void read_json(const boost::json::value& in, std::int64_t& v, const std::string& path) {
  if (in.is_int64()) {
    v = in.get_int64();
  } else if (in.is_uint64() &&
             in.get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    v = static_cast<std::int64_t>(in.get_uint64());
  } else if (in.is_double() && std::trunc(in.get_double()) == in.get_double() &&
             std::fabs(in.get_double()) < 9.0e15) {
    v = static_cast<std::int64_t>(in.get_double());
  } else {
    throw FieldError(path, "expected an integer");
  }
}

void read_json(const boost::json::value& in, std::int32_t& v, const std::string& path) {
  std::int64_t wide = 0;
  read_json(in, wide, path);
  if (wide < std::numeric_limits<std::int32_t>::min() || wide > std::numeric_limits<std::int32_t>::max())
    throw FieldError(path, "expected a 32-bit integer");
  v = static_cast<std::int32_t>(wide);
}

void read_json(const boost::json::value& in, bool& v, const std::string& path) {
  if (!in.is_bool()) throw FieldError(path, "expected true or false");
  v = in.get_bool();
}

namespace {

// A JSON number's text as the nearest double (Boost.JSON's own conversion can be one ULP off).
bool exact_double(std::string_view number, double& d) {
  auto res = std::from_chars(number.data(), number.data() + number.size(), d);
  if (res.ec == std::errc::result_out_of_range) {
    // Like Boost: underflow (1e-400) is a signed zero, overflow (1e999) an infinity that the
    // model readers then refuse.
    const bool neg = number[0] == '-';
    const bool tiny = number.find("e-") != std::string::npos || number.find("E-") != std::string::npos;
    d = tiny ? (neg ? -0.0 : 0.0) : (neg ? -1 : 1) * std::numeric_limits<double>::infinity();
    return true;
  }
  return res.ec == std::errc() && res.ptr == number.data() + number.size();
}

// Builds a value like boost::json::parser, but converts doubles from their text.
struct ExactHandler {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  ExactHandler() = default;
  ExactHandler(unsigned char* temp, std::size_t size) : st({}, temp, size) {}

  boost::json::value_stack st;
  std::string number;  // the parts of a number split across buffers

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) { return true; }
  bool on_object_end(std::size_t n, boost::system::error_code&) { st.push_object(n); return true; }
  bool on_array_begin(boost::system::error_code&) { return true; }
  bool on_array_end(std::size_t n, boost::system::error_code&) { st.push_array(n); return true; }
  bool on_key_part(boost::json::string_view s, std::size_t, boost::system::error_code&) { st.push_chars(s); return true; }
  bool on_key(boost::json::string_view s, std::size_t, boost::system::error_code&) { st.push_key(s); return true; }
  bool on_string_part(boost::json::string_view s, std::size_t, boost::system::error_code&) { st.push_chars(s); return true; }
  bool on_string(boost::json::string_view s, std::size_t, boost::system::error_code&) { st.push_string(s); return true; }
  bool on_number_part(boost::json::string_view s, boost::system::error_code&) { number.append(s.data(), s.size()); return true; }
  bool on_int64(std::int64_t i, boost::json::string_view, boost::system::error_code&) { number.clear(); st.push_int64(i); return true; }
  bool on_uint64(std::uint64_t u, boost::json::string_view, boost::system::error_code&) { number.clear(); st.push_uint64(u); return true; }
  bool on_double(double, boost::json::string_view s, boost::system::error_code& ec) {
    number.append(s.data(), s.size());
    double d = 0;
    if (!exact_double(number, d)) {
      ec = boost::json::error::syntax;
      return false;
    }
    number.clear();
    st.push_double(d);
    return true;
  }
  bool on_bool(bool b, boost::system::error_code&) { st.push_bool(b); return true; }
  bool on_null(boost::system::error_code&) { st.push_null(); return true; }
  bool on_comment_part(boost::json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::system::error_code&) { return true; }
};

boost::json::parse_options parse_options() {
  boost::json::parse_options o;
  o.allow_invalid_utf8 = true;  // checked per field, so the error names it
  return o;
}

void put_double(std::string& out, double d) {
  if (!std::isfinite(d)) {  // JSON has no inf/nan; the readers never produce them
    out += "null";
    return;
  }
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, d);
  std::string_view text(buf, static_cast<std::size_t>(res.ptr - buf));
  out += text;
  if (text.find_first_of(".e") == std::string_view::npos) out += ".0";  // stays a double: "-0.0", "1.0"
}

void put_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

void put_value(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: out += "null"; break;
    case boost::json::kind::bool_: out += v.get_bool() ? "true" : "false"; break;
    case boost::json::kind::int64: {
      char buf[24];
      auto res = std::to_chars(buf, buf + sizeof buf, v.get_int64());
      out.append(buf, res.ptr);
      break;
    }
    case boost::json::kind::uint64: {
      char buf[24];
      auto res = std::to_chars(buf, buf + sizeof buf, v.get_uint64());
      out.append(buf, res.ptr);
      break;
    }
    case boost::json::kind::double_: put_double(out, v.get_double()); break;
    case boost::json::kind::string: put_string(out, v.get_string()); break;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& item : v.get_array()) {
        if (!first) out += ',';
        first = false;
        put_value(out, item);
      }
      out += ']';
      break;
    }
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& member : v.get_object()) {
        if (!first) out += ',';
        first = false;
        put_string(out, member.key());
        out += ':';
        put_value(out, member.value());
      }
      out += '}';
      break;
    }
  }
}

}  // namespace

std::string serialize_json(const boost::json::value& v) {
  std::string out;
  put_value(out, v);
  return out;
}

// ---- the streaming decoder (see SaxOps) ----

namespace {

// The leaves read a scalar the way read_json does; a mismatch is false (no path is built).
template <typename T>
bool read_scalar(void* target, const boost::json::value& v) {
  try {
    static const std::string no_path;
    read_json(v, *static_cast<T*>(target), no_path);
    return true;
  } catch (const FieldError&) {
    return false;
  }
}

template <>
bool read_scalar<double>(void* target, const boost::json::value& v) {
  return try_read_leaf(v, *static_cast<double*>(target));
}

template <>
bool read_scalar<bool>(void* target, const boost::json::value& v) {
  return try_read_leaf(v, *static_cast<bool*>(target));
}

template <typename T>
constexpr SaxOps scalar_ops() {
  SaxOps o;
  o.scalar = &read_scalar<T>;
  return o;
}

constexpr SaxOps kDoubleOps = scalar_ops<double>();
constexpr SaxOps kInt64Ops = scalar_ops<std::int64_t>();
constexpr SaxOps kInt32Ops = scalar_ops<std::int32_t>();
constexpr SaxOps kBoolOps = scalar_ops<bool>();
constexpr SaxOps kStringOps = [] {
  SaxOps o;
  o.string = [](void* t, std::string_view s) {
    if (!is_valid_utf8(s)) return false;
    static_cast<std::string*>(t)->assign(s.data(), s.size());
    return true;
  };
  return o;
}();
constexpr SaxOps kMemberOps = [] {
  SaxOps o;
  o.object_begin = [](void*) { return true; };
  o.key = [](void* t, std::string_view key, SaxSink& member, int& index) {
    auto* m = static_cast<SaxMember*>(t);
    if (key == m->name) {
      member = m->inner;
      index = 0;
    }
    return true;
  };
  o.object_end = [](void*, std::uint64_t seen) { return (seen & 1) != 0; };
  return o;
}();

class SaxHandler {
 public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  explicit SaxHandler(SaxSink root) : root_(root) {}

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code& ec) { return open(ec, &SaxOps::object_begin, true); }
  bool on_object_end(std::size_t, boost::system::error_code& ec) {
    if (skip_) return --skip_, true;
    Frame& f = frames_[--depth_];
    if (f.sink.ops->object_end && !f.sink.ops->object_end(f.sink.target, f.seen)) return fail(ec);
    return true;
  }
  bool on_array_begin(boost::system::error_code& ec) { return open(ec, &SaxOps::array_begin, false); }
  bool on_array_end(std::size_t, boost::system::error_code&) {
    if (skip_) return --skip_, true;
    --depth_;
    return true;
  }
  bool on_key_part(boost::json::string_view s, std::size_t, boost::system::error_code&) {
    if (!skip_) part_.append(s.data(), s.size());
    return true;
  }
  bool on_key(boost::json::string_view s, std::size_t, boost::system::error_code& ec) {
    if (skip_) return true;
    std::string_view key = whole(s);
    Frame& f = frames_[depth_ - 1];
    int index = -1;
    member_ = {};
    bool ok = f.sink.ops->key(f.sink.target, key, member_, index);
    part_.clear();
    if (!ok) return fail(ec);
    last_index_ = index;
    if (index >= 0) {
      if (index >= 64 || (f.seen >> index) & 1) return fail(ec);  // a duplicate: the document keeps the last
      f.seen |= std::uint64_t{1} << index;
    }
    return true;
  }
  bool on_string_part(boost::json::string_view s, std::size_t, boost::system::error_code&) {
    if (!skip_) part_.append(s.data(), s.size());
    return true;
  }
  bool on_string(boost::json::string_view s, std::size_t, boost::system::error_code& ec) {
    if (skip_) return true;
    SaxSink sink;
    if (!value_sink(sink, ec)) return false;
    if (!sink.ops) return part_.clear(), true;
    bool ok = sink.ops->string && sink.ops->string(sink.target, whole(s));
    part_.clear();
    return ok || fail(ec);
  }
  bool on_number_part(boost::json::string_view s, boost::system::error_code&) {
    if (!skip_) number_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t i, boost::json::string_view, boost::system::error_code& ec) {
    number_.clear();
    return scalar(boost::json::value(i), ec);
  }
  bool on_uint64(std::uint64_t u, boost::json::string_view, boost::system::error_code& ec) {
    number_.clear();
    return scalar(boost::json::value(u), ec);
  }
  bool on_double(double, boost::json::string_view s, boost::system::error_code& ec) {
    if (skip_) return number_.clear(), true;
    double d = 0;
    bool exact;
    if (number_.empty()) {
      exact = exact_double(std::string_view(s.data(), s.size()), d);
    } else {
      number_.append(s.data(), s.size());
      exact = exact_double(number_, d);
      number_.clear();
    }
    if (!exact) return fail(ec);
    return scalar(boost::json::value(d), ec);
  }
  bool on_bool(bool b, boost::system::error_code& ec) { return scalar(boost::json::value(b), ec); }
  bool on_null(boost::system::error_code& ec) {
    if (skip_) return true;
    if (depth_ > 0 && frames_[depth_ - 1].object) {  // a null member is absent: not seen either
      member_ = {};
      if (last_index_ >= 0) frames_[depth_ - 1].seen &= ~(std::uint64_t{1} << last_index_);
      return true;
    }
    return fail(ec);
  }
  bool on_comment_part(boost::json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::system::error_code&) { return true; }

 private:
  // An object or an array starts: its sink's begin (object_begin or array_begin) and a frame;
  // inside a skipped value, or for an unknown member, it is skipped whole.
  bool open(boost::system::error_code& ec, bool (*SaxOps::*begin)(void*), bool object) {
    if (skip_) return ++skip_, true;
    SaxSink s;
    if (!value_sink(s, ec)) return false;
    if (!s.ops) return skip_ = 1, true;
    auto fn = s.ops->*begin;
    if (!fn || depth_ == kMaxDepth || !fn(s.target)) return fail(ec);
    frames_[depth_++] = {s, 0, object};
    return true;
  }

  static constexpr std::size_t kMaxDepth = 64;
  struct Frame {
    SaxSink sink;
    std::uint64_t seen;
    bool object;
  };

  static bool fail(boost::system::error_code& ec) {
    ec = boost::json::error::syntax;  // only tells the caller to fall back
    return false;
  }

  std::string_view whole(boost::json::string_view s) {
    if (part_.empty()) return {s.data(), s.size()};
    part_.append(s.data(), s.size());
    return part_;
  }

  // Where the value starting now goes (ops null: skip it), past any optional.
  bool value_sink(SaxSink& out, boost::system::error_code& ec) {
    if (depth_ == 0) {
      if (root_used_) return fail(ec);
      root_used_ = true;
      out = root_;
    } else if (Frame& f = frames_[depth_ - 1]; f.object) {
      out = std::exchange(member_, SaxSink{});
    } else {
      out = f.sink.ops->element(f.sink.target);
    }
    while (out.ops && out.ops->unwrap) out = out.ops->unwrap(out.target);
    return true;
  }

  bool scalar(const boost::json::value& v, boost::system::error_code& ec) {
    if (skip_) return true;
    SaxSink sink;
    if (!value_sink(sink, ec)) return false;
    if (!sink.ops) return true;
    return (sink.ops->scalar && sink.ops->scalar(sink.target, v)) || fail(ec);
  }

  SaxSink root_;
  bool root_used_ = false;
  SaxSink member_;        // the sink of the member whose key came last
  int last_index_ = -1;   // and its index
  std::size_t skip_ = 0;  // nesting depth inside a skipped value
  std::size_t depth_ = 0;
  Frame frames_[kMaxDepth];
  std::string part_;    // a key's or a string's parts
  std::string number_;  // a number's parts
};

}  // namespace

SaxSink sax_sink(std::string& v) { return {&kStringOps, &v}; }
SaxSink sax_sink(double& v) { return {&kDoubleOps, &v}; }
SaxSink sax_sink(std::int64_t& v) { return {&kInt64Ops, &v}; }
SaxSink sax_sink(std::int32_t& v) { return {&kInt32Ops, &v}; }
SaxSink sax_sink(bool& v) { return {&kBoolOps, &v}; }
SaxSink sax_sink(SaxMember& m) { return {&kMemberOps, &m}; }

bool sax_decode(std::string_view text, SaxSink root) {
  boost::json::basic_parser<SaxHandler> p(parse_options(), root);
  boost::system::error_code ec;
  std::size_t n = p.write_some(false, text.data(), text.size(), ec);
  return !ec && n == text.size();
}

boost::json::value parse_json(std::string_view text) { return parse_json(text, {}); }

boost::json::value parse_json(std::string_view text, boost::json::storage_ptr sp) {
  unsigned char temp[2048];  // the parser's own stack, on ours while it fits
  boost::json::basic_parser<ExactHandler> p(parse_options(), temp, sizeof temp);
  p.handler().st.reset(std::move(sp));
  boost::system::error_code ec;
  std::size_t n = p.write_some(false, text.data(), text.size(), ec);
  if (!ec && n != text.size()) ec = boost::json::error::extra_data;
  if (ec) throw FieldError("", "malformed JSON: " + ec.message());
  return p.handler().st.release();
}

}  // namespace hues::internal
