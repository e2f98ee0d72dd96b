// Citizen identity: OpenID Connect sign-in (code + PKCE, device flow), client credentials,
// ID-token validation, and credentials that refresh themselves.
//
//   auto oidc = std::make_shared<hues::OidcClient>(oidc_options);
//   auto device = oidc->start_device_authorization("openid profile reports:write");
//   std::cout << "Open " << device.verification_uri << " and enter " << device.user_code;
//   auto tokens = oidc->poll_device_token(device);
//   auto user = std::make_shared<hues::UserCredentials>(oidc, store, "citizen", tokens);
//   client_options.credentials = user;   // every call now carries a fresh Bearer token
#pragma once

#include "hues/export.h"

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hues/http.h"
#include "hues/models.h"
#include "hues/options.h"

namespace hues {

// The completion of an asynchronous identity operation (the `*_async` methods below). It runs
// exactly once: with a null error and the result, or with a hues::Error and a default value.
// It runs on an SDK I/O thread, or on the calling thread when the result is at hand (cached
// metadata, a bad argument): keep it short and make no blocking SDK call from it (that is
// refused). Cancelling the CallOptions' token completes the operation at once with
// CancelledError and aborts its own I/O; a fetch other calls share goes on for them.
template <typename T>
using Async = std::function<void(std::exception_ptr error, T result)>;
using AsyncVoid = std::function<void(std::exception_ptr error)>;

// Adds the credential to each attempt of a request. Implementations refresh by themselves
// and must be thread-safe.
class HUES_API CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  virtual void authorize(HttpRequest& request) = 0;
  // The server answered 401 to a request this provider authorized: drop the cached token.
  // Returns true when a retry with a new token may succeed (the SDK retries once).
  virtual bool on_unauthorized() { return false; }

  // The forms the SDK's pipeline calls. done runs exactly once (error null on success);
  // request must stay valid until then. The defaults run authorize / on_unauthorized on the
  // SDK's host executor, never on an I/O thread; the SDK's own providers complete without it.
  virtual void authorize_async(HttpRequest& request, std::function<void(std::exception_ptr)> done);
  virtual void on_unauthorized_async(std::function<void(bool retry)> done);
};

// A partner API key, sent as X-Api-Key.
HUES_API std::shared_ptr<CredentialsProvider> api_key_credentials(std::string api_key);

// Where an app keeps a user's tokens (Android keystore, Windows DPAPI, a file). Implement it
// in any language. Must be thread-safe.
class HUES_API TokenStore {
 public:
  virtual ~TokenStore() = default;
  // The saved tokens; an empty access_token and refresh_token mean "none saved".
  virtual TokenSet load(const std::string& key) = 0;
  virtual void save(const std::string& key, const TokenSet& tokens) = 0;
  virtual void remove(const std::string& key) = 0;
};

HUES_API std::shared_ptr<TokenStore> make_memory_token_store();
// One JSON file per key in directory, created with mode 0600.
HUES_API std::shared_ptr<TokenStore> make_file_token_store(const std::string& directory);

struct OidcOptions {
  std::string issuer;         // e.g. "https://id.hue-s.vn" or a sandbox's tls_url()
  std::string client_id;
  std::string client_secret;  // confidential clients only
  bool client_secret_post = false;  // send the secret in the form instead of Basic auth
  // Transport settings for calls to the provider (ca_file, proxy, timeouts, logger...);
  // base_url and credentials are ignored.
  ClientOptions http;
  std::vector<std::string> allowed_algorithms{"RS256", "ES256"};
  std::int64_t clock_skew_seconds = 60;
  std::int64_t refresh_margin_seconds = 60;  // refresh this long before expiry
  // How long fetched signing keys are trusted before the JWKS is fetched again, so a key
  // the provider retired stops validating tokens. An unknown kid refetches at once.
  std::int64_t jwks_cache_seconds = 300;
};

// What authorization_request() prepared: open url in a browser, keep the rest for
// exchange_code().
struct AuthorizationRequest {
  std::string url;
  std::string redirect_uri;
  std::string state;
  std::string nonce;
  std::string code_verifier;
};

// A one-shot HTTP listener on 127.0.0.1 for the redirect of a native app (RFC 8252 §7.3).
// It accepts on the SDK's I/O threads: waiting holds no thread.
class HUES_API LoopbackReceiver {
 public:
  LoopbackReceiver();  // listens on an ephemeral port at once
  ~LoopbackReceiver();  // stops listening; a wait still pending ends with CancelledError
  LoopbackReceiver(const LoopbackReceiver&) = delete;
  LoopbackReceiver& operator=(const LoopbackReceiver&) = delete;
  std::string redirect_uri() const;  // "http://127.0.0.1:PORT/callback"
  // Waits for the browser's redirect (a GET of /callback...; any other request is answered 404
  // and the wait goes on) and returns the full URL it requested; answers the browser with a
  // short page. Throws TimeoutError after timeout_ms. One wait at a time.
  std::string wait(std::int64_t timeout_ms);
  void wait_async(std::int64_t timeout_ms, Async<std::string> done, const CallOptions& options = {});

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared: a pending accept keeps it alive
};

class HUES_API OidcClient {
 public:
  // The credentials below refresh through the client's asynchronous internals.
  friend class ClientCredentials;
  friend class UserCredentials;

  explicit OidcClient(OidcOptions options);
  ~OidcClient();

  const OidcOptions& options() const;
  // Discovery document (fetched once, then cached). Its issuer must equal options' issuer.
  ProviderMetadata metadata();

