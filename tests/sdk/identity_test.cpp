// Sign-in flows against the sandbox's OpenID provider over real sockets: the test plays the
// browser (plain HTTP form posts to the login page) and the SDK plays the app.
#include <doctest/doctest.h>

#include <hues/hues.h>
#include <hues/testing/sandbox.h>
#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <regex>
#include <algorithm>
#include <thread>
#include <variant>

#include "internal/client_core.h"
#include "internal/crypto.h"
#include "internal/json_codec.h"
#include "internal/runtime.h"
#include "test_support.h"
#include "tus_upload.h"

using hues_test::catch_error;

namespace {

using Clock = std::chrono::steady_clock;
const char* kPassword = "HueS-demo-2025";

std::shared_ptr<hues::OidcClient> oidc(const std::string& client_id, const std::string& secret = {},
                                       bool post = false) {
  hues::OidcOptions o;
  o.issuer = sandbox().tls_url();
  o.client_id = client_id;
  o.client_secret = secret;
  o.client_secret_post = post;
  o.http.ca_file = sandbox().ca_file();
  return std::make_shared<hues::OidcClient>(o);
}

hues::Client client_with(std::shared_ptr<hues::CredentialsProvider> credentials) {
  hues::ClientOptions o;
  o.base_url = sandbox().tls_url();
  o.ca_file = sandbox().ca_file();
  o.credentials = std::move(credentials);
  return hues::Client(o);
}

// A browser without JavaScript: GET a page, POST a form, keep cookies (the login forms bind
// a CSRF token to one), never follow redirects.
struct Browser {
  std::shared_ptr<hues::Transport> http;
  std::string cookie;
  Browser() {
    hues::ClientOptions o;
    o.ca_file = sandbox().ca_file();
    http = hues::make_default_transport(o);
  }
  hues::HttpResponse send(const std::string& method, const std::string& url, const std::string& form = {}) {
    hues::HttpRequest req;
    req.method = method;
    req.url = url;
    if (!form.empty()) req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    req.body = form;
    if (!cookie.empty()) req.headers.emplace_back("Cookie", cookie);
    hues::AttemptContext ctx;
    ctx.deadline = Clock::now() + std::chrono::seconds(10);
    auto res = http->send(req, ctx);
    std::string set = res.header("Set-Cookie");
    if (!set.empty()) cookie = set.substr(0, set.find(';'));
    return res;
  }
};

std::string html_unescape(std::string s) {
  const std::pair<const char*, const char*> entities[] = {{"&quot;", "\""}, {"&#39;", "'"}, {"&#x27;", "'"},
                                                          {"&lt;", "<"},    {"&gt;", ">"},  {"&amp;", "&"}};
  for (const auto& [from, to] : entities)
    for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + 1)) s.replace(pos, strlen(from), to);
  return s;
}

std::string percent(const std::string& s) {
  std::string out;
  char buf[4];
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else { snprintf(buf, sizeof buf, "%%%02X", c); out += buf; }
  }
  return out;
}

