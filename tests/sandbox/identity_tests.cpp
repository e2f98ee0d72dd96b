// The sandbox as an OpenID Connect provider (docs/identity-contract.md), over real sockets:
// the HTML sign-in form driven with plain form posts, every grant, revocation, userinfo,
// report visibility by caller, and ID tokens verified with OpenSSL against the JWKS.
#include <doctest/doctest.h>

#include <stdlib.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include <boost/url/parse.hpp>
#include <sqlite3.h>

#include <map>
#include <memory>
#include <filesystem>
#include <regex>
#include <set>
#include <thread>

#include "hues/testing/sandbox.h"
#include "test_client.h"

using namespace sandbox_test;
using hues::testing::Sandbox;
using Params = std::map<std::string, std::string>;

namespace {

const std::string kPassword = "HueS-demo-2025";
const Headers kForm = {{"Content-Type", "application/x-www-form-urlencoded"}};

std::string pct(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s)
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') out.push_back(static_cast<char>(c));
    else out += {'%', kHex[c >> 4], kHex[c & 15]};
  return out;
}
std::string form(const Params& p) {
  std::string out;
  for (const auto& [k, v] : p) out += (out.empty() ? "" : "&") + pct(k) + "=" + pct(v);
  return out;
}

std::string b64url(std::string_view raw) {
  std::string b64(4 * ((raw.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), reinterpret_cast<const unsigned char*>(raw.data()),
                          static_cast<int>(raw.size()));
  b64.resize(static_cast<std::size_t>(n));
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  for (char& c : b64) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return b64;
}
std::string unb64url(std::string s) {
  for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  std::size_t pad = (4 - s.size() % 4) % 4;
  s.append(pad, '=');
  std::string out(s.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(s.data()),
                          static_cast<int>(s.size()));
  REQUIRE(n >= 0);
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}
std::string sha256_raw(std::string_view s) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}
std::string random_verifier() {
  unsigned char b[48];
  REQUIRE(RAND_bytes(b, sizeof b) == 1);
  return b64url(std::string_view(reinterpret_cast<char*>(b), sizeof b));  // 64 unreserved characters
}

std::string s(const boost::json::value& v) { return std::string(v.as_string()); }

Params query_of(const std::string& uri) {
  Params p;
  auto u = boost::urls::parse_uri_reference(uri);
  REQUIRE(u.has_value());
  for (auto q : u->params()) p[q.key] = q.value;
  return p;
}

std::string html_unescape(std::string v) {
  for (auto [from, to] : {std::pair{"&quot;", "\""}, {"&#39;", "'"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}}) {
    for (std::size_t i; (i = v.find(from)) != std::string::npos;) v.replace(i, std::string_view(from).size(), to);
  }
  return v;
}
// The hidden inputs of the form in an HTML page.
Params hidden_inputs(const std::string& page) {
  Params p;
  static const std::regex re(R"re(<input type="hidden" name="([^"]+)" value="([^"]*)">)re");
  for (std::sregex_iterator it(page.begin(), page.end(), re), end; it != end; ++it) p[(*it)[1]] = html_unescape((*it)[2]);
  return p;
}
std::string cookie_of(const Response& r) {
  std::string c(r[http::field::set_cookie]);
  return c.substr(0, c.find(';'));
}

// The ID token's claims after checking its signature against the JWKS key its kid names.
boost::json::object verify_id_token(const std::string& jwt, const boost::json::array& keys, const std::string& want_alg) {
  const auto d1 = jwt.find('.'), d2 = jwt.find('.', d1 + 1);
  REQUIRE(d2 != std::string::npos);
  auto header = boost::json::parse(unb64url(jwt.substr(0, d1))).as_object();
  CHECK(s(header.at("alg")) == want_alg);
  const boost::json::object* jwk = nullptr;
  for (const auto& k : keys)
    if (k.at("kid") == header.at("kid")) jwk = &k.as_object();
  REQUIRE_MESSAGE(jwk, "kid not in the JWKS");
  CHECK(s(jwk->at("alg")) == want_alg);
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
  std::vector<std::unique_ptr<BIGNUM, decltype(&BN_free)>> bns;
  auto bn = [&](const std::string& raw) {
    bns.emplace_back(BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()), nullptr), BN_free);
    return bns.back().get();
  };
  std::string point;
  const bool rsa = s(jwk->at("kty")) == "RSA";
  if (rsa) {
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn(unb64url(s(jwk->at("n")))));
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn(unb64url(s(jwk->at("e")))));
  } else {
    point = "\x04" + unb64url(s(jwk->at("x"))) + unb64url(s(jwk->at("y")));
    REQUIRE(point.size() == 65);
    OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
    OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()), OSSL_PARAM_free);
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> pctx(
      EVP_PKEY_CTX_new_from_name(nullptr, rsa ? "RSA" : "EC", nullptr), EVP_PKEY_CTX_free);
  EVP_PKEY* raw = nullptr;
  REQUIRE(EVP_PKEY_fromdata_init(pctx.get()) == 1);
  REQUIRE(EVP_PKEY_fromdata(pctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) == 1);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(raw, EVP_PKEY_free);
  std::string sig = unb64url(jwt.substr(d2 + 1));
  if (!rsa) {  // JWS R||S -> DER for OpenSSL
    REQUIRE(sig.size() == 64);
    ECDSA_SIG* es = ECDSA_SIG_new();
    ECDSA_SIG_set0(es, BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()), 32, nullptr),
                   BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()) + 32, 32, nullptr));
    unsigned char* der = nullptr;
    int n = i2d_ECDSA_SIG(es, &der);
    sig.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  REQUIRE(EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha256(), nullptr, key.get()) == 1);
  const std::string input = jwt.substr(0, d2);
  REQUIRE_MESSAGE(EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                                   reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1,
                  "ID token signature does not verify");
  return boost::json::parse(unb64url(jwt.substr(d1 + 1, d2 - d1 - 1))).as_object();
}

boost::json::array jwks(Client& c) { return json_of(c.request(http::verb::get, "/oauth/jwks")).at("keys").as_array(); }

struct Authorization {
  std::string redirect_uri, verifier, state, nonce;
  std::string client_id = "hues-demo-app", scope = "openid profile offline_access reports:read reports:write";
  std::string target() const {
    Params p{{"response_type", "code"}, {"client_id", client_id}, {"redirect_uri", redirect_uri}, {"scope", scope},
             {"state", state}, {"nonce", nonce}};
    if (!verifier.empty()) p["code_challenge"] = b64url(sha256_raw(verifier)), p["code_challenge_method"] = "S256";
    return "/oauth/authorize?" + form(p);
  }
};

