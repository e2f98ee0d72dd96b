#include "oidc.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <boost/beast/http/field.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>


#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <mutex>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "db.h"
#include "internal/json_codec.h"
#include "jose.h"
#include "seed.h"
#include "throttle.h"
#include "util.h"

namespace hues::sandbox {
namespace {

namespace http = boost::beast::http;
using Params = std::map<std::string, std::string>;

constexpr std::int64_t kCodeTtl = 60, kAccessTtl = 600, kRefreshTtl = 30 * 24 * 3600, kIdTokenTtl = 600;
constexpr std::int64_t kDeviceTtl = 600, kDeviceInterval = 1, kFormTtl = 600;
// Bounds on what an anonymous GET /oauth/authorize may carry (it all ends up in the form).
constexpr std::size_t kMaxClientId = 128, kMaxRedirectUri = 2048, kMaxScope = 1024, kMaxState = 2048,
                      kMaxNonce = 512, kMaxShortParam = 32, kMaxUsername = 256, kMaxPassword = 1024;
constexpr const char* kDeviceGrant = "urn:ietf:params:oauth:grant-type:device_code";
constexpr const char* kCsrfCookie = "hues_csrf";

// An RFC 6749 §5.2 error from the token-side endpoints.
struct OAuthError {
  int status;
  std::string error, description;
  std::string www_authenticate;  // Basic realm for invalid_client via Basic; Bearer for userinfo
};
OAuthError oauth(std::string error, std::string description, int status = 400) {
  return {status, std::move(error), std::move(description), ""};
}
// An error shown to the person in the browser, never redirected (unknown client, bad redirect_uri).
struct PageError {
  std::string message;
};

std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string(s)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}
bool contains(const std::vector<std::string>& v, std::string_view x) { return std::find(v.begin(), v.end(), x) != v.end(); }
bool within(const std::string& requested, const std::vector<std::string>& allowed) {
  for (const auto& s : split(requested))
    if (!contains(allowed, s)) return false;
  return true;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
// application/x-www-form-urlencoded decoding ('+' is a space).
std::optional<std::string> form_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') out.push_back(' ');
    else if (s[i] != '%') out.push_back(s[i]);
    else if (i + 2 < s.size() + 0 && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else return std::nullopt;
  }
  return out;
}
std::string pct_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') out.push_back(static_cast<char>(c));
    else out += {'%', kHex[c >> 4], kHex[c & 15]};
  }
  return out;
}
// RFC 6749 §3.1: parameters sent without a value are treated as omitted; none may repeat.
Params parse_form(std::string_view body) {
  Params p;
  while (!body.empty()) {
    auto amp = body.find('&');
    auto pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto k = form_decode(pair.substr(0, eq));
    auto v = form_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!k || !v) throw oauth("invalid_request", "malformed form encoding");
    if (v->empty()) continue;
    if (!p.emplace(*k, *v).second) throw oauth("invalid_request", "parameter " + *k + " is repeated");
  }
  return p;
}
std::string get(const Params& p, const std::string& k) {
  auto it = p.find(k);
  return it == p.end() ? std::string() : it->second;
}

