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
#include "throttle.h"

namespace hues::sandbox {

// An error the API turns into its {"error": {...}} JSON (used by the admin endpoints).
struct ApiError {
  int status;
  std::string code, message;
  const char* allow = nullptr;  // the Allow header of a 405
  std::string field = {};       // the offending field, for the error's `field`
};

class Oidc {
 public:
  Oidc(const std::string& db_path, const SignInLimits& limits);
  ~Oidc();
  Oidc(const Oidc&) = delete;
  Oidc& operator=(const Oidc&) = delete;

  // Answers req when its path is an identity endpoint; false otherwise. issuer is the
  // scheme://host:port of the listener the client connected to (each is its own issuer: codes,
  // forms, tokens and device grants are valid only at the one that issued them); client is
  // the client's address, for the sign-in limits. Throws ApiError for admin failures.
  bool handle(const Request& req, Response& res, std::string_view path, const std::string& issuer,
              const std::string& client);

  // The caller behind a live access token (not expired, not revoked) issued by issuer, or nullopt.
  std::optional<Caller> caller_of(std::string_view access_token, const std::string& issuer);

  // Drops expired sign-in limit entries, authorization codes and device grants (the server
  // calls it on a timer).
  void purge_expired();
  std::optional<CitizenProfile> profile(std::string_view sub);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hues::sandbox
