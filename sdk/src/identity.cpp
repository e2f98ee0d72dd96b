// OpenID Connect client flows, token stores and self-refreshing credentials.
#include "hues/identity.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <utility>
#include <sstream>

#include "internal/client_core.h"
#include "internal/crypto.h"
#include "internal/jwt.h"
#include "internal/once.h"
#include "internal/record_store.h"
#include "internal/runtime.h"

namespace hues {
namespace {

using internal::Clock;
using Form = std::vector<std::pair<std::string, std::string>>;

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::string url_encode(const std::string& s) { return boost::urls::encode(s, boost::urls::unreserved_chars); }

std::string form_encode(const Form& form) {
  std::string out;
  for (const auto& [k, v] : form) {
    if (v.empty()) continue;
    if (!out.empty()) out += '&';
    out += url_encode(k) + "=" + url_encode(v);
  }
  return out;
}

[[noreturn]] void invalid_token(const std::string& check, const std::string& message) {
  throw_error(ErrorType::kInvalidToken, message, 0, check);
}

class ApiKeyCredentials final : public CredentialsProvider {
 public:
  explicit ApiKeyCredentials(std::string key) : key_(std::move(key)) {}
  void authorize(HttpRequest& request) override { request.set_header("X-Api-Key", key_); }
  // Nothing to wait for: completes inline, on the calling (I/O) thread.
  void authorize_async(HttpRequest& request, std::function<void(std::exception_ptr)> done) override {
    request.set_header("X-Api-Key", key_);
    done(nullptr);
  }
  void on_unauthorized_async(std::function<void(bool)> done) override { done(false); }

 private:
  std::string key_;
};

using MemoryTokenStore = internal::MemoryRecordStore<TokenStore, TokenSet>;
using FileTokenStore = internal::FileRecordStore<TokenStore, TokenSet>;

}  // namespace

// Providers written by the host may block (files, keychains, their own network calls): run
// them on the host executor, never on an I/O thread.
void CredentialsProvider::authorize_async(HttpRequest& request, std::function<void(std::exception_ptr)> done) {
  auto shared_done = std::make_shared<std::function<void(std::exception_ptr)>>(std::move(done));
  bool posted = internal::Runtime::global()->host().post([this, &request, shared_done] {
    std::exception_ptr error;
    try {
      authorize(request);
    } catch (...) {
      error = std::current_exception();
    }
    (*shared_done)(error);
  });
  if (!posted)
    (*shared_done)(internal::make_error(ErrorType::kResourceExhausted, "the host executor is full or stopped",
                                        "queue_full", true));
}

void CredentialsProvider::on_unauthorized_async(std::function<void(bool)> done) {
  auto shared_done = std::make_shared<std::function<void(bool)>>(std::move(done));
  bool posted = internal::Runtime::global()->host().post([this, shared_done] {
    bool retry = false;
    try {
      retry = on_unauthorized();
    } catch (...) {
    }
    (*shared_done)(retry);
  });
  if (!posted) (*shared_done)(false);
}

std::shared_ptr<CredentialsProvider> api_key_credentials(std::string api_key) {
  return std::make_shared<ApiKeyCredentials>(std::move(api_key));
}
std::shared_ptr<TokenStore> make_memory_token_store() { return std::make_shared<MemoryTokenStore>(); }
std::shared_ptr<TokenStore> make_file_token_store(const std::string& directory) {
  return std::make_shared<FileTokenStore>(directory, "tokens-",
                                          internal::RecordStoreErrors{ErrorType::kTokenStore, "token_store_failed", "token file"});
}

// ---- OidcClient ----

// Discovery and the JWKS are fetched without holding a lock across the network: concurrent
// callers join the one fetch in flight, and its completion serves them all. Every operation is
// a chain of continuations on the I/O threads; the blocking methods start one and wait.
struct OidcClient::Impl : std::enable_shared_from_this<OidcClient::Impl> {
  using MetadataPtr = std::shared_ptr<const ProviderMetadata>;
  using JwksPtr = std::shared_ptr<const internal::Jwks>;
  using ResponseCb = std::function<void(std::exception_ptr, HttpResponse)>;

  OidcOptions options;
  std::unique_ptr<internal::ClientCore> core;
  std::mutex mu;  // guards the caches below; never held across I/O or a callback
  MetadataPtr metadata;
  std::vector<std::function<void(std::exception_ptr, MetadataPtr)>> metadata_waiters;
  bool metadata_fetching = false;
  JwksPtr jwks;
  Clock::time_point jwks_fetched{};
  std::vector<std::function<void(std::exception_ptr, JwksPtr)>> jwks_waiters;
  bool jwks_fetching = false;

  explicit Impl(OidcOptions o) : options(std::move(o)) {
    if (options.issuer.empty())
      throw_error(ErrorType::kValidation, "issuer is required", 0, "invalid_option", {}, "issuer");
    if (options.client_id.empty())
      throw_error(ErrorType::kValidation, "client_id is required", 0, "invalid_option", {}, "client_id");
    ClientOptions http = options.http;
    http.base_url = options.issuer;
    http.api_key.clear();
    http.credentials.reset();  // the provider's endpoints take client authentication instead
    core = std::make_unique<internal::ClientCore>(std::move(http));
  }

