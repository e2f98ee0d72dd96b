#include <boost/url/parse.hpp>

#include "internal/client_core.h"

#include "hues/identity.h"

#ifndef HUES_VERSION
#define HUES_VERSION "0.0.0"
#endif

namespace hues {
namespace internal {

namespace {

void require_positive(std::int64_t value, const char* field) {
  if (value <= 0)
    throw_error(ErrorType::kValidation, std::string(field) + " must be greater than 0", 0,
                "invalid_option", {}, field);
}

ErrorType type_for_status(int status) {
  switch (status) {
    case 400: case 422: return ErrorType::kValidation;
    case 401: return ErrorType::kAuthentication;
    case 403: return ErrorType::kPermissionDenied;
    case 404: return ErrorType::kNotFound;
    case 409: case 428: return ErrorType::kConflict;
    case 412: return ErrorType::kPreconditionFailed;
    case 429: return ErrorType::kRateLimited;
    default: return status >= 500 ? ErrorType::kServer : ErrorType::kApi;
  }
}

}  // namespace

void raise_for_status(const HttpResponse& res, const std::string& sent_request_id) {
  ErrorBody body;
  std::string raw;  // kept for the typed members of hues/errors.h (a 412's current report)
  try {
    // A server that echoed ill-formed bytes into its message still told its code: read the
    // body with each bad sequence as U+FFFD rather than lose the code and the field.
    raw = is_valid_utf8(res.body) ? res.body : valid_utf8(res.body);
    auto doc = parse_json(raw);
    if (!doc.is_object()) raw.clear();
    if (const auto* obj = doc.if_object(); obj && obj->contains("error")) read_json(obj->at("error"), body, "error");
  } catch (const FieldError&) {
    raw.clear();
    // Not our error shape (a proxy's HTML page, say): keep what the status tells.
  }
  std::string request_id = res.header("X-Request-Id");
  if (request_id.empty()) request_id = body.request_id.empty() ? sent_request_id : body.request_id;
  std::string field = body.field.value_or("");
  std::string message = body.message.empty() ? "HTTP " + std::to_string(res.status) : body.message;
  std::string code = body.code.empty() ? "http_" + std::to_string(res.status) : body.code;
  throw_error(type_for_status(res.status), std::move(message), res.status, std::move(code),
              std::move(request_id), std::move(field), res.status == 429 || res.status >= 500, std::move(raw));
}

ClientCore::ClientCore(ClientOptions options) : ClientCore(std::move(options), Runtime::global()) {}

ClientCore::ClientCore(ClientOptions options, std::shared_ptr<Runtime> runtime)
    : options_(std::move(options)), runtime_(std::move(runtime)) {
  auto url = boost::urls::parse_uri(options_.base_url);
  if (options_.base_url.empty() || !url || (url->scheme() != "http" && url->scheme() != "https") ||
      url->host().empty())
    throw_error(ErrorType::kValidation, "base_url must be an absolute http(s) URL", 0, "invalid_option", {},
                "base_url");
  base_url_ = options_.base_url;
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  require_positive(options_.connect_timeout_ms, "connect_timeout_ms");
  require_positive(options_.attempt_timeout_ms, "attempt_timeout_ms");
  require_positive(options_.deadline_ms, "deadline_ms");
  require_positive(options_.retry.max_attempts, "retry.max_attempts");
  require_positive(options_.max_response_bytes, "max_response_bytes");
  require_positive(options_.max_connections_per_host, "max_connections_per_host");
  if (options_.max_queued_requests < 0)
    throw_error(ErrorType::kValidation, "max_queued_requests must be 0 or more", 0, "invalid_option", {},
                "max_queued_requests");
  auto transport = options_.transport ? options_.transport : make_beast_transport(options_, runtime_);
  pipeline_ = std::make_shared<Pipeline>(options_, std::move(transport), runtime_);
  // The SDK's own providers and transport end by their deadlines; host code (a logger, a
  // custom transport or provider) may not, so only then does a call need the watchdog.
  const auto* creds = options_.credentials.get();
  watchdog_ = options_.logger || options_.transport ||
              (creds && !dynamic_cast<const UserCredentials*>(creds) && !dynamic_cast<const ClientCredentials*>(creds));
}

HttpRequest ClientCore::make_request(const std::string& method, const std::string& path_and_query,
                                     std::string body) const {
  HttpRequest request;
  request.method = method;
  request.url = base_url_ + path_and_query;
  request.headers.emplace_back("Accept", "application/json");
  if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  request.body = std::move(body);
  // Set here rather than by the pipeline so the caller knows the id it sent (error reports).
  request.set_header("X-Request-Id", new_request_id());
  return request;
}

namespace {

// Delivers a call's result once, whichever comes first: the pipeline, a cancel, the watchdog.
// Its registrations are set under mu because a cancel may complete the call on an I/O thread
// while send_async is still setting up.
struct CallCompletion {
  ResponseHandler done;
  std::shared_ptr<Runtime> runtime;
  std::shared_ptr<CancellationToken> own_cancel;
  std::uint64_t tracked = 0;
  std::mutex mu;
  bool completed = false;
  std::shared_ptr<CancellationToken> user_cancel;
  std::uint64_t user_cb = 0, own_cb = 0;
  std::shared_ptr<Timer> watchdog;