Authorization demo_app(int port) {
  return {"http://127.0.0.1:" + std::to_string(port) + "/callback", random_verifier(), "st-" + random_verifier().substr(0, 8),
          "n-" + random_verifier().substr(0, 8)};
}

Headers with(Headers h, const std::string& k, const std::string& v) {
  h.emplace_back(k, v);
  return h;
}

// GET the sign-in form, then post it back as the browser would; returns the POST's answer.
Response sign_in(Client& c, const Authorization& a, const std::string& user, const std::string& password,
                 const std::string& decision = "approve") {
  auto page = c.request(http::verb::get, a.target());
  REQUIRE(page.result_int() == 200);
  REQUIRE(page.body().find("<form method=\"post\" action=\"/oauth/authorize\">") != std::string::npos);
  Params p = hidden_inputs(page.body());
  REQUIRE(p.count("csrf_token"));
  CHECK(p.at("client_id") == a.client_id);
  p["username"] = user;
  p["password"] = password;
  p["decision"] = decision;
  return c.request(http::verb::post, "/oauth/authorize", form(p), with(kForm, "Cookie", cookie_of(page)));
}

Response token(Client& c, const Params& p, Headers h = kForm) { return c.request(http::verb::post, "/oauth/token", form(p), h); }
Headers bearer(const std::string& t) { return {{"Authorization", "Bearer " + t}}; }
Headers basic(const std::string& id, const std::string& secret) {
  return with(kForm, "Authorization", "Basic " + [&] {
    std::string raw = pct(id) + ":" + pct(secret), out(4 * ((raw.size() + 2) / 3) + 1, '\0');
    out.resize(static_cast<std::size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                                        reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()))));
    return out;
  }());
}
std::string oauth_error(const Response& r) { return s(json_of(r).at("error")); }

// A full code + PKCE sign-in as nguyen.van.an (or user); returns the token response.
boost::json::object code_flow(Client& c, const std::string& user = "nguyen.van.an", int port = 50123) {
  Authorization a = demo_app(port);
  auto r = sign_in(c, a, user, kPassword);
  REQUIRE(r.result_int() == 302);
  auto q = query_of(std::string(r[http::field::location]));
  auto t = token(c, {{"grant_type", "authorization_code"}, {"code", q.at("code")}, {"redirect_uri", a.redirect_uri},
                     {"client_id", a.client_id}, {"code_verifier", a.verifier}});
  REQUIRE(t.result_int() == 200);
  return json_of(t);
}

std::string cc_token(Client& c, const std::string& id, const std::string& secret, const std::string& scope = "") {
  Params p{{"grant_type", "client_credentials"}};
  if (!scope.empty()) p["scope"] = scope;
  auto r = token(c, p, basic(id, secret));
  REQUIRE(r.result_int() == 200);
  return s(json_of(r).at("access_token"));
}

std::string report_body(const std::string& visibility) {
  boost::json::object loc{{"lat", 16.4731}, {"lon", 107.5893}, {"address", "Cổng sau chợ Đông Ba"}, {"ward", "Đông Ba"}};
  boost::json::object o{{"category", "waste_collection"}, {"description", "Rác tồn đọng trước nhà số 5, kiệt 12 Chi Lăng"},
                        {"location", loc}, {"visibility", visibility}};
  return boost::json::serialize(o);
}

}  // namespace

// Declared in lifecycle_tests.cpp: a person's access token from a full code + PKCE sign-in.
namespace sandbox_test {
std::string person_token(Client& c, const std::string& user);
}  // namespace sandbox_test
std::string sandbox_test::person_token(Client& c, const std::string& user) {
  return s(code_flow(c, user, 50124).at("access_token"));
}

TEST_CASE("discovery names this listener as issuer, and the JWKS holds RS256 and ES256 keys") {
  Sandbox sb;
  for (bool tls : {false, true}) {
    Client c(tls ? sb.tls_port() : sb.port(), tls ? std::optional<TlsOptions>(TlsOptions{sb.ca_file()}) : std::nullopt,
             tls ? "localhost" : "127.0.0.1");
    const std::string issuer = tls ? sb.tls_url() : sb.url();
    auto d = json_of(c.request(http::verb::get, "/.well-known/openid-configuration"));
    CHECK(s(d.at("issuer")) == issuer);
    CHECK(s(d.at("authorization_endpoint")) == issuer + "/oauth/authorize");
    CHECK(s(d.at("token_endpoint")) == issuer + "/oauth/token");
    CHECK(s(d.at("jwks_uri")) == issuer + "/oauth/jwks");
    CHECK(s(d.at("device_authorization_endpoint")) == issuer + "/oauth/device_authorization");
    CHECK(d.at("code_challenge_methods_supported") == boost::json::array{"S256"});
    CHECK(d.at("authorization_response_iss_parameter_supported") == true);
    CHECK(d.at("grant_types_supported").as_array().size() == 4);
  }
  Client c(sb.port());
  int rsa = 0, ec = 0;
  for (const auto& v : jwks(c)) {
    const auto& k = v.as_object();
    CHECK(s(k.at("use")) == "sig");
    std::string thumb;
    if (s(k.at("kty")) == "RSA") {
      ++rsa;
      CHECK(s(k.at("alg")) == "RS256");
      CHECK(unb64url(s(k.at("n"))).size() == 256);  // 2048 bits, unsigned, no leading zero
      CHECK(unb64url(s(k.at("e"))) == std::string("\x01\x00\x01", 3));
      thumb = R"({"e":")" + s(k.at("e")) + R"(","kty":"RSA","n":")" + s(k.at("n")) + "\"}";
    } else {
      ++ec;
      CHECK(s(k.at("alg")) == "ES256");
      CHECK(s(k.at("crv")) == "P-256");
      CHECK(unb64url(s(k.at("x"))).size() == 32);
      CHECK(unb64url(s(k.at("y"))).size() == 32);
      thumb = R"({"crv":"P-256","kty":"EC","x":")" + s(k.at("x")) + R"(","y":")" + s(k.at("y")) + "\"}";
    }
    CHECK(s(k.at("kid")) == b64url(sha256_raw(thumb)));  // RFC 7638
  }
  CHECK(rsa == 1);
  CHECK(ec == 1);
}