  bool confidential() const { return !options.client_secret.empty(); }

  template <typename T>
  std::shared_ptr<internal::Once<T>> once(Async<T> done, const CallOptions& call) {
    return internal::Once<T>::make(core->runtime(), std::move(done), call);
  }

  static HttpRequest get_request(const std::string& url, const std::string& bearer) {
    HttpRequest req;
    req.method = "GET";
    req.url = url;
    req.headers.emplace_back("Accept", "application/json");
    if (!bearer.empty()) req.headers.emplace_back("Authorization", "Bearer " + bearer);
    req.set_header("X-Request-Id", internal::new_request_id());
    return req;
  }

  // A 2xx response or the matching error, on an I/O thread.
  void get_async(const std::string& url, const std::string& bearer, const CallOptions& call, ResponseCb done) {
    HttpRequest req = get_request(url, bearer);
    std::string request_id = req.header("X-Request-Id");
    core->send_async(std::move(req), call, [done, request_id](std::exception_ptr error, HttpResponse res) {
      if (!error && (res.status < 200 || res.status > 299)) {
        try {
          internal::raise_for_status(res, request_id);
        } catch (...) {
          error = std::current_exception();
        }
      }
      done(error, std::move(res));
    });
  }

  // A form POST to an endpoint with the client's authentication (RFC 6749 §2.3.1).
  HttpRequest form_request(const std::string& url, Form form) const {
    HttpRequest req;
    req.method = "POST";
    req.url = url;
    req.headers.emplace_back("Accept", "application/json");
    req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    if (confidential() && !options.client_secret_post) {
      std::string basic = url_encode(options.client_id) + ":" + url_encode(options.client_secret);
      req.headers.emplace_back("Authorization", "Basic " + internal::base64_encode(basic));
    } else {
      form.emplace_back("client_id", options.client_id);
      if (confidential()) form.emplace_back("client_secret", options.client_secret);
    }
    req.body = form_encode(form);
    return req;
  }

  // The response whatever its status (OAuth errors have their own shape), on an I/O thread.
  void post_form_async(const std::string& url, Form form, const CallOptions& call, ResponseCb done) {
    HttpRequest req;
    try {
      req = form_request(url, std::move(form));
    } catch (...) {
      return done(std::current_exception(), {});
    }
    core->send_async(std::move(req), call, std::move(done));
  }

  [[noreturn]] static void raise_oauth(const HttpResponse& res) {
    OAuthErrorBody body;
    try {
      body = internal::from_json_string<OAuthErrorBody>(res.body);
    } catch (const internal::FieldError&) {
    }
    if (body.error.empty()) internal::raise_for_status(res, {});
    throw_error(ErrorType::kOAuth, body.error_description.empty() ? body.error : body.error_description,
                res.status, body.error, res.header("X-Request-Id"), {}, body.error == "slow_down");
  }

  static TokenSet parse_tokens(const HttpResponse& res) {
    if (res.status < 200 || res.status > 299) raise_oauth(res);
    auto tr = internal::decode_body<TokenResponse>(res);
    if (tr.access_token.empty())
      throw_error(ErrorType::kProtocol, "token response without access_token", res.status, "malformed_response");
    TokenSet ts;
    ts.access_token = tr.access_token;
    ts.refresh_token = tr.refresh_token;
    ts.id_token = tr.id_token;
    ts.scope = tr.scope;
    ts.expires_at = tr.expires_in > 0 ? unix_now() + tr.expires_in : 0;
    return ts;
  }

  // Token requests that are not idempotent (a code, a rotating refresh token) get one
  // attempt only: a blind retry could burn the code or trip refresh-token reuse detection.
  void token_request_async(Form form, bool idempotent, CallOptions call,
                           std::function<void(std::exception_ptr, TokenSet)> done) {
    if (!idempotent) call.max_attempts = 1;
    auto self = shared_from_this();
    provider_async([self, form = std::move(form), call, done](std::exception_ptr error, MetadataPtr md) {
      if (error) return done(error, {});
      self->post_form_async(md->token_endpoint, form, call, [done](std::exception_ptr err, HttpResponse res) {
        TokenSet tokens;
        if (!err) {
          try {
            tokens = parse_tokens(res);
          } catch (...) {
            err = std::current_exception();
          }
        }
        done(err, std::move(tokens));
      });
    });
  }

