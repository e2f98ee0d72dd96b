// The C boundary (hues/c_api.h): objects by name, calls by number, completions as JSON.
//
// HTTP operations run through one generic executor driven by the generated call table
// (internal/calls.h): args JSON -> the generated validator -> path, query and body ->
// ClientCore::send_async -> the response body, or an error JSON. Object methods (OidcClient,
// credentials, the loopback receiver) start their asynchronous C++ forms the same way: no SDK
// thread waits for any call. Completions for callback sinks run on one delivery thread, never
// on an I/O thread and never under a lock of ours.
#include "hues/c_api.h"

#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/pchars.hpp>
#include <boost/url/url.hpp>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "hues/client.h"
#include "hues/identity.h"
#include "hues/upload.h"
#include "hues/outbox.h"
#include "hues/webhooks.h"
#include "internal/bridge.h"
#include "internal/calls.h"
#include "internal/client_core.h"
#include "internal/host_adapters.h"  // generated: x-hues-sdk.callbacks' adapters
#include "internal/json_codec.h"
#include "internal/service_support.h"
#include "internal/stream.h"
#include "internal/upload.h"

#ifndef HUES_VERSION
#define HUES_VERSION "0.0.0"
#endif

namespace json = boost::json;

namespace hues::internal::bridge {

namespace {
std::atomic<long long> g_host_reply_timeout_ms{120000};
}  // namespace

void set_host_reply_timeout(std::chrono::milliseconds timeout) { g_host_reply_timeout_ms = timeout.count(); }

using CallDesc = CallDescriptor;

namespace {

[[noreturn]] void invalid(const std::string& field, const std::string& message) {
  throw_error(ErrorType::kValidation, message, 0, "validation_error", {}, field);
}

std::string error_json(const std::exception_ptr& eptr) {
  json::object o;
  try {
    std::rethrow_exception(eptr);
  } catch (const Error& e) {
    o["type"] = to_string(e.type());
    o["message"] = e.message();
    o["status"] = e.http_status();
    o["code"] = e.code();
    o["request_id"] = e.request_id();
    o["field"] = e.field();
    o["retryable"] = e.retryable();
    // The response body, for the typed members the bindings generate (a 412's current).
    if (!e.body().empty()) {
      try {
        o["body"] = parse_json(e.body());
      } catch (const FieldError&) {
      }
    }
  } catch (const FieldError& e) {
    o["type"] = "validation";
    o["message"] = e.what();
    o["status"] = 0;
    o["code"] = "validation_error";
    o["field"] = e.field();
    o["retryable"] = false;
  } catch (const std::exception& e) {
    o["type"] = "error";
    o["message"] = e.what();
    o["status"] = 0;
    o["retryable"] = false;
  } catch (...) {
    o["type"] = "error";
    o["message"] = "unknown error";
    o["status"] = 0;
    o["retryable"] = false;
  }
  return json::serialize(o);
}

hues_bytes to_bytes(const std::string& s) {
  hues_bytes b{nullptr, s.size()};
  b.data = static_cast<std::uint8_t*>(std::malloc(s.size() ? s.size() : 1));
  if (b.data && !s.empty()) std::memcpy(b.data, s.data(), s.size());
  return b;
}

// ---- a small FIFO of tasks on fixed threads (the delivery thread) ----
class Worker {
 public:
  explicit Worker(std::size_t threads) : threads_(threads) {}
  ~Worker() { stop(); }
  void post(std::function<void()> task) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (stopping_) {  // after shutdown: run it here, so a completion is never lost
        lock.unlock();
        task();
        return;
      }
      if (!started_) {
        started_ = true;
        for (std::size_t i = 0; i < threads_; ++i) pool_.emplace_back([this] { run(); });
      }
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }
  // Runs what is queued, then joins the threads.
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : pool_)
      if (t.joinable()) {
        if (t.get_id() == std::this_thread::get_id()) t.detach(); else t.join();
      }
    pool_.clear();
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }
  std::size_t threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> pool_;
  bool started_ = false;
  bool stopping_ = false;
};

// ---- objects ----
struct Object {
  virtual ~Object() = default;
  virtual std::string type() const = 0;
  // The host released its handle (calls in flight may still hold the object).
  virtual void released() {}
};


// An object the app implements in its language (hues_host_object_new); the generated
// adapters (internal/host_adapters.h) call it as the C++ interface it implements.
struct HostObject final : Object, HostCaller {
  std::string interface_name;
  hues_invoke_fn invoke = nullptr;
  void* context = nullptr;
  std::uint64_t host_id = 0;
  std::string type() const override { return interface_name; }
  // The last reference may drop on an I/O thread (a client released while its call was in
  // flight): the host hears of it on the delivery thread instead, like every completion.
  ~HostObject() override;
  // Calls the host and waits for its reply (the host may reply from another thread).
  HostReply call(int method, const std::string& args) const override;
};

struct ClientObject final : Object {
  std::shared_ptr<ClientCore> core;
  std::string type() const override { return "Client"; }
};
struct OidcObject final : Object {
  std::shared_ptr<OidcClient> oidc;
  std::string type() const override { return "OidcClient"; }
};
struct ClientCredentialsObject final : Object {
  std::shared_ptr<ClientCredentials> creds;
  std::string type() const override { return "ClientCredentials"; }
};
struct UserCredentialsObject final : Object {
  std::shared_ptr<UserCredentials> creds;
  std::string type() const override { return "UserCredentials"; }
};
struct TokenStoreObject final : Object {
  std::string kind;
  std::shared_ptr<TokenStore> store;
  std::string type() const override { return kind; }
};
struct LoopbackObject final : Object {
  std::shared_ptr<LoopbackReceiver> receiver;
  std::string type() const override { return "LoopbackReceiver"; }
};
struct UploadObject final : Object {
  std::shared_ptr<Upload> upload;
  std::string type() const override { return "Upload"; }
};
struct UploadStoreObject final : Object {
  std::string kind;
  std::shared_ptr<UploadStore> store;
  std::string type() const override { return kind; }
};
struct OutboxObject final : Object {
  std::shared_ptr<Outbox> outbox;
  std::shared_ptr<internal::Runtime> runtime;  // its client's: the host executor runs its disk work
  std::string type() const override { return "Outbox"; }
  // The host released it: the file is closed at once, so the app may reopen it (an
  // in-flight create is resent with its key on reopen), though a call may still hold this.
  void released() override {
    if (outbox) outbox->close();
  }
  ~OutboxObject() override { released(); }
};
struct WebhookVerifierObject final : Object {
  std::shared_ptr<WebhookVerifier> verifier;
  std::string type() const override { return "WebhookVerifier"; }
};