  // Records a registration, or undoes it at once when the call already completed.
  void set_own_cb(std::uint64_t id) {
    std::unique_lock<std::mutex> lock(mu);
    if (!completed) { own_cb = id; return; }
    lock.unlock();
    own_cancel->remove_callback(id);
  }
  void set_user_cb(std::shared_ptr<CancellationToken> token, std::uint64_t id) {
    std::unique_lock<std::mutex> lock(mu);
    if (!completed) { user_cancel = token; user_cb = id; return; }
    lock.unlock();
    token->remove_callback(id);
  }
  void set_watchdog(std::shared_ptr<Timer> timer) {
    std::unique_lock<std::mutex> lock(mu);
    if (!completed) { watchdog = std::move(timer); return; }
    lock.unlock();
    timer->cancel();
  }

  void complete(std::exception_ptr error, HttpResponse response) {
    std::shared_ptr<CancellationToken> user;
    std::uint64_t ucb, ocb;
    std::shared_ptr<Timer> timer;
    ResponseHandler handler;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (completed) return;
      completed = true;
      user = std::move(user_cancel);
      ucb = user_cb;
      ocb = own_cb;
      timer = std::move(watchdog);
      handler = std::move(done);
    }
    if (user && ucb) user->remove_callback(ucb);
    if (ocb) own_cancel->remove_callback(ocb);
    if (timer) timer->cancel();
    // Whatever still runs for this call (a straggling attempt, a backoff) must stop too.
    own_cancel->cancel();
    try {
      handler(error, std::move(response));
    } catch (...) {  // the seam's handlers must not throw; never let one kill an I/O thread
    }
    runtime->untrack(tracked);  // last: shutdown() waits until every handler has run
  }
};

}  // namespace

void ClientCore::send_async(HttpRequest request, const CallOptions& call, ResponseHandler done) const {
  send_async(std::move(request), call, nullptr, std::chrono::milliseconds(0), std::move(done));
}

void ClientCore::send_async(HttpRequest request, const CallOptions& call, std::shared_ptr<ResponseStream> stream,
                            std::chrono::milliseconds idle, ResponseHandler done) const {
  using std::chrono::milliseconds;
  auto completion = std::make_shared<CallCompletion>();
  completion->done = std::move(done);
  completion->runtime = runtime_;
  completion->own_cancel = std::make_shared<CancellationToken>();
  completion->tracked = runtime_->track(completion->own_cancel);
  if (completion->tracked == 0) {  // shutting down: no I/O thread may be left to run it
    completion->complete(make_error(ErrorType::kCancelled, "the SDK is shutting down", "cancelled"), {});
    return;
  }
  try {
    auto state = std::make_shared<CallState>();
    state->request = std::move(request);
    if (!state->request.url.empty() && state->request.url.front() == '/') state->request.url = base_url_ + state->request.url;
    state->deadline = Clock::now() + milliseconds(call.deadline_ms > 0 ? call.deadline_ms : options_.deadline_ms);
    state->attempt_timeout = milliseconds(call.attempt_timeout_ms > 0 ? call.attempt_timeout_ms : options_.attempt_timeout_ms);
    state->connect_timeout = milliseconds(options_.connect_timeout_ms);
    state->retry = options_.retry;
    if (call.max_attempts > 0) state->retry.max_attempts = call.max_attempts;
    state->idempotency_key = call.idempotency_key;
    state->cancel = completion->own_cancel;
    state->runtime = runtime_;
    state->keep_alive = pipeline_;
    state->stream = std::move(stream);
    state->stream_idle_timeout = idle;

    // These hold the completion strongly (a cycle that complete() breaks), so a cancel or the
    // watchdog still ends the call if some stage dropped its continuation.
    auto rt = runtime_;
    // A cancel (the caller's or shutdown's) ends the call at once, whatever its stage.
    // (Posted, never inline: it runs under the token's lock, which complete() takes.)
    completion->set_own_cb(completion->own_cancel->add_callback([completion, rt] {
      rt->post([completion] {
        completion->complete(make_error(ErrorType::kCancelled, "the call was cancelled", "cancelled"), {});
      });
    }));
    if (call.cancel) {
      auto own = completion->own_cancel;
      completion->set_user_cb(call.cancel, call.cancel->add_callback([own] { own->cancel(); }));
    }
    // Safety net past the deadline for stages that cannot be interrupted (host callbacks);
    // the pipeline's own timeout normally ends the call first, with a more precise error.
    if (watchdog_) completion->set_watchdog(runtime_->schedule(state->deadline + milliseconds(500), [completion](bool fired) {
      if (fired) completion->complete(make_error(ErrorType::kTimeout, "the call's deadline passed", "deadline_exceeded", true), {});
    }));
    auto pipeline = pipeline_;
    // On a sync waiter's thread the call starts here, on its sync loop (see Runtime::sync_wait),
    // as the first handler of that loop would have run it: the waiter writes the request before
    // it first waits, with no scheduler turn in between. Elsewhere it is posted to the I/O threads.
    if (runtime_->in_sync_loop()) {
      pipeline->send(state, [completion](std::exception_ptr error, HttpResponse response) {
        completion->complete(error, std::move(response));
      });
      return;
    }
    bool posted = runtime_->post_local([pipeline, state, completion] {
      pipeline->send(state, [completion](std::exception_ptr error, HttpResponse response) {
        completion->complete(error, std::move(response));
      });
    });
    if (!posted) completion->complete(make_error(ErrorType::kCancelled, "the SDK is shutting down", "cancelled"), {});
  } catch (...) {
    auto error = std::current_exception();
    if (!runtime_->post([completion, error] { completion->complete(error, {}); })) completion->complete(error, {});
  }
}

HttpResponse ClientCore::call(const std::string& method, const std::string& path_and_query,
                              std::string body, const CallOptions& call) const {
  HttpRequest request = make_request(method, path_and_query, std::move(body));
  HttpResponse response = send(request, call);
  if (response.status < 200 || response.status > 299) raise_for_status(response, request.header("X-Request-Id"));
  return response;
}

HttpResponse ClientCore::send(HttpRequest& request, const CallOptions& call) const {
  if (request.header("X-Request-Id").empty()) request.set_header("X-Request-Id", new_request_id());
  return wait_for<HttpResponse>(runtime_.get(), [&](ResponseHandler done) { send_async(request, call, std::move(done)); });
}

}  // namespace internal

Client::Client(ClientOptions options)
    : ClientServices(std::make_shared<internal::ClientCore>(std::move(options))) {}

const ClientOptions& Client::options() const { return core_->options(); }

const char* Client::version() noexcept { return HUES_VERSION; }

}  // namespace hues