std::string html_escape(std::string_view raw) {
  const std::string s = valid_utf8(raw);  // the page is UTF-8 whatever the client sent
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string page(const std::string& title, const std::string& body) {
  return "<!doctype html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\"><title>" + html_escape(title) +
         "</title><meta name=\"viewport\" content=\"width=device-width\"></head>\n<body><h1>" + html_escape(title) +
         "</h1>\n" + body + "</body></html>\n";
}
void html(Response& res, http::status status, std::string body) {
  res.result(status);
  res.set(http::field::content_type, "text/html; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  // The forms post only to this origin and must never be framed (clickjacking).
  res.set("Content-Security-Policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'");
  res.set("X-Frame-Options", "DENY");
  res.body() = std::move(body);
}
void json(Response& res, http::status status, const boost::json::value& v, bool no_store = false) {
  res.result(status);
  res.set(http::field::content_type, "application/json");
  if (no_store) {
    res.set(http::field::cache_control, "no-store");
    res.set(http::field::pragma, "no-cache");
  }
  res.body() = boost::json::serialize(v);
}

std::string hash_key(std::string_view token) {
  const Sha256 h = sha256(token);
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}
std::int64_t now_s() { return static_cast<std::int64_t>(now()); }
std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Standard base64 (Basic credentials); nullopt on anything else.
std::optional<std::string> base64_decode(std::string_view s) {
  if (s.empty() || s.size() % 4 != 0) return std::nullopt;
  std::string out(s.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(s.data()),
                          static_cast<int>(s.size()));
  if (n < 0) return std::nullopt;
  std::size_t pad = s.back() == '=' ? (s[s.size() - 2] == '=' ? 2 : 1) : 0;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

struct Client {
  std::string id;
  std::optional<Sha256> secret;
  bool native = false;
  std::vector<std::string> grants, scopes, redirect_uris;
  std::string alg;
  bool confidential() const { return secret.has_value(); }
};

struct Key {
  std::string kid, alg;
  PKey key;
  boost::json::object jwk;
  bool signing = false;
  std::int64_t remove_at = 0;  // 0: stays in the JWKS
};

// The authorization request parameters a sign-in form carries, with their bounds.
constexpr std::pair<const char*, std::size_t> kAuthorizeParams[] = {
    {"response_type", kMaxShortParam}, {"client_id", kMaxClientId}, {"redirect_uri", kMaxRedirectUri},
    {"scope", kMaxScope}, {"state", kMaxState}, {"nonce", kMaxNonce}, {"code_challenge", 43},
    {"code_challenge_method", kMaxShortParam}};

// RFC 8252 §7.3: a native client's loopback redirect matches with any port, but a port it
// is: 1 to 65535 in decimal. The URI without that port when it is a loopback one, the URI
// itself otherwise, nullopt for an empty, zero, zero-padded or out-of-range port.
std::optional<std::string> without_loopback_port(const std::string& uri) {
  auto u = boost::urls::parse_uri(uri);
  if (!u || u->scheme() != "http" || !u->has_port()) return uri;
  const auto host = u->encoded_host_address();
  if (host != "127.0.0.1" && host != "[::1]") return uri;
  const auto port = u->port();
  if (port.empty() || port.size() > 5 || port.front() == '0' ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoul(std::string(port)) > 65535)
    return std::nullopt;
  boost::urls::url copy(*u);
  copy.remove_port();
  return std::string(copy.buffer());
}

std::string with_query(std::string uri, const std::vector<std::pair<std::string, std::string>>& params) {
  char sep = uri.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;
    uri += sep + k + "=" + pct_encode(v);
    sep = '&';
  }
  return uri;
}

std::string cookie_value(const Request& req, std::string_view name) {
  std::string_view all = req[http::field::cookie];
  while (!all.empty()) {
    auto semi = all.find(';');
    auto part = all.substr(0, semi);
    all = semi == std::string_view::npos ? std::string_view() : all.substr(semi + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.size() > name.size() && part.substr(0, name.size()) == name && part[name.size()] == '=')
      return std::string(part.substr(name.size() + 1));
  }
  return {};
}

bool is_form(const Request& req) {
  std::string_view ct = req[http::field::content_type];
  ct = ct.substr(0, ct.find(';'));
  while (!ct.empty() && ct.back() == ' ') ct.remove_suffix(1);
  return boost::beast::iequals(ct, "application/x-www-form-urlencoded");
}

}  // namespace

struct Oidc::Impl {
  std::mutex mu;  // guards db and the maps below
  Db db;
  std::unordered_map<std::string, Client> clients;
  std::vector<Key> keys;
  // Signs the sign-in forms (and binds them to their cookie and issuer): no table of pending
  // forms that a flood of anonymous GETs could fill or evict. New on every start.
  const std::string form_key = internal::random_bytes(32);
  SignInLimits limits;
  Throttle password_by_account, password_by_address, code_by_account, code_by_address;

  Impl(const std::string& path, const SignInLimits& l)
      : db(path, false),
        limits(l),
        password_by_account(l.account_failures, l.window_seconds, l.lockout_seconds),
        password_by_address(l.address_failures, l.window_seconds, l.lockout_seconds),
        code_by_account(l.user_code_failures, l.window_seconds, l.lockout_seconds),
        code_by_address(2 * l.user_code_failures, l.window_seconds, l.lockout_seconds) {
    // The Store made the database and its -wal/-shm owner-only before opening them.
    auto c = db.prepare("SELECT client_id, secret_sha256, native, grants, scopes, redirect_uris, id_token_alg FROM oauth_clients");
    while (c.step()) {
      Client cl{std::string(c.text(0)), std::nullopt, c.int64(2) != 0, split(c.text(3)), split(c.text(4)),
                split(c.text(5)), std::string(c.text(6))};
      if (!c.is_null(1)) {
        Sha256 h{};
        auto b = c.blob(1);
        std::copy(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(std::min(b.size(), h.size())), h.begin());
        cl.secret = h;
      }
      clients.emplace(cl.id, std::move(cl));
    }
    auto k = db.prepare("SELECT kid, alg, private_pem, signing, COALESCE(remove_at, 0) FROM signing_keys ORDER BY created_at");
    while (k.step()) {
      Key key{std::string(k.text(0)), std::string(k.text(1)), load_private_key(std::string(k.text(2))), {},
              k.int64(3) != 0, k.int64(4)};
      key.jwk = public_jwk(key.key.get());
      keys.push_back(std::move(key));
    }
    for (const char* alg : {"RS256", "ES256"})
      if (!signer(alg)) add_key(alg);
  }

  Key* signer(std::string_view alg) {
    for (auto it = keys.rbegin(); it != keys.rend(); ++it)
      if (it->alg == alg && it->signing) return &*it;
    return nullptr;
  }

  std::string add_key(const std::string& alg) {
    const std::string pem = generate_key_pem(alg);
    Key key{"", alg, load_private_key(pem), {}, true, 0};
    key.jwk = public_jwk(key.key.get());
    key.kid = jwk_thumbprint(key.jwk);
    Tx tx(db);
    db.prepare("UPDATE signing_keys SET signing = 0 WHERE alg = ?").bind(1, alg).exec();
    db.prepare("INSERT INTO signing_keys (kid, alg, private_pem, created_at, signing) VALUES (?,?,?,?,1)")
        .bind(1, key.kid).bind(2, alg).bind(3, pem).bind(4, now_s()).exec();
    tx.commit();
    for (auto& k : keys)
      if (k.alg == alg) k.signing = false;
    keys.push_back(std::move(key));
    return keys.back().kid;
  }

  bool retire(const std::string& kid, std::int64_t grace) {
    auto it = std::find_if(keys.begin(), keys.end(), [&](const Key& k) { return k.kid == kid; });
    if (it == keys.end()) return false;
    const std::string alg = it->alg;
    const std::int64_t at = now_s() + grace;
    db.prepare("UPDATE signing_keys SET signing = 0, remove_at = ? WHERE kid = ?").bind(1, at).bind(2, kid).exec();
    if (grace <= 0) {
      db.prepare("DELETE FROM signing_keys WHERE kid = ?").bind(1, kid).exec();
      keys.erase(it);
    } else {
      it->signing = false;
      it->remove_at = at;
    }
    if (!signer(alg)) add_key(alg);  // an algorithm is never left without a signing key
    return true;
  }

  boost::json::object jwks() {
    boost::json::array arr;
    const auto t = now_s();
    for (const auto& k : keys) {
      if (k.remove_at && k.remove_at <= t) continue;
      auto jwk = k.jwk;
      jwk["kid"] = k.kid;
      jwk["use"] = "sig";
      jwk["alg"] = k.alg;
      arr.push_back(std::move(jwk));
    }
    return {{"keys", std::move(arr)}};
  }

  // ---- people and tokens (caller holds mu) ----

  std::optional<CitizenProfile> profile(std::string_view sub) {
    auto s = db.prepare("SELECT sub, name, phone_number, verification_level, role, agency_code, ward FROM users WHERE sub = ?");
    s.bind(1, sub);
    if (!s.step()) return std::nullopt;
    return CitizenProfile{std::string(s.text(0)), std::string(s.text(1)), std::string(s.text(2)), s.int64(3),
                          std::string(s.text(4)), std::string(s.text(5)), std::string(s.text(6))};
  }

  // The sub of username when password is right. A missing user costs a hash too. The hash
  // (600,000 PBKDF2 iterations) runs with lk unlocked, so sign-ins never stall the token
  // endpoint or Bearer checks; a hash with fewer iterations, or none yet (a seeded person's
  // first sign-in), is replaced by a current one.
  std::optional<std::string> check_password(std::unique_lock<std::mutex>& lk, const std::string& username,
                                            const std::string& password) {
    static const std::string dummy = hash_password("not a password");
    std::string sub, stored = dummy;
    {
      auto s = db.prepare("SELECT sub, password_hash FROM users WHERE username = ?");
      s.bind(1, username);
      if (s.step()) sub = s.text(0), stored = s.text(1);
    }
    lk.unlock();
    bool ok = false;
    std::string upgraded;
    if (stored == kSeedPasswordHash) {
      ok = constant_time_equals(password, kSeedPassword);
      upgraded = hash_password(password);  // made either way: the same cost as a verify
    } else {
      ok = verify_password(password, stored);
      if (ok && password_needs_rehash(stored)) upgraded = hash_password(password);
    }
    lk.lock();
    if (sub.empty() || !ok) return std::nullopt;
    if (!upgraded.empty())
      db.prepare("UPDATE users SET password_hash = ? WHERE sub = ? AND password_hash = ?")
          .bind(1, upgraded).bind(2, sub).bind(3, stored).exec();
    return sub;
  }

  // Seconds the sign-in must wait (429), 0 when it may go on: the account's and the client
  // address's password failures, and with codes their user-code failures too.
  std::int64_t sign_in_wait(const std::string& username, const std::string& address, bool codes) const {
    const auto t = now_s();
    std::int64_t w = std::max(password_by_account.retry_after(username, t), password_by_address.retry_after(address, t));
    if (codes) w = std::max({w, code_by_account.retry_after(username, t), code_by_address.retry_after(address, t)});
    return w;
  }

  void purge_expired() {
    const auto t = now_s();
    for (Throttle* th : {&password_by_account, &password_by_address, &code_by_account, &code_by_address}) th->purge(t);
    db.prepare("DELETE FROM auth_codes WHERE expires_at <= ?").bind(1, t).exec();
    db.prepare("DELETE FROM device_grants WHERE expires_at <= ?").bind(1, t).exec();
  }

  void revoke_family(const std::string& family) {
    db.prepare("UPDATE oauth_tokens SET revoked = 1 WHERE family = ?").bind(1, family).exec();
  }

  void store_token(const std::string& token, const char* kind, const Client& c, const std::string& sub,
                   const std::string& scope, const std::string& family, std::int64_t auth_time, std::int64_t ttl,
                   const std::string& issuer) {
    const std::string h = hash_key(token);
    db.prepare("INSERT INTO oauth_tokens (token_sha256, kind, client_id, sub, scope, family, auth_time, expires_at, "
               "issuer) VALUES (?,?,?,?,?,?,?,?,?)")
        .bind_blob(1, h.data(), h.size()).bind(2, kind).bind(3, c.id).bind(4, sub).bind(5, scope).bind(6, family)
        .bind(7, auth_time).bind(8, now_s() + ttl).bind(9, issuer).exec();
  }

  boost::json::value issue(const Client& c, const std::string& sub, const std::string& scope, const std::string& family,
                           std::int64_t auth_time, const std::string& nonce, const std::string& issuer) {
    TokenResponse t;
    t.access_token = random_id("hat_", 40);
    t.token_type = "Bearer";
    t.expires_in = kAccessTtl;
    t.scope = scope;
    store_token(t.access_token, "access", c, sub, scope, family, auth_time, kAccessTtl, issuer);
    if (!sub.empty() && contains(c.grants, "refresh_token")) {
      t.refresh_token = random_id("hrt_", 40);
      store_token(t.refresh_token, "refresh", c, sub, scope, family, auth_time, kRefreshTtl, issuer);
    }
    const auto scopes = split(scope);
    if (!sub.empty() && contains(scopes, "openid")) {
      auto who = profile(sub);
      Key* key = signer(c.alg);
      const auto iat = now_s();
      boost::json::object claims{{"iss", issuer}, {"sub", sub}, {"aud", c.id}, {"azp", c.id}, {"exp", iat + kIdTokenTtl},
                                 {"iat", iat}, {"auth_time", auth_time}};
      if (!nonce.empty()) claims["nonce"] = nonce;
      if (who) {
        claims["name"] = who->name;
        claims["verification_level"] = who->verification_level;
        claims["role"] = who->role.str();
        if (!who->agency_code.empty()) claims["agency_code"] = who->agency_code;  // staff: which inbox; IOC: "IOC"
      }
      t.id_token = sign_jwt(key->key.get(), key->alg, key->kid, claims);
    }
    auto v = internal::to_json(t);
    auto& o = v.as_object();
    for (const char* optional : {"refresh_token", "id_token"})  // absent, not empty (RFC 6749 §5.1)
      if (o.at(optional).as_string().empty()) o.erase(optional);
    return v;
  }

  // A sign-in form's csrf_token: "<expiry>.<request>.<mac>", the HMAC binding the request
  // (authorize parameters; none for the device form) to its kind, the issuer that served it
  // and the browser's cookie, so it verifies only there, only with that cookie, until expiry.
  std::string form_mac(std::string_view kind, const std::string& issuer, std::string_view cookie, std::string_view exp,
                       std::string_view request) const {
    std::string input = "hues-form-v1\n";
    for (auto part : {kind, std::string_view(issuer), cookie, exp, request}) input.append(part).push_back('\n');
    return base64url_encode(hmac_sha256(form_key, input));
  }
  std::string sign_form(std::string_view kind, const std::string& issuer, const std::string& cookie, const Params& request) const {
    boost::json::object o;
    for (const auto& [k, v] : request) o[k] = v;
    const std::string exp = std::to_string(now_s() + kFormTtl), body = base64url_encode(boost::json::serialize(o));
    return exp + "." + body + "." + form_mac(kind, issuer, cookie, exp, body);
  }
  // The request a posted form carries, or nullopt when its token is forged, expired, from
  // another issuer or posted without the cookie it was issued with.
  std::optional<Params> open_form(const Request& req, const Params& p, std::string_view kind, const std::string& issuer) const {
    const std::string token = get(p, "csrf_token"), cookie = cookie_value(req, kCsrfCookie);
    const auto d1 = token.find('.'), d2 = token.find('.', d1 + 1);
    if (cookie.empty() || d2 == std::string::npos) return std::nullopt;
    const std::string_view t(token), exp = t.substr(0, d1), body = t.substr(d1 + 1, d2 - d1 - 1);
    if (!constant_time_equals(form_mac(kind, issuer, cookie, exp, body), t.substr(d2 + 1))) return std::nullopt;
    std::int64_t expires = 0;
    if (std::from_chars(exp.data(), exp.data() + exp.size(), expires).ec != std::errc() || expires <= now_s())
      return std::nullopt;
    Params out;
    auto json = base64url_decode(body);
    if (!json) return std::nullopt;
    const boost::json::value v = boost::json::parse(*json);  // ours: we signed it
    for (const auto& [k, x] : v.as_object()) out[std::string(k)] = std::string(x.as_string());
    return out;
  }
};

namespace {

std::string hidden(const std::string& name, const std::string& value) {
  return "<input type=\"hidden\" name=\"" + html_escape(name) + "\" value=\"" + html_escape(value) + "\">\n";
}
const char* kCredentials =
    "<p><label>Tên đăng nhập / Username <input name=\"username\" autocomplete=\"username\" required></label></p>\n"
    "<p><label>Mật khẩu / Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\"></label></p>\n"
    "<p><button type=\"submit\" name=\"decision\" value=\"approve\">Đồng ý / Approve</button>\n"
    "<button type=\"submit\" name=\"decision\" value=\"deny\">Từ chối / Deny</button></p>\n";
const char* kWrongPassword =
    "<p role=\"alert\" class=\"error\">Sai tên đăng nhập hoặc mật khẩu. / Wrong username or password.</p>\n";

void set_csrf_cookie(Response& res, const std::string& cookie, bool secure) {
  res.set(http::field::set_cookie, std::string(kCsrfCookie) + "=" + cookie +
                                       "; Path=/; HttpOnly; SameSite=Strict; Max-Age=600" + (secure ? "; Secure" : ""));
}

// 429 for a sign-in page (RFC 6585 §4), with Retry-After (RFC 9110 §10.2.3) in seconds.
void too_many(Response& res, std::int64_t wait) {
  html(res, http::status::too_many_requests,
       page("Thử lại sau / Try again later",
            "<p role=\"alert\">Quá nhiều lần đăng nhập sai. Vui lòng thử lại sau " + std::to_string(wait) +
                " giây. / Too many failed sign-ins; try again in " + std::to_string(wait) + " seconds.</p>\n"));
  res.set(http::field::retry_after, std::to_string(wait));
}

}  // namespace

Oidc::Oidc(const std::string& db_path, const SignInLimits& limits) : impl_(std::make_unique<Impl>(db_path, limits)) {}

void Oidc::purge_expired() {
  std::lock_guard<std::mutex> lk(impl_->mu);
  impl_->purge_expired();
}
Oidc::~Oidc() = default;

std::optional<CitizenProfile> Oidc::profile(std::string_view sub) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  return impl_->profile(sub);
}