TEST_CASE("code + PKCE through the HTML form, on any loopback port, gives verified tokens") {
  Sandbox sb;
  Client c(sb.port());
  for (int port : {50123, 61999}) {
    Authorization a = demo_app(port);
    auto wrong = sign_in(c, a, "nguyen.van.an", "not-the-password");
    CHECK(wrong.result_int() == 200);
    CHECK(wrong.body().find("Wrong username or password") != std::string::npos);

    auto r = sign_in(c, a, "nguyen.van.an", kPassword);
    REQUIRE(r.result_int() == 302);
    const std::string location(r[http::field::location]);
    CHECK(location.rfind(a.redirect_uri + "?", 0) == 0);
    auto q = query_of(location);
    CHECK(q.at("state") == a.state);
    CHECK(q.at("iss") == sb.url());
    CHECK(q.at("code").rfind("hac_", 0) == 0);

    auto t = token(c, {{"grant_type", "authorization_code"}, {"code", q.at("code")}, {"redirect_uri", a.redirect_uri},
                       {"client_id", a.client_id}, {"code_verifier", a.verifier}});
    REQUIRE(t.result_int() == 200);
    CHECK(t[http::field::cache_control] == "no-store");
    auto body = json_of(t);
    CHECK(s(body.at("token_type")) == "Bearer");
    CHECK(body.at("expires_in").as_int64() == 600);
    CHECK(s(body.at("access_token")).rfind("hat_", 0) == 0);
    CHECK(s(body.at("refresh_token")).rfind("hrt_", 0) == 0);
    auto claims = verify_id_token(s(body.at("id_token")), jwks(c), "RS256");
    CHECK(s(claims.at("iss")) == sb.url());
    CHECK(s(claims.at("aud")) == "hues-demo-app");
    CHECK(s(claims.at("azp")) == "hues-demo-app");
    CHECK(s(claims.at("nonce")) == a.nonce);
    CHECK(s(claims.at("name")) == "Nguyễn Văn An");
    CHECK(claims.at("verification_level").as_int64() == 2);
    CHECK(s(claims.at("role")) == "citizen");
    CHECK(claims.at("exp").as_int64() - claims.at("iat").as_int64() == 600);

    auto me = c.request(http::verb::get, "/v1/me", {}, bearer(s(body.at("access_token"))));
    REQUIRE(me.result_int() == 200);
    auto profile = json_of(me);
    CHECK(s(profile.at("name")) == "Nguyễn Văn An");
    CHECK(s(profile.at("ward")) == "Phú Hội");
    CHECK(profile.at("verification_level").as_int64() == 2);
    CHECK(s(profile.at("sub")) == s(claims.at("sub")));
    auto info = c.request(http::verb::get, "/oauth/userinfo", {}, bearer(s(body.at("access_token"))));
    REQUIRE(info.result_int() == 200);
    CHECK(json_of(info) == profile);
  }
}

TEST_CASE("the sign-in form rejects a post without its cookie, and bad requests are never redirected") {
  Sandbox sb;
  Client c(sb.port());
  Authorization a = demo_app(50123);
  auto page = c.request(http::verb::get, a.target());
  Params p = hidden_inputs(page.body());
  p["username"] = "nguyen.van.an";
  p["password"] = kPassword;
  p["decision"] = "approve";
  auto forged = c.request(http::verb::post, "/oauth/authorize", form(p), kForm);  // no cookie: another site's post
  CHECK(forged.result_int() == 400);
  CHECK(forged.find(http::field::location) == forged.end());

  for (const std::string uri : {"http://evil.example/callback", "http://127.0.0.1:50123/other", "https://127.0.0.1:5000/callback",
                                "http://localhost:50123/callback"}) {
    Authorization bad = a;
    bad.redirect_uri = uri;
    auto r = c.request(http::verb::get, bad.target());
    CHECK_MESSAGE(r.result_int() == 400, uri);
    CHECK(r.find(http::field::location) == r.end());
    CHECK(r[http::field::content_type].starts_with("text/html"));
  }
  Authorization unknown = a;
  unknown.client_id = "no-such-app";
  CHECK(c.request(http::verb::get, unknown.target()).result_int() == 400);
  // The web portal's redirect is exact: not even the port may differ.
  Authorization portal{"https://portal.example:8443/callback", "", "s", "n", "hues-web-portal", "openid"};
  CHECK(c.request(http::verb::get, portal.target()).result_int() == 400);

  Authorization no_pkce = a;
  no_pkce.verifier.clear();
  auto r = c.request(http::verb::get, no_pkce.target());
  REQUIRE(r.result_int() == 302);
  auto q = query_of(std::string(r[http::field::location]));
  CHECK(q.at("error") == "invalid_request");
  CHECK(q.at("state") == a.state);

  auto denied = sign_in(c, a, "", "", "deny");
  REQUIRE(denied.result_int() == 302);
  CHECK(query_of(std::string(denied[http::field::location])).at("error") == "access_denied");
}

TEST_CASE("loopback redirects (RFC 8252 §7.3) may use any port from 1 to 65535, and only those") {
  Sandbox sb;
  Client c(sb.port());
  Authorization a = demo_app(50123);
  for (const std::string uri : {"http://127.0.0.1:99999/callback", "http://127.0.0.1:/callback", "http://127.0.0.1:0/callback",
                                "http://127.0.0.1:65536/callback", "http://127.0.0.1:08080/callback",
                                "http://[::1]:70000/callback", "http://[::1]:/callback"}) {
    Authorization bad = a;
    bad.redirect_uri = uri;
    auto r = c.request(http::verb::get, bad.target());
    CHECK_MESSAGE(r.result_int() == 400, uri);
    CHECK(r.find(http::field::location) == r.end());
  }
  for (const std::string uri : {"http://127.0.0.1:1/callback", "http://127.0.0.1:65535/callback",
                                "http://127.0.0.1/callback"}) {
    Authorization good = a;
    good.redirect_uri = uri;
    CHECK_MESSAGE(c.request(http::verb::get, good.target()).result_int() == 200, uri);
  }
}

