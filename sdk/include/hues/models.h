// Hue-S data models.
//
// Each model is described once, as a field list HUES_<MODEL>_FIELDS(F) of
// F(type, name, "json_name"). That one list declares the struct below and drives the JSON
// codec (sdk/src/models_json.cpp, shared with the sandbox), the Python binding
// (bindings/python) and the SWIG surface for Java and C# (SWIG expands the same macros).
// Absent optional text is the empty string; absent numbers are 0. Text is UTF-8 (NFC) and is
// carried byte for byte.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

// F(type, name, json_name) -> a struct member with a value-initialised default.
#define HUES_DECLARE_FIELD(type, name, json) type name{};

namespace hues {

// A choice of a list attribute (Open311 "values": key + name).
#define HUES_ATTRIBUTE_VALUE_FIELDS(F) \
  F(std::string, key, "key")           \
  F(std::string, name, "name")
struct AttributeValue {
  HUES_ATTRIBUTE_VALUE_FIELDS(HUES_DECLARE_FIELD)
};

// An extra question a category asks (Open311 service definition attribute).
// datatype is one of: string, number, datetime, text, singlevaluelist, multivaluelist.
#define HUES_CATEGORY_ATTRIBUTE_FIELDS(F)         \
  F(std::string, code, "code")                    \
  F(std::string, datatype, "datatype")            \
  F(bool, required, "required")                   \
  F(std::string, description, "description")      \
  F(std::int64_t, order, "order")                 \
  F(std::vector<AttributeValue>, values, "values")
struct CategoryAttribute {
  HUES_CATEGORY_ATTRIBUTE_FIELDS(HUES_DECLARE_FIELD)
};

// A report category (Open311 service): what citizens can report and who answers it.
#define HUES_CATEGORY_FIELDS(F)                           \
  F(std::string, code, "code")                            \
  F(std::string, name_vi, "name_vi")                      \
  F(std::string, name_en, "name_en")                      \
  F(std::string, group, "group")                          \
  F(std::string, description, "description")              \
  F(std::string, agency_code, "agency_code")              \
  F(std::string, agency_name, "agency_name")              \
  F(std::int64_t, sla_hours, "sla_hours")                 \
  F(std::vector<CategoryAttribute>, attributes, "attributes")
struct Category {
  HUES_CATEGORY_FIELDS(HUES_DECLARE_FIELD)
};

// A point in WGS84 with its street address and ward (phường).
#define HUES_LOCATION_FIELDS(F)        \
  F(double, lat, "lat")                \
  F(double, lon, "lon")                \
  F(std::string, address, "address")   \
  F(std::string, ward, "ward")
struct Location {
  HUES_LOCATION_FIELDS(HUES_DECLARE_FIELD)
};

// What a caller sends to create a report.
#define HUES_NEW_REPORT_FIELDS(F)                  \
  F(std::string, category, "category")             \
  F(std::string, description, "description")       \
  F(Location, location, "location")                \
  F(bool, anonymous, "anonymous")                  \
  F(std::vector<std::string>, media, "media")
struct NewReport {
  HUES_NEW_REPORT_FIELDS(HUES_DECLARE_FIELD)
};

// A citizen report (phản ánh hiện trường) as the server holds it.
// status: submitted, received, assigned, in_progress, responded, returned, resolved, rated,
// rejected, duplicate, transferred. Times are RFC 3339 in UTC.
#define HUES_REPORT_FIELDS(F)                       \
  F(std::string, id, "id")                          \
  F(std::string, category, "category")              \
  F(std::string, description, "description")        \
  F(Location, location, "location")                 \
  F(bool, anonymous, "anonymous")                   \
  F(std::string, status, "status")                  \
  F(std::string, agency_code, "agency_code")        \
  F(std::vector<std::string>, media, "media")       \
  F(std::string, created_at, "created_at")          \
  F(std::string, updated_at, "updated_at")
struct Report {
  HUES_REPORT_FIELDS(HUES_DECLARE_FIELD)
};

// Filters for listing reports. radius_m > 0 turns on the "near" filter around near_lat,
// near_lon. limit 0 means the server's default page size (20, at most 100).
#define HUES_REPORT_QUERY_FIELDS(F)            \
  F(std::string, status, "status")             \
  F(std::string, category, "category")         \
  F(double, near_lat, "near_lat")              \
  F(double, near_lon, "near_lon")              \
  F(double, radius_m, "radius_m")              \
  F(std::int64_t, limit, "limit")              \
  F(std::string, cursor, "cursor")
struct ReportQuery {
  HUES_REPORT_QUERY_FIELDS(HUES_DECLARE_FIELD)
};

// One page of a list. next_cursor is empty on the last page.
#define HUES_REPORT_PAGE_FIELDS(F)             \
  F(std::vector<Report>, items, "items")       \
  F(std::string, next_cursor, "next_cursor")
struct ReportPage {
  HUES_REPORT_PAGE_FIELDS(HUES_DECLARE_FIELD)
};

// The body of every error response: {"error": {code, message, request_id, field}}.
#define HUES_ERROR_BODY_FIELDS(F)              \
  F(std::string, code, "code")                 \
  F(std::string, message, "message")           \
  F(std::string, request_id, "request_id")     \
  F(std::string, field, "field")
struct ErrorBody {
  HUES_ERROR_BODY_FIELDS(HUES_DECLARE_FIELD)
};

}  // namespace hues

// Every model with its field list, for code that walks all of them (codec, bindings).
#define HUES_FOR_EACH_MODEL(M)                               \
  M(AttributeValue, HUES_ATTRIBUTE_VALUE_FIELDS)             \
  M(CategoryAttribute, HUES_CATEGORY_ATTRIBUTE_FIELDS)       \
  M(Category, HUES_CATEGORY_FIELDS)                          \
  M(Location, HUES_LOCATION_FIELDS)                          \
  M(NewReport, HUES_NEW_REPORT_FIELDS)                       \
  M(Report, HUES_REPORT_FIELDS)                              \
  M(ReportQuery, HUES_REPORT_QUERY_FIELDS)                   \
  M(ReportPage, HUES_REPORT_PAGE_FIELDS)                     \
  M(ErrorBody, HUES_ERROR_BODY_FIELDS)
