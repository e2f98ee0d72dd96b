#include <boost/url/parse.hpp>

#include "internal/client_core.h"

#ifndef HUES_VERSION
#define HUES_VERSION "0.0.0"
#endif

namespace hues {
namespace internal {

Executor::~Executor() {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->stopping = true;
  }
  state_->cv.notify_all();
  for (auto& w : workers_) {
    // The last reference to a client may be dropped by one of its own tasks.
    if (w.get_id() == std::this_thread::get_id()) w.detach(); else w.join();
  }
}

void Executor::post(std::function<void()> task) {
  std::call_once(started_, [this] {
    for (std::size_t i = 0; i < threads_; ++i) {
      workers_.emplace_back([state = state_] {
        for (;;) {
          std::function<void()> next;
          {
            std::unique_lock<std::mutex> lock(state->mu);
            state->cv.wait(lock, [&] { return state->stopping || !state->tasks.empty(); });
            if (state->tasks.empty()) return;  // stopping, and nothing left to run
            next = std::move(state->tasks.front());
            state->tasks.pop_front();
          }
          next();
        }
      });
    }
  });
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->tasks.push_back(std::move(task));
  }
  state_->cv.notify_one();
}

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
    case 409: return ErrorType::kConflict;
    case 429: return ErrorType::kRateLimited;
    default: return status >= 500 ? ErrorType::kServer : ErrorType::kApi;
  }
}

}  // namespace

void raise_for_status(const HttpResponse& res, const std::string& sent_request_id) {
  ErrorBody body;
  try {
    auto doc = parse_json(res.body);
    if (const auto* obj = doc.if_object(); obj && obj->contains("error")) read_json(obj->at("error"), body, "error");
  } catch (const FieldError&) {
    // Not our error shape (a proxy's HTML page, say): keep what the status tells.
  }
  std::string request_id = res.header("X-Request-Id");
  if (request_id.empty()) request_id = body.request_id.empty() ? sent_request_id : body.request_id;
  std::string field = body.field.value_or("");
  std::string message = body.message.empty() ? "HTTP " + std::to_string(res.status) : body.message;
  std::string code = body.code.empty() ? "http_" + std::to_string(res.status) : body.code;
  throw_error(type_for_status(res.status), std::move(message), res.status, std::move(code),
              std::move(request_id), std::move(field), res.status == 429 || res.status >= 500);
}

ClientCore::ClientCore(ClientOptions options) : options_(std::move(options)) {
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
  auto transport = options_.transport ? options_.transport : make_default_transport(options_);
  pipeline_ = std::make_unique<Pipeline>(options_, std::move(transport));
  executor_ = std::make_unique<Executor>(4);
}

HttpResponse ClientCore::call(const std::string& method, const std::string& path_and_query,
                              std::string body, const CallOptions& call) const {
  HttpRequest request;
  request.method = method;
  request.url = base_url_ + path_and_query;
  request.headers.emplace_back("Accept", "application/json");
  if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  request.body = std::move(body);
  HttpResponse response = send(request, call);
  if (response.status < 200 || response.status > 299) raise_for_status(response, request.header("X-Request-Id"));
  return response;
}

HttpResponse ClientCore::send(HttpRequest& request, const CallOptions& call) const {
  using std::chrono::milliseconds;
  CallState state;
  state.deadline = Clock::now() + milliseconds(call.deadline_ms > 0 ? call.deadline_ms : options_.deadline_ms);
  state.attempt_timeout = milliseconds(call.attempt_timeout_ms > 0 ? call.attempt_timeout_ms : options_.attempt_timeout_ms);
  state.connect_timeout = milliseconds(options_.connect_timeout_ms);
  state.retry = options_.retry;
  if (call.max_attempts > 0) state.retry.max_attempts = call.max_attempts;
  state.idempotency_key = call.idempotency_key;
  state.cancel = call.cancel;
  return pipeline_->send(request, state);
}

}  // namespace internal

Client::Client(ClientOptions options)
    : ClientServices(std::make_shared<internal::ClientCore>(std::move(options))) {}

const ClientOptions& Client::options() const { return core_->options(); }

const char* Client::version() noexcept { return HUES_VERSION; }

}  // namespace hues