TEST_CASE("a wrong PKCE verifier, and a reused code, are invalid_grant; reuse revokes the first tokens") {
  Sandbox sb;
  Client c(sb.port());
  Authorization a = demo_app(50123);
  auto q = query_of(std::string(sign_in(c, a, "tran.thi.binh", kPassword)[http::field::location]));
  Params exchange{{"grant_type", "authorization_code"}, {"code", q.at("code")}, {"redirect_uri", a.redirect_uri},
                  {"client_id", a.client_id}, {"code_verifier", random_verifier()}};
  auto bad = token(c, exchange);
  CHECK(bad.result_int() == 400);
  CHECK(oauth_error(bad) == "invalid_grant");

  exchange["code_verifier"] = a.verifier;
  auto first = token(c, exchange);
  REQUIRE(first.result_int() == 200);
  const std::string access = s(json_of(first).at("access_token")), refresh = s(json_of(first).at("refresh_token"));
  CHECK(c.request(http::verb::get, "/v1/me", {}, bearer(access)).result_int() == 200);

  auto again = token(c, exchange);
  CHECK(again.result_int() == 400);
  CHECK(oauth_error(again) == "invalid_grant");
  auto me = c.request(http::verb::get, "/v1/me", {}, bearer(access));
  CHECK(me.result_int() == 401);
  CHECK(me[http::field::www_authenticate] == R"(Bearer error="invalid_token")");
  CHECK(error_code_of(me) == "invalid_token");
  auto r = token(c, {{"grant_type", "refresh_token"}, {"refresh_token", refresh}, {"client_id", a.client_id}});
  CHECK(oauth_error(r) == "invalid_grant");
}

TEST_CASE("refresh tokens rotate; replaying a rotated one revokes the whole family") {
  Sandbox sb;
  Client c(sb.port());
  auto t0 = code_flow(c);
  Params p{{"grant_type", "refresh_token"}, {"client_id", "hues-demo-app"}, {"refresh_token", s(t0.at("refresh_token"))}};
  auto r1 = token(c, p);
  REQUIRE(r1.result_int() == 200);
  auto t1 = json_of(r1);
  CHECK(t1.at("refresh_token") != t0.at("refresh_token"));
  CHECK(c.request(http::verb::get, "/v1/me", {}, bearer(s(t1.at("access_token")))).result_int() == 200);

  auto narrower = token(c, {{"grant_type", "refresh_token"}, {"client_id", "hues-demo-app"},
                            {"refresh_token", s(t1.at("refresh_token"))}, {"scope", "openid reports:read"}});
  REQUIRE(narrower.result_int() == 200);
  auto t2 = json_of(narrower);
  CHECK(s(t2.at("scope")) == "openid reports:read");
  CHECK(c.request(http::verb::post, "/v1/reports", report_body("public"), bearer(s(t2.at("access_token")))).result_int() == 403);

  auto replay = token(c, p);  // t0's refresh token, already rotated
  CHECK(replay.result_int() == 400);
  CHECK(oauth_error(replay) == "invalid_grant");
  for (const auto* t : {&t1, &t2})
    CHECK(c.request(http::verb::get, "/v1/me", {}, bearer(s(t->at("access_token")))).result_int() == 401);
  CHECK(oauth_error(token(c, {{"grant_type", "refresh_token"}, {"client_id", "hues-demo-app"},
                              {"refresh_token", s(t2.at("refresh_token"))}})) == "invalid_grant");
}

TEST_CASE("client credentials with client_secret_basic and client_secret_post") {
  Sandbox sb;
  Client c(sb.port());
  auto basic_r = token(c, {{"grant_type", "client_credentials"}}, basic("hues-taxi-backend", "taxi-secret-2025"));
  REQUIRE(basic_r.result_int() == 200);
  CHECK(basic_r[http::field::cache_control] == "no-store");
  auto b = json_of(basic_r);
  CHECK(s(b.at("scope")) == "reports:read reports:write");
  CHECK_FALSE(b.contains("refresh_token"));
  CHECK_FALSE(b.contains("id_token"));
  auto post_r = token(c, {{"grant_type", "client_credentials"}, {"client_id", "huewaco-backend"},
                          {"client_secret", "huewaco-secret-2025"}});
  REQUIRE(post_r.result_int() == 200);

  auto wrong = token(c, {{"grant_type", "client_credentials"}}, basic("hues-taxi-backend", "taxi-secret-2024"));
  CHECK(wrong.result_int() == 401);
  CHECK(oauth_error(wrong) == "invalid_client");
  CHECK(wrong[http::field::www_authenticate].starts_with("Basic"));
  auto wrong_post = token(c, {{"grant_type", "client_credentials"}, {"client_id", "hues-taxi-backend"}, {"client_secret", "x"}});
  CHECK(wrong_post.result_int() == 401);
  CHECK(oauth_error(wrong_post) == "invalid_client");
  CHECK(oauth_error(token(c, {{"grant_type", "client_credentials"}, {"scope", "reports:write"}},
                          basic("huewaco-backend", "huewaco-secret-2025"))) == "invalid_scope");
  CHECK(oauth_error(token(c, {{"grant_type", "client_credentials"}, {"client_id", "hues-demo-app"}})) == "unauthorized_client");
  CHECK(oauth_error(token(c, {{"grant_type", "password"}, {"client_id", "hues-demo-app"}})) == "unsupported_grant_type");
  CHECK(oauth_error(token(c, {{"client_id", "hues-demo-app"}})) == "invalid_request");

  // The token works on /v1 within its scopes; the client is the reporter.
  const std::string taxi = cc_token(c, "hues-taxi-backend", "taxi-secret-2025");
  CHECK(c.request(http::verb::post, "/v1/reports", report_body("public"), bearer(taxi)).result_int() == 201);
  auto huewaco = s(json_of(post_r).at("access_token"));
  auto denied = c.request(http::verb::post, "/v1/reports", report_body("public"), bearer(huewaco));
  CHECK(denied.result_int() == 403);
  CHECK(error_code_of(denied) == "insufficient_scope");
  CHECK(c.request(http::verb::get, "/v1/reports?limit=1", {}, bearer(huewaco)).result_int() == 200);
  CHECK(c.request(http::verb::get, "/v1/me", {}, bearer(huewaco)).result_int() == 403);
  CHECK(c.request(http::verb::get, "/oauth/userinfo", {}, bearer(huewaco)).result_int() == 403);
}