std::optional<Caller> Oidc::caller_of(std::string_view access_token, const std::string& issuer) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  const std::string h = hash_key(access_token);
  auto s = impl_->db.prepare(
      "SELECT t.client_id, t.sub, t.scope, u.role, u.agency_code FROM oauth_tokens t LEFT JOIN users u ON u.sub = t.sub "
      "WHERE t.token_sha256 = ? AND t.kind = 'access' AND t.revoked = 0 AND t.expires_at > ? AND t.issuer = ?");
  s.bind_blob(1, h.data(), h.size()).bind(2, now_s()).bind(3, issuer);
  if (!s.step()) return std::nullopt;
  Caller c;
  c.client_id = s.text(0);
  c.principal = s.text(1).empty() ? c.client_id : std::string(s.text(1));
  c.scope = s.text(2);
  c.role = s.text(3);
  c.agency_code = s.text(4);
  return c;
}

bool Oidc::handle(const Request& req, Response& res, std::string_view path, const std::string& issuer,
                  const std::string& client) {
  Impl& m = *impl_;
  const bool post = req.method() == http::verb::post;
  const bool get_like = req.method() == http::verb::get || req.method() == http::verb::head;
  auto only = [&](bool ok, const char* allow) {
    if (!ok)
      throw ApiError{405, "method_not_allowed",
                     std::string(req.method_string()) + " is not allowed here; allowed: " + allow, allow};
    return true;
  };
  auto query = [&] {
    Params p;
    auto u = boost::urls::parse_origin_form(req.target());
    if (u)
      for (auto q : u->params())
        if (!q.value.empty() && !p.emplace(q.key, q.value).second) throw PageError{"parameter " + q.key + " is repeated"};
    return p;
  };
  const bool secure = issuer.rfind("https:", 0) == 0;

  try {
    if (path == "/.well-known/openid-configuration") {
      if (!only(get_like, "GET, HEAD")) return true;
      ProviderMetadata meta{issuer, issuer + "/oauth/authorize", issuer + "/oauth/token", issuer + "/oauth/userinfo",
                            issuer + "/oauth/jwks", issuer + "/oauth/revoke", issuer + "/oauth/device_authorization",
                            {"RS256", "ES256"}, {"S256"}};
      auto v = internal::to_json(meta);
      auto& o = v.as_object();
      auto arr = [](std::initializer_list<const char*> xs) {
        boost::json::array a;
        for (auto x : xs) a.emplace_back(x);
        return a;
      };
      o["response_types_supported"] = arr({"code"});
      o["response_modes_supported"] = arr({"query"});
      o["grant_types_supported"] = arr({"authorization_code", "refresh_token", "client_credentials", kDeviceGrant});
      o["subject_types_supported"] = arr({"public"});
      o["token_endpoint_auth_methods_supported"] = arr({"client_secret_basic", "client_secret_post", "none"});
      o["revocation_endpoint_auth_methods_supported"] = arr({"client_secret_basic", "client_secret_post", "none"});
      o["scopes_supported"] = arr({"openid", "profile", "phone", "offline_access", "reports:read", "reports:write"});
      o["claims_supported"] = arr({"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "azp", "name",
                                   "phone_number", "verification_level", "role", "agency_code", "ward"});
      o["authorization_response_iss_parameter_supported"] = true;
      json(res, http::status::ok, v);
      return true;
    }
    if (path == "/oauth/jwks") {
      if (!only(get_like, "GET, HEAD")) return true;
      std::lock_guard<std::mutex> lk(m.mu);
      json(res, http::status::ok, m.jwks());
      return true;
    }
    if (path == "/oauth/authorize") {
      if (!only(get_like || post, "GET, HEAD, POST")) return true;
      std::unique_lock<std::mutex> lk(m.mu);
      Params p, r;  // p: this request's parameters; r: the authorization request
      if (post) {
        if (!is_form(req)) throw PageError{"the form must be application/x-www-form-urlencoded"};
        p = parse_form(req.body());
        auto opened = m.open_form(req, p, "authorize", issuer);
        if (!opened) throw PageError{"Phiên đăng nhập đã hết hạn, vui lòng thử lại. / The sign-in form expired, was not "
                                     "issued to this browser or not by this server; start again."};
        r = std::move(*opened);
      } else {
        p = query();
        for (const auto& [name, limit] : kAuthorizeParams)  // before anything is kept or echoed
          if (get(p, name).size() > limit)
            throw PageError{std::string("Tham số quá dài. / The ") + name + " parameter is longer than " +
                            std::to_string(limit) + " bytes."};
        for (const auto& [name, limit] : kAuthorizeParams)
          if (p.count(name)) r[name] = p.at(name);
      }
      auto cit = m.clients.find(get(r, "client_id"));
      if (cit == m.clients.end()) throw PageError{"Ứng dụng không xác định. / Unknown client_id."};
      const Client& c = cit->second;
      const std::string redirect = get(r, "redirect_uri");
      bool registered = false;
      const auto loopback = c.native ? without_loopback_port(redirect) : std::nullopt;
      for (const auto& u : c.redirect_uris)
        registered = registered || u == redirect || (loopback && !redirect.empty() && without_loopback_port(u) == loopback);
      if (!registered) throw PageError{"redirect_uri không được đăng ký cho ứng dụng này. / redirect_uri is not registered for this client."};
      const std::string state = get(r, "state");
      auto back = [&](std::vector<std::pair<std::string, std::string>> q) {
        q.emplace_back("state", state);
        q.emplace_back("iss", issuer);
        res.result(http::status::found);
        res.set(http::field::location, with_query(redirect, q));
        res.set(http::field::cache_control, "no-store");
      };
      auto error_back = [&](const char* e, const std::string& d) { back({{"error", e}, {"error_description", d}}); };
      auto form_page = [&](const std::string& token, const char* alert) {
        std::string body = std::string(alert) + "<p>Ứng dụng <b>" + html_escape(c.id) + "</b> muốn truy cập: / The app <b>" +
                           html_escape(c.id) + "</b> asks for: <code>" + html_escape(get(r, "scope")) + "</code></p>\n"
                           "<form method=\"post\" action=\"/oauth/authorize\">\n" + hidden("csrf_token", token);
        for (const auto& [k, v] : r) body += hidden(k, v);  // for show: the server reads them from the token
        html(res, http::status::ok, page("Đăng nhập Hue-S / Sign in to Hue-S", body + kCredentials + "</form>\n"));
      };

      if (!post) {
        std::string scope = get(r, "scope");
        if (get(r, "response_type") != "code") return error_back("unsupported_response_type", "response_type must be code"), true;
        if (!contains(c.grants, "authorization_code")) return error_back("unauthorized_client", "this client may not use the code flow"), true;
        if (!within(scope, c.scopes)) return error_back("invalid_scope", "a requested scope is not allowed for this client"), true;
        const std::string challenge = get(r, "code_challenge"), method = get(r, "code_challenge_method");
        if (!c.confidential() && challenge.empty()) return error_back("invalid_request", "public clients must send a PKCE code_challenge"), true;
        if (!challenge.empty() && method != "S256") return error_back("invalid_request", "code_challenge_method must be S256"), true;
        if (!challenge.empty() && (challenge.size() != 43 || !base64url_decode(challenge)))
          return error_back("invalid_request", "code_challenge must be a base64url SHA-256 digest"), true;
        if (scope.empty()) r["scope"] = scope = [&] { std::string s; for (auto& x : c.scopes) s += (s.empty() ? "" : " ") + x; return s; }();
        const std::string cookie = random_id("", 32);
        set_csrf_cookie(res, cookie, secure);
        form_page(m.sign_form("authorize", issuer, cookie, r), "");
        return true;
      }
      const std::string token = get(p, "csrf_token");
      if (get(p, "decision") == "deny") return error_back("access_denied", "the user denied the request"), true;
      if (get(p, "decision") != "approve") throw PageError{"decision must be approve or deny"};
      const std::string username = get(p, "username"), password = get(p, "password");
      if (const auto wait = m.sign_in_wait(username, client, false)) return too_many(res, wait), true;
      auto sub = username.size() > kMaxUsername || password.size() > kMaxPassword
                     ? std::nullopt : m.check_password(lk, username, password);
      if (!sub) {
        m.password_by_account.failure(username, now_s());
        m.password_by_address.failure(client, now_s());
        form_page(token, kWrongPassword);
        return true;
      }
      m.password_by_account.success(username);
      const std::string code = random_id("hac_", 40), h = hash_key(code);
      m.db.prepare("INSERT INTO auth_codes (code_sha256, client_id, redirect_uri, scope, sub, nonce, code_challenge, "
                   "auth_time, expires_at, family, issuer) VALUES (?,?,?,?,?,?,?,?,?,?,?)")
          .bind_blob(1, h.data(), h.size()).bind(2, c.id).bind(3, redirect).bind(4, get(r, "scope")).bind(5, *sub)
          .bind(6, get(r, "nonce")).bind(7, get(r, "code_challenge")).bind(8, now_s()).bind(9, now_s() + kCodeTtl)
          .bind(10, random_id("fam_", 20)).bind(11, issuer).exec();
      res.result(http::status::found);
      res.set(http::field::location, with_query(redirect, {{"code", code}, {"state", state}, {"iss", issuer}}));
      res.set(http::field::cache_control, "no-store");
      return true;
    }
    if (path == "/device") {
      if (!only(get_like || post, "GET, HEAD, POST")) return true;
      std::unique_lock<std::mutex> lk(m.mu);
      auto form_page = [&](const std::string& token, const std::string& user_code, const char* alert) {
        std::string body = std::string(alert) + "<form method=\"post\" action=\"/device\">\n" + hidden("csrf_token", token) +
                           "<p><label>Mã thiết bị / Device code <input name=\"user_code\" value=\"" +
                           html_escape(user_code.substr(0, 64)) + "\" required></label></p>\n" + kCredentials + "</form>\n";
        html(res, http::status::ok, page("Kết nối thiết bị / Connect a device", body));
      };
      if (!post) {  // says nothing about the code before the person has signed in
        const std::string cookie = random_id("", 32);
        set_csrf_cookie(res, cookie, secure);
        form_page(m.sign_form("device", issuer, cookie, {}), get(query(), "user_code"), "");
        return true;
      }
      if (!is_form(req)) throw PageError{"the form must be application/x-www-form-urlencoded"};
      Params p = parse_form(req.body());
      if (!m.open_form(req, p, "device", issuer))
        throw PageError{"Phiên đã hết hạn, vui lòng thử lại. / The form expired or was not issued here; start again."};
      // RFC 8628 §5.1: who decides must sign in first, and guessing codes is rate-limited per
      // account and per address, so neither approve nor deny can be tried anonymously.
      const std::string username = get(p, "username"), password = get(p, "password");
      if (const auto wait = m.sign_in_wait(username, client, true)) return too_many(res, wait), true;
      auto sub = username.size() > kMaxUsername || password.size() > kMaxPassword
                     ? std::nullopt : m.check_password(lk, username, password);
      if (!sub) {
        m.password_by_account.failure(username, now_s());
        m.password_by_address.failure(client, now_s());
        form_page(get(p, "csrf_token"), get(p, "user_code"), kWrongPassword);
        return true;
      }
      m.password_by_account.success(username);
      std::string code;
      for (char ch : get(p, "user_code").substr(0, 64))
        if (std::isalpha(static_cast<unsigned char>(ch))) code.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
      if (code.size() == 8) code.insert(4, "-");
      auto s = m.db.prepare("SELECT state FROM device_grants WHERE user_code = ? AND expires_at > ? AND issuer = ?");
      s.bind(1, code).bind(2, now_s()).bind(3, issuer);
      if (!s.step() || s.text(0) != "pending") {
        m.code_by_account.failure(username, now_s());
        m.code_by_address.failure(client, now_s());
        form_page(get(p, "csrf_token"), get(p, "user_code"),
                  "<p role=\"alert\" class=\"error\">Mã không hợp lệ hoặc đã hết hạn. / Unknown or expired code.</p>\n");
        return true;
      }
      s.reset();
      const bool approve = get(p, "decision") == "approve";
      if (!approve && get(p, "decision") != "deny") throw PageError{"decision must be approve or deny"};
      m.db.prepare("UPDATE device_grants SET state = ?, sub = ?, auth_time = ? WHERE user_code = ? AND issuer = ?")
          .bind(1, approve ? "approved" : "denied").bind(2, approve ? *sub : std::string()).bind(3, now_s())
          .bind(4, code).bind(5, issuer).exec();
      html(res, http::status::ok,
           page(approve ? "Đã cho phép / Approved" : "Đã từ chối / Denied",
                approve ? "<p>Thiết bị đã được kết nối. Bạn có thể quay lại thiết bị. / The device is now signed in; "
                          "return to it.</p>\n"
                        : "<p>Yêu cầu đã bị từ chối. / The request was denied.</p>\n"));
      return true;
    }
    if (path == "/oauth/userinfo") {
      if (!only(get_like || post, "GET, HEAD, POST")) return true;
      auto auth = req[http::field::authorization];
      std::optional<Caller> who;
      if (auth.size() > 7 && boost::beast::iequals(auth.substr(0, 7), "Bearer ")) who = caller_of(auth.substr(7), issuer);
      if (!who) throw OAuthError{401, "invalid_token", "a valid Bearer access token is required",
                                 R"(Bearer error="invalid_token")"};
      if (who->role.empty() || !contains(split(who->scope), "openid"))
        throw OAuthError{403, "insufficient_scope", "the token lacks the openid scope",
                         R"(Bearer error="insufficient_scope", scope="openid")"};
      auto prof = profile(who->principal);
      json(res, http::status::ok, internal::to_json(*prof), true);
      return true;
    }
    if (path == "/admin/keys/rotate" || path == "/admin/keys/retire") {
      if (!only(post, "POST")) return true;
      if (!equal_secret(sha256(req["X-Admin-Key"]), sha256(kAdminKey)))
        throw ApiError{401, "invalid_admin_key", "the X-Admin-Key header is missing or wrong"};
      boost::json::object body;
      try {
        body = internal::parse_json(req.body().empty() ? "{}" : req.body()).as_object();
      } catch (const std::exception&) {
        throw ApiError{400, "malformed_json", "the body must be a JSON object"};
      }
      std::lock_guard<std::mutex> lk(m.mu);
      if (path == "/admin/keys/rotate") {
        const auto* alg = body.if_contains("alg");
        if (!alg || !alg->is_string() || (*alg != "RS256" && *alg != "ES256"))
          throw ApiError{400, "validation_error", "alg must be RS256 or ES256"};
        json(res, http::status::ok, boost::json::object{{"kid", m.add_key(std::string(alg->as_string()))}});
      } else {
        const auto* kid = body.if_contains("kid");
        const auto* grace = body.if_contains("grace_seconds");
        if (!kid || !kid->is_string()) throw ApiError{400, "validation_error", "kid is required"};
        if (grace && (!grace->is_int64() || grace->as_int64() < 0))
          throw ApiError{400, "validation_error", "grace_seconds must be a non-negative integer"};
        if (!m.retire(std::string(kid->as_string()), grace ? grace->as_int64() : 0))
          throw ApiError{404, "not_found", "no key with that kid"};
        json(res, http::status::ok, boost::json::object{{"kid", *kid}, {"retired", true}});
      }
      return true;
    }
    if (path != "/oauth/token" && path != "/oauth/revoke" && path != "/oauth/device_authorization") return false;

    // ---- the token-side endpoints: form posts with client authentication ----
    if (!only(post, "POST")) return true;
    res.set(http::field::cache_control, "no-store");
    if (!is_form(req)) throw oauth("invalid_request", "the body must be application/x-www-form-urlencoded");
    Params p = parse_form(req.body());
    // RFC 6749 §2.3.1: Basic carries the form-urlencoded id and secret.
    std::optional<std::pair<std::string, std::string>> basic;
    auto auth = req[http::field::authorization];
    if (auth.size() > 6 && boost::beast::iequals(auth.substr(0, 6), "Basic ")) {
      auto raw = base64_decode(auth.substr(6));
      auto colon = raw ? raw->find(':') : std::string::npos;
      std::optional<std::string> id, secret;
      if (colon != std::string::npos) id = form_decode(raw->substr(0, colon)), secret = form_decode(raw->substr(colon + 1));
      if (!id || !secret) throw OAuthError{401, "invalid_client", "malformed Basic credentials", R"(Basic realm="hues-sandbox")"};
      basic.emplace(*id, *secret);
    }
    const std::string challenge_header = basic ? R"(Basic realm="hues-sandbox")" : "";
    if (basic && p.count("client_secret")) throw oauth("invalid_request", "use one client authentication method");
    if (basic && p.count("client_id") && p["client_id"] != basic->first)
      throw oauth("invalid_request", "client_id differs from the Basic credentials");
    const std::string client_id = basic ? basic->first : get(p, "client_id");
    const std::string secret = basic ? basic->second : get(p, "client_secret");
    std::lock_guard<std::mutex> lk(m.mu);
    auto cit = m.clients.find(client_id);
    const Client* cp = cit == m.clients.end() ? nullptr : &cit->second;
    const bool authenticated = cp && (cp->confidential() ? !secret.empty() && equal_secret(sha256(secret), *cp->secret)
                                                         : secret.empty());
    if (!authenticated) throw OAuthError{401, "invalid_client", "client authentication failed", challenge_header};
    const Client& c = *cp;

    if (path == "/oauth/revoke") {
      const std::string token = get(p, "token");
      if (token.empty()) throw oauth("invalid_request", "token is required");
      const std::string h = hash_key(token);
      // Another client's token, another issuer's, or none, is silently ignored (RFC 7009 §2.2).
      auto s = m.db.prepare("SELECT kind, family FROM oauth_tokens WHERE token_sha256 = ? AND client_id = ? AND issuer = ?");
      s.bind_blob(1, h.data(), h.size()).bind(2, c.id).bind(3, issuer);
      if (s.step()) {  // a token of another client, or none, is silently ignored (RFC 7009 §2.2)
        if (s.text(0) == "refresh") m.revoke_family(std::string(s.text(1)));
        else m.db.prepare("UPDATE oauth_tokens SET revoked = 1 WHERE token_sha256 = ?").bind_blob(1, h.data(), h.size()).exec();
      }
      res.result(http::status::ok);
      return true;
    }
    auto scope_or_default = [&](const std::string& requested) {
      if (!within(requested, c.scopes)) throw oauth("invalid_scope", "a requested scope is not allowed for this client");
      if (!requested.empty()) return requested;
      std::string all;
      for (const auto& s : c.scopes) all += (all.empty() ? "" : " ") + s;
      return all;
    };
    if (path == "/oauth/device_authorization") {
      if (!contains(c.grants, kDeviceGrant)) throw oauth("unauthorized_client", "this client may not use the device grant");
      const std::string scope = scope_or_default(get(p, "scope"));
      static constexpr char kAlphabet[] = "BCDFGHJKLMNPQRSTVWXZ";  // no vowels: no words by accident
      DeviceAuthorization d;
      d.device_code = random_id("hdc_", 40);
      for (char ch : random_id("", 8)) d.user_code.push_back(kAlphabet[static_cast<unsigned char>(ch) % 20]);
      d.user_code.insert(4, "-");
      d.verification_uri = issuer + "/device";
      d.verification_uri_complete = d.verification_uri + "?user_code=" + d.user_code;
      d.expires_in = kDeviceTtl;
      d.interval = kDeviceInterval;
      const std::string h = hash_key(d.device_code);
      m.db.prepare("INSERT INTO device_grants (device_sha256, user_code, client_id, scope, expires_at, interval_s, issuer) "
                   "VALUES (?,?,?,?,?,?,?)")
          .bind_blob(1, h.data(), h.size()).bind(2, d.user_code).bind(3, c.id).bind(4, scope)
          .bind(5, now_s() + kDeviceTtl).bind(6, kDeviceInterval).bind(7, issuer).exec();
      json(res, http::status::ok, internal::to_json(d), true);
      return true;
    }

    const std::string grant = get(p, "grant_type");
    if (grant.empty()) throw oauth("invalid_request", "grant_type is required");
    if (grant != "authorization_code" && grant != "refresh_token" && grant != "client_credentials" && grant != kDeviceGrant)
      throw oauth("unsupported_grant_type", "unsupported grant_type " + grant);
    if (!contains(c.grants, grant) || (grant == "client_credentials" && !c.confidential()))
      throw oauth("unauthorized_client", "this client may not use " + grant);
    Tx tx(m.db);
    boost::json::value out;
    if (grant == "authorization_code") {
      const std::string code = get(p, "code"), h = hash_key(code);
      if (code.empty()) throw oauth("invalid_request", "code is required");
      // Each listener is its own issuer: another one's code is unknown here.
      auto s = m.db.prepare("SELECT client_id, redirect_uri, scope, sub, nonce, code_challenge, auth_time, expires_at, "
                            "family, used FROM auth_codes WHERE code_sha256 = ? AND issuer = ?");
      s.bind_blob(1, h.data(), h.size()).bind(2, issuer);
      if (!s.step() || s.text(0) != c.id) throw oauth("invalid_grant", "unknown authorization code");
      const std::string family(s.text(8));
      if (s.int64(9)) {
        s.reset();  // RFC 6749 §4.1.2: a replayed code revokes what it issued
        m.revoke_family(family);
        tx.commit();
        throw oauth("invalid_grant", "the authorization code was already used");
      }
      if (s.int64(7) <= now_s()) throw oauth("invalid_grant", "the authorization code expired");
      if (get(p, "redirect_uri") != s.text(1)) throw oauth("invalid_grant", "redirect_uri differs from the authorization request");
      const std::string challenge(s.text(5)), verifier = get(p, "code_verifier");
      if (!challenge.empty() || !verifier.empty()) {
        const std::string computed = internal::pkce_challenge(verifier);
        const bool well_formed = verifier.size() >= 43 && verifier.size() <= 128 &&
                                 std::all_of(verifier.begin(), verifier.end(), [](char ch) {
                                   return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.' || ch == '_' || ch == '~';
                                 });
        if (challenge.empty() || !well_formed || !constant_time_equals(computed, challenge))
          throw oauth("invalid_grant", "code_verifier does not match the code_challenge");
      }
      const std::string sub(s.text(3)), scope(s.text(2)), nonce(s.text(4));
      const std::int64_t auth_time = s.int64(6);
      s.reset();
      m.db.prepare("UPDATE auth_codes SET used = 1 WHERE code_sha256 = ?").bind_blob(1, h.data(), h.size()).exec();
      out = m.issue(c, sub, scope, family, auth_time, nonce, issuer);
    } else if (grant == "refresh_token") {
      const std::string token = get(p, "refresh_token"), h = hash_key(token);
      if (token.empty()) throw oauth("invalid_request", "refresh_token is required");
      auto s = m.db.prepare("SELECT client_id, sub, scope, family, auth_time, expires_at, revoked, rotated FROM oauth_tokens "
                            "WHERE token_sha256 = ? AND kind = 'refresh' AND issuer = ?");
      s.bind_blob(1, h.data(), h.size()).bind(2, issuer);
      if (!s.step() || s.text(0) != c.id) throw oauth("invalid_grant", "unknown refresh token");
      const std::string family(s.text(3));
      if (s.int64(7)) {
        s.reset();  // reuse of a rotated token: someone holds a copy, so end the whole family
        m.revoke_family(family);
        tx.commit();
        throw oauth("invalid_grant", "the refresh token was already used; its token family is revoked");
      }
      if (s.int64(6) || s.int64(5) <= now_s()) throw oauth("invalid_grant", "the refresh token is revoked or expired");
      const std::string original(s.text(2));
      std::string scope = get(p, "scope");
      if (!within(scope, split(original))) throw oauth("invalid_scope", "scope exceeds the original grant");
      if (scope.empty()) scope = original;
      const std::string sub(s.text(1));
      const std::int64_t auth_time = s.int64(4);
      s.reset();
      m.db.prepare("UPDATE oauth_tokens SET rotated = 1 WHERE token_sha256 = ?").bind_blob(1, h.data(), h.size()).exec();
      out = m.issue(c, sub, scope, family, auth_time, "", issuer);
    } else if (grant == "client_credentials") {
      out = m.issue(c, "", scope_or_default(get(p, "scope")), random_id("fam_", 20), now_s(), "", issuer);
    } else {
      const std::string dc = get(p, "device_code"), h = hash_key(dc);
      if (dc.empty()) throw oauth("invalid_request", "device_code is required");
      auto s = m.db.prepare("SELECT client_id, scope, expires_at, interval_s, last_poll_ms, state, sub, auth_time "
                            "FROM device_grants WHERE device_sha256 = ? AND issuer = ?");
      s.bind_blob(1, h.data(), h.size()).bind(2, issuer);
      if (!s.step() || s.text(0) != c.id) throw oauth("invalid_grant", "unknown device_code");
      if (s.text(5) == "used") throw oauth("invalid_grant", "the device_code was already exchanged");
      if (s.int64(2) <= now_s()) throw oauth("expired_token", "the device_code expired");
      const std::int64_t t = now_ms(), interval = s.int64(3), last = s.int64(4);
      const std::string state(s.text(5)), scope(s.text(1)), sub(s.text(6));
      const std::int64_t auth_time = s.int64(7);
      s.reset();
      auto poll = m.db.prepare("UPDATE device_grants SET last_poll_ms = ?, interval_s = ?, state = ? WHERE device_sha256 = ?");
      if (last && t - last < interval * 1000) {  // RFC 8628 §3.5: slow down by 5 seconds
        poll.bind(1, t).bind(2, interval + 5).bind(3, state).bind_blob(4, h.data(), h.size()).exec();
        tx.commit();
        throw oauth("slow_down", "polling too fast; the interval is now " + std::to_string(interval + 5) + " s");
      }
      poll.bind(1, t).bind(2, interval).bind(3, state == "approved" ? "used" : state).bind_blob(4, h.data(), h.size()).exec();
      if (state != "approved") {
        tx.commit();
        if (state == "denied") throw oauth("access_denied", "the user denied the request");
        throw oauth("authorization_pending", "the user has not answered yet");
      }
      out = m.issue(c, sub, scope, random_id("fam_", 20), auth_time, "", issuer);
    }
    tx.commit();
    json(res, http::status::ok, out, true);
  } catch (const OAuthError& e) {
    res.result(static_cast<http::status>(e.status));
    if (!e.www_authenticate.empty()) res.set(http::field::www_authenticate, e.www_authenticate);
    json(res, static_cast<http::status>(e.status), internal::to_json(OAuthErrorBody{e.error, valid_utf8(e.description)}), true);
  } catch (const PageError& e) {
    html(res, http::status::bad_request,
         page("Yêu cầu không hợp lệ / Invalid request", "<p role=\"alert\">" + html_escape(e.message) + "</p>\n"));
  }
  return true;
}

}  // namespace hues::sandbox
