#include <boost/url/encode.hpp>
#include <boost/url/rfc/pchars.hpp>
#include <boost/url/url.hpp>

#include <cmath>
#include <charconv>

#include "internal/client_core.h"

namespace hues {
namespace {

[[noreturn]] void invalid(const char* field, const std::string& message) {
  throw_error(ErrorType::kValidation, message, 0, "validation_error", {}, field);
}

// Checks what the server would refuse anyway, so bad input fails fast and names its field.
void validate(const NewReport& r) {
  if (r.category.empty()) invalid("category", "category is required");
  if (r.description.empty()) invalid("description", "description is required");
  if (!internal::is_valid_utf8(r.description)) invalid("description", "description is not valid UTF-8");
  if (!internal::is_valid_utf8(r.location.address)) invalid("location.address", "address is not valid UTF-8");
  if (!internal::is_valid_utf8(r.location.ward)) invalid("location.ward", "ward is not valid UTF-8");
  if (!std::isfinite(r.location.lat) || r.location.lat < -90 || r.location.lat > 90)
    invalid("location.lat", "location.lat must be between -90 and 90");
  if (!std::isfinite(r.location.lon) || r.location.lon < -180 || r.location.lon > 180)
    invalid("location.lon", "location.lon must be between -180 and 180");
}

// std::to_chars ignores the process locale: a JVM or .NET host with a comma decimal
// separator must still send "16.4726".
std::string number(double v) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

std::string list_path(const ReportQuery& q) {
  boost::urls::url url("/v1/reports");
  auto params = url.params();
  if (!q.status.empty()) params.append({"status", q.status});
  if (!q.category.empty()) params.append({"category", q.category});
  if (q.radius_m > 0) {
    params.append({"near_lat", number(q.near_lat)});
    params.append({"near_lon", number(q.near_lon)});
    params.append({"radius_m", number(q.radius_m)});
  }
  if (q.limit > 0) params.append({"limit", std::to_string(q.limit)});
  if (!q.cursor.empty()) params.append({"cursor", q.cursor});
  return std::string(url.buffer());
}

}  // namespace

std::vector<Category> ReportsClient::categories(const CallOptions& options) const {
  return internal::decode_items<Category>(core_->call("GET", "/v1/categories", {}, options));
}

Report ReportsClient::create(const NewReport& report, const CallOptions& options) const {
  validate(report);
  return internal::decode_body<Report>(
      core_->call("POST", "/v1/reports", internal::to_json_string(report), options));
}

Report ReportsClient::get(const std::string& id, const CallOptions& options) const {
  if (id.empty()) invalid("id", "id is required");
  std::string path = "/v1/reports/" + boost::urls::encode(id, boost::urls::pchars);
  return internal::decode_body<Report>(core_->call("GET", path, {}, options));
}

ReportPage ReportsClient::list_page(const ReportQuery& query, const CallOptions& options) const {
  if (query.limit < 0 || query.limit > 100) invalid("limit", "limit must be between 1 and 100");
  if (query.radius_m < 0 || !std::isfinite(query.radius_m)) invalid("radius_m", "radius_m must be >= 0");
  return internal::decode_body<ReportPage>(core_->call("GET", list_path(query), {}, options));
}

ReportPager ReportsClient::list(const ReportQuery& query, const CallOptions& options) const {
  ReportsClient self = *this;
  return ReportPager([self, query, options](const std::string& cursor) {
    ReportQuery q = query;
    if (!cursor.empty()) q.cursor = cursor;
    return self.list_page(q, options);
  });
}

// The async forms complete a promise from the client's send_async: no thread per call.
std::future<Report> ReportsClient::create_async(const NewReport& report, const CallOptions& options) const {
  return core_->call_async<Report>([&] {
    validate(report);
    return internal::ClientCore::Prepared{"POST", "/v1/reports", internal::to_json_string(report)};
  }, options, internal::decode_body<Report>);
}

std::future<Report> ReportsClient::get_async(const std::string& id, const CallOptions& options) const {
  return core_->call_async<Report>([&] {
    if (id.empty()) invalid("id", "id is required");
    return internal::ClientCore::Prepared{"GET", "/v1/reports/" + boost::urls::encode(id, boost::urls::pchars), {}};
  }, options, internal::decode_body<Report>);
}

std::future<ReportPage> ReportsClient::list_page_async(const ReportQuery& query, const CallOptions& options) const {
  return core_->call_async<ReportPage>([&] {
    if (query.limit < 0 || query.limit > 100) invalid("limit", "limit must be between 1 and 100");
    if (query.radius_m < 0 || !std::isfinite(query.radius_m)) invalid("radius_m", "radius_m must be >= 0");
    return internal::ClientCore::Prepared{"GET", list_path(query), {}};
  }, options, internal::decode_body<ReportPage>);
}

}  // namespace hues