struct Reply {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int status = HUES_ERROR;
  std::string data;
};

class State {
 public:
  std::mutex mu;
  std::unordered_map<std::uint64_t, std::shared_ptr<Object>> objects;
  std::unordered_map<std::uint64_t, std::shared_ptr<CancellationToken>> calls;
  std::unordered_map<std::uint64_t, std::shared_ptr<Reply>> replies;
  // Stream calls started with "ack": their subscription, until it ends (hues_call_ack).
  std::unordered_map<std::uint64_t, std::shared_ptr<StreamRef>> acked_streams;
  std::atomic<std::uint64_t> next_id{1};
  std::atomic<bool> shut_down{false};
  Worker delivery{1};

  std::uint64_t add(std::shared_ptr<Object> obj) {
    std::uint64_t id = next_id++;
    std::lock_guard<std::mutex> lock(mu);
    objects.emplace(id, std::move(obj));
    return id;
  }
  std::shared_ptr<Object> get(std::uint64_t id) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = objects.find(id);
    return it == objects.end() ? nullptr : it->second;
  }
};

State& state() {
  static State* s = new State();  // outlives static destruction: hosts may call at exit
  return *s;
}

HostObject::~HostObject() {
  if (!invoke) return;
  auto fn = invoke;
  auto ctx = context;
  auto id = host_id;
  state().delivery.post([fn, ctx, id] { fn(ctx, id, HUES_RELEASE, nullptr, 0, 0); });
}

HostReply HostObject::call(int method, const std::string& args) const {
  auto reply = std::make_shared<Reply>();
  std::uint64_t token = state().next_id++;
  {
    std::lock_guard<std::mutex> lock(state().mu);
    state().replies.emplace(token, reply);
  }
  invoke(context, host_id, method, reinterpret_cast<const std::uint8_t*>(args.data()), args.size(), token);
  std::unique_lock<std::mutex> lock(reply->mu);
  // A host that never answers must not hold an SDK thread for good; a late reply is dropped.
  const auto timeout = std::chrono::milliseconds(g_host_reply_timeout_ms.load());
  if (!reply->cv.wait_for(lock, timeout, [&] { return reply->done; })) {
    lock.unlock();
    {
      std::lock_guard<std::mutex> registry(state().mu);
      state().replies.erase(token);
    }
    return {HostReply::kNoAnswer, interface_name + " did not answer within " + std::to_string(timeout.count()) + " ms"};
  }
  if (reply->status == HUES_OK) return {HostReply::kOk, std::move(reply->data)};
  std::string message = "host callback failed";
  try {
    auto v = parse_json(reply->data);
    if (auto* o = v.if_object())
      if (auto* m = o->if_contains("message"); m && m->is_string()) message = std::string(m->get_string());
  } catch (...) {
  }
  return {HostReply::kFailed, std::move(message)};
}

template <typename T>
std::shared_ptr<T> get_as(std::uint64_t id, const char* field) {
  auto obj = std::dynamic_pointer_cast<T>(state().get(id));
  if (!obj) invalid(field, std::string(field) + ": no such object (or of another type)");
  return obj;
}

// A config field taking interface I: the app's host object of that interface, through its
// generated adapter; null when absent.
template <typename I>
std::shared_ptr<I> host_adapter(std::uint64_t handle, const char* field) {
  using Adapter = typename HostAdapter<I>::type;
  if (!handle) return nullptr;
  auto host = std::dynamic_pointer_cast<HostObject>(state().get(handle));
  if (!host || host->interface_name != Adapter::kInterface)
    invalid(field, std::string(field) + " must be " + std::string(Adapter::kArticle) + " " +
                       std::string(Adapter::kInterface));
  return std::make_shared<Adapter>(std::move(host));
}

// The same for a store, which may also be one of the SDK's own (Native: its object).
template <typename I, typename Native>
std::shared_ptr<I> store_from(std::uint64_t handle, const char* field) {
  if (auto native = std::dynamic_pointer_cast<Native>(state().get(handle))) return native->store;
  return host_adapter<I>(handle, field);
}

// ---- config decoding ----
class Reader {
 public:
  Reader(const json::object& o, std::string prefix) : o_(o), prefix_(std::move(prefix)) {}
  const json::value* get(const char* name) {
    seen_.push_back(name);
    auto* v = o_.if_contains(name);
    return v && !v->is_null() ? v : nullptr;
  }
  std::string path(const char* name) const { return prefix_.empty() ? name : prefix_ + "." + name; }
  void str(const char* name, std::string& out) {
    if (auto* v = get(name)) {
      if (!v->is_string()) invalid(path(name), path(name) + " must be a string");
      out = std::string(v->get_string());
    }
  }
  template <typename I>
  void integer(const char* name, I& out) {
    if (auto* v = get(name)) {
      std::int64_t x = 0;
      read_json(*v, x, path(name));
      out = static_cast<I>(x);
    }
  }
  void number(const char* name, double& out) {
    if (auto* v = get(name)) read_json(*v, out, path(name));
  }
  void boolean(const char* name, bool& out) {
    if (auto* v = get(name)) read_json(*v, out, path(name));
  }
  std::uint64_t handle(const char* name) {
    std::int64_t h = 0;
    integer(name, h);
    return static_cast<std::uint64_t>(h);
  }
  // Unknown keys are typos: refuse them, naming the key.
  void finish() const {
    for (const auto& kv : o_) {
      bool known = false;
      for (const auto& s : seen_) known = known || kv.key() == s;
      if (!known) invalid(path(std::string(kv.key()).c_str()), "unknown option " + path(std::string(kv.key()).c_str()));
    }
  }

