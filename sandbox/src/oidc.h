// The sandbox as an OpenID Connect provider (docs/identity-contract.md): discovery, JWKS,
// authorization code + PKCE with an HTML sign-in form, token endpoint (code, refresh,
// client credentials, device code), device authorization, revocation, userinfo and the
// key-rotation admin endpoints. State lives in SQLite; secrets only as SHA-256 digests.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api.h"
#include "hues/models.h"
#include "store.h"

namespace hues::sandbox {

// An error the API turns into its {"error": {...}} JSON (used by the admin endpoints).
struct ApiError {
  int status;
  std::string code, message;
  const char* allow = nullptr;  // the Allow header of a 405
};

class Oidc {
 public:
  explicit Oidc(const std::string& db_path);
  ~Oidc();
  Oidc(const Oidc&) = delete;
  Oidc& operator=(const Oidc&) = delete;

  // Answers req when its path is an identity endpoint; false otherwise. issuer is the
  // scheme://host:port the client connected to. Throws ApiError for admin failures.
  bool handle(const Request& req, Response& res, std::string_view path, const std::string& issuer);

  // The caller behind a live access token (not expired, not revoked), or nullopt.
  std::optional<Caller> caller_of(std::string_view access_token);
  std::optional<CitizenProfile> profile(std::string_view sub);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hues::sandbox