  void provider_async(std::function<void(std::exception_ptr, MetadataPtr)> done) {
    {
      std::unique_lock<std::mutex> lock(mu);
      if (metadata) {
        auto md = metadata;
        lock.unlock();
        return done(nullptr, md);
      }
      metadata_waiters.push_back(std::move(done));
      if (metadata_fetching) return;  // joins the fetch in flight
      metadata_fetching = true;
    }
    std::string base = options.issuer;
    while (!base.empty() && base.back() == '/') base.pop_back();
    auto self = shared_from_this();
    // Shared by every waiter, so no caller's cancel rides on it (each waiter's Once ends its
    // own wait); it ends by its deadline.
    get_async(base + "/.well-known/openid-configuration", {}, {}, [self](std::exception_ptr error, HttpResponse res) {
      MetadataPtr md;
      if (!error) {
        try {
          auto doc = internal::decode_body<ProviderMetadata>(res);
          // OpenID Connect Discovery §4.3: the issuer in the document must be the one we asked.
          if (doc.issuer != self->options.issuer)
            invalid_token("iss", "discovery issuer " + doc.issuer + " differs from " + self->options.issuer);
          md = std::make_shared<const ProviderMetadata>(std::move(doc));
        } catch (...) {
          error = std::current_exception();
        }
      }
      std::vector<std::function<void(std::exception_ptr, MetadataPtr)>> waiters;
      {
        std::lock_guard<std::mutex> lock(self->mu);
        if (md) self->metadata = md;
        waiters.swap(self->metadata_waiters);
        self->metadata_fetching = false;
      }
      for (auto& w : waiters) w(error, md);
    });
  }

  struct DevicePoll;

  void keys_async(bool refetch, std::function<void(std::exception_ptr, JwksPtr)> done) {
    auto self = shared_from_this();
    provider_async([self, refetch, done](std::exception_ptr error, MetadataPtr md) {
      if (error) return done(error, nullptr);
      {
        std::unique_lock<std::mutex> lock(self->mu);
        bool expired = Clock::now() - self->jwks_fetched >= std::chrono::seconds(self->options.jwks_cache_seconds);
        if (self->jwks && !refetch && !expired) {
          auto keys = self->jwks;
          lock.unlock();
          return done(nullptr, keys);
        }
        self->jwks_waiters.push_back(done);
        if (self->jwks_fetching) return;  // joins the fetch in flight
        self->jwks_fetching = true;
      }
      self->get_async(md->jwks_uri, {}, {}, [self](std::exception_ptr err, HttpResponse res) {
        JwksPtr keys;
        if (!err) {
          try {
            keys = std::make_shared<const internal::Jwks>(internal::parse_json(res.body));
          } catch (const internal::FieldError& e) {
            err = internal::make_error(ErrorType::kProtocol, std::string("bad JWKS: ") + e.what(), "malformed_response",
                                       false, res.status);
          } catch (...) {
            err = std::current_exception();
          }
        }
        std::vector<std::function<void(std::exception_ptr, JwksPtr)>> waiters;
        {
          std::lock_guard<std::mutex> lock(self->mu);
          if (keys) {
            self->jwks = keys;
            self->jwks_fetched = Clock::now();
          }
          waiters.swap(self->jwks_waiters);
          self->jwks_fetching = false;
        }
        for (auto& w : waiters) w(err, keys);
      });
    });
  }

  // Signature, algorithm, iss, aud, exp... against the cached keys; an unknown kid refetches the
  // JWKS once (keys rotate), then gives up.
  void validate_async(const std::string& id_token, const std::string& expected_nonce, Async<IdTokenClaims> done) {
    auto impl = shared_from_this();
    auto jwt = std::make_shared<internal::DecodedJwt>();
    try {
      *jwt = internal::decode_jwt(id_token);
    } catch (...) {
      return done(std::current_exception(), {});
    }
    impl->provider_async([impl, jwt, expected_nonce, done](std::exception_ptr error, MetadataPtr md) {
      if (error) return done(error, {});
      internal::JwtExpectations expect;
      expect.issuer = md->issuer;
      expect.audience = impl->options.client_id;
      expect.nonce = expected_nonce;
      expect.allowed_algorithms = impl->options.allowed_algorithms;
      expect.clock_skew_seconds = impl->options.clock_skew_seconds;
      impl->keys_async(false, [impl, jwt, expect, done](std::exception_ptr err, JwksPtr keys) {
        if (err) return done(err, {});
        try {
          return done(nullptr, internal::validate_id_token(*jwt, *keys, expect));
        } catch (const InvalidTokenError& e) {
          if (e.code() != "kid") return done(std::current_exception(), {});
        } catch (...) {
          return done(std::current_exception(), {});
        }
        impl->keys_async(true, [jwt, expect, done](std::exception_ptr err2, JwksPtr fresh) {
          if (err2) return done(err2, {});
          IdTokenClaims claims;
          try {
            claims = internal::validate_id_token(*jwt, *fresh, expect);
          } catch (...) {
            return done(std::current_exception(), {});
          }
          done(nullptr, std::move(claims));
        });
      });
    });
  }
};

// Device-flow polling (RFC 8628 §3.4-3.5): one token request per interval, the interval waited
// out on a runtime timer. authorization_pending polls again, slow_down adds 5 s, anything else
// ends the poll; the code's expiry ends it with expired_token, a cancel at once.
struct OidcClient::Impl::DevicePoll : std::enable_shared_from_this<OidcClient::Impl::DevicePoll> {
  std::shared_ptr<OidcClient::Impl> impl;
  std::string device_code;
  CallOptions call;
  std::shared_ptr<internal::Once<TokenSet>> once;
  std::chrono::seconds interval{5};
  Clock::time_point expires;
  std::mutex mu;
  bool stopped = false;  // under mu
  std::shared_ptr<internal::Timer> timer;  // under mu