TEST_CASE("device flow: pending, slow_down, approval through /device, and denial") {
  Sandbox sb;
  Client c(sb.port());
  auto start = [&] {
    auto r = c.request(http::verb::post, "/oauth/device_authorization", form({{"client_id", "hues-cli"}, {"scope", "openid profile reports:read"}}), kForm);
    REQUIRE(r.result_int() == 200);
    return json_of(r);
  };
  auto poll = [&](const boost::json::object& d) {
    return token(c, {{"grant_type", "urn:ietf:params:oauth:grant-type:device_code"}, {"client_id", "hues-cli"},
                     {"device_code", s(d.at("device_code"))}});
  };
  auto answer = [&](const boost::json::object& d, const std::string& decision) {
    auto page = c.request(http::verb::get, "/device?user_code=" + s(d.at("user_code")));
    REQUIRE(page.result_int() == 200);
    CHECK(page.body().find("value=\"" + s(d.at("user_code")) + "\"") != std::string::npos);
    Params p = hidden_inputs(page.body());
    p["user_code"] = s(d.at("user_code"));
    p["username"] = "nguyen.van.an";
    p["password"] = kPassword;
    p["decision"] = decision;
    return c.request(http::verb::post, "/device", form(p), with(kForm, "Cookie", cookie_of(page)));
  };

  auto d = start();
  CHECK(std::regex_match(s(d.at("user_code")), std::regex("[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}")));
  CHECK(s(d.at("verification_uri")) == sb.url() + "/device");
  CHECK(d.at("expires_in").as_int64() == 600);
  CHECK(d.at("interval").as_int64() == 1);
  CHECK(oauth_error(poll(d)) == "authorization_pending");
  auto fast = poll(d);
  CHECK(oauth_error(fast) == "slow_down");

  auto d2 = start();
  auto approved = answer(d2, "approve");
  CHECK(approved.result_int() == 200);
  CHECK(approved.body().find("Approved") != std::string::npos);
  auto t = poll(d2);
  REQUIRE(t.result_int() == 200);
  auto body = json_of(t);
  CHECK(s(verify_id_token(s(body.at("id_token")), jwks(c), "RS256").at("name")) == "Nguyễn Văn An");
  CHECK(c.request(http::verb::get, "/v1/me", {}, bearer(s(body.at("access_token")))).result_int() == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  CHECK(oauth_error(poll(d2)) == "invalid_grant");  // exchanged once only

  auto d3 = start();
  CHECK(answer(d3, "deny").result_int() == 200);
  CHECK(oauth_error(poll(d3)) == "access_denied");
  CHECK(oauth_error(token(c, {{"grant_type", "urn:ietf:params:oauth:grant-type:device_code"}, {"client_id", "hues-cli"},
                              {"device_code", "hdc_unknown"}})) == "invalid_grant");
}

TEST_CASE("revocation: unknown tokens are fine, a refresh token takes its family with it") {
  Sandbox sb;
  Client c(sb.port());
  auto revoke = [&](const std::string& tok) {
    return c.request(http::verb::post, "/oauth/revoke", form({{"token", tok}, {"client_id", "hues-demo-app"}}), kForm);
  };
  CHECK(revoke("hat_not_a_token").result_int() == 200);
  auto t = code_flow(c);
  auto t2 = code_flow(c);
  CHECK(revoke(s(t.at("access_token"))).result_int() == 200);
  CHECK(c.request(http::verb::get, "/v1/me", {}, bearer(s(t.at("access_token")))).result_int() == 401);
  CHECK(c.request(http::verb::get, "/v1/me", {}, bearer(s(t2.at("access_token")))).result_int() == 200);
  CHECK(revoke(s(t2.at("refresh_token"))).result_int() == 200);
  CHECK(c.request(http::verb::get, "/v1/me", {}, bearer(s(t2.at("access_token")))).result_int() == 401);
  // Another client cannot revoke what it does not own.
  const std::string taxi = cc_token(c, "hues-taxi-backend", "taxi-secret-2025");
  CHECK(c.request(http::verb::post, "/oauth/revoke", form({{"token", taxi}}), basic("huewaco-backend", "huewaco-secret-2025"))
            .result_int() == 200);
  CHECK(c.request(http::verb::get, "/v1/reports?limit=1", {}, bearer(taxi)).result_int() == 200);
}

TEST_CASE("the web portal gets ES256 ID tokens, verified against the EC key") {
  Sandbox sb;
  Client c(sb.port());
  Authorization a{"https://portal.example/callback", random_verifier(), "portal-state", "portal-nonce", "hues-web-portal",
                  "openid profile reports:read"};
  auto r = sign_in(c, a, "hepco.staff", kPassword);
  REQUIRE(r.result_int() == 302);
  auto q = query_of(std::string(r[http::field::location]));
  auto t = token(c, {{"grant_type", "authorization_code"}, {"code", q.at("code")}, {"redirect_uri", a.redirect_uri},
                     {"code_verifier", a.verifier}},
                 basic("hues-web-portal", "portal-secret-2025"));
  REQUIRE(t.result_int() == 200);
  auto claims = verify_id_token(s(json_of(t).at("id_token")), jwks(c), "ES256");
  CHECK(s(claims.at("name")) == "Phạm Thị Dung");
  CHECK(s(claims.at("role")) == "agency");
  CHECK(s(claims.at("nonce")) == "portal-nonce");
}

TEST_CASE("private reports are seen only by the reporter, the assigned agency and the IOC") {
  Sandbox sb;
  Client c(sb.port());
  const std::string an = s(code_flow(c, "nguyen.van.an").at("access_token"));
  const std::string binh = s(code_flow(c, "tran.thi.binh").at("access_token"));
  const std::string ioc = s(code_flow(c, "le.ioc").at("access_token"));
  const std::string hepco = s(code_flow(c, "hepco.staff").at("access_token"));
  const std::string qldt = s(code_flow(c, "qldt.staff").at("access_token"));

  auto created = c.request(http::verb::post, "/v1/reports", report_body("private"), bearer(an));
  REQUIRE(created.result_int() == 201);
  auto report = json_of(created);
  CHECK(s(report.at("visibility")) == "private");
  CHECK(s(report.at("agency_code")) == "HEPCO");
  const std::string path = "/v1/reports/" + s(report.at("id"));
  auto listed = [&](const Headers& h) {
    auto r = c.request(http::verb::get, "/v1/reports?limit=100", {}, h);
    REQUIRE(r.result_int() == 200);
    const auto page = json_of(r);
    for (const auto& i : page.at("items").as_array())
      if (i.at("id") == report.at("id")) return true;
    return false;
  };
  for (const auto& who : {an, ioc, hepco}) {
    CHECK(c.request(http::verb::get, path, {}, bearer(who)).result_int() == 200);
    CHECK(listed(bearer(who)));
  }
  for (const auto& h : {bearer(binh), bearer(qldt), Headers{{"X-Api-Key", sb.api_key()}}}) {
    auto r = c.request(http::verb::get, path, {}, h);
    CHECK(r.result_int() == 404);
    CHECK_FALSE(listed(h));
  }
  auto pub = c.request(http::verb::post, "/v1/reports", report_body("public"), bearer(binh));
  REQUIRE(pub.result_int() == 201);
  CHECK(c.request(http::verb::get, "/v1/reports/" + s(json_of(pub).at("id")), {}, {{"X-Api-Key", sb.api_key()}}).result_int() == 200);

  auto bad = c.request(http::verb::post, "/v1/reports", report_body("secret"), bearer(an));
  CHECK(bad.result_int() == 400);
  CHECK(error_field_of(bad) == "visibility");
  CHECK(c.request(http::verb::post, "/v1/reports", report_body("private"), {{"X-Api-Key", sb.api_key()}}).result_int() == 403);
  CHECK(c.request(http::verb::get, "/v1/reports", {}, bearer("hat_forged")).result_int() == 401);
}

TEST_CASE("key rotation publishes a new kid that signs; retiring removes the old one") {
  Sandbox sb;
  Client c(sb.port());
  const Headers admin{{"X-Admin-Key", "hadm_test_sandbox_0001"}};
  auto kids = [&] {
    std::set<std::string> out;
    for (const auto& k : jwks(c)) out.insert(s(k.at("kid")));
    return out;
  };
  const auto before = kids();
  std::string old_rsa;
  for (const auto& k : jwks(c))
    if (k.at("alg") == "RS256") old_rsa = s(k.at("kid"));
  CHECK(c.request(http::verb::post, "/admin/keys/rotate", R"({"alg":"RS256"})").result_int() == 401);
  auto rot = c.request(http::verb::post, "/admin/keys/rotate", R"({"alg":"RS256"})", admin);
  REQUIRE(rot.result_int() == 200);
  const std::string kid = s(json_of(rot).at("kid"));
  auto after = kids();
  CHECK(after.size() == before.size() + 1);
  CHECK(after.count(kid) == 1);
  auto t = code_flow(c);
  const std::string jwt = s(t.at("id_token"));
  CHECK(s(boost::json::parse(unb64url(jwt.substr(0, jwt.find('.')))).at("kid")) == kid);
  verify_id_token(jwt, jwks(c), "RS256");

  auto ret = c.request(http::verb::post, "/admin/keys/retire", R"({"kid":")" + old_rsa + R"("})", admin);
  REQUIRE(ret.result_int() == 200);
  CHECK(kids().count(old_rsa) == 0);
  CHECK(kids().count(kid) == 1);
  // The retired key's ID tokens stop validating: their kid is gone from the JWKS.
  bool old_kid_listed = false;
  for (const auto& k : jwks(c)) old_kid_listed = old_kid_listed || s(k.at("kid")) == old_rsa;
  CHECK_FALSE(old_kid_listed);

  // With a grace period the key stops signing at once but stays published until it ends.
  const std::string es = s(json_of(c.request(http::verb::post, "/admin/keys/rotate", R"({"alg":"ES256"})", admin)).at("kid"));
  REQUIRE(c.request(http::verb::post, "/admin/keys/retire", R"({"kid":")" + es + R"(","grace_seconds":1})", admin)
              .result_int() == 200);
  CHECK(kids().count(es) == 1);
  std::string new_es;
  for (const auto& k : jwks(c))
    if (k.at("alg") == "ES256" && s(k.at("kid")) != es) new_es = s(k.at("kid"));
  CHECK_FALSE(new_es.empty());  // ES256 is never left without a signing key
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  CHECK(kids().count(es) == 0);
  CHECK(c.request(http::verb::post, "/admin/keys/retire", R"({"kid":"nope"})", admin).result_int() == 404);
  CHECK(c.request(http::verb::post, "/admin/keys/rotate", R"({"alg":"HS256"})", admin).result_int() == 400);
}

TEST_CASE("signing keys are made once, kept in the owner-only database, and survive a restart") {
  std::string dir = (std::filesystem::temp_directory_path() / "hues-oidc-XXXXXX").string();
  REQUIRE(mkdtemp(dir.data()) != nullptr);
  auto kids = [](const Sandbox& sb) {
    Client c(sb.port());
    std::set<std::string> out;
    for (const auto& k : jwks(c)) out.insert(s(k.at("kid")));
    return out;
  };
  std::set<std::string> first;
  {
    hues::testing::SandboxOptions o;
    o.data_dir = dir;
    Sandbox sb(o);
    first = kids(sb);
    const auto perms = std::filesystem::status(dir + "/sandbox.db").permissions();
    CHECK((perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all)) == std::filesystem::perms::none);
  }
  hues::testing::SandboxOptions o;
  o.data_dir = dir;
  Sandbox sb(o);
  CHECK(kids(sb) == first);
  Client c(sb.port());
  CHECK(c.request(http::verb::get, "/v1/me", {}, bearer(s(code_flow(c).at("access_token")))).result_int() == 200);
  sb.stop();
  std::filesystem::remove_all(dir);
}

