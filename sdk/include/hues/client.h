// The Hue-S client. A Client is cheap to copy: copies share one connection pool and
// pipeline, and it is safe to use from many threads at once.
//
//   hues::ClientOptions opts;
//   opts.base_url = "https://api.hue-s.vn";
//   opts.api_key = std::getenv("HUES_API_KEY");
//   hues::Client client(opts);
//   for (const auto& c : client.reports().categories()) std::cout << c.name_vi << "\n";
#pragma once

#include "hues/export.h"

#include <memory>
#include <string>

#include "hues/error.h"
#include "hues/errors.h"  // generated: PreconditionFailedError and its current report
#include "hues/models.h"
#include "hues/options.h"
#include "hues/pager.h"
#include "hues/services.h"  // generated from docs/openapi.yaml: ReportsClient, AgenciesClient, ...

namespace hues {

// reports(), agencies() and me() come from ClientServices (generated).
class HUES_API Client : public ClientServices {
 public:
  // Throws ValidationError (field "base_url", "proxy", ...) for unusable options.
  explicit Client(ClientOptions options);

  const ClientOptions& options() const;

  // The SDK's version, e.g. "0.1.0".
  static const char* version() noexcept;

 private:
  friend class Upload;  // hues/upload.h: an upload sends through this client's pipeline
  friend class Outbox;  // delivers through the client's core (hues/outbox.h)
};

}  // namespace hues