 private:
  const json::object& o_;
  std::string prefix_;
  std::vector<std::string> seen_;
};

const json::object& as_object(const json::value& v, const std::string& field) {
  if (!v.is_object()) invalid(field, (field.empty() ? std::string("config") : field) + " must be a JSON object");
  return v.get_object();
}

json::value parse_config(const std::uint8_t* data, std::size_t len) {
  if (!data || len == 0) return json::object();
  return parse_json(std::string_view(reinterpret_cast<const char*>(data), len));
}

LogLevel log_level(const std::string& s) {
  if (s == "debug") return LogLevel::kDebug;
  if (s == "info" || s.empty()) return LogLevel::kInfo;
  if (s == "warning") return LogLevel::kWarning;
  if (s == "error") return LogLevel::kError;
  invalid("log_level", "log_level must be debug, info, warning or error");
}

void read_transport(Reader& r, ClientOptions& o) {
  r.str("ca_file", o.ca_file);
  r.str("proxy", o.proxy);
  r.integer("connect_timeout_ms", o.connect_timeout_ms);
  r.integer("attempt_timeout_ms", o.attempt_timeout_ms);
  r.integer("deadline_ms", o.deadline_ms);
  r.str("user_agent", o.user_agent);
  o.logger = host_adapter<Logger>(r.handle("logger"), "logger");
  std::string level;
  r.str("log_level", level);
  o.log_level = log_level(level);
}

ClientOptions client_options(const json::object& cfg) {
  ClientOptions o;
  Reader r(cfg, "");
  r.str("base_url", o.base_url);
  r.str("api_key", o.api_key);
  if (auto h = r.handle("credentials")) {
    auto obj = state().get(h);
    if (auto cc = std::dynamic_pointer_cast<ClientCredentialsObject>(obj)) o.credentials = cc->creds;
    else if (auto uc = std::dynamic_pointer_cast<UserCredentialsObject>(obj)) o.credentials = uc->creds;
    else invalid("credentials", "credentials must be a ClientCredentials or UserCredentials");
  }
  read_transport(r, o);
  if (auto* retry = r.get("retry")) {
    Reader rr(as_object(*retry, "retry"), "retry");
    rr.integer("max_attempts", o.retry.max_attempts);
    rr.integer("initial_backoff_ms", o.retry.initial_backoff_ms);
    rr.integer("max_backoff_ms", o.retry.max_backoff_ms);
    rr.number("multiplier", o.retry.multiplier);
    rr.finish();
  }
  r.integer("max_connections_per_host", o.max_connections_per_host);
  r.integer("max_queued_requests", o.max_queued_requests);
  r.integer("max_response_bytes", o.max_response_bytes);
  r.finish();
  return o;
}

OidcOptions oidc_options(const json::object& cfg) {
  OidcOptions o;
  Reader r(cfg, "");
  r.str("issuer", o.issuer);
  r.str("client_id", o.client_id);
  r.str("client_secret", o.client_secret);
  r.boolean("client_secret_post", o.client_secret_post);
  if (auto* algs = r.get("allowed_algorithms")) read_json(*algs, o.allowed_algorithms, "allowed_algorithms");
  r.integer("clock_skew_seconds", o.clock_skew_seconds);
  r.integer("refresh_margin_seconds", o.refresh_margin_seconds);
  r.integer("jwks_cache_seconds", o.jwks_cache_seconds);
  read_transport(r, o.http);
  r.finish();
  if (o.client_id.empty()) invalid("client_id", "client_id is required");
  if (o.issuer.empty()) invalid("issuer", "issuer is required");
  return o;
}

CallOptions call_options(const std::uint8_t* data, std::size_t len) {
  CallOptions o;
  auto v = parse_config(data, len);
  Reader r(as_object(v, "options"), "options");
  r.integer("attempt_timeout_ms", o.attempt_timeout_ms);
  r.integer("deadline_ms", o.deadline_ms);
  r.integer("max_attempts", o.max_attempts);
  r.str("idempotency_key", o.idempotency_key);
  r.finish();
  return o;
}

