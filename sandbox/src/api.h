// The HTTP API of the sandbox (docs/api-contract.md): routing, authentication, validation
// and JSON bodies. Transport-free: the server hands it a parsed request and writes back
// the response it fills.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>
#include <string_view>

namespace hues::sandbox {

class Store;
class Oidc;
struct Caller;

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

inline constexpr std::size_t kHeaderLimit = 16 * 1024;
inline constexpr std::size_t kJsonBodyLimit = 1024 * 1024;

class Api {
 public:
  Api(Store& store, Oidc& oidc) : store_(store), oidc_(oidc) {}

  // Fills res (status, headers, body) for req. Never throws. issuer: the scheme://host:port
  // of the listener the request came in on (each listener is its own OpenID issuer).
  void handle(const Request& req, Response& res, const std::string& issuer);

  // For requests the parser rejected: 413 when a limit was hit, else 400. request_headers
  // is the partial request when its header was read (for X-Request-Id), else nullptr.
  void reject(bool too_large, std::string_view reason, const Request* request_headers, Response& res);

 private:
  void route(const Request& req, Response& res, const std::string& issuer);
  void create_report(const Request& req, Response& res, const Caller& caller);

  Store& store_;
  Oidc& oidc_;
};

}  // namespace hues::sandbox