// The named inputs of the first form on a page (hidden ones carry the request).
std::map<std::string, std::string> form_fields(const std::string& html) {
  std::map<std::string, std::string> fields;
  std::regex input(R"(<input\b[^>]*>)", std::regex::icase);
  std::regex name(R"re(\bname\s*=\s*"([^"]*)")re", std::regex::icase);
  std::regex value(R"re(\bvalue\s*=\s*"([^"]*)")re", std::regex::icase);
  for (auto it = std::sregex_iterator(html.begin(), html.end(), input); it != std::sregex_iterator(); ++it) {
    std::string tag = it->str();
    std::smatch n, v;
    if (!std::regex_search(tag, n, name)) continue;
    fields[html_unescape(n[1])] = std::regex_search(tag, v, value) ? html_unescape(v[1]) : "";
  }
  return fields;
}

std::string encode(const std::map<std::string, std::string>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) out += (out.empty() ? "" : "&") + percent(k) + "=" + percent(v);
  return out;
}

// Logs username in on the authorize page at url and returns the redirect Location.
std::string sign_in(const std::string& url, const std::string& username, const std::string& decision = "approve") {
  Browser b;
  auto page = b.send("GET", url);
  REQUIRE(page.status == 200);
  auto fields = form_fields(page.body);
  fields["username"] = username;
  fields["password"] = kPassword;
  fields["decision"] = decision;
  auto res = b.send("POST", sandbox().tls_url() + "/oauth/authorize", encode(fields));
  REQUIRE(res.status == 302);
  return res.header("Location");
}

hues::TokenSet sign_in_with_pkce(hues::OidcClient& client, const std::string& username,
                                 hues::AuthorizationRequest* out = nullptr) {
  hues::LoopbackReceiver receiver;
  auto req = client.authorization_request(receiver.redirect_uri(), "openid profile offline_access reports:read reports:write");
  std::string location = sign_in(req.url, username);
  // The browser follows the redirect to the app's loopback listener.
  std::thread browser([&] { Browser().send("GET", location); });
  std::string redirected = receiver.wait(10000);
  browser.join();
  if (out) *out = req;
  return client.exchange_code(req, redirected);
}

}  // namespace

TEST_CASE("discovery names every endpoint under the issuer") {
  auto md = oidc("hues-demo-app")->metadata();
  CHECK(md.issuer == sandbox().tls_url());
  CHECK(md.token_endpoint.rfind(md.issuer, 0) == 0);
  CHECK(md.device_authorization_endpoint.rfind(md.issuer, 0) == 0);
  CHECK(std::count(md.code_challenge_methods_supported.begin(), md.code_challenge_methods_supported.end(), "S256") == 1);
}

TEST_CASE("client credentials: a partner backend fetches one token and reuses it") {
  for (bool post : {false, true}) {
    auto creds = std::make_shared<hues::ClientCredentials>(oidc("hues-taxi-backend", "taxi-secret-2025", post),
                                                           "reports:read reports:write");
    auto client = client_with(creds);
    for (int i = 0; i < 3; ++i) CHECK_FALSE(client.reports().categories().empty());
    CHECK(creds->fetch_count() == 1);
  }
  auto err = catch_error([] { oidc("hues-taxi-backend", "wrong-secret")->client_credentials(); });
  CHECK(err.type() == hues::ErrorType::kOAuth);
  CHECK(err.code() == "invalid_client");
}

TEST_CASE("debug lines show headers through an allow-list: no Bearer token, API key or client secret") {
  const std::string secret = "taxi-secret-2025";
  for (bool post : {false, true}) {
    auto logs = std::make_shared<hues_test::Lines>();
    hues::OidcOptions oo;
    oo.issuer = sandbox().tls_url();
    oo.client_id = "hues-taxi-backend";
    oo.client_secret = secret;
    oo.client_secret_post = post;
    oo.http.ca_file = sandbox().ca_file();
    oo.http.logger = logs;
    oo.http.log_level = hues::LogLevel::kDebug;
    auto creds = std::make_shared<hues::ClientCredentials>(std::make_shared<hues::OidcClient>(oo), "reports:read");
    hues::ClientOptions o;
    o.base_url = sandbox().tls_url();
    o.ca_file = sandbox().ca_file();
    o.credentials = creds;
    o.logger = logs;
    o.log_level = hues::LogLevel::kDebug;
    hues::Client client(o);
    CHECK_FALSE(client.reports().categories().empty());
    hues::ClientOptions k = o;
    k.credentials = nullptr;
    k.api_key = sandbox().api_key();
    hues::Client(k).reports().categories();
    std::string token = creds->access_token();
    std::string text = logs->all();
    INFO(text);
    REQUIRE_FALSE(token.empty());
    // The headers are there (so this test would see a leaked value)...
    CHECK(text.find("Authorization: [redacted]") != std::string::npos);
    CHECK(text.find("X-Api-Key: [redacted]") != std::string::npos);
    CHECK(text.find("User-Agent: hues-sdk-cpp/") != std::string::npos);
    CHECK(text.find("Content-Type: application/json") != std::string::npos);
    CHECK(text.find("/oauth/token request_id=") != std::string::npos);
    // ... and no secret is.
    CHECK(text.find(token) == std::string::npos);
    CHECK(text.find(sandbox().api_key()) == std::string::npos);
    CHECK(text.find(secret) == std::string::npos);
    CHECK(text.find(hues::internal::base64_encode("hues-taxi-backend:" + secret)) == std::string::npos);
    CHECK(text.find("Bearer") == std::string::npos);
    CHECK(text.find("Basic") == std::string::npos);
  }
}

TEST_CASE("code + PKCE through the login page and a loopback redirect signs a citizen in") {
  auto client = oidc("hues-demo-app");
  auto tokens = sign_in_with_pkce(*client, "nguyen.van.an");
  CHECK_FALSE(tokens.access_token.empty());
  CHECK_FALSE(tokens.refresh_token.empty());
  auto claims = client->validate_id_token(tokens.id_token);
  CHECK(claims.name == "Nguyễn Văn An");
  CHECK(claims.aud == "hues-demo-app");

  auto user = std::make_shared<hues::UserCredentials>(client, hues::make_memory_token_store(), "an", tokens);
  auto me = client_with(user).me();
  CHECK(me.name == "Nguyễn Văn An");
  CHECK(me.verification_level == 2);
  CHECK(client->userinfo(tokens.access_token).sub == claims.sub);
}

TEST_CASE("a redirect with another state is refused as CSRF") {
  auto client = oidc("hues-demo-app");
  auto req = client->authorization_request("http://127.0.0.1:9/callback", "openid");
  auto err = catch_error([&] { client->exchange_code(req, "http://127.0.0.1:9/callback?code=abc&state=forged"); });
  CHECK(err.type() == hues::ErrorType::kInvalidToken);
  CHECK(err.code() == "state");
}

TEST_CASE("a wrong PKCE verifier and a reused code are refused; reuse revokes what the code gave") {
  auto client = oidc("hues-demo-app");
  {
    hues::LoopbackReceiver receiver;
    auto req = client->authorization_request(receiver.redirect_uri(), "openid");
    std::string location = sign_in(req.url, "tran.thi.binh");
    req.code_verifier = std::string(43, 'x');
    auto err = catch_error([&] { client->exchange_code(req, location); });
    CHECK(err.code() == "invalid_grant");
  }
  hues::LoopbackReceiver receiver;
  auto req = client->authorization_request(receiver.redirect_uri(), "openid profile offline_access");
  std::string location = sign_in(req.url, "tran.thi.binh");
  auto first = client->exchange_code(req, location);
  CHECK(client->userinfo(first.access_token).name == "Trần Thị Bình");
  auto err = catch_error([&] { client->exchange_code(req, location); });
  CHECK(err.code() == "invalid_grant");
  CHECK_THROWS_AS(client->userinfo(first.access_token), hues::AuthenticationError);
}

TEST_CASE("an unregistered redirect_uri gets an error page, never a redirect") {
  auto client = oidc("hues-demo-app");
  auto req = client->authorization_request("https://attacker.example/callback", "openid");
  auto page = Browser().send("GET", req.url);
  CHECK(page.status == 400);
  CHECK(page.header("Location").empty());
}

TEST_CASE("refresh tokens rotate; a reused one revokes the whole family") {
  auto client = oidc("hues-demo-app");
  auto tokens = sign_in_with_pkce(*client, "tran.thi.binh");
  auto second = client->refresh(tokens.refresh_token);
  CHECK(second.refresh_token != tokens.refresh_token);
  CHECK(catch_error([&] { client->refresh(tokens.refresh_token); }).code() == "invalid_grant");
  CHECK(catch_error([&] { client->refresh(second.refresh_token); }).code() == "invalid_grant");
}

TEST_CASE("50 threads needing a fresh token cause exactly one refresh") {
  auto client = oidc("hues-demo-app");
  auto tokens = sign_in_with_pkce(*client, "nguyen.van.an");
  tokens.expires_at = 1;  // as if it had expired long ago
  auto user = std::make_shared<hues::UserCredentials>(client, hues::make_memory_token_store(), "an", tokens);
  std::vector<std::thread> threads;
  std::vector<std::string> seen(50);
  for (int i = 0; i < 50; ++i) threads.emplace_back([&, i] { seen[i] = user->tokens().access_token; });
  for (auto& t : threads) t.join();
  CHECK(user->refresh_count() == 1);
  CHECK(std::count(seen.begin(), seen.end(), seen[0]) == 50);
  CHECK(seen[0] != tokens.access_token);
}

// The person's phone: opens the verification page, signs in and decides. Returns the page.
std::string decide_on_phone(const hues::DeviceAuthorization& device, const std::string& decision) {
  Browser b;
  auto page = b.send("GET", device.verification_uri_complete.empty() ? device.verification_uri
                                                                       : device.verification_uri_complete);
  REQUIRE(page.status == 200);
  auto fields = form_fields(page.body);
  fields["user_code"] = device.user_code;
  fields["username"] = "nguyen.van.an";
  fields["password"] = kPassword;
  fields["decision"] = decision;
  return b.send("POST", sandbox().tls_url() + "/device", encode(fields)).body;
}

TEST_CASE("device flow: the CLI polls while the person approves on another device") {
  auto client = oidc("hues-cli");
  for (std::string decision : {"approve", "deny"}) {
    auto device = client->start_device_authorization("openid profile reports:read");
    CHECK(device.user_code.size() >= 8);
    hues::CallOptions poll;
    poll.cancel = std::make_shared<hues::CancellationToken>();
    hues::TokenSet tokens;
    hues::Error err(hues::ErrorType::kApi, "");
    std::thread cli([&] {
      try {
        tokens = client->poll_device_token(device, poll);
      } catch (const hues::Error& e) {
        err = e;
      }
    });
    std::string page = decide_on_phone(device, decision);
    bool decided = page.find(decision == "approve" ? "Approved" : "Denied") != std::string::npos;
    CHECK(decided);
    if (!decided) poll.cancel->cancel();  // never leave the poller waiting for the code to expire
    cli.join();
    if (decision == "approve") CHECK(client->validate_id_token(tokens.id_token).name == "Nguyễn Văn An");
    else CHECK(err.code() == "access_denied");
  }
}

TEST_CASE("a file token store keeps tokens with mode 0600; sign-out revokes and clears") {
  auto dir = std::filesystem::temp_directory_path() / ("hues-tokens-" + std::to_string(Clock::now().time_since_epoch().count()));
  auto store = hues::make_file_token_store(dir.string());
  auto client = oidc("hues-demo-app");
  auto tokens = sign_in_with_pkce(*client, "nguyen.van.an");
  { hues::UserCredentials user(client, store, "an", tokens); }
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    ++files;
    struct stat st {};
    ::stat(entry.path().c_str(), &st);
    CHECK((st.st_mode & 0777) == 0600);
  }
  CHECK(files == 1);
  hues::UserCredentials restored(client, store, "an");  // the app restarted
  CHECK(restored.signed_in());
  CHECK(restored.tokens().refresh_token == tokens.refresh_token);
  restored.sign_out();
  CHECK_FALSE(restored.signed_in());
  CHECK(store->load("an").refresh_token.empty());
  CHECK(catch_error([&] { client->refresh(tokens.refresh_token); }).code() == "invalid_grant");
  std::filesystem::remove_all(dir);
}

TEST_CASE("key rotation: a new kid is fetched once; a retired key's tokens stop validating") {
  auto admin = [](const std::string& path, const std::string& body) {
    Browser b;
    hues::HttpRequest req;
    req.method = "POST";
    req.url = sandbox().tls_url() + path;
    req.headers = {{"X-Admin-Key", "hadm_test_sandbox_0001"}, {"Content-Type", "application/json"}};
    req.body = body;
    hues::AttemptContext ctx;
    ctx.deadline = Clock::now() + std::chrono::seconds(10);
    auto res = b.http->send(req, ctx);
    REQUIRE(res.status == 200);
    return res.body;
  };
  auto kid_of = [](const std::string& jwt) {
    auto header = hues::internal::base64url_decode(jwt.substr(0, jwt.find('.')));
    return std::string(hues::internal::parse_json(header).as_object().at("kid").as_string());
  };
  hues::OidcOptions o = oidc("hues-demo-app")->options();
  o.jwks_cache_seconds = 2;
  auto client = std::make_shared<hues::OidcClient>(o);
  auto before = sign_in_with_pkce(*client, "tran.thi.binh");
  CHECK(client->validate_id_token(before.id_token).name == "Trần Thị Bình");  // JWKS now cached

  std::string rotated = admin("/admin/keys/rotate", R"({"alg": "RS256"})");
  auto after = sign_in_with_pkce(*client, "tran.thi.binh");
  CHECK(kid_of(after.id_token) != kid_of(before.id_token));
  CHECK(rotated.find(kid_of(after.id_token)) != std::string::npos);
  CHECK(client->validate_id_token(after.id_token).sub == client->validate_id_token(before.id_token).sub);

  admin("/admin/keys/retire", R"({"kid": ")" + kid_of(before.id_token) + R"("})");
  CHECK(client->validate_id_token(before.id_token).name == "Trần Thị Bình");  // cached key, within its TTL
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  auto err = catch_error([&] { client->validate_id_token(before.id_token); });
  CHECK(err.type() == hues::ErrorType::kInvalidToken);
  CHECK(err.code() == "kid");
  CHECK(client->validate_id_token(after.id_token).name == "Trần Thị Bình");
}

TEST_CASE("client credentials: 50 concurrent async calls share one token fetch") {
  auto creds = std::make_shared<hues::ClientCredentials>(oidc("hues-taxi-backend", "taxi-secret-2025"),
                                                         "reports:read reports:write");
  auto client = client_with(creds);
  hues::ReportQuery q;
  q.limit = 1;
  std::vector<std::future<hues::ReportPage>> pages;
  for (int i = 0; i < 50; ++i) pages.push_back(client.reports().list_page_async(q));
  for (auto& p : pages) p.get();
  CHECK(creds->fetch_count() == 1);  // the calls joined the one fetch in flight
}

namespace {
// Holds every save after the first until the test opens the gate: shows that a refresh never
// waits for the store, and that the store runs on the host executor, not an I/O thread.
struct GatedStore : hues::TokenStore {
  std::shared_ptr<hues::TokenStore> inner = hues::make_memory_token_store();
  std::promise<void> gate;
  std::shared_future<void> opened = gate.get_future().share();
  std::atomic<int> saves{0};
  std::atomic<int> on_io_thread{0};
  hues::TokenSet load(const std::string& key) override { return inner->load(key); }
  void save(const std::string& key, const hues::TokenSet& tokens) override {
    if (saves++ > 0) {
      if (hues::internal::on_sdk_io_thread()) ++on_io_thread;
      opened.wait_for(std::chrono::seconds(20));
    }
    inner->save(key, tokens);
  }
  void remove(const std::string& key) override { inner->remove(key); }
};
}  // namespace

TEST_CASE("a slow token store holds only the refresh that saves, and runs outside the I/O threads") {
  auto client = oidc("hues-demo-app");
  auto tokens = sign_in_with_pkce(*client, "nguyen.van.an");
  tokens.expires_at = 1;  // as if it had expired long ago
  auto store = std::make_shared<GatedStore>();
  auto user = std::make_shared<hues::UserCredentials>(client, store, "an", tokens);
  auto start = Clock::now();
  // Refreshes; the save of the new tokens is held at the gate, and so is this call.
  auto refreshing = std::async(std::launch::async, [&] { return user->tokens(); });
  for (int i = 0; i < 200 && user->refresh_count() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  CHECK(user->refresh_count() == 1);
  CHECK(refreshing.wait_for(std::chrono::milliseconds(200)) == std::future_status::timeout);
  CHECK(client_with(user).me().name == "Nguyễn Văn An");  // other calls go on with the new tokens
  CHECK(Clock::now() - start < std::chrono::seconds(15));  // well before the gate's 20 s
  store->gate.set_value();
  auto fresh = refreshing.get();
  CHECK(fresh.access_token != tokens.access_token);
  for (int i = 0; i < 100 && store->inner->load("an").access_token != fresh.access_token; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(store->inner->load("an").access_token == fresh.access_token);
  CHECK(store->on_io_thread.load() == 0);
}

TEST_CASE("a sign-out during a slow save waits for that writer without a thread, then revokes") {
  auto client = oidc("hues-demo-app");
  auto tokens = sign_in_with_pkce(*client, "nguyen.van.an");
  tokens.expires_at = 1;
  auto store = std::make_shared<GatedStore>();
  auto user = std::make_shared<hues::UserCredentials>(client, store, "an", tokens);
  auto refreshing = std::async(std::launch::async, [&] { return user->tokens(); });  // its save is held
  for (int i = 0; i < 200 && user->refresh_count() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  REQUIRE(user->refresh_count() == 1);
  std::promise<std::exception_ptr> signed_out;
  user->sign_out_async([&](std::exception_ptr error) { signed_out.set_value(error); });
  auto result = signed_out.get_future();
  CHECK_FALSE(user->signed_in());  // forgotten locally at once
  CHECK(result.wait_for(std::chrono::milliseconds(300)) == std::future_status::timeout);  // behind the writer
  store->gate.set_value();
  REQUIRE(result.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
  CHECK_FALSE(result.get());
  auto fresh = refreshing.get();
  CHECK(store->inner->load("an").refresh_token.empty());  // the writer removed them last
  CHECK(catch_error([&] { client->refresh(fresh.refresh_token); }).code() == "invalid_grant");  // revoked
  CHECK(store->on_io_thread.load() == 0);
}

namespace {
// Fails every save after the first (the one the constructor makes).
struct FailingStore : hues::TokenStore {
  std::shared_ptr<hues::TokenStore> inner = hues::make_memory_token_store();
  std::atomic<int> saves{0};
  hues::TokenSet load(const std::string& key) override { return inner->load(key); }
  void save(const std::string& key, const hues::TokenSet& tokens) override {
    if (saves++ > 0) throw std::runtime_error("keystore locked");
    inner->save(key, tokens);
  }
  void remove(const std::string& key) override { inner->remove(key); }
};
}  // namespace

TEST_CASE("a token store that fails to keep refreshed tokens fails the refreshing call, typed") {
  auto client = oidc("hues-demo-app");
  auto tokens = sign_in_with_pkce(*client, "nguyen.van.an");
  tokens.expires_at = 1;
  auto user = std::make_shared<hues::UserCredentials>(client, std::make_shared<FailingStore>(), "an", tokens);
  auto err = catch_error([&] { user->tokens(); });
  CHECK(err.type() == hues::ErrorType::kTokenStore);
  CHECK(err.message().find("keystore locked") != std::string::npos);
  // The refreshed tokens are kept in memory: the next call needs no refresh and succeeds.
  CHECK(client_with(user).me().name == "Nguyễn Văn An");
  CHECK(user->refresh_count() == 1);
}

namespace {
// A provider in memory for the device flow's timing: answers discovery, and token requests
// from a script (an OAuth error code, or "ok" for tokens), noting when each poll arrived. With
// hold set, a token request waits (up to 10 s) until release(), to show a cancel ends a poll
// whose request is still in flight.
struct ScriptedProvider : hues::Transport {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> script;  // consumed from the front; the last entry repeats
  std::vector<Clock::time_point> polls;
  bool hold = false, released = false;

  hues::HttpResponse send(const hues::HttpRequest& req, const hues::AttemptContext&) override {
    hues::HttpResponse res;
    res.headers = {{"Content-Type", "application/json"}};
    if (req.url.find("/.well-known/openid-configuration") != std::string::npos) {
      const std::string i = "https://provider.test";
      res.status = 200;
      res.body = "{\"issuer\":\"" + i + "\",\"authorization_endpoint\":\"" + i + "/authorize\",\"token_endpoint\":\"" + i +
                 "/token\",\"userinfo_endpoint\":\"" + i + "/userinfo\",\"jwks_uri\":\"" + i +
                 "/jwks\",\"revocation_endpoint\":\"" + i + "/revoke\",\"device_authorization_endpoint\":\"" + i +
                 "/device\",\"id_token_signing_alg_values_supported\":[\"RS256\"],"
                 "\"code_challenge_methods_supported\":[\"S256\"]}";
      return res;
    }
    std::unique_lock<std::mutex> lock(mu);
    polls.push_back(Clock::now());
    cv.notify_all();
    if (hold) cv.wait_for(lock, std::chrono::seconds(10), [&] { return released; });
    std::string step = script.front();
    if (script.size() > 1) script.erase(script.begin());
    if (step == "ok") {
      res.status = 200;
      res.body = R"({"access_token":"at_device","token_type":"Bearer","expires_in":600})";
    } else {
      res.status = 400;
      res.body = "{\"error\":\"" + step + "\"}";
    }
    return res;
  }
  std::size_t poll_count() {
    std::lock_guard<std::mutex> lock(mu);
    return polls.size();
  }
};

std::shared_ptr<hues::OidcClient> scripted_oidc(std::shared_ptr<ScriptedProvider> provider) {
  hues::OidcOptions o;
  o.issuer = "https://provider.test";
  o.client_id = "hues-cli";
  o.http.transport = std::move(provider);
  return std::make_shared<hues::OidcClient>(o);
}

hues::DeviceAuthorization device_code(std::int64_t interval, std::int64_t expires_in) {
  hues::DeviceAuthorization d;
  d.device_code = "hdc_test";
  d.user_code = "BCDF-GHJK";
  d.verification_uri = "https://provider.test/device";
  d.interval = interval;
  d.expires_in = expires_in;
  return d;
}
}  // namespace

TEST_CASE("device polling: authorization_pending polls again at the interval, slow_down adds 5 s") {
  auto provider = std::make_shared<ScriptedProvider>();
  provider->script = {"authorization_pending", "slow_down", "ok"};
  auto tokens = scripted_oidc(provider)->poll_device_token(device_code(1, 600));
  CHECK(tokens.access_token == "at_device");
  REQUIRE(provider->polls.size() == 3);
  auto gap = [&](int i) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(provider->polls[i + 1] - provider->polls[i]);
  };
  CHECK(gap(0) >= std::chrono::milliseconds(1000));  // the interval, waited out
  CHECK(gap(0) < std::chrono::milliseconds(5000));   // pending keeps the interval
  CHECK(gap(1) >= std::chrono::milliseconds(6000));  // RFC 8628 §3.5: 1 s + 5 s
}

TEST_CASE("device polling: the code's expiry ends it with expired_token") {
  auto provider = std::make_shared<ScriptedProvider>();
  provider->script = {"authorization_pending"};
  auto err = catch_error([&] { scripted_oidc(provider)->poll_device_token(device_code(1, 2)); });
  CHECK(err.type() == hues::ErrorType::kOAuth);
  CHECK(err.code() == "expired_token");
  CHECK(provider->poll_count() >= 1);
}

TEST_CASE("device polling: a cancel ends a poll at once, with its token request still in flight") {
  auto provider = std::make_shared<ScriptedProvider>();
  provider->script = {"authorization_pending"};
  provider->hold = true;
  auto oidc = scripted_oidc(provider);
  hues::CallOptions call;
  call.cancel = std::make_shared<hues::CancellationToken>();
  std::promise<hues::Error> ended;
  oidc->poll_device_token_async(device_code(1, 600), hues_test::records_error<hues::TokenSet>(ended), call);
  {
    std::unique_lock<std::mutex> lock(provider->mu);
    REQUIRE(provider->cv.wait_for(lock, std::chrono::seconds(10), [&] { return !provider->polls.empty(); }));
  }
  call.cancel->cancel();  // the provider holds the request: only the cancel can end the call now
  auto result = ended.get_future();
  bool prompt = result.wait_for(std::chrono::seconds(8)) == std::future_status::ready;
  {
    std::lock_guard<std::mutex> lock(provider->mu);
    provider->released = true;
    provider->cv.notify_all();
  }
  REQUIRE(prompt);  // before the provider lets go of the request (10 s)
  CHECK(result.get().type() == hues::ErrorType::kCancelled);
}

TEST_CASE("the loopback receiver answers other requests 404 and waits on; a cancel ends a wait, and it waits again") {
  hues::LoopbackReceiver receiver;
  std::string base = receiver.redirect_uri().substr(0, receiver.redirect_uri().find("/callback"));
  {
    hues::CallOptions call;
    call.cancel = std::make_shared<hues::CancellationToken>();
    std::promise<hues::Error> ended;
    receiver.wait_async(60000, hues_test::records_error<std::string>(ended), call);
    call.cancel->cancel();
    auto result = ended.get_future();
    REQUIRE(result.wait_for(std::chrono::seconds(30)) == std::future_status::ready);  // well before its 60 s
    CHECK(result.get().type() == hues::ErrorType::kCancelled);
  }
  auto waiting = std::async(std::launch::async, [&] { return receiver.wait(30000); });
  CHECK(Browser().send("GET", base + "/favicon.ico").status == 404);
  CHECK(waiting.wait_for(std::chrono::milliseconds(200)) == std::future_status::timeout);  // still waiting
  auto page = Browser().send("GET", base + "/callback?code=c1&state=s1");
  CHECK(page.status == 200);
  CHECK(page.body.find("Signed in") != std::string::npos);
  CHECK(waiting.get() == base + "/callback?code=c1&state=s1");
  CHECK_THROWS_AS(receiver.wait(50), hues::TimeoutError);
}

// A browser that connects just as a wait is cancelled lands on the ended wait's accept; the
// next wait must answer it (or it is closed), never leave it hanging on the listener.
TEST_CASE("the loopback receiver: a browser connecting as a wait is cancelled is answered by the next wait") {
  hues::LoopbackReceiver receiver;
  std::string base = receiver.redirect_uri().substr(0, receiver.redirect_uri().find("/callback"));
  for (int i = 0; i < 25; ++i) {
    CAPTURE(i);
    hues::CallOptions call;
    call.cancel = std::make_shared<hues::CancellationToken>();
    std::promise<hues::Error> ended;
    receiver.wait_async(60000, hues_test::records_error<std::string>(ended), call);
    auto browser = std::async(std::launch::async, [&] {
      try {
        return Browser().send("GET", base + "/favicon.ico").status;
      } catch (const hues::TimeoutError&) {
        throw;
      } catch (const hues::TransportError&) {
        return 0;  // accepted by the cancelled wait and closed: the browser is told at once
      }
    });
    call.cancel->cancel();
    ended.get_future().wait();
    auto next = std::async(std::launch::async, [&] { return receiver.wait(30000); });
    int status = browser.get();  // a TimeoutError here is the browser left hanging
    CHECK((status == 404 || status == 0));
    CHECK(Browser().send("GET", base + "/callback?code=c" + std::to_string(i)).status == 200);
    CHECK(next.get() == base + "/callback?code=c" + std::to_string(i));
  }
}

namespace {
std::string etag(const hues::Report& r) { return "\"" + std::to_string(r.version) + "\""; }
}  // namespace

TEST_CASE("the seed's story: answered without the record, returned for it, answered with it, approved, rated") {
  auto app = oidc("hues-demo-app");
  auto as = [&](const std::string& user) {
    auto tokens = sign_in_with_pkce(*app, user);
    return client_with(std::make_shared<hues::UserCredentials>(app, hues::make_memory_token_store(), user, tokens));
  };
  auto citizen = as("nguyen.van.an"), ioc = as("le.ioc"), staff = as("dongba.staff");
  // Attachments are media objects of the caller's: the staff member uploads them (raw tus).
  const std::string staff_bearer = "Bearer " + sign_in_with_pkce(*app, "dongba.staff").access_token;
  const std::string photo = hues_test::tus_upload(sandbox().tls_port(), hues_test::jpeg_head(80, 60), "photo",
                                                  "Authorization", staff_bearer, sandbox().ca_file());
  const std::string record = hues_test::tus_upload(sandbox().tls_port(), "%PDF-1.7\n% Biên bản 12/BB-VPHC\n", "document",
                                                   "Authorization", staff_bearer, sandbox().ca_file());

  hues::NewReport n;
  n.category = "urban_order";
  n.description = "Quán nhậu lấn chiếm vỉa hè, mở nhạc lớn sau 22 giờ — đường Trần Hưng Đạo, phường Đông Ba";
  n.location.lat = 16.4726;
  n.location.lon = 107.5885;
  n.location.address = "Chợ Đông Ba, đường Trần Hưng Đạo";
  n.location.ward = "Đông Ba";
  auto r = citizen.reports().create(n);
  r = ioc.reports().receive(r.id, etag(r), {});
  r = ioc.reports().assign(r.id, etag(r), {"UBND_DONG_BA", "Chuyển UBND phường Đông Ba"});
  CHECK(r.agency_code == "UBND_DONG_BA");
  r = staff.reports().accept(r.id, etag(r), {});
  // The agency's inbox holds it, most urgent first, paged by the generated pager.
  hues::InboxQuery q;
  q.limit = 2;
  std::vector<std::string> due, inbox_ids;
  for (const auto& item : staff.agencies().inbox("UBND_DONG_BA", q)) due.push_back(item.due_at), inbox_ids.push_back(item.id);
  CHECK(std::count(inbox_ids.begin(), inbox_ids.end(), r.id) == 1);
  CHECK(std::is_sorted(due.begin(), due.end()));
  q.overdue = true;
  for (const auto& item : staff.agencies().inbox("UBND_DONG_BA", q)) CHECK(item.id != r.id);  // just assigned
  const std::string first = "Công an phường đã lập biên bản vi phạm hành chính đối với chủ quán.";
  r = staff.reports().respond(r.id, etag(r), {first, {}});
  const std::string reason = "Đề nghị bổ sung biên bản vi phạm hành chính đã lập.";
  const std::string ask = "Khi nào phường xử lý? Quán vẫn mở nhạc đến 1 giờ sáng.";
  citizen.reports().add_comment(r.id, {ask, {}});
  staff.reports().add_comment(r.id, {"Tổ công tác sẽ kiểm tra tối nay.", {photo}});
  auto talk = ioc.reports().comments(r.id);
  REQUIRE(talk.size() == 2);
  CHECK(talk[0].text == ask);
  CHECK(talk[0].author_role == "citizen");
  CHECK(talk[1].author_role == "agency");
  CHECK(talk[1].attachments == std::vector<std::string>{photo});
  r = ioc.reports().return_to_agency(r.id, etag(r), {reason, {}});
  CHECK(r.status == "returned");
  const std::string second = "Gửi kèm biên bản vi phạm hành chính số 12/BB-VPHC.";
  r = staff.reports().respond(r.id, etag(r), {second, {record}});
  // The citizen may not approve; a stale ETag loses; the IOC approves and it is published.
  auto denied = catch_error([&] { citizen.reports().approve(r.id, etag(r), {}); });
  CHECK(denied.type() == hues::ErrorType::kPermissionDenied);
  CHECK(denied.code() == "role_not_allowed");
  auto stale = catch_error([&] { ioc.reports().approve(r.id, "\"1\"", {}); });
  CHECK(stale.type() == hues::ErrorType::kPreconditionFailed);
  CHECK(stale.http_status() == 412);
  CHECK(stale.code() == "precondition_failed");
  r = ioc.reports().approve(r.id, etag(r), {"Công khai kết quả", {}});
  CHECK(r.status == "resolved");
  CHECK(r.answer.value_or("") == second);
  r = citizen.reports().rate(r.id, {true, "Xử lý nhanh, cảm ơn!"});
  CHECK(r.status == "rated");
  REQUIRE(r.rating.has_value());
  CHECK(r.rating->comment == "Xử lý nhanh, cảm ơn!");
  auto twice = catch_error([&] { citizen.reports().rate(r.id, {false, ""}); });
  CHECK(twice.http_status() == 409);
  CHECK(twice.code() == "invalid_transition");

  auto timeline = citizen.reports().timeline(r.id);
  std::vector<std::string> states, roles;
  for (const auto& e : timeline) states.push_back(e.status.str()), roles.push_back(e.actor_role.str());
  CHECK(states == std::vector<std::string>{"submitted", "received", "assigned", "in_progress", "responded", "returned",
                                           "responded", "resolved", "rated"});
  CHECK(roles == std::vector<std::string>{"citizen", "ioc", "ioc", "agency", "agency", "ioc", "agency", "ioc", "citizen"});
  CHECK(timeline[4].note == first);
  CHECK(timeline[5].note == reason);
  CHECK(timeline[6].note == second);
  CHECK(timeline[6].attachments == std::vector<std::string>{record});
  CHECK(timeline[0].actor == citizen.me().sub);
  CHECK(timeline[1].actor == ioc.me().sub);
  CHECK(timeline[3].actor == staff.me().sub);
}

// Two IOC operators take the same report in with the same ETag: exactly one wins. The loser's
// PreconditionFailedError (still a ConflictError) carries the report as the winner left it, and
// its version is the ETag the loser decides again with.
TEST_CASE("two operators race one step with one ETag: the loser gets the winner's report and retries with its ETag") {
  auto app = oidc("hues-demo-app");
  auto as = [&](const std::string& user) {
    auto tokens = sign_in_with_pkce(*app, user);
    return client_with(std::make_shared<hues::UserCredentials>(app, hues::make_memory_token_store(), user, tokens));
  };
  auto citizen = as("nguyen.van.an"), le = as("le.ioc"), tran = as("tran.ioc");
  hues::NewReport n;
  n.category = "street_light";
  n.description = "Đèn đường hỏng trước chợ Đông Ba, đường Trần Hưng Đạo";
  n.location.lat = 16.4726;
  n.location.lon = 107.5885;
  n.location.ward = "Đông Ba";
  const auto created = citizen.reports().create(n);
  const std::string tag = etag(created);

  std::promise<void> go;
  auto start = go.get_future().share();
  auto race = [&](hues::Client& c, const std::string& note) {
    return std::async(std::launch::async, [&c, start, tag, note, id = created.id]() -> std::variant<hues::Report, hues::PreconditionFailedError> {
      start.wait();
      try {
        return c.reports().receive(id, tag, {note, {}});
      } catch (const hues::PreconditionFailedError& e) {
        return e;
      }
    });
  };
  auto a = race(le, "Lê nhận"), b = race(tran, "Trần nhận");
  go.set_value();
  auto ra = a.get(), rb = b.get();
  REQUIRE(ra.index() != rb.index());  // one report, one error
  const auto& won = std::get<hues::Report>(ra.index() == 0 ? ra : rb);
  const auto& lost = std::get<hues::PreconditionFailedError>(ra.index() == 0 ? rb : ra);
  auto& loser = ra.index() == 0 ? tran : le;
  CHECK(won.status == "received");
  CHECK(won.version == created.version + 1);
  CHECK(lost.http_status() == 412);
  CHECK(lost.code() == "precondition_failed");
  CHECK(lost.type() == hues::ErrorType::kPreconditionFailed);
  CHECK(dynamic_cast<const hues::ConflictError*>(&lost) != nullptr);  // catch (ConflictError&) still holds
  REQUIRE(lost.current() != nullptr);
  CHECK(lost.current()->id == created.id);
  CHECK(lost.current()->status == "received");
  CHECK(lost.current()->version == won.version);
  CHECK(lost.current()->description == created.description);  // byte for byte
  // The printed form stays the one line every error has: no report in it.
  CHECK(std::string(lost.what()).find("Đèn") == std::string::npos);
  CHECK(lost.body().size() <= hues::Error::kMaxErrorBodyBytes);
  // The loser decides again from what it was handed, without another read.
  auto next = loser.reports().assign(created.id, etag(*lost.current()), {"UBND_DONG_BA", "Chuyển UBND phường Đông Ba"});
  CHECK(next.status == "assigned");
  CHECK(next.version == won.version + 1);
  // The async form's future carries the same typed error (an exception_ptr keeps its class).
  try {
    le.reports().approve_async(created.id, tag, {}).get();
    FAIL("a stale ETag was accepted");
  } catch (const hues::PreconditionFailedError& e) {
    REQUIRE(e.current() != nullptr);
    CHECK(e.current()->status == "assigned");
    CHECK(e.current()->version == next.version);
  }
  // A copy, sliced to the base or not, keeps the body; the copy of the typed error keeps current.
  hues::Error sliced = lost;
  CHECK(sliced.body() == lost.body());
  hues::PreconditionFailedError copy = lost;
  REQUIRE(copy.current() != nullptr);
  CHECK(copy.current()->version == won.version);
  // A 412 without a body (a proxy's, say) is still a PreconditionFailedError, with no current.
  hues::PreconditionFailedError bare(hues::ErrorType::kPreconditionFailed, "HTTP 412", 412, "http_412");
  CHECK(bare.current() == nullptr);
  CHECK(bare.body().empty());
}

// What the core keeps of an error response: its JSON object (at most kMaxErrorBodyBytes), never
// a proxy's page; the typed member decodes from it, and a member it cannot read stays empty.
TEST_CASE("a 412 keeps its JSON body, bounded; current decodes from it or stays empty") {
  auto raised = [](int status, std::string body) -> std::exception_ptr {
    hues::HttpResponse res;
    res.status = status;
    res.body = std::move(body);
    try {
      hues::internal::raise_for_status(res, "req_sent");
    } catch (...) {
      return std::current_exception();
    }
    return nullptr;
  };
  auto as_stale = [](std::exception_ptr e) -> hues::PreconditionFailedError {
    try {
      std::rethrow_exception(e);
    } catch (const hues::PreconditionFailedError& p) {
      return p;
    } catch (...) {
    }
    FAIL("not a PreconditionFailedError");
    return hues::PreconditionFailedError(hues::ErrorType::kPreconditionFailed, "unreachable");
  };
  const std::string err = R"({"error":{"code":"precondition_failed","message":"stale","request_id":"req_1"})";
  auto good = as_stale(raised(412, err + R"(,"current":{"id":"rp_1","status":"received","version":3,"description":"Đèn hỏng"}})"));
  REQUIRE(good.current() != nullptr);
  CHECK(good.current()->version == 3);
  CHECK(good.current()->description == "Đèn hỏng");
  CHECK(good.code() == "precondition_failed");
  CHECK(good.request_id() == "req_1");  // no X-Request-Id header: the body's
  CHECK(std::string(good.what()) == "stale");

  auto html = as_stale(raised(412, "<html>412 Precondition Failed</html>"));
  CHECK(html.body().empty());
  CHECK(html.current() == nullptr);
  CHECK(html.code() == "http_412");

  auto odd = as_stale(raised(412, err + R"(,"current":"not a report"})"));
  CHECK(!odd.body().empty());
  CHECK(odd.current() == nullptr);
  CHECK(odd.code() == "precondition_failed");

  std::string padding(hues::Error::kMaxErrorBodyBytes, 'x');
  auto big = as_stale(raised(412, err + R"(,"current":{"id":"rp_1","version":3,"description":")" + padding + "\"}}"));
  CHECK(big.body().empty());
  CHECK(big.current() == nullptr);
  CHECK(big.code() == "precondition_failed");

  // A 428 (no If-Match at all) is a plain ConflictError; a 409 too.
  for (int status : {409, 428}) {
    try {
      std::rethrow_exception(raised(status, R"({"error":{"code":"c","message":"m","request_id":"r"}})"));
    } catch (const hues::PreconditionFailedError&) {
      FAIL("a " << status << " is not a stale ETag");
    } catch (const hues::ConflictError& e) {
      CHECK(e.type() == hues::ErrorType::kConflict);
    }
  }
}

// Citizen and agency talk about an anonymous report; the agency never sees who reported it:
// not in the report, its inbox, its comments, its timeline, nor a 412's current report.
TEST_CASE("an anonymous report: the agency never sees the reporter, in any response") {
  auto app = oidc("hues-demo-app");
  auto as = [&](const std::string& user) {
    auto tokens = sign_in_with_pkce(*app, user);
    return client_with(std::make_shared<hues::UserCredentials>(app, hues::make_memory_token_store(), user, tokens));
  };
  auto citizen = as("nguyen.van.an"), ioc = as("le.ioc"), staff = as("dongba.staff");
  const std::string sub = citizen.me().sub;
  hues::NewReport n;
  n.category = "urban_order";
  n.description = "Quán nhậu lấn chiếm vỉa hè, mở nhạc lớn sau 22 giờ — đường Trần Hưng Đạo, phường Đông Ba";
  n.location.lat = 16.4726;
  n.location.lon = 107.5885;
  n.location.ward = "Đông Ba";
  n.anonymous = true;
  auto r = citizen.reports().create(n);
  CHECK(r.anonymous);
  CHECK(r.reporter.value_or("") == sub);  // the reporter sees their own
  r = ioc.reports().receive(r.id, etag(r), {});
  CHECK(r.reporter.value_or("") == sub);  // and so does the IOC
  r = ioc.reports().assign(r.id, etag(r), {"UBND_DONG_BA", {}});
  r = staff.reports().accept(r.id, etag(r), {});
  CHECK(!r.reporter.has_value());
  const std::string ask = "Tôi không muốn lộ danh tính, mong phường xử lý sớm.";
  const std::string reply = "Phường đã ghi nhận, sẽ kiểm tra trong tuần.";
  citizen.reports().add_comment(r.id, {ask, {}});
  staff.reports().add_comment(r.id, {reply, {}});
  auto seen = staff.reports().comments(r.id);
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].text == ask);
  CHECK(seen[0].author_role == "citizen");
  CHECK(seen[0].author.empty());
  CHECK(seen[1].author == staff.me().sub);
  CHECK(citizen.reports().comments(r.id)[0].author == sub);  // the reporter still sees it
  CHECK(!staff.reports().get(r.id).reporter.has_value());
  for (const auto& item : staff.agencies().inbox("UBND_DONG_BA", {}))
    if (item.id == r.id) CHECK(!item.reporter.has_value());
  for (const auto& e : staff.reports().timeline(r.id)) CHECK(e.actor != sub);
  CHECK(citizen.reports().timeline(r.id)[0].actor == sub);
  try {
    staff.reports().respond(r.id, "\"1\"", {reply, {}});
    FAIL("a stale ETag was accepted");
  } catch (const hues::PreconditionFailedError& e) {
    REQUIRE(e.current() != nullptr);
    CHECK(e.current()->status == "in_progress");
    CHECK(!e.current()->reporter.has_value());
  }
}

TEST_CASE("the IOC declines a transfer, and its statistics for a fresh period count exactly what was done in it") {
  auto app = oidc("hues-demo-app");
  auto as = [&](const std::string& user) {
    auto tokens = sign_in_with_pkce(*app, user);
    return client_with(std::make_shared<hues::UserCredentials>(app, hues::make_memory_token_store(), user, tokens));
  };
  auto citizen = as("nguyen.van.an"), ioc = as("tran.ioc"), staff = as("dongba.staff");
  // From the next whole second (time() is coarse): nothing made before falls in the period.
  const std::time_t start = std::time(nullptr) + 1;
  while (std::time(nullptr) < start) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto utc = [](std::time_t t) {
    char buf[32];
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buf);
  };
  hues::StatisticsQuery q;
  q.from = utc(start);
  q.to = utc(start + 3600);
  q.agency = "UBND_DONG_BA";
  auto none = ioc.statistics().report_statistics(q);
  CHECK(none.total == 0);
  CHECK(none.by_agency.empty());
  CHECK_FALSE(none.median_handling_seconds.has_value());
  CHECK_FALSE(none.satisfaction_rate.has_value());

  hues::NewReport n;
  n.category = "urban_order";
  n.description = "Xe bán hàng rong chiếm lòng đường Trần Hưng Đạo trước chợ Đông Ba";
  n.location = {16.4726, 107.5885, "Chợ Đông Ba, đường Trần Hưng Đạo", "Đông Ba"};
  auto routed = [&] {
    auto r = citizen.reports().create(n);
    r = ioc.reports().receive(r.id, etag(r), {});
    return ioc.reports().assign(r.id, etag(r), {"UBND_DONG_BA", ""});
  };
  // A transfer the IOC declines: the ward keeps it and goes on.
  auto kept = routed();
  kept = staff.reports().request_transfer(kept.id, etag(kept), {"Đề nghị chuyển Công an thành phố", {}});
  CHECK(kept.status == "transfer_requested");
  auto denied = catch_error([&] { staff.reports().decline_transfer(kept.id, etag(kept), {"x", {}}); });
  CHECK(denied.type() == hues::ErrorType::kPermissionDenied);
  auto empty_reason = catch_error([&] { ioc.reports().decline_transfer(kept.id, etag(kept), {"", {}}); });
  CHECK(empty_reason.type() == hues::ErrorType::kValidation);
  CHECK(empty_reason.field() == "reason");
  const std::string reason = "Lòng đường trước chợ do phường Đông Ba quản lý, đề nghị tiếp tục xử lý.";
  kept = ioc.reports().decline_transfer(kept.id, etag(kept), {reason, {}});
  CHECK(kept.status == "in_progress");
  CHECK(kept.agency_code == "UBND_DONG_BA");
  auto t = staff.reports().timeline(kept.id);
  REQUIRE(t.size() == 5);
  CHECK(t.back().status == "in_progress");
  CHECK(t.back().actor_role == "ioc");
  CHECK(t.back().note == reason);
  CHECK(t.back().actor == ioc.me().sub);
  // One answered, published and rated unsatisfied; one left at the IOC (another agency).
  auto done = routed();
  done = staff.reports().accept(done.id, etag(done), {});
  done = staff.reports().respond(done.id, etag(done), {"Đã nhắc nhở, yêu cầu di dời.", {}});
  done = ioc.reports().approve(done.id, etag(done), {});
  done = citizen.reports().rate(done.id, {false, "Hôm sau xe lại quay lại."});
  citizen.reports().create(n);

  auto s = ioc.statistics().report_statistics(q);
  CHECK(s.agency.value_or("") == "UBND_DONG_BA");
  CHECK(s.total == 2);
  CHECK(s.by_state.in_progress == 1);
  CHECK(s.by_state.rated == 1);
  CHECK(s.by_state.submitted == 0);
  CHECK(s.by_state.transfer_requested == 0);
  REQUIRE(s.by_agency.size() == 1);
  CHECK(s.by_agency[0].code == "UBND_DONG_BA");
  CHECK(s.by_agency[0].name == "Ủy ban nhân dân phường Đông Ba");
  CHECK(s.by_agency[0].count == 2);
  CHECK(s.overdue == 0);
  CHECK(s.ratings == 1);
  CHECK(s.satisfied == 0);
  REQUIRE(s.satisfaction_rate.has_value());
  CHECK(*s.satisfaction_rate == 0.0);
  std::tm tm{};
  auto seconds = [&](const std::string& at) {
    strptime(at.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return static_cast<std::int64_t>(timegm(&tm));
  };
  const auto timeline = citizen.reports().timeline(done.id);
  CHECK(s.median_handling_seconds.value_or(-1) == seconds(timeline[timeline.size() - 2].at) - seconds(timeline[0].at));
  // The whole city in that period also holds the report still at the IOC.
  q.agency.reset();
  auto city = ioc.statistics().report_statistics(q);
  CHECK(city.total >= 3);
  CHECK(city.by_state.submitted >= 1);

  // Only the IOC; a period is checked before it is sent, and by the server.
  auto not_ioc = catch_error([&] { staff.statistics().report_statistics(q); });
  CHECK(not_ioc.type() == hues::ErrorType::kPermissionDenied);
  CHECK(not_ioc.code() == "role_not_allowed");
  hues::StatisticsQuery bad;
  bad.from = "hôm qua";
  bad.to = q.to;
  auto local = catch_error([&] { ioc.statistics().report_statistics(bad); });
  CHECK(local.type() == hues::ErrorType::kValidation);
  CHECK(local.field() == "from");
  bad.from = q.to;
  bad.to = q.from;
  auto reversed = catch_error([&] { ioc.statistics().report_statistics(bad); });
  CHECK(reversed.type() == hues::ErrorType::kValidation);
  CHECK(reversed.http_status() == 400);
  CHECK(reversed.field() == "from");
}

// A subscription with a user's bearer token (issue 9): the token is revoked while the stream
// is open; the server ends the stream before any later event, the reconnect gets 401, and the
// pipeline's refresh cannot help (the refresh token is revoked with it: RFC 7009 revokes the
// family), so the subscription ends with AuthenticationError and nothing after the revocation
// reaches the listener. Both ways: the revocation endpoint directly (the credentials still
// think they are signed in and try to refresh), and sign_out().
TEST_CASE("events.stream with a user's token: revoked mid-stream, it ends with AuthenticationError, nothing after") {
  for (bool by_sign_out : {false, true}) {
    CAPTURE(by_sign_out);
    auto oidc_client = oidc("hues-demo-app");
    auto tokens = sign_in_with_pkce(*oidc_client, "nguyen.van.an");
    auto user = std::make_shared<hues::UserCredentials>(oidc_client, hues::make_memory_token_store(), "an", tokens);
    auto c = client_with(user);
    hues::ClientOptions k;
    k.base_url = sandbox().tls_url();
    k.ca_file = sandbox().ca_file();
    k.api_key = sandbox().api_key();
    hues::Client reporter(k);
    auto report = [&](const std::string& text) { return reporter.reports().create(hues_test::new_report(text)).id; };

    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::string> seen;  // report ids, in order
    std::exception_ptr end;
    bool ended = false;
    hues::StreamOptions so;
    so.initial_backoff_ms = 10;
    so.max_backoff_ms = 40;
    auto sub = c.events().stream(
        [&](const hues::ReportEvent& e) {
          std::lock_guard<std::mutex> lock(mu);
          seen.push_back(e.report_id);
          cv.notify_all();
        },
        {}, {}, so,
        [&](std::exception_ptr e) {
          std::lock_guard<std::mutex> lock(mu);
          end = e;
          ended = true;
          cv.notify_all();
        });
    // Events reach the user's stream (created until one arrives: the stream starts "from now").
    std::string before;
    for (int i = 0; i < 50; ++i) {
      before = report("trước khi thu hồi " + std::to_string(i));
      std::unique_lock<std::mutex> lock(mu);
      if (cv.wait_for(lock, std::chrono::seconds(2), [&] { return std::find(seen.begin(), seen.end(), before) != seen.end(); }))
        break;
      before.clear();
    }
    REQUIRE_FALSE(before.empty());

    if (by_sign_out) user->sign_out();
    else oidc_client->revoke(tokens.refresh_token, "refresh_token");
    std::size_t at_revocation;
    {
      std::lock_guard<std::mutex> lock(mu);
      at_revocation = seen.size();
    }
    const std::string after = report("sau khi thu hồi");
    {
      std::unique_lock<std::mutex> lock(mu);
      REQUIRE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return ended; }));  // a hang guard
      REQUIRE(end);
      CHECK(std::find(seen.begin(), seen.end(), after) == seen.end());
      CHECK(seen.size() == at_revocation);  // nothing after the revocation
    }
    auto err = catch_error([&] { std::rethrow_exception(end); });
    CHECK(err.type() == hues::ErrorType::kAuthentication);
    if (by_sign_out) CHECK(err.http_status() == 0);  // signed out: the SDK sends no request without tokens
    else CHECK(err.http_status() == 401);            // the refresh was refused (invalid_grant): the 401 stands
    // ended() turns true once on_end has returned (on the host executor): wait for that.
    try {
      sub.wait_for(std::chrono::seconds(10));
    } catch (const hues::Error&) {  // it rethrows the error that ended it
    }
    CHECK(sub.ended());
    CHECK(sub.connections() >= 2);  // the server ended the first stream; the reconnect got the 401
    if (!by_sign_out) CHECK(catch_error([&] { oidc_client->refresh(tokens.refresh_token); }).code() == "invalid_grant");
  }
}