std::shared_ptr<Object> make_object(const std::string& type, const json::object& cfg) {
  if (type == "Client") {
    auto obj = std::make_shared<ClientObject>();
    obj->core = std::make_shared<ClientCore>(client_options(cfg));
    return obj;
  }
  if (type == "OidcClient") {
    auto obj = std::make_shared<OidcObject>();
    obj->oidc = std::make_shared<OidcClient>(oidc_options(cfg));
    return obj;
  }
  if (type == "ClientCredentials") {
    Reader r(cfg, "");
    auto oidc = get_as<OidcObject>(r.handle("oidc"), "oidc");
    std::string scope;
    r.str("scope", scope);
    r.finish();
    auto obj = std::make_shared<ClientCredentialsObject>();
    obj->creds = std::make_shared<ClientCredentials>(oidc->oidc, scope);
    return obj;
  }
  if (type == "UserCredentials") {
    Reader r(cfg, "");
    auto oidc = get_as<OidcObject>(r.handle("oidc"), "oidc");
    auto store = store_from<TokenStore, TokenStoreObject>(r.handle("store"), "store");
    if (!store) invalid("store", "store must be a TokenStore");
    std::string key = "default";
    r.str("key", key);
    TokenSet tokens;
    if (auto* t = r.get("tokens")) read_json(*t, tokens, "tokens");
    r.finish();
    auto obj = std::make_shared<UserCredentialsObject>();
    obj->creds = std::make_shared<UserCredentials>(oidc->oidc, store, key, tokens);
    return obj;
  }
  if (type == "MemoryTokenStore" || type == "FileTokenStore") {
    auto obj = std::make_shared<TokenStoreObject>();
    obj->kind = type;
    Reader r(cfg, "");
    if (type == "FileTokenStore") {
      std::string dir;
      r.str("directory", dir);
      if (dir.empty()) invalid("directory", "directory is required");
      obj->store = make_file_token_store(dir);
    } else {
      obj->store = make_memory_token_store();
    }
    r.finish();
    return obj;
  }
  if (type == "Upload") {
    Reader r(cfg, "");
    auto client = get_as<ClientObject>(r.handle("client"), "client");
    UploadOptions o;
    r.str("path", o.path);
    r.str("media_type", o.media_type);
    r.str("filename", o.filename);
    r.str("filetype", o.filetype);
    r.str("endpoint", o.endpoint);
    r.integer("chunk_size", o.chunk_size);
    r.boolean("checksum", o.checksum);
    r.boolean("creation_with_upload", o.creation_with_upload);
    r.integer("max_retries", o.max_retries);
    r.integer("retry_backoff_ms", o.retry_backoff_ms);
    // upload from a stream (issue 9)
    r.integer("size", o.size);
    r.str("fingerprint", o.fingerprint);
    o.source = host_adapter<UploadSource>(r.handle("source"), "source");
    o.store = store_from<UploadStore, UploadStoreObject>(r.handle("store"), "store");
    o.progress = host_adapter<UploadProgressListener>(r.handle("progress"), "progress");
    r.finish();
    auto obj = std::make_shared<UploadObject>();
    obj->upload = UploadFactory::make(client->core, std::move(o));
    return obj;
  }
  if (type == "MemoryUploadStore" || type == "FileUploadStore") {
    auto obj = std::make_shared<UploadStoreObject>();
    obj->kind = type;
    Reader r(cfg, "");
    if (type == "FileUploadStore") {
      std::string dir;
      r.str("directory", dir);
      if (dir.empty()) invalid("directory", "directory is required");
      obj->store = make_file_upload_store(dir);
    } else {
      obj->store = make_memory_upload_store();
    }
    r.finish();
    return obj;
  }
  if (type == "Outbox") {
    Reader r(cfg, "");
    auto client = get_as<ClientObject>(r.handle("client"), "client");
    OutboxOptions o;
    r.str("path", o.path);
    if (o.path.empty()) invalid("path", "path is required");
    o.listener = host_adapter<OutboxListener>(r.handle("listener"), "listener");
    r.integer("initial_backoff_ms", o.initial_backoff_ms);
    r.integer("max_backoff_ms", o.max_backoff_ms);
    r.integer("send_deadline_ms", o.send_deadline_ms);
    r.boolean("copy_media", o.copy_media);
    r.integer("media_chunk_size", o.media_chunk_size);
    r.finish();
    auto obj = std::make_shared<OutboxObject>();
    obj->runtime = client->core->runtime();
    obj->outbox = open_outbox(client->core, std::move(o));
    return obj;
  }
  if (type == "LoopbackReceiver") {
    auto obj = std::make_shared<LoopbackObject>();
    obj->receiver = std::make_shared<LoopbackReceiver>();
    return obj;
  }
  if (type == "WebhookVerifier") {  // WebhookVerifierConfig: secret and/or secrets, tolerance_seconds
    Reader r(cfg, "");
    WebhookVerifierOptions options;
    std::string secret;
    r.str("secret", secret);
    if (!secret.empty()) options.secrets.push_back(secret);
    if (auto* v = r.get("secrets")) {
      std::vector<std::string> more;
      read_json(*v, more, "secrets");
      options.secrets.insert(options.secrets.end(), more.begin(), more.end());
    }
    r.integer("tolerance_seconds", options.tolerance_seconds);
    r.finish();
    auto obj = std::make_shared<WebhookVerifierObject>();
    obj->verifier = std::make_shared<WebhookVerifier>(std::move(options));
    return obj;
  }
  invalid("type", "no SDK object type " + type);
}

// ---- object methods (hand-written C++; the bindings reach them through the table) ----
std::string arg_str(const json::object& a, const char* name, const char* fallback = nullptr) {
  auto* v = a.if_contains(name);
  if (!v || v->is_null()) {
    if (fallback) return fallback;
    invalid(name, std::string(name) + " is required");
  }
  if (!v->is_string()) invalid(name, std::string(name) + " must be a string");
  return std::string(v->get_string());
}

template <typename T>
T arg_model(const json::object& a, const char* name) {
  auto* v = a.if_contains(name);
  if (!v || v->is_null()) invalid(name, std::string(name) + " is required");
  T m{};
  read_json(*v, m, name);
  return m;
}

using MethodDone = std::function<void(std::exception_ptr, json::value)>;

// The completion of an object method: its result as JSON, or its error.
template <typename T, typename Encode>
Async<T> answer(MethodDone done, Encode encode) {
  return [done = std::move(done), encode](std::exception_ptr error, T value) {
    if (error) return done(error, nullptr);
    json::value out;
    try {
      out = encode(value);
    } catch (...) {
      return done(std::current_exception(), nullptr);
    }
    done(nullptr, std::move(out));
  };
}

template <typename T>
Async<T> answer(MethodDone done) {
  return answer<T>(std::move(done), [](const T& value) { return to_json(value); });
}

Async<std::string> answer_string(MethodDone done) {
  return answer<std::string>(std::move(done), [](const std::string& value) { return json::value(json::string(value)); });
}

AsyncVoid answer_none(MethodDone done) {
  return [done = std::move(done)](std::exception_ptr error) { done(error, nullptr); };
}

