// JSON <-> model codec. Internal: shared by the SDK and the sandbox. The per-model functions
// are generated (internal/model_codec.h, from docs/openapi.yaml); this header holds the
// primitives and templates over them.
//
// Numbers are exact: parse_json converts each number's own text with std::from_chars and
// serialize_json prints doubles with std::to_chars (shortest round trip). Boost.JSON 1.81's
// own parser reads some doubles one ULP off and its serializer prints "1.64726E1".
#pragma once

#include <cmath>

#include <boost/json/monotonic_resource.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "hues/models.h"

namespace hues::internal {

// A JSON document did not fit the model; field is the dotted path ("location.lat",
// "items[3].status"), empty for the document itself.
class FieldError : public std::runtime_error {
 public:
  FieldError(std::string field, const std::string& message)
      : std::runtime_error(field.empty() ? message : field + ": " + message),
        field_(std::move(field)) {}
  const std::string& field() const noexcept { return field_; }

 private:
  std::string field_;
};

// "a" + "b" -> "a.b"; "" + "b" -> "b".
std::string join_path(const std::string& path, std::string_view name);
bool is_valid_utf8(std::string_view text);
// text as valid UTF-8: each ill-formed sequence becomes U+FFFD (the Unicode "maximal subpart"
// practice), so what a peer sent can be echoed in JSON or HTML, or read despite a bad byte.
std::string valid_utf8(std::string_view text);
std::size_t utf8_length(std::string_view text);  // code points, for minLength/maxLength

void write_json(boost::json::value& out, const std::string& v);
void write_json(boost::json::value& out, double v);
void write_json(boost::json::value& out, std::int64_t v);
void write_json(boost::json::value& out, std::int32_t v);
void write_json(boost::json::value& out, bool v);
// Strings must be valid UTF-8: invalid bytes are a FieldError naming the field.
void read_json(const boost::json::value& in, std::string& v, const std::string& path);
void read_json(const boost::json::value& in, double& v, const std::string& path);
void read_json(const boost::json::value& in, std::int64_t& v, const std::string& path);
void read_json(const boost::json::value& in, std::int32_t& v, const std::string& path);
void read_json(const boost::json::value& in, bool& v, const std::string& path);

// The streaming decoder (sax_decode): Boost.JSON's parser events go straight into the model,
// with no document in between. A SaxSink is where the next JSON value goes; its ops say what it
// accepts. Any value that does not fit (a wrong type, invalid UTF-8, a duplicate member, a
// missing selected member) makes sax_decode return false, and the caller decodes the same
// text again through the document (read_json), whose error names the field: so both paths
// give the same model or the same error, and only the common case is made cheaper.
struct SaxOps;
struct SaxSink {
  const SaxOps* ops = nullptr;  // null: the value is skipped (an unknown member)
  void* target = nullptr;
};
struct SaxOps {
  // A complete string (a value, not a key).
  bool (*string)(void* target, std::string_view s) = nullptr;
  // A number or a boolean, as a value without storage.
  bool (*scalar)(void* target, const boost::json::value& v) = nullptr;
  // An object: begin (reset), then each key gives the member's sink (ops null: skip it) and
  // its index among the model's members (-1: not one; used to refuse duplicates); end gets
  // the indexes seen, as bits.
  bool (*object_begin)(void* target) = nullptr;
  bool (*key)(void* target, std::string_view key, SaxSink& member, int& index) = nullptr;
  bool (*object_end)(void* target, std::uint64_t seen) = nullptr;
  // An array: begin (clear), then a sink for each new element.
  bool (*array_begin)(void* target) = nullptr;
  SaxSink (*element)(void* target) = nullptr;
  // An optional: the sink of its value once it is there (null is never passed on to it).
  SaxSink (*unwrap)(void* target) = nullptr;
};

// Decodes text into root; false when the text or a value does not fit (see SaxOps).
bool sax_decode(std::string_view text, SaxSink root);

SaxSink sax_sink(std::string& v);
SaxSink sax_sink(double& v);
SaxSink sax_sink(std::int64_t& v);
SaxSink sax_sink(std::int32_t& v);
SaxSink sax_sink(bool& v);
template <typename T>
SaxSink sax_sink(std::vector<T>& v);
template <typename T>
SaxSink sax_sink(std::optional<T>& v);

}  // namespace hues::internal

#include "internal/model_codec.h"