  // Authorization code + PKCE S256 (RFC 7636), with fresh state and nonce.
  AuthorizationRequest authorization_request(const std::string& redirect_uri, const std::string& scope);
  // Checks the redirect (state, iss, error), exchanges the code and validates the ID token
  // (nonce included). Throws InvalidTokenError("state") on a state mismatch, OAuthError for
  // an error redirect or a refused exchange.
  TokenSet exchange_code(const AuthorizationRequest& request, const std::string& redirected_to);

  // Device authorization grant (RFC 8628).
  DeviceAuthorization start_device_authorization(const std::string& scope);
  // Polls at the server's interval (slowing down when told) until the user approves, denies
  // (OAuthError access_denied), the code expires (OAuthError expired_token) or options cancel.
  TokenSet poll_device_token(const DeviceAuthorization& device, const CallOptions& options = {});

  // Client credentials grant, for partner backends.
  TokenSet client_credentials(const std::string& scope = "");
  // Refresh grant; the returned set carries the rotated refresh token.
  TokenSet refresh(const std::string& refresh_token, const std::string& scope = "");
  // Token revocation (RFC 7009).
  void revoke(const std::string& token, const std::string& token_type_hint = "");
  // Checks signature (JWKS, refetched once on an unknown kid), alg allow-list, iss, aud, azp,
  // exp, nbf, iat (with clock skew) and nonce when given. Throws InvalidTokenError.
  IdTokenClaims validate_id_token(const std::string& id_token, const std::string& expected_nonce = "");
  CitizenProfile userinfo(const std::string& access_token);

  // The same operations, asynchronous (see Async above). The blocking forms above start these
  // and wait. poll_device_token_async waits out each interval on a timer, holding no thread.
  void metadata_async(Async<ProviderMetadata> done, const CallOptions& options = {});
  void authorization_request_async(const std::string& redirect_uri, const std::string& scope,
                                   Async<AuthorizationRequest> done, const CallOptions& options = {});
  void exchange_code_async(const AuthorizationRequest& request, const std::string& redirected_to,
                           Async<TokenSet> done, const CallOptions& options = {});
  void start_device_authorization_async(const std::string& scope, Async<DeviceAuthorization> done,
                                        const CallOptions& options = {});
  void poll_device_token_async(const DeviceAuthorization& device, Async<TokenSet> done,
                               const CallOptions& options = {});
  void client_credentials_async(const std::string& scope, Async<TokenSet> done, const CallOptions& options = {});
  void refresh_async(const std::string& refresh_token, const std::string& scope, Async<TokenSet> done,
                     const CallOptions& options = {});
  void revoke_async(const std::string& token, const std::string& token_type_hint, AsyncVoid done,
                    const CallOptions& options = {});
  void validate_id_token_async(const std::string& id_token, const std::string& expected_nonce,
                               Async<IdTokenClaims> done, const CallOptions& options = {});
  void userinfo_async(const std::string& access_token, Async<CitizenProfile> done, const CallOptions& options = {});

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared: in-flight fetches keep it alive
};

// Client credentials that fetch and refresh a token by themselves.
class HUES_API ClientCredentials final : public CredentialsProvider {
 public:
  ClientCredentials(std::shared_ptr<OidcClient> oidc, std::string scope = "");
  void authorize(HttpRequest& request) override;
  bool on_unauthorized() override;
  // One token fetch at a time, shared by every call that needs it; no lock across I/O.
  void authorize_async(HttpRequest& request, std::function<void(std::exception_ptr)> done) override;
  void on_unauthorized_async(std::function<void(bool retry)> done) override;
  std::string access_token();  // current, fetched or refreshed when needed
  void access_token_async(Async<std::string> done, const CallOptions& options = {});
  int fetch_count() const;     // tokens fetched so far

 private:
  void token_async(Async<std::string> done);
  struct State;
  std::shared_ptr<State> state_;
};

// A signed-in user's tokens: refreshed before expiry (one refresh at a time, however many
// threads call), saved to the store after every change; sign_out() revokes them.
class HUES_API UserCredentials final : public CredentialsProvider {
 public:
  // Starts from tokens (e.g. from exchange_code) and saves them; with empty tokens, loads
  // what the store holds under key.
  UserCredentials(std::shared_ptr<OidcClient> oidc, std::shared_ptr<TokenStore> store, std::string key,
                  TokenSet tokens = {});
  void authorize(HttpRequest& request) override;
  bool on_unauthorized() override;
  // A refresh is one shared in-flight operation that every waiting call joins; the store is
  // written afterwards on the host executor, outside any lock.
  void authorize_async(HttpRequest& request, std::function<void(std::exception_ptr)> done) override;
  void on_unauthorized_async(std::function<void(bool retry)> done) override;
  TokenSet tokens();        // current, refreshed when near expiry
  void tokens_async(Async<TokenSet> done, const CallOptions& options = {});
  int refresh_count() const;
  bool signed_in() const;
  // Revokes the refresh token (and with it the access tokens) and clears the store. The
  // store runs on the SDK's host executor, never on an I/O thread.
  void sign_out();
  void sign_out_async(AsyncVoid done, const CallOptions& options = {});

 private:
  void current_tokens_async(Async<TokenSet> done);
  struct State;
  static std::exception_ptr write_store(const std::shared_ptr<State>& state);
  std::shared_ptr<State> state_;
};

}  // namespace hues