  void start() {
    auto self = shared_from_this();
    once->on_finish([self] { self->stop(); });
    next();
  }

  void stop() {
    std::shared_ptr<internal::Timer> t;
    {
      std::lock_guard<std::mutex> lock(mu);
      stopped = true;
      t = std::move(timer);
    }
    if (t) t->cancel();
  }

  // Waits one interval, or until the code expires if that comes first.
  void next() {
    auto self = shared_from_this();
    auto when = std::min(Clock::now() + interval, expires);
    auto t = impl->core->runtime()->schedule(when, [self](bool fired) { self->poll(fired); });
    std::unique_lock<std::mutex> lock(mu);
    if (!stopped) {
      timer = std::move(t);
      return;
    }
    lock.unlock();
    t->cancel();
  }

  void poll(bool fired) {
    if (once->finished()) return;
    if (!fired) return once->fail(internal::make_error(ErrorType::kCancelled, "the SDK is shutting down", "cancelled"));
    if (Clock::now() >= expires)
      return once->fail(internal::make_error(ErrorType::kOAuth, "the device code expired before the user approved",
                                             "expired_token"));
    auto self = shared_from_this();
    impl->token_request_async({{"grant_type", "urn:ietf:params:oauth:grant-type:device_code"},
                               {"device_code", device_code}},
                              false, call, [self](std::exception_ptr error, TokenSet tokens) {
                                if (!error) return (*self->once)(nullptr, std::move(tokens));
                                try {
                                  std::rethrow_exception(error);
                                } catch (const OAuthError& e) {
                                  if (e.code() == "slow_down") {
                                    self->interval += std::chrono::seconds(5);  // RFC 8628 §3.5
                                    return self->next();
                                  }
                                  if (e.code() == "authorization_pending") return self->next();
                                } catch (...) {
                                }
                                self->once->fail(error);
                              });
  }
};

OidcClient::OidcClient(OidcOptions options) : impl_(std::make_shared<Impl>(std::move(options))) {}
OidcClient::~OidcClient() = default;

const OidcOptions& OidcClient::options() const { return impl_->options; }

void OidcClient::metadata_async(Async<ProviderMetadata> done, const CallOptions& options) {
  auto once = impl_->once(std::move(done), options);
  impl_->provider_async([once](std::exception_ptr error, Impl::MetadataPtr md) {
    if (error) return once->fail(error);
    (*once)(nullptr, *md);
  });
}

void OidcClient::authorization_request_async(const std::string& redirect_uri, const std::string& scope,
                                             Async<AuthorizationRequest> done, const CallOptions& options) {
  auto once = impl_->once(std::move(done), options);
  if (redirect_uri.empty()) {
    try {
      throw_error(ErrorType::kValidation, "redirect_uri is required", 0, "invalid_option", {}, "redirect_uri");
    } catch (...) {
      return once->fail(std::current_exception());
    }
  }
  auto impl = impl_;
  impl_->provider_async([once, impl, redirect_uri, scope](std::exception_ptr error, Impl::MetadataPtr md) {
    if (error) return once->fail(error);
    AuthorizationRequest r;
    r.redirect_uri = redirect_uri;
    r.state = internal::random_urlsafe(16);
    r.nonce = internal::random_urlsafe(16);
    r.code_verifier = internal::random_urlsafe(32);  // 43 characters, RFC 7636 §4.1
    const std::string& endpoint = md->authorization_endpoint;
    r.url = endpoint + (endpoint.find('?') == std::string::npos ? "?" : "&") +
            form_encode({{"response_type", "code"},
                         {"client_id", impl->options.client_id},
                         {"redirect_uri", redirect_uri},
                         {"scope", scope.empty() ? "openid" : scope},
                         {"state", r.state},
                         {"nonce", r.nonce},
                         {"code_challenge", internal::pkce_challenge(r.code_verifier)},
                         {"code_challenge_method", "S256"}});
    (*once)(nullptr, std::move(r));
  });
}

void OidcClient::exchange_code_async(const AuthorizationRequest& request, const std::string& redirected_to,
                                     Async<TokenSet> done, const CallOptions& options) {
  auto once = impl_->once(std::move(done), options);
  auto params = std::make_shared<std::map<std::string, std::string>>();
  try {
    auto url = boost::urls::parse_uri_reference(redirected_to);
    if (!url) invalid_token("malformed", "the redirect URL cannot be parsed");
    for (auto p : url->params()) (*params)[std::string(p.key)] = std::string(p.value);
    // State first: an unsolicited redirect must not even reveal its error (CSRF).
    if (!internal::constant_time_equals((*params)["state"], request.state))
      invalid_token("state", "the redirect's state does not match the request's (possible CSRF)");
  } catch (...) {
    return once->fail(std::current_exception());
  }
  auto impl = impl_;
  // After the issuer check (RFC 9207), when the redirect names one.
  auto rest = [once, impl, params, request, options](const std::string& issuer) {
    auto& p = *params;
    try {
      if (p.count("iss") && p["iss"] != issuer)
        invalid_token("iss", "the redirect comes from another issuer (RFC 9207 mix-up defence)");
      if (p.count("error"))
        throw_error(ErrorType::kOAuth, p["error_description"].empty() ? p["error"] : p["error_description"], 0,
                    p["error"]);
      if (p["code"].empty()) invalid_token("malformed", "the redirect carries no code");
    } catch (...) {
      return once->fail(std::current_exception());
    }
    impl->token_request_async({{"grant_type", "authorization_code"},
                               {"code", p["code"]},
                               {"redirect_uri", request.redirect_uri},
                               {"code_verifier", request.code_verifier}},
                              false, options, [once, impl, request, options](std::exception_ptr error, TokenSet tokens) {
                                if (error) return once->fail(error);
                                if (tokens.id_token.empty()) return (*once)(nullptr, std::move(tokens));
                                impl->validate_async(tokens.id_token, request.nonce,
                                                     [once, tokens](std::exception_ptr err, IdTokenClaims) {
                                                       if (err) return once->fail(err);
                                                       (*once)(nullptr, tokens);
                                                     });
                              });
  };
  if (!params->count("iss")) return rest({});
  impl_->provider_async([once, rest](std::exception_ptr error, Impl::MetadataPtr md) {
    if (error) return once->fail(error);
    rest(md->issuer);
  });
}

void OidcClient::start_device_authorization_async(const std::string& scope, Async<DeviceAuthorization> done,
                                                  const CallOptions& options) {
  auto once = impl_->once(std::move(done), options);
  auto impl = impl_;
  impl_->provider_async([once, impl, scope, options](std::exception_ptr error, Impl::MetadataPtr md) {
    if (error) return once->fail(error);
    if (md->device_authorization_endpoint.empty())
      return once->fail(internal::make_error(ErrorType::kValidation, "the provider has no device authorization endpoint",
                                             "unsupported"));
    impl->post_form_async(md->device_authorization_endpoint, {{"scope", scope}}, options,
                          [once](std::exception_ptr err, HttpResponse res) {
                            if (err) return once->fail(err);
                            DeviceAuthorization d;
                            try {
                              if (res.status < 200 || res.status > 299) Impl::raise_oauth(res);
                              d = internal::decode_body<DeviceAuthorization>(res);
                              if (d.device_code.empty() || d.user_code.empty() || d.verification_uri.empty())
                                throw_error(ErrorType::kProtocol, "incomplete device authorization response",
                                            res.status, "malformed_response");
                            } catch (...) {
                              return once->fail(std::current_exception());
                            }
                            if (d.interval <= 0) d.interval = 5;  // RFC 8628 §3.2 default
                            (*once)(nullptr, std::move(d));
                          });
  });
}

void OidcClient::poll_device_token_async(const DeviceAuthorization& device, Async<TokenSet> done,
                                         const CallOptions& options) {
  auto poll = std::make_shared<Impl::DevicePoll>();
  poll->impl = impl_;
  poll->device_code = device.device_code;
  poll->call = options;
  poll->once = impl_->once(std::move(done), options);
  poll->interval = std::chrono::seconds(std::max<std::int64_t>(1, device.interval));
  poll->expires = Clock::now() + std::chrono::seconds(device.expires_in > 0 ? device.expires_in : 600);
  poll->start();
}

void OidcClient::client_credentials_async(const std::string& scope, Async<TokenSet> done, const CallOptions& options) {
  auto once = impl_->once(std::move(done), options);
  impl_->token_request_async({{"grant_type", "client_credentials"}, {"scope", scope}}, true, options, once->forward());
}

void OidcClient::refresh_async(const std::string& refresh_token, const std::string& scope, Async<TokenSet> done,
                               const CallOptions& options) {
  auto once = impl_->once(std::move(done), options);
  impl_->token_request_async({{"grant_type", "refresh_token"}, {"refresh_token", refresh_token}, {"scope", scope}},
                             false, options, once->forward());
}

void OidcClient::revoke_async(const std::string& token, const std::string& token_type_hint, AsyncVoid done,
                              const CallOptions& options) {
  auto once = impl_->once<internal::Unit>([done](std::exception_ptr e, internal::Unit) { done(e); }, options);
  auto impl = impl_;
  impl_->provider_async([once, impl, token, token_type_hint, options](std::exception_ptr error, Impl::MetadataPtr md) {
    if (error) return once->fail(error);
    impl->post_form_async(md->revocation_endpoint, {{"token", token}, {"token_type_hint", token_type_hint}}, options,
                          [once](std::exception_ptr err, HttpResponse res) {
                            if (!err && (res.status < 200 || res.status > 299)) {
                              try {
                                Impl::raise_oauth(res);
                              } catch (...) {
                                err = std::current_exception();
                              }
                            }
                            (*once)(err, {});
                          });
  });
}

void OidcClient::validate_id_token_async(const std::string& id_token, const std::string& expected_nonce,
                                         Async<IdTokenClaims> done, const CallOptions& options) {
  auto once = impl_->once(std::move(done), options);
  impl_->validate_async(id_token, expected_nonce, once->forward());
}

void OidcClient::userinfo_async(const std::string& access_token, Async<CitizenProfile> done,
                                const CallOptions& options) {
  auto once = impl_->once(std::move(done), options);
  auto impl = impl_;
  impl_->provider_async([once, impl, access_token, options](std::exception_ptr error, Impl::MetadataPtr md) {
    if (error) return once->fail(error);
    impl->get_async(md->userinfo_endpoint, access_token, options, [once](std::exception_ptr err, HttpResponse res) {
      if (err) return once->fail(err);
      CitizenProfile profile;
      try {
        profile = internal::decode_body<CitizenProfile>(res);
      } catch (...) {
        return once->fail(std::current_exception());
      }
      (*once)(nullptr, std::move(profile));
    });
  });
}

// The blocking forms: start-then-wait on the asynchronous ones.
ProviderMetadata OidcClient::metadata() {
  return internal::wait_for<ProviderMetadata>([&](auto done) { metadata_async(done); });
}

AuthorizationRequest OidcClient::authorization_request(const std::string& redirect_uri, const std::string& scope) {
  return internal::wait_for<AuthorizationRequest>(
      [&](auto done) { authorization_request_async(redirect_uri, scope, done); });
}

TokenSet OidcClient::exchange_code(const AuthorizationRequest& request, const std::string& redirected_to) {
  return internal::wait_for<TokenSet>([&](auto done) { exchange_code_async(request, redirected_to, done); });
}

DeviceAuthorization OidcClient::start_device_authorization(const std::string& scope) {
  return internal::wait_for<DeviceAuthorization>([&](auto done) { start_device_authorization_async(scope, done); });
}

TokenSet OidcClient::poll_device_token(const DeviceAuthorization& device, const CallOptions& options) {
  return internal::wait_for<TokenSet>([&](auto done) { poll_device_token_async(device, done, options); });
}

TokenSet OidcClient::client_credentials(const std::string& scope) {
  return internal::wait_for<TokenSet>([&](auto done) { client_credentials_async(scope, done); });
}

TokenSet OidcClient::refresh(const std::string& refresh_token, const std::string& scope) {
  return internal::wait_for<TokenSet>([&](auto done) { refresh_async(refresh_token, scope, done); });
}

void OidcClient::revoke(const std::string& token, const std::string& token_type_hint) {
  internal::wait_for<internal::Unit>([&](auto done) {
    revoke_async(token, token_type_hint, [done](std::exception_ptr e) { done(e, {}); });
  });
}

IdTokenClaims OidcClient::validate_id_token(const std::string& id_token, const std::string& expected_nonce) {
  return internal::wait_for<IdTokenClaims>([&](auto done) { validate_id_token_async(id_token, expected_nonce, done); });
}

CitizenProfile OidcClient::userinfo(const std::string& access_token) {
  return internal::wait_for<CitizenProfile>([&](auto done) { userinfo_async(access_token, done); });
}

// ---- ClientCredentials ----

// One fetch at a time: callers that need a token while one is being fetched wait for it as
// continuations, not as blocked threads, and no lock is held across the network.
struct ClientCredentials::State {
  std::shared_ptr<OidcClient> oidc;
  std::string scope;
  mutable std::mutex mu;
  TokenSet current;
  int fetches = 0;
  bool fetching = false;
  std::vector<std::function<void(std::exception_ptr, std::string)>> waiters;
};

ClientCredentials::ClientCredentials(std::shared_ptr<OidcClient> oidc, std::string scope)
    : state_(std::make_shared<State>()) {
  state_->oidc = std::move(oidc);
  state_->scope = std::move(scope);
}

void ClientCredentials::token_async(Async<std::string> done) {
  auto state = state_;
  {
    std::unique_lock<std::mutex> lock(state->mu);
    auto margin = state->oidc->options().refresh_margin_seconds;
    bool fresh = !state->current.access_token.empty() &&
                 !(state->current.expires_at > 0 && state->current.expires_at - margin <= unix_now());
    if (fresh) {
      std::string token = state->current.access_token;
      lock.unlock();
      return done(nullptr, token);
    }
    state->waiters.push_back(std::move(done));
    if (state->fetching) return;
    state->fetching = true;
  }
  state->oidc->impl_->token_request_async(
      {{"grant_type", "client_credentials"}, {"scope", state->scope}}, true, {},
      [state](std::exception_ptr error, TokenSet tokens) {
        std::vector<std::function<void(std::exception_ptr, std::string)>> waiters;
        {
          std::lock_guard<std::mutex> lock(state->mu);
          if (!error) {
            state->current = tokens;
            ++state->fetches;
          }
          waiters.swap(state->waiters);
          state->fetching = false;
        }
        for (auto& w : waiters) w(error, tokens.access_token);
      });
}

void ClientCredentials::access_token_async(Async<std::string> done, const CallOptions& options) {
  // A cancel ends this caller's wait; the fetch it joined goes on for the others.
  auto once = state_->oidc->impl_->once(std::move(done), options);
  token_async(once->forward());
}

std::string ClientCredentials::access_token() {
  return internal::wait_for<std::string>([&](auto done) { access_token_async(done); });
}

void ClientCredentials::authorize(HttpRequest& request) {
  request.set_header("Authorization", "Bearer " + access_token());
}

void ClientCredentials::authorize_async(HttpRequest& request, std::function<void(std::exception_ptr)> done) {
  token_async([&request, done](std::exception_ptr error, std::string token) {
    if (!error) request.set_header("Authorization", "Bearer " + token);
    done(error);
  });
}

bool ClientCredentials::on_unauthorized() {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->current = {};
  return true;
}

void ClientCredentials::on_unauthorized_async(std::function<void(bool)> done) { done(on_unauthorized()); }

int ClientCredentials::fetch_count() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->fetches;
}

