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

// What a caller sends to create a report. visibility: "public" (default when empty) or
// "private" (only the reporter, the assigned agency and the IOC see it).
#define HUES_NEW_REPORT_FIELDS(F)                  \
  F(std::string, category, "category")             \
  F(std::string, description, "description")       \
  F(Location, location, "location")                \
  F(bool, anonymous, "anonymous")                  \
  F(std::string, visibility, "visibility")         \
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
  F(std::string, visibility, "visibility")          \
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

// ---- Identity (OpenID Connect) ----

// A signed-in person's profile (/v1/me, userinfo). verification_level: 1 or 2, like the
// national e-ID app. role: citizen, ioc or agency.
#define HUES_CITIZEN_PROFILE_FIELDS(F)                   \
  F(std::string, sub, "sub")                             \
  F(std::string, name, "name")                           \
  F(std::string, phone_number, "phone_number")           \
  F(std::int64_t, verification_level, "verification_level") \
  F(std::string, role, "role")                           \
  F(std::string, agency_code, "agency_code")             \
  F(std::string, ward, "ward")
struct CitizenProfile {
  HUES_CITIZEN_PROFILE_FIELDS(HUES_DECLARE_FIELD)
};

// An OAuth 2.0 token endpoint response (RFC 6749 section 5.1).
#define HUES_TOKEN_RESPONSE_FIELDS(F)                    \
  F(std::string, access_token, "access_token")           \
  F(std::string, token_type, "token_type")               \
  F(std::int64_t, expires_in, "expires_in")              \
  F(std::string, refresh_token, "refresh_token")         \
  F(std::string, id_token, "id_token")                   \
  F(std::string, scope, "scope")
struct TokenResponse {
  HUES_TOKEN_RESPONSE_FIELDS(HUES_DECLARE_FIELD)
};

// Tokens as the SDK keeps them: expires_at is the access token's expiry in Unix seconds.
#define HUES_TOKEN_SET_FIELDS(F)                         \
  F(std::string, access_token, "access_token")           \
  F(std::string, refresh_token, "refresh_token")         \
  F(std::string, id_token, "id_token")                   \
  F(std::string, scope, "scope")                         \
  F(std::int64_t, expires_at, "expires_at")
struct TokenSet {
  HUES_TOKEN_SET_FIELDS(HUES_DECLARE_FIELD)
};

// An OAuth 2.0 error response (RFC 6749 section 5.2).
#define HUES_OAUTH_ERROR_FIELDS(F)                       \
  F(std::string, error, "error")                         \
  F(std::string, error_description, "error_description")
struct OAuthErrorBody {
  HUES_OAUTH_ERROR_FIELDS(HUES_DECLARE_FIELD)
};

// The device authorization response (RFC 8628 section 3.2).
#define HUES_DEVICE_AUTHORIZATION_FIELDS(F)                          \
  F(std::string, device_code, "device_code")                         \
  F(std::string, user_code, "user_code")                             \
  F(std::string, verification_uri, "verification_uri")               \
  F(std::string, verification_uri_complete, "verification_uri_complete") \
  F(std::int64_t, expires_in, "expires_in")                          \
  F(std::int64_t, interval, "interval")
struct DeviceAuthorization {
  HUES_DEVICE_AUTHORIZATION_FIELDS(HUES_DECLARE_FIELD)
};

// OpenID Provider metadata (OpenID Connect Discovery 1.0 section 3), the parts we use.
#define HUES_PROVIDER_METADATA_FIELDS(F)                                       \
  F(std::string, issuer, "issuer")                                             \
  F(std::string, authorization_endpoint, "authorization_endpoint")             \
  F(std::string, token_endpoint, "token_endpoint")                             \
  F(std::string, userinfo_endpoint, "userinfo_endpoint")                       \
  F(std::string, jwks_uri, "jwks_uri")                                         \
  F(std::string, revocation_endpoint, "revocation_endpoint")                   \
  F(std::string, device_authorization_endpoint, "device_authorization_endpoint") \
  F(std::vector<std::string>, id_token_signing_alg_values_supported,           \
    "id_token_signing_alg_values_supported")                                   \
  F(std::vector<std::string>, code_challenge_methods_supported, "code_challenge_methods_supported")
struct ProviderMetadata {
  HUES_PROVIDER_METADATA_FIELDS(HUES_DECLARE_FIELD)
};

// The claims of a validated ID token that apps use. aud holds the client id it was
// validated for.
#define HUES_ID_TOKEN_CLAIMS_FIELDS(F)                            \
  F(std::string, iss, "iss")                                      \
  F(std::string, sub, "sub")                                      \
  F(std::string, aud, "aud")                                      \
  F(std::string, azp, "azp")                                      \
  F(std::string, nonce, "nonce")                                  \
  F(std::string, name, "name")                                    \
  F(std::string, role, "role")                                    \
  F(std::int64_t, verification_level, "verification_level")       \
  F(std::int64_t, exp, "exp")                                     \
  F(std::int64_t, iat, "iat")                                     \
  F(std::int64_t, nbf, "nbf")                                     \
  F(std::int64_t, auth_time, "auth_time")
struct IdTokenClaims {
  HUES_ID_TOKEN_CLAIMS_FIELDS(HUES_DECLARE_FIELD)
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
  M(ErrorBody, HUES_ERROR_BODY_FIELDS)                       \
  M(CitizenProfile, HUES_CITIZEN_PROFILE_FIELDS)             \
  M(TokenResponse, HUES_TOKEN_RESPONSE_FIELDS)               \
  M(TokenSet, HUES_TOKEN_SET_FIELDS)                         \
  M(OAuthErrorBody, HUES_OAUTH_ERROR_FIELDS)                 \
  M(DeviceAuthorization, HUES_DEVICE_AUTHORIZATION_FIELDS)   \
  M(ProviderMetadata, HUES_PROVIDER_METADATA_FIELDS)         \
  M(IdTokenClaims, HUES_ID_TOKEN_CLAIMS_FIELDS)