// Starts an object method on its asynchronous form: no SDK thread waits for it. Network work
// runs on the I/O threads, host code (token stores) on the host executor; counters and other
// pure reads answer at once. Throws (a bad argument) only before anything started.
void start_method(const std::shared_ptr<Object>& obj, const CallDesc& d, const json::object& a,
                  const CallOptions& call, MethodDone done) {
  std::string m = d.method;
  if (auto o = std::dynamic_pointer_cast<OidcObject>(obj)) {
    auto& c = *o->oidc;
    if (m == "metadata") return c.metadata_async(answer<ProviderMetadata>(done), call);
    if (m == "authorization_request") {
      auto encode = [](const AuthorizationRequest& r) {
        return json::value(json::object{{"url", r.url}, {"redirect_uri", r.redirect_uri}, {"state", r.state},
                                        {"nonce", r.nonce}, {"code_verifier", r.code_verifier}});
      };
      return c.authorization_request_async(arg_str(a, "redirect_uri"), arg_str(a, "scope"),
                                           answer<AuthorizationRequest>(done, encode), call);
    }
    if (m == "exchange_code") {
      auto* rv = a.if_contains("request");
      if (!rv) invalid("request", "request is required");
      Reader r(as_object(*rv, "request"), "request");
      AuthorizationRequest req;
      r.str("url", req.url);
      r.str("redirect_uri", req.redirect_uri);
      r.str("state", req.state);
      r.str("nonce", req.nonce);
      r.str("code_verifier", req.code_verifier);
      r.finish();
      return c.exchange_code_async(req, arg_str(a, "redirected_to"), answer<TokenSet>(done), call);
    }
    if (m == "start_device_authorization")
      return c.start_device_authorization_async(arg_str(a, "scope"), answer<DeviceAuthorization>(done), call);
    if (m == "poll_device_token")
      return c.poll_device_token_async(arg_model<DeviceAuthorization>(a, "device"), answer<TokenSet>(done), call);
    if (m == "client_credentials")
      return c.client_credentials_async(arg_str(a, "scope", ""), answer<TokenSet>(done), call);
    if (m == "refresh")
      return c.refresh_async(arg_str(a, "refresh_token"), arg_str(a, "scope", ""), answer<TokenSet>(done), call);
    if (m == "revoke")
      return c.revoke_async(arg_str(a, "token"), arg_str(a, "token_type_hint", ""), answer_none(done), call);
    if (m == "validate_id_token")
      return c.validate_id_token_async(arg_str(a, "id_token"), arg_str(a, "expected_nonce", ""),
                                       answer<IdTokenClaims>(done), call);
    if (m == "userinfo") return c.userinfo_async(arg_str(a, "access_token"), answer<CitizenProfile>(done), call);
  } else if (auto cc = std::dynamic_pointer_cast<ClientCredentialsObject>(obj)) {
    if (m == "access_token") return cc->creds->access_token_async(answer_string(done), call);
    if (m == "fetch_count") return done(nullptr, static_cast<std::int64_t>(cc->creds->fetch_count()));
  } else if (auto uc = std::dynamic_pointer_cast<UserCredentialsObject>(obj)) {
    if (m == "tokens") return uc->creds->tokens_async(answer<TokenSet>(done), call);
    if (m == "refresh_count") return done(nullptr, static_cast<std::int64_t>(uc->creds->refresh_count()));
    if (m == "signed_in") return done(nullptr, uc->creds->signed_in());
    if (m == "sign_out") return uc->creds->sign_out_async(answer_none(done), call);
  } else if (auto up = std::dynamic_pointer_cast<UploadObject>(obj)) {
    if (m == "start") return up->upload->start_async(answer<UploadResult>(done), call);
    if (m == "pause") {
      up->upload->pause();
      return done(nullptr, nullptr);
    }
    if (m == "terminate") return up->upload->terminate_async(answer_none(done), call);
    if (m == "fingerprint") {
      std::string f;
      try {
        f = up->upload->fingerprint();
      } catch (...) {
        return done(std::current_exception(), nullptr);
      }
      return done(nullptr, json::string(f));
    }
  } else if (auto ob = std::dynamic_pointer_cast<OutboxObject>(obj)) {
    auto outbox = ob->outbox;
    if (m == "flush") {
      outbox->flush();
      return done(nullptr, nullptr);
    }
    if (m == "wait_idle") {
      std::int64_t timeout = 30000;
      if (auto* t = a.if_contains("timeout_ms"); t && !t->is_null()) read_json(*t, timeout, "timeout_ms");
      return outbox->wait_idle_async(timeout, answer<bool>(done, [](bool v) { return json::value(v); }));
    }
    // The rest reads or commits the file (an fsync): on the host executor, off the caller's
    // thread (an asyncio loop) and off the I/O threads.
    std::function<json::value()> work;
    if (m == "enqueue") {
      auto report = arg_model<NewReport>(a, "report");
      std::vector<OutboxMedia> media;
      if (auto* v = a.if_contains("media"); v && !v->is_null()) read_json(*v, media, "media");
      work = [outbox, report, media] { return to_json(outbox->enqueue(report, media)); };
    } else if (m == "items") {
      work = [outbox] { return to_json(outbox->items()); };
    } else if (m == "cancel") {
      auto id = arg_str(a, "local_id");
      work = [outbox, id] { return json::value(outbox->cancel(id)); };
    } else if (m == "retry") {
      auto id = arg_str(a, "local_id");
      work = [outbox, id] { return json::value(outbox->retry(id)); };
    } else if (m == "purge") {
      work = [outbox] { return json::value(outbox->purge()); };
    }
    if (work) {
      auto run = [work, done] {
        json::value out;
        try {
          out = work();
        } catch (...) {
          return done(std::current_exception(), nullptr);
        }
        done(nullptr, std::move(out));
      };
      if (!ob->runtime->host().post(run))
        done(make_error(ErrorType::kCancelled, "the SDK is shutting down", "cancelled"), nullptr);
      return;
    }
  } else if (auto lb = std::dynamic_pointer_cast<LoopbackObject>(obj)) {
    if (m == "redirect_uri") return done(nullptr, json::string(lb->receiver->redirect_uri()));
    if (m == "wait") {
      std::int64_t timeout = 300000;
      if (auto* t = a.if_contains("timeout_ms"); t && !t->is_null()) read_json(*t, timeout, "timeout_ms");
      return lb->receiver->wait_async(timeout, answer_string(done), call);
    }
  } else if (auto wv = std::dynamic_pointer_cast<WebhookVerifierObject>(obj)) {
    if (m == "verify") {  // pure computation: answers inline (body crosses as base64, the bytes type)
      auto body = try_base64_decode(arg_str(a, "body"));
      if (!body) invalid("body", "body must be base64 bytes");
      std::map<std::string, std::string> headers;
      if (auto* h = a.if_contains("headers"); h && !h->is_null()) {
        for (const auto& kv : as_object(*h, "headers")) {
          if (!kv.value().is_string()) invalid("headers." + std::string(kv.key()), "header values must be strings");
          headers.emplace(std::string(kv.key()), std::string(kv.value().get_string()));
        }
      }
      return done(nullptr, to_json(wv->verifier->verify(*body, headers)));
    }
  }
  invalid("call_id", std::string("no method ") + d.service + "." + d.method + " on " + obj->type());
}