// ---- UserCredentials ----

// A refresh is one shared operation that every caller needing a token joins. The store is
// written by one writer at a time (on the host executor, outside the lock), always with the
// latest tokens, so a slow store never delays a call and writes never land out of order.
struct UserCredentials::State {
  std::shared_ptr<OidcClient> oidc;
  std::shared_ptr<TokenStore> store;
  std::string key;
  mutable std::mutex mu;  // short sections only
  TokenSet tokens;
  int refreshes = 0;
  bool force_refresh = false;
  bool refreshing = false;
  std::vector<std::function<void(std::exception_ptr, TokenSet)>> waiters;
  bool writing = false;  // a writer owns the store
  bool dirty = false;    // tokens changed since the writer last read them
  // Sign-outs waiting for the writer in progress (it removes their tokens), under mu.
  std::vector<std::function<void(std::exception_ptr)>> written;
};

UserCredentials::UserCredentials(std::shared_ptr<OidcClient> oidc, std::shared_ptr<TokenStore> store,
                                 std::string key, TokenSet tokens)
    : state_(std::make_shared<State>()) {
  if (!store) store = make_memory_token_store();
  state_->oidc = std::move(oidc);
  state_->store = std::move(store);
  state_->key = std::move(key);
  if (tokens.access_token.empty() && tokens.refresh_token.empty()) {
    state_->tokens = state_->store->load(state_->key);
  } else {
    state_->tokens = std::move(tokens);
    state_->store->save(state_->key, state_->tokens);
  }
}