namespace {

std::string db_text(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
  std::string out = sqlite3_step(st) == SQLITE_ROW ? reinterpret_cast<const char*>(sqlite3_column_text(st, 0)) : "";
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

void db_exec(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  INFO(sql << ": " << (err ? err : ""));
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

Client tls_client(const Sandbox& sb) { return Client(sb.tls_port(), TlsOptions{sb.ca_file()}, "localhost"); }

struct Device {
  boost::json::object d;
  Response poll(Client& c) const {
    return token(c, {{"grant_type", "urn:ietf:params:oauth:grant-type:device_code"}, {"client_id", "hues-cli"},
                     {"device_code", s(d.at("device_code"))}});
  }
};
Device start_device(Client& c) {
  auto r = c.request(http::verb::post, "/oauth/device_authorization", form({{"client_id", "hues-cli"}, {"scope", "openid"}}), kForm);
  REQUIRE(r.result_int() == 200);
  return {json_of(r)};
}
// Posts the /device form (fetched on c) with these fields.
Response decide(Client& c, Params fields) {
  auto page = c.request(http::verb::get, "/device");
  REQUIRE(page.result_int() == 200);
  Params p = hidden_inputs(page.body());
  for (auto& [k, v] : fields) p[k] = v;
  return c.request(http::verb::post, "/device", form(p), with(kForm, "Cookie", cookie_of(page)));
}

}  // namespace

TEST_CASE("each listener is its own issuer: forms, codes, tokens and device grants work only where they were issued") {
  Sandbox sb;
  Client plain(sb.port());
  Client tls = tls_client(sb);
  Authorization a = demo_app(50123);

  // A form the TLS listener served, posted to the plain one.
  auto page = tls.request(http::verb::get, a.target());
  REQUIRE(page.result_int() == 200);
  Params p = hidden_inputs(page.body());
  p["username"] = "nguyen.van.an";
  p["password"] = kPassword;
  p["decision"] = "approve";
  auto crossed = plain.request(http::verb::post, "/oauth/authorize", form(p), with(kForm, "Cookie", cookie_of(page)));
  CHECK(crossed.result_int() == 400);
  CHECK(crossed.find(http::field::location) == crossed.end());
  auto same = tls.request(http::verb::post, "/oauth/authorize", form(p), with(kForm, "Cookie", cookie_of(page)));
  REQUIRE(same.result_int() == 302);
  CHECK(query_of(std::string(same[http::field::location])).at("iss") == sb.tls_url());

  // A code from the plain listener is unknown to the TLS one, and stays usable where it belongs.
  auto q = query_of(std::string(sign_in(plain, a, "nguyen.van.an", kPassword)[http::field::location]));
  Params exchange{{"grant_type", "authorization_code"}, {"code", q.at("code")}, {"redirect_uri", a.redirect_uri},
                  {"client_id", a.client_id}, {"code_verifier", a.verifier}};
  CHECK(oauth_error(token(tls, exchange)) == "invalid_grant");
  auto t = token(plain, exchange);
  REQUIRE(t.result_int() == 200);
  const std::string access = s(json_of(t).at("access_token")), refresh = s(json_of(t).at("refresh_token"));

  // Its tokens: no /v1, userinfo, refresh or revocation on the other listener.
  CHECK(tls.request(http::verb::get, "/v1/me", {}, bearer(access)).result_int() == 401);
  CHECK(tls.request(http::verb::get, "/oauth/userinfo", {}, bearer(access)).result_int() == 401);
  CHECK(oauth_error(token(tls, {{"grant_type", "refresh_token"}, {"refresh_token", refresh}, {"client_id", a.client_id}})) ==
        "invalid_grant");
  CHECK(tls.request(http::verb::post, "/oauth/revoke", form({{"token", access}, {"client_id", a.client_id}}), kForm)
            .result_int() == 200);
  CHECK(plain.request(http::verb::get, "/v1/me", {}, bearer(access)).result_int() == 200);
  CHECK(plain.request(http::verb::get, "/oauth/userinfo", {}, bearer(access)).result_int() == 200);
  CHECK(token(plain, {{"grant_type", "refresh_token"}, {"refresh_token", refresh}, {"client_id", a.client_id}}).result_int() == 200);

  // A device grant started on plain: not approvable or pollable over TLS.
  Device d = start_device(plain);
  CHECK(s(d.d.at("verification_uri")) == sb.url() + "/device");
  auto wrong_place = decide(tls, {{"user_code", s(d.d.at("user_code"))}, {"username", "nguyen.van.an"},
                                  {"password", kPassword}, {"decision", "approve"}});
  CHECK(wrong_place.body().find("Unknown or expired code") != std::string::npos);
  CHECK(oauth_error(d.poll(tls)) == "invalid_grant");
  CHECK(oauth_error(d.poll(plain)) == "authorization_pending");
}

TEST_CASE("sign-in forms are signed, bounded and kept by the browser: a flood of anonymous forms evicts nobody") {
  Sandbox sb;
  Client c(sb.port());
  // Oversized parameters get a clear page, never a redirect, and nothing is kept.
  for (const auto& [name, size] : std::vector<std::pair<std::string, std::size_t>>{
           {"state", 2049}, {"nonce", 513}, {"scope", 1025}, {"redirect_uri", 2049}, {"client_id", 129}}) {
    CAPTURE(name);
    Authorization a = demo_app(50123);
    std::string target = a.target() + "&" + name + "=" + std::string(size, 'x');
    if (name != "state" && name != "nonce") {  // no repeats: replace the parameter
      Params p = query_of(a.target());
      p[name] = std::string(size, 'x');
      target = "/oauth/authorize?" + form(p);
    } else {
      Params p = query_of(a.target());
      p[name] = std::string(size, 'x');
      target = "/oauth/authorize?" + form(p);
    }
    auto r = c.request(http::verb::get, target);
    CHECK(r.result_int() == 400);
    CHECK(r.find(http::field::location) == r.end());
    CHECK(r.body().find("The " + name + " parameter is longer than") != std::string::npos);
  }
  Authorization big = demo_app(50123);
  big.state = std::string(2048, 's');  // at the bound: fine, and comes back intact
  auto big_r = sign_in(c, big, "nguyen.van.an", kPassword);
  REQUIRE(big_r.result_int() == 302);
  CHECK(query_of(std::string(big_r[http::field::location])).at("state") == big.state);

  // Twenty people open the form; then one client opens 10,050 anonymous forms.
  struct Open {
    Authorization a;
    Params fields;
    std::string cookie;
  };
  std::vector<Open> people;
  for (int i = 0; i < 20; ++i) {
    Open o{demo_app(50200 + i), {}, {}};
    auto page = c.request(http::verb::get, o.a.target());
    REQUIRE(page.result_int() == 200);
    o.fields = hidden_inputs(page.body());
    o.cookie = cookie_of(page);
    people.push_back(std::move(o));
  }
  Authorization flood = demo_app(50999);
  flood.state = std::string(1500, 'f');
  const std::string target = flood.target();
  for (int i = 0; i < 10050; ++i) REQUIRE(c.request(http::verb::get, target).result_int() == 200);
  int signed_in = 0;
  for (auto& o : people) {
    o.fields["username"] = "tran.thi.binh";
    o.fields["password"] = kPassword;
    o.fields["decision"] = "approve";
    auto r = c.request(http::verb::post, "/oauth/authorize", form(o.fields), with(kForm, "Cookie", o.cookie));
    if (r.result_int() == 302 && query_of(std::string(r[http::field::location])).at("state") == o.a.state) ++signed_in;
  }
  CHECK(signed_in == 20);

  // The form's request is signed: changing it, or posting it with another browser's cookie, fails.
  Open& o = people[0];
  Params tampered = o.fields;
  std::string token = tampered.at("csrf_token");
  const auto d1 = token.find('.'), d2 = token.find('.', d1 + 1);
  auto payload = unb64url(token.substr(d1 + 1, d2 - d1 - 1));
  payload.replace(payload.find("50200"), 5, "50666");
  tampered["csrf_token"] = token.substr(0, d1 + 1) + b64url(payload) + token.substr(d2);
  CHECK(c.request(http::verb::post, "/oauth/authorize", form(tampered), with(kForm, "Cookie", o.cookie)).result_int() == 400);
  CHECK(c.request(http::verb::post, "/oauth/authorize", form(o.fields), with(kForm, "Cookie", people[1].cookie)).result_int() ==
        400);
}

TEST_CASE("guessing passwords: per-account lockout and a per-address limit answer 429 with Retry-After") {
  hues::testing::SandboxOptions o;
  o.max_sign_in_failures = 3;
  o.max_sign_in_failures_per_address = 6;
  o.lockout_seconds = 2;
  o.failure_window_seconds = 600;  // each failure hashes (~0.25 s, more on a loaded machine)
  Sandbox sb(o);
  Client c(sb.port());
  for (int i = 0; i < 3; ++i) {
    auto r = sign_in(c, demo_app(50123), "nguyen.van.an", "guess-" + std::to_string(i));
    CHECK(r.result_int() == 200);
    CHECK(r.body().find("Wrong username or password") != std::string::npos);
  }
  auto locked = sign_in(c, demo_app(50123), "nguyen.van.an", kPassword);  // even the right password waits
  CHECK(locked.result_int() == 429);
  CHECK(locked.find(http::field::location) == locked.end());
  const int wait = std::stoi(std::string(locked[http::field::retry_after]));
  CHECK(wait >= 1);
  CHECK(wait <= 2);
  CHECK(sign_in(c, demo_app(50123), "tran.thi.binh", kPassword).result_int() == 302);  // others are not locked out
  std::this_thread::sleep_for(std::chrono::seconds(wait) + std::chrono::milliseconds(100));
  CHECK(sign_in(c, demo_app(50123), "nguyen.van.an", kPassword).result_int() == 302);

  // One address trying many accounts: its three failures above and three more make six, then
  // every account waits (a success on one account does not clear the address's count).
  for (int i = 0; i < 3; ++i) CHECK(sign_in(c, demo_app(50123), "nobody-" + std::to_string(i), "x").result_int() == 200);
  auto limited = sign_in(c, demo_app(50123), "le.ioc", kPassword);
  CHECK(limited.result_int() == 429);
  CHECK(!std::string(limited[http::field::retry_after]).empty());
}

TEST_CASE("the device page asks for the sign-in first: no code is revealed, denied or guessed anonymously") {
  hues::testing::SandboxOptions o;
  o.max_user_code_failures = 2;
  Sandbox sb(o);
  Client c(sb.port());
  Device d = start_device(c);
  const std::string code = s(d.d.at("user_code"));
  // Without the right password, a real code and an unknown one get the same answer.
  auto real = decide(c, {{"user_code", code}, {"username", "nguyen.van.an"}, {"password", "x"}, {"decision", "approve"}});
  auto unknown = decide(c, {{"user_code", "BCDF-GHJK"}, {"username", "nguyen.van.an"}, {"password", "x"}, {"decision", "approve"}});
  for (const auto* r : {&real, &unknown}) {
    CHECK(r->result_int() == 200);
    CHECK(r->body().find("Wrong username or password") != std::string::npos);
    CHECK(r->body().find("Unknown or expired code") == std::string::npos);
  }
  // An anonymous deny ends nobody's sign-in.
  auto anonymous = decide(c, {{"user_code", code}, {"decision", "deny"}});
  CHECK(anonymous.body().find("Denied") == std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  CHECK(oauth_error(d.poll(c)) == "authorization_pending");

  // Signed in, wrong codes are counted: two, then 429 even for the right one.
  for (const char* guess : {"BCDF-GHJK", "CDFG-HJKL"}) {
    auto r = decide(c, {{"user_code", guess}, {"username", "tran.thi.binh"}, {"password", kPassword}, {"decision", "approve"}});
    CHECK(r.body().find("Unknown or expired code") != std::string::npos);
  }
  auto limited = decide(c, {{"user_code", code}, {"username", "tran.thi.binh"}, {"password", kPassword}, {"decision", "approve"}});
  CHECK(limited.result_int() == 429);
  CHECK(!std::string(limited[http::field::retry_after]).empty());
  // Someone else, signed in, approves it.
  auto ok = decide(c, {{"user_code", code}, {"username", "nguyen.van.an"}, {"password", kPassword}, {"decision", "approve"}});
  CHECK(ok.body().find("Approved") != std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  CHECK(d.poll(c).result_int() == 200);
}

TEST_CASE("passwords are PBKDF2-HMAC-SHA256 with 600,000 iterations; older hashes verify and are upgraded") {
  TempDir dir;
  hues::testing::SandboxOptions o;
  o.data_dir = dir.path;
  const std::string db = dir.path + "/sandbox.db";
  auto hash_of = [&](const std::string& user) { return db_text(db, "SELECT password_hash FROM users WHERE username = '" + user + "'"); };
  {
    Sandbox sb(o);
    Client c(sb.port());
    CHECK(hash_of("nguyen.van.an") == "seed$");  // hashed on first sign-in, not at seed time
    REQUIRE(sign_in(c, demo_app(50123), "nguyen.van.an", kPassword).result_int() == 302);
    CHECK(hash_of("nguyen.van.an").rfind("pbkdf2-sha256$600000$", 0) == 0);
    CHECK(sign_in(c, demo_app(50123), "le.ioc", "HueS-demo-2024").result_int() == 200);  // a seed hash checks the password too
    CHECK(hash_of("le.ioc") == "seed$");
  }
  // A hash from before: 20,000 iterations of the same scheme.
  unsigned char salt[16], dk[32];
  REQUIRE(RAND_bytes(salt, sizeof salt) == 1);
  REQUIRE(PKCS5_PBKDF2_HMAC(kPassword.data(), static_cast<int>(kPassword.size()), salt, sizeof salt, 20000, EVP_sha256(),
                            sizeof dk, dk) == 1);
  const std::string old = "pbkdf2-sha256$20000$" + b64url(std::string(reinterpret_cast<char*>(salt), sizeof salt)) + "$" +
                          b64url(std::string(reinterpret_cast<char*>(dk), sizeof dk));
  db_exec(db, "UPDATE users SET password_hash = '" + old + "' WHERE username = 'tran.thi.binh'");
  Sandbox sb(o);
  Client c(sb.port());
  CHECK(sign_in(c, demo_app(50123), "tran.thi.binh", "not-it").result_int() == 200);
  CHECK(hash_of("tran.thi.binh") == old);
  CHECK(sign_in(c, demo_app(50123), "tran.thi.binh", kPassword).result_int() == 302);
  const std::string upgraded = hash_of("tran.thi.binh");
  CHECK(upgraded.rfind("pbkdf2-sha256$600000$", 0) == 0);
  CHECK(upgraded != old);
  CHECK(sign_in(c, demo_app(50123), "tran.thi.binh", kPassword).result_int() == 302);
}
