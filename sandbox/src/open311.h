// The Open311 GeoReport v2 facade under /open311/v2/ (docs/openapi.yaml, tag Open311): the
// service list and definitions from our categories, service requests from our reports, in
// XML and JSON, with GeoReport's own errors. Existing Open311 clients use it as they are.
#pragma once

#include <boost/url/url_view.hpp>

#include "api.h"

namespace hues::sandbox {

class Store;

// The one jurisdiction this endpoint serves; jurisdiction_id is optional, any other is 404.
inline constexpr const char* kOpen311Jurisdiction = "hue.gov.vn";

class Open311 {
 public:
  explicit Open311(Store& store) : store_(store) {}

  // Fills res and returns true for a path under /open311/v2/; false for any other path.
  // Never throws: every failure is a GeoReport error in the requested format.
  bool handle(const Request& req, Response& res, const boost::urls::url_view& url);

 private:
  Store& store_;
};

}  // namespace hues::sandbox