namespace {

// A store failure as the calls that waited for it see it: a hues::Error stays what it is,
// anything else thrown by the app's store becomes a TokenStoreError with its message.
std::exception_ptr as_store_error(std::exception_ptr error) {
  if (!error) return error;
  try {
    std::rethrow_exception(error);
  } catch (const Error&) {
    return error;
  } catch (const std::exception& e) {
    return internal::make_error(ErrorType::kTokenStore, e.what(), "token_store_failed");
  } catch (...) {
    return internal::make_error(ErrorType::kTokenStore, "the token store failed", "token_store_failed");
  }
}

// The store is host code: it runs on the host executor, never on an I/O thread (here at once
// when already there; on the calling thread only once the executor is gone, at shutdown).
void run_store_task(const std::shared_ptr<internal::Runtime>& rt, std::function<void()> task) {
  if (rt->host().on_this_executor()) return task();
  if (!rt->host().post(task)) task();
}

}  // namespace

// Writes the latest tokens (or removes them once signed out) until nothing changed meanwhile,
// then tells the sign-outs that waited for this writer. The caller owns `writing`. Returns the
// last store error, as as_store_error makes it.
std::exception_ptr UserCredentials::write_store(const std::shared_ptr<State>& state) {
  std::exception_ptr last;
  for (;;) {
    TokenSet snapshot;
    bool finished = false;
    std::vector<std::function<void(std::exception_ptr)>> written;
    {
      std::lock_guard<std::mutex> lock(state->mu);
      if (!state->dirty) {
        state->writing = false;
        written.swap(state->written);
        finished = true;
      } else {
        state->dirty = false;
        snapshot = state->tokens;
      }
    }
    if (finished) {
      for (auto& w : written) w(last);
      return last;
    }
    try {
      if (snapshot.access_token.empty() && snapshot.refresh_token.empty()) state->store->remove(state->key);
      else state->store->save(state->key, snapshot);
      last = nullptr;
    } catch (...) {
      last = as_store_error(std::current_exception());
    }
  }
}