// Arguments the call does not take are typos: refuse them, naming the argument.
void refuse_unknown_args(const CallDesc& d, const json::object& args) {
  for (const auto& kv : args) {
    std::string_view key = kv.key();
    bool known = d.kind == CallKind::kHttp && key == "body" && d.body_model;
    for (std::size_t i = 0; i < d.path_param_count; ++i) known = known || key == d.path_params[i].name;
    for (std::size_t i = 0; i < d.query_param_count; ++i) known = known || key == d.query_params[i].name;
    for (std::size_t i = 0; i < d.header_param_count; ++i) known = known || key == d.header_params[i].name;
    for (std::size_t i = 0; i < d.arg_count; ++i) known = known || key == d.args[i].name;
    known = known || (d.stream && (key == "stream" || key == "ack"));
    if (!known) invalid(std::string(key), "unknown argument " + std::string(key));
  }
}

}  // namespace
}  // namespace hues::internal::bridge

using namespace hues;
using namespace hues::internal;
using namespace hues::internal::bridge;

struct hues_sink {
  virtual ~hues_sink() = default;
  // taken (events only, may be null) runs once the host has the answer: the backpressure
  // of a stream call counts the events not taken yet.
  virtual void deliver(std::uint64_t tag, int status, std::string data, std::function<void()> taken = nullptr) = 0;
};

namespace {

struct CallbackSink final : hues_sink {
  hues_completion_fn fn;
  void* context;
  CallbackSink(hues_completion_fn f, void* c) : fn(f), context(c) {}
  void deliver(std::uint64_t tag, int status, std::string data, std::function<void()> taken) override {
    // Off the I/O thread and outside every lock of ours: the delivery thread runs it.
    auto fn_ = fn;
    auto ctx = context;
    state().delivery.post([fn_, ctx, tag, status, data = std::move(data), taken = std::move(taken)] {
      fn_(ctx, tag, status, reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
      if (taken) taken();
    });
  }
};

struct QueueSink final : hues_sink {
  struct Item {
    std::uint64_t tag;
    int status;
    std::string data;
    std::function<void()> taken;
  };
  std::mutex mu;
  std::deque<Item> items;
  int fd = -1;
  QueueSink() : fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
  ~QueueSink() override {
    if (fd >= 0) ::close(fd);
  }
  void deliver(std::uint64_t tag, int status, std::string data, std::function<void()> taken) override {
    {
      std::lock_guard<std::mutex> lock(mu);
      items.push_back({tag, status, std::move(data), std::move(taken)});
    }
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(fd, &one, sizeof one);
  }
  std::size_t drain(hues_completion_fn fn, void* ctx, std::size_t max) {
    std::deque<Item> batch;
    {
      std::lock_guard<std::mutex> lock(mu);
      std::uint64_t counter;
      [[maybe_unused]] auto n = ::read(fd, &counter, sizeof counter);  // reset; re-armed by deliver
      while (!items.empty() && batch.size() < max) {
        batch.push_back(std::move(items.front()));
        items.pop_front();
      }
      if (!items.empty()) {
        std::uint64_t one = 1;
        [[maybe_unused]] auto w = ::write(fd, &one, sizeof one);
      }
    }
    for (auto& it : batch) {
      fn(ctx, it.tag, it.status, reinterpret_cast<const std::uint8_t*>(it.data.data()), it.data.size());
      if (it.taken) it.taken();
    }
    return batch.size();
  }
};

// hues_call_sync's sink: the waiting thread runs the runtime's sync loop (see
// Runtime::sync_wait), like the C++ API's sync calls.
struct WaitSink final : hues_sink, internal::SyncWaiter {
  int status = HUES_ERROR;
  std::string data;
  void deliver(std::uint64_t, int s, std::string d, std::function<void()> taken) override {
    if (s == HUES_EVENT) {  // a stream waited for synchronously: only its end answers
      if (taken) taken();
      return;
    }
    status = s;  // published by sync_notify's lock
    data = std::move(d);
    internal::sync_notify(*this);
  }
};

// Keeps a sink alive while calls target it, though the host may free it early.
struct SinkRef {
  std::shared_ptr<hues_sink> sink;
};

std::mutex g_sinks_mu;
std::unordered_map<hues_sink*, std::shared_ptr<hues_sink>>& sinks() {
  static auto* m = new std::unordered_map<hues_sink*, std::shared_ptr<hues_sink>>();
  return *m;
}

std::shared_ptr<hues_sink> sink_ref(hues_sink* s) {
  std::lock_guard<std::mutex> lock(g_sinks_mu);
  auto it = sinks().find(s);
  return it == sinks().end() ? nullptr : it->second;
}

hues_sink* register_sink(std::shared_ptr<hues_sink> s) {
  std::lock_guard<std::mutex> lock(g_sinks_mu);
  auto* raw = s.get();
  sinks().emplace(raw, std::move(s));
  return raw;
}

// Completes a call exactly once: forgets its cancel token, then hands the result on.
class Completion {
 public:
  Completion(std::uint64_t call, std::shared_ptr<hues_sink> sink, std::uint64_t tag)
      : call_(call), sink_(std::move(sink)), tag_(tag) {}
  void operator()(int status, std::string data) {
    if (done_.exchange(true)) return;
    {
      std::lock_guard<std::mutex> lock(state().mu);
      state().calls.erase(call_);
    }
    sink_->deliver(tag_, status, std::move(data));
  }
  void fail(const std::exception_ptr& e) { (*this)(HUES_ERROR, error_json(e)); }
  // One event of a stream call: same sink and tag, before the completion (see start_stream_call).
  void event(std::string data, std::function<void()> taken) {
    if (!done_) sink_->deliver(tag_, HUES_EVENT, std::move(data), std::move(taken));
    else if (taken) taken();
  }

