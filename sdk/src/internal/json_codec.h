// JSON <-> model codec, generated from the field lists in hues/models.h. Internal: shared by
// the SDK and the sandbox (the only thing besides the spec that they share).
#pragma once

#include <boost/json.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "hues/models.h"

namespace hues::internal {

// A JSON document did not fit the model; field is the dotted path ("location.lat").
class FieldError : public std::runtime_error {
 public:
  FieldError(std::string field, const std::string& message)
      : std::runtime_error(field.empty() ? message : field + ": " + message),
        field_(std::move(field)) {}
  const std::string& field() const noexcept { return field_; }

 private:
  std::string field_;
};

#define HUES_DECLARE_CODEC(Model, FIELDS)                \
  void write_json(boost::json::value& out, const Model& m); \
  void read_json(const boost::json::value& in, Model& m, const std::string& path);
HUES_FOR_EACH_MODEL(HUES_DECLARE_CODEC)
#undef HUES_DECLARE_CODEC

void write_json(boost::json::value& out, const std::string& v);
void write_json(boost::json::value& out, double v);
void write_json(boost::json::value& out, std::int64_t v);
void write_json(boost::json::value& out, bool v);
void read_json(const boost::json::value& in, std::string& v, const std::string& path);
void read_json(const boost::json::value& in, double& v, const std::string& path);
void read_json(const boost::json::value& in, std::int64_t& v, const std::string& path);
void read_json(const boost::json::value& in, bool& v, const std::string& path);

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
boost::json::value to_json(const T& model) {
  boost::json::value v;
  write_json(v, model);
  return v;
}

template <typename T>
std::string to_json_string(const T& model) {
  return boost::json::serialize(to_json(model));
}

template <typename T>
T from_json(const boost::json::value& v) {
  T model{};
  read_json(v, model, "");
  return model;
}

// Parses text as JSON; throws FieldError("", ...) when it is not JSON.
boost::json::value parse_json(std::string_view text);

template <typename T>
T from_json_string(std::string_view text) {
  return from_json<T>(parse_json(text));
}

}  // namespace hues::internal