void UserCredentials::current_tokens_async(Async<TokenSet> done) {
  auto state = state_;
  std::string refresh_token;
  {
    std::unique_lock<std::mutex> lock(state->mu);
    auto& t = state->tokens;
    if (t.access_token.empty() && t.refresh_token.empty()) {
      lock.unlock();
      return done(internal::make_error(ErrorType::kAuthentication, "no user is signed in", "not_signed_in"), {});
    }
    auto margin = state->oidc->options().refresh_margin_seconds;
    bool stale = state->force_refresh || t.access_token.empty() || (t.expires_at > 0 && t.expires_at - margin <= unix_now());
    if (!stale || t.refresh_token.empty()) {
      TokenSet copy = t;
      lock.unlock();
      return done(nullptr, std::move(copy));
    }
    state->waiters.push_back(std::move(done));
    if (state->refreshing) return;  // joins the refresh in flight
    state->refreshing = true;
    refresh_token = t.refresh_token;
  }
  state->oidc->impl_->token_request_async(
      {{"grant_type", "refresh_token"}, {"refresh_token", refresh_token}}, false, {},
      [state, refresh_token](std::exception_ptr error, TokenSet fresh) {
        std::vector<std::function<void(std::exception_ptr, TokenSet)>> waiters;
        TokenSet result;
        bool write = false;
        {
          std::lock_guard<std::mutex> lock(state->mu);
          auto& t = state->tokens;
          if (!error && t.refresh_token != refresh_token) {  // signed out (or replaced) meanwhile
            error = internal::make_error(ErrorType::kAuthentication, "no user is signed in", "not_signed_in");
          } else if (!error) {
            if (fresh.refresh_token.empty()) fresh.refresh_token = t.refresh_token;  // no rotation
            if (fresh.id_token.empty()) fresh.id_token = t.id_token;
            t = std::move(fresh);
            ++state->refreshes;
            state->force_refresh = false;
            result = t;
            state->dirty = true;
            write = !state->writing;
            state->writing = state->writing || write;
          }
          waiters.swap(state->waiters);
          state->refreshing = false;
        }
        if (write) {
          // The store is host code: its thread, not this I/O thread. The calls that waited for
          // this refresh also wait for its save, and a store that fails fails them (a rotated
          // refresh token that was not kept would be reused, and revoked, at the next start);
          // calls that need no refresh go on meanwhile with the new tokens. Should the executor
          // be gone (shutdown) the rotated token must still be kept, so write it here.
          run_store_task(state->oidc->impl_->core->runtime(), [state, waiters, result] {
            std::exception_ptr failed = write_store(state);
            for (auto& w : waiters) w(failed, result);
          });
          return;
        }
        for (auto& w : waiters) w(error, result);
      });
}