 private:
  std::uint64_t call_;
  std::shared_ptr<hues_sink> sink_;
  std::uint64_t tag_;
  std::atomic<bool> done_{false};
};

// ---- stream calls (x-hues-stream) ----
// A subscription crosses the boundary as one call with many answers: each event reaches the
// call's sink as HUES_EVENT with the call's tag ({"id", "type", "data": the event's data JSON,
// checked by the x-hues-event-data model's generated validator}), in order; then exactly one
// completion: HUES_OK (null) once it was cancelled (the host's close) or the server said it is
// over, HUES_ERROR with the error that ended it. args: the call's own, plus "stream" (StreamOptions)
// and "ack" (true: the host acknowledges each event with hues_call_ack).
StreamOptions stream_options(const json::object& a) {
  StreamOptions o;
  if (const auto* v = a.if_contains("stream"); v && !v->is_null()) {
    Reader r(as_object(*v, "stream"), "stream");
    r.integer("initial_backoff_ms", o.initial_backoff_ms);
    r.integer("max_backoff_ms", o.max_backoff_ms);
    r.integer("idle_timeout_ms", o.idle_timeout_ms);
    r.integer("max_buffered_events", o.max_buffered_events);
    r.finish();
  }
  if (o.initial_backoff_ms < 1) invalid("stream.initial_backoff_ms", "stream.initial_backoff_ms must be at least 1");
  if (o.max_backoff_ms < 1) invalid("stream.max_backoff_ms", "stream.max_backoff_ms must be at least 1");
  if (o.idle_timeout_ms < 1) invalid("stream.idle_timeout_ms", "stream.idle_timeout_ms must be at least 1");
  if (o.max_buffered_events < 1) invalid("stream.max_buffered_events", "stream.max_buffered_events must be at least 1");
  return o;
}

void start_stream_call(const std::shared_ptr<ClientCore>& core, std::uint64_t call, const CallDesc& d,
                       const json::object& a, const std::shared_ptr<CancellationToken>& cancel,
                       const std::shared_ptr<Completion>& done) {
  StreamOptions options = stream_options(a);
  bool host_acks = false;
  if (const auto* v = a.if_contains("ack"); v && !v->is_null()) {
    if (!v->is_bool()) invalid("ack", "ack must be a boolean");
    host_acks = v->get_bool();
  }
  json::object args = a;
  args.erase("stream");
  args.erase("ack");
  HttpRequest req = prepare_request(d.id, args);
  std::string last = req.header("Last-Event-ID");
  StreamHandlers h;
  const CallDesc* desc = &d;
  auto self = std::make_shared<StreamRef>();
  if (host_acks) {
    std::lock_guard<std::mutex> lock(state().mu);
    state().acked_streams.emplace(call, self);  // until on_end
  }
  h.on_event = [done, desc, self, host_acks](ServerEvent&& e) {
    json::value data;
    try {
      data = parse_json(e.data);
    } catch (const FieldError& error) {
      bad_event(e, error);
    }
    if (desc->check_event)
      if (auto problem = desc->check_event(data, "")) bad_event(e, FieldError(problem->field, problem->message));
    json::object envelope{{"id", e.id}, {"type", e.type}, {"data", std::move(data)}};
    // Counted until the host has it (popped from its queue, or its callback returned), or
    // with "ack" until hues_call_ack says its app took it.
    std::function<void()> taken;
    if (!host_acks) taken = [self] { self->consumed(1); };
    done->event(json::serialize(envelope), std::move(taken));
  };
  h.on_end = [done, call, host_acks](std::exception_ptr error, std::function<void()> settle) {
    if (host_acks) {
      std::lock_guard<std::mutex> lock(state().mu);
      state().acked_streams.erase(call);
    }
    if (error) done->fail(error);
    else (*done)(HUES_OK, "null");
    settle();
  };
  auto impl = start_stream(core, std::move(req), std::move(last), options, std::move(h));
  self->set(impl);
  cancel->add_callback([impl] { close_stream(*impl); });
}

hues_call start(hues_handle target, std::uint32_t call_id, const std::uint8_t* args, std::size_t args_len,
                const std::uint8_t* options, std::size_t options_len, std::shared_ptr<hues_sink> sink,
                std::uint64_t tag) {
  auto& st = state();
  std::uint64_t call = st.next_id++;
  auto done = std::make_shared<Completion>(call, sink, tag);
  auto cancel = std::make_shared<CancellationToken>();
  {
    std::lock_guard<std::mutex> lock(st.mu);
    st.calls.emplace(call, cancel);
  }
  try {
    if (st.shut_down) throw_error(ErrorType::kCancelled, "the SDK was shut down", 0, "shutdown");
    const CallDesc* found = find_call(static_cast<int>(call_id));
    if (!found) invalid("call_id", "no call " + std::to_string(call_id));
    const CallDesc& d = *found;
    auto obj = st.get(target);
    if (!obj) invalid("target", "no such object");
    auto argv = parse_config(args, args_len);
    const json::object& a = as_object(argv, "args");
    CallOptions opts = call_options(options, options_len);
    opts.cancel = cancel;
    refuse_unknown_args(d, a);
    if (d.kind == CallKind::kHttp && d.stream) {
      auto client = std::dynamic_pointer_cast<ClientObject>(obj);
      if (!client) invalid("target", std::string("call ") + d.method + " needs a Client");
      start_stream_call(client->core, call, d, a, cancel, done);
    } else if (d.kind == CallKind::kHttp) {
      auto client = std::dynamic_pointer_cast<ClientObject>(obj);
      if (!client) invalid("target", std::string("call ") + d.method + " needs a Client");
      HttpRequest req = prepare_request(d.id, a);
      std::string request_id = req.header("X-Request-Id");
      auto core = client->core;  // a client released while the call is in flight lives until it ends
      core->send_async(std::move(req), opts, [done, core, request_id](std::exception_ptr e, HttpResponse res) {
        if (e) return done->fail(e);
        if (res.status >= 200 && res.status <= 299) return (*done)(HUES_OK, std::move(res.body));
        try {
          raise_for_status(res, request_id);
        } catch (...) {
          done->fail(std::current_exception());
        }
      });
    } else {
      if (obj->type() != d.service)
        invalid("target", std::string("call ") + d.service + "." + d.method + " needs a " + d.service);
      if (auto problem = d.validate_args(a)) invalid(problem->field, problem->message);
      // The object lives until its call completes, though the host may release it meanwhile.
      start_method(obj, d, a, opts, [done, obj](std::exception_ptr error, json::value result) {
        if (error) return done->fail(error);
        std::string out;
        try {
          out = json::serialize(result);
        } catch (...) {
          return done->fail(std::current_exception());
        }
        (*done)(HUES_OK, std::move(out));
      });
    }
  } catch (...) {
    done->fail(std::current_exception());
  }
  return call;
}

}  // namespace

extern "C" {

void hues_bytes_free(hues_bytes* b) {
  if (!b) return;
  std::free(b->data);
  b->data = nullptr;
  b->len = 0;
}

const char* hues_version(void) { return HUES_VERSION; }
const char* hues_spec_hash(void) { return kSpecHash; }

int hues_object_new(const char* type, const std::uint8_t* config, std::size_t config_len, hues_handle* out,
                    hues_bytes* error) {
  try {
    if (!type || !out) invalid("type", "type and out are required");
    auto cfg = parse_config(config, config_len);
    *out = state().add(make_object(type, as_object(cfg, "")));
    return HUES_OK;
  } catch (...) {
    if (error) *error = to_bytes(error_json(std::current_exception()));
    return HUES_ERROR;
  }
}

void hues_object_release(hues_handle handle) {
  std::shared_ptr<Object> dropped;  // destroyed outside the lock: a host release may re-enter
  {
    std::lock_guard<std::mutex> lock(state().mu);
    auto it = state().objects.find(handle);
    if (it == state().objects.end()) return;
    dropped = std::move(it->second);
    state().objects.erase(it);
  }
  dropped->released();
}

hues_sink* hues_sink_callback(hues_completion_fn fn, void* context) {
  return register_sink(std::make_shared<CallbackSink>(fn, context));
}

hues_sink* hues_sink_queue(int* fd) {
  auto s = std::make_shared<QueueSink>();
  if (fd) *fd = s->fd;
  return register_sink(std::move(s));
}

std::size_t hues_sink_drain(hues_sink* sink, hues_completion_fn fn, void* context, std::size_t max) {
  auto s = sink_ref(sink);
  auto* q = dynamic_cast<QueueSink*>(s.get());
  return q ? q->drain(fn, context, max) : 0;
}

void hues_sink_free(hues_sink* sink) {
  std::shared_ptr<hues_sink> dropped;
  std::lock_guard<std::mutex> lock(g_sinks_mu);
  auto it = sinks().find(sink);
  if (it != sinks().end()) {
    dropped = std::move(it->second);
    sinks().erase(it);
  }
}

hues_call hues_call_start(hues_handle target, std::uint32_t call_id, const std::uint8_t* args, std::size_t args_len,
                          const std::uint8_t* options, std::size_t options_len, hues_sink* sink, std::uint64_t tag) {
  auto s = sink_ref(sink);
  if (!s) return 0;
  return start(target, call_id, args, args_len, options, options_len, std::move(s), tag);
}

void hues_call_cancel(hues_call call) {
  std::shared_ptr<CancellationToken> token;
  {
    std::lock_guard<std::mutex> lock(state().mu);
    auto it = state().calls.find(call);
    if (it != state().calls.end()) token = it->second;
  }
  if (token) token->cancel();
}

void hues_call_ack(hues_call call, std::uint32_t n) {
  std::shared_ptr<StreamRef> ref;
  {
    std::lock_guard<std::mutex> lock(state().mu);
    auto it = state().acked_streams.find(call);
    if (it != state().acked_streams.end()) ref = it->second;
  }
  if (ref) ref->consumed(n);
}

int hues_call_sync(hues_handle target, std::uint32_t call_id, const std::uint8_t* args, std::size_t args_len,
                   const std::uint8_t* options, std::size_t options_len, hues_call* started, hues_bytes* out) {
  auto sink = std::make_shared<WaitSink>();
  // On an I/O thread (where no host code runs) this would wait for itself; sync_wait then
  // does a plain wait, as before.
  internal::sync_wait(internal::Runtime::global().get(), *sink, [&] {
    hues_call call = start(target, call_id, args, args_len, options, options_len, sink, 0);
    if (started) *started = call;
  });
  if (out) *out = to_bytes(sink->data);
  return sink->status;
}

int hues_host_object_new(const char* interface_name, hues_invoke_fn invoke, void* context, std::uint64_t host_id,
                         hues_handle* out, hues_bytes* error) {
  try {
    if (!interface_name || !invoke || !out) invalid("interface", "interface, invoke and out are required");
    std::string name = interface_name;
    if (!is_host_interface(name)) invalid("interface", "no callback interface " + name);
    auto obj = std::make_shared<HostObject>();
    obj->interface_name = name;
    obj->invoke = invoke;
    obj->context = context;
    obj->host_id = host_id;
    *out = state().add(std::move(obj));
    return HUES_OK;
  } catch (...) {
    if (error) *error = to_bytes(error_json(std::current_exception()));
    return HUES_ERROR;
  }
}

void hues_reply(std::uint64_t reply, int status, const std::uint8_t* data, std::size_t len) {
  std::shared_ptr<Reply> r;
  {
    std::lock_guard<std::mutex> lock(state().mu);
    auto it = state().replies.find(reply);
    if (it == state().replies.end()) return;
    r = std::move(it->second);
    state().replies.erase(it);
  }
  std::lock_guard<std::mutex> lock(r->mu);
  r->status = status;
  r->data.assign(reinterpret_cast<const char*>(data), data ? len : 0);
  r->done = true;
  r->cv.notify_all();
}

void hues_shutdown(void) {
  auto& st = state();
  if (st.shut_down.exchange(true)) return;
  std::vector<std::shared_ptr<CancellationToken>> tokens;
  {
    std::lock_guard<std::mutex> lock(st.mu);
    for (auto& kv : st.calls) tokens.push_back(kv.second);
  }
  for (auto& t : tokens) t->cancel();
  // The runtime first: its cancelled calls and timers complete, and their completions reach
  // the delivery thread before it is joined. Its I/O and host-executor threads must end too:
  // a JVM or Mono waits at exit for every live thread that ever ran its code (a logger, a
  // token store).
  Runtime::global()->shutdown();
  st.delivery.stop();
}

}  // extern "C"