namespace hues::internal {

template <typename T>
void write_json(boost::json::value& out, const std::vector<T>& items) {
  auto& arr = out.emplace_array();
  arr.reserve(items.size());
  for (const auto& item : items) {
    boost::json::value v;
    write_json(v, item);
    arr.push_back(std::move(v));
  }
}

template <typename T>
void read_json(const boost::json::value& in, std::vector<T>& items, const std::string& path) {
  const auto* arr = in.if_array();
  if (!arr) throw FieldError(path, "expected an array");
  items.clear();
  items.reserve(arr->size());
  for (std::size_t i = 0; i < arr->size(); ++i) {
    T item{};
    read_json((*arr)[i], item, path + "[" + std::to_string(i) + "]");
    items.push_back(std::move(item));
  }
}

template <typename T>
SaxSink sax_sink(std::vector<T>& v) {
  static constexpr SaxOps ops = [] {
    SaxOps o;
    o.array_begin = [](void* t) {
      static_cast<std::vector<T>*>(t)->clear();
      return true;
    };
    o.element = [](void* t) { return sax_sink(static_cast<std::vector<T>*>(t)->emplace_back()); };
    return o;
  }();
  return {&ops, &v};
}

template <typename T>
SaxSink sax_sink(std::optional<T>& v) {
  static constexpr SaxOps ops = [] {
    SaxOps o;
    o.unwrap = [](void* t) { return sax_sink(static_cast<std::optional<T>*>(t)->emplace()); };
    return o;
  }();
  return {&ops, &v};
}

template <typename T, typename = void>
struct has_sax_sink : std::false_type {};
template <typename T>
struct has_sax_sink<T, std::void_t<decltype(sax_sink(std::declval<T&>()))>> : std::true_type {};

// The root sink of a document whose one member `name` is decoded into inner (the others are
// skipped); sax_decode fails when it is absent, as the document path's "is required" does.
struct SaxMember {
  std::string_view name;
  SaxSink inner;
};
SaxSink sax_sink(SaxMember& m);

// A member's path is only needed for an error: leaves that read fine skip building it. On
// false, nothing was stored and read_json (with the path) reports what is wrong.
inline bool try_read_leaf(const boost::json::value& in, std::string& v) {
  const auto* s = in.if_string();
  if (!s || !is_valid_utf8(*s)) return false;
  v.assign(s->data(), s->size());
  return true;
}
inline bool try_read_leaf(const boost::json::value& in, double& v) {
  double d;
  if (in.is_double()) d = in.get_double();
  else if (in.is_int64()) d = static_cast<double>(in.get_int64());
  else if (in.is_uint64()) d = static_cast<double>(in.get_uint64());
  else return false;
  if (!std::isfinite(d)) return false;
  v = d;
  return true;
}
inline bool try_read_leaf(const boost::json::value& in, bool& v) {
  if (!in.is_bool()) return false;
  v = in.get_bool();
  return true;
}
template <typename T>
bool try_read_leaf(const boost::json::value&, T&) {
  return false;  // everything else reads with its path
}

template <typename T>
void read_member(const boost::json::value& in, std::string_view key, T& v, const std::string& path) {
  if (!try_read_leaf(in, v)) read_json(in, v, join_path(path, key));
}

template <typename T>
void write_member(boost::json::object& obj, std::string_view key, const T& v) {
  boost::json::value fv;
  write_json(fv, v);
  obj.emplace(key, std::move(fv));
}

// Unknown members are ignored (forward compatibility); null counts as absent.
template <typename T>
void read_required(const boost::json::object& obj, std::string_view key, T& v, const std::string& path) {
  const auto* fv = obj.if_contains(key);
  if (!fv || fv->is_null()) throw FieldError(join_path(path, key), "is required");
  read_member(*fv, key, v, path);
}

template <typename T>
void read_present(const boost::json::object& obj, std::string_view key, T& v, const std::string& path) {
  if (const auto* fv = obj.if_contains(key); fv && !fv->is_null()) read_member(*fv, key, v, path);
}

template <typename T>
void read_optional(const boost::json::object& obj, std::string_view key, std::optional<T>& v,
                   const std::string& path) {
  if (const auto* fv = obj.if_contains(key); fv && !fv->is_null()) {
    T item{};
    read_member(*fv, key, item, path);
    v = std::move(item);
  } else {
    v.reset();
  }
}

template <typename T>
boost::json::value to_json(const T& model) {
  boost::json::value v;
  write_json(v, model);
  return v;
}

// JSON text of v: doubles in shortest round-trip form (always with a '.' or an exponent, so
// they read back as doubles), text as raw UTF-8 with only the escapes JSON requires.
std::string serialize_json(const boost::json::value& v);

template <typename T>
std::string to_json_string(const T& model) {
  return serialize_json(to_json(model));
}

template <typename T>
T from_json(const boost::json::value& v) {
  T model{};
  read_json(v, model, "");
  return model;
}

// Parses text as JSON with exact numbers; throws FieldError("", ...) when it is not JSON.
// Invalid UTF-8 inside strings is accepted here and refused by read_json and the
// validators, so the error can name the field.
boost::json::value parse_json(std::string_view text);
// The same, with the value's memory from sp (e.g. a monotonic_resource for a value only read).
boost::json::value parse_json(std::string_view text, boost::json::storage_ptr sp);

// Where a document that is only read (decoded into a model, then dropped) lives: a stack
// buffer, then the heap in large blocks, all released at once.
struct ScratchJson {
  unsigned char buffer[4096];
  boost::json::monotonic_resource resource{buffer, sizeof buffer};
};

// Streamed into the model when its type has a sink (sax_decode); through the document when
// that fails, so an error is the document path's, naming the field.
template <typename T>
T from_json_string(std::string_view text) {
  if constexpr (has_sax_sink<T>::value) {
    T model{};
    if (sax_decode(text, sax_sink(model))) return model;
  }
  ScratchJson scratch;
  return from_json<T>(parse_json(text, &scratch.resource));
}

// Streams the member `name` of a JSON object into out (decode_member, decode_items); false
// when that fails (the caller then reads the document, for its error).
template <typename T>
bool sax_decode_member(std::string_view text, const char* name, T& out) {
  if constexpr (has_sax_sink<T>::value) {
    SaxMember member{name, sax_sink(out)};
    return sax_decode(text, sax_sink(member));
  } else {
    return false;
  }
}

}  // namespace hues::internal