void UserCredentials::tokens_async(Async<TokenSet> done, const CallOptions& options) {
  // A cancel ends this caller's wait; the refresh it joined goes on for the others.
  auto once = state_->oidc->impl_->once(std::move(done), options);
  current_tokens_async(once->forward());
}

TokenSet UserCredentials::tokens() {
  return internal::wait_for<TokenSet>([&](auto done) { tokens_async(done); });
}

void UserCredentials::authorize(HttpRequest& request) {
  request.set_header("Authorization", "Bearer " + tokens().access_token);
}

void UserCredentials::authorize_async(HttpRequest& request, std::function<void(std::exception_ptr)> done) {
  current_tokens_async([&request, done](std::exception_ptr error, TokenSet tokens) {
    if (!error) request.set_header("Authorization", "Bearer " + tokens.access_token);
    done(error);
  });
}

bool UserCredentials::on_unauthorized() {
  std::lock_guard<std::mutex> lock(state_->mu);
  if (state_->tokens.refresh_token.empty()) return false;
  state_->force_refresh = true;
  return true;
}

void UserCredentials::on_unauthorized_async(std::function<void(bool)> done) { done(on_unauthorized()); }

int UserCredentials::refresh_count() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->refreshes;
}

bool UserCredentials::signed_in() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return !state_->tokens.access_token.empty() || !state_->tokens.refresh_token.empty();
}

// Forgets the tokens locally first (signing out must not depend on the network), has the
// store forget them (on the host executor, or by the writer already at work), then revokes
// the refresh token and the access token.
void UserCredentials::sign_out_async(AsyncVoid done, const CallOptions& options) {
  auto state = state_;
  auto oidc = state->oidc;
  auto once = oidc->impl_->once<internal::Unit>([done](std::exception_ptr e, internal::Unit) { done(e); }, options);
  auto old = std::make_shared<TokenSet>();
  auto revoke_access = [oidc, old, once, options] {
    if (old->access_token.empty()) return (*once)(nullptr, {});
    oidc->revoke_async(old->access_token, "access_token", [once](std::exception_ptr e) { (*once)(e, {}); }, options);
  };
  auto after_store = [oidc, old, once, options, revoke_access](std::exception_ptr store_error) {
    if (store_error) return once->fail(store_error);
    if (old->refresh_token.empty()) return revoke_access();
    oidc->revoke_async(old->refresh_token, "refresh_token", [once, revoke_access](std::exception_ptr e) {
      if (e) return once->fail(e);
      revoke_access();
    }, options);
  };
  bool write = false;
  {
    std::lock_guard<std::mutex> lock(state->mu);
    *old = std::exchange(state->tokens, TokenSet{});
    state->dirty = true;
    write = !state->writing;
    if (write) state->writing = true;
    else state->written.push_back(after_store);  // that writer removes them
  }
  if (write) run_store_task(oidc->impl_->core->runtime(), [state, after_store] { after_store(write_store(state)); });
}

void UserCredentials::sign_out() {
  internal::wait_for<internal::Unit>([&](auto done) {
    sign_out_async([done](std::exception_ptr e) { done(e, {}); });
  });
}

}  // namespace hues
