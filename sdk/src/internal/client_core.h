// What a Client shares between its copies: options, pipeline, async workers.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hues/client.h"
#include "internal/json_codec.h"
#include "internal/pipeline.h"

namespace hues::internal {

// A small fixed pool for the async forms. Workers are started on first use.
class Executor {
 public:
  explicit Executor(std::size_t threads) : threads_(threads) {}
  ~Executor();
  void post(std::function<void()> task);

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::function<void()>> tasks;
    bool stopping = false;
  };
  std::size_t threads_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::vector<std::thread> workers_;
  std::once_flag started_;
};

// Runs once with the response (any status) or a hues::Error.
using ResponseHandler = std::function<void(std::exception_ptr error, HttpResponse response)>;

class ClientCore {
 public:
  explicit ClientCore(ClientOptions options);
  const ClientOptions& options() const { return options_; }

  // Sends a request through the pipeline and returns a 2xx response; any other status
  // becomes the matching hues::Error.
  HttpResponse call(const std::string& method, const std::string& path_and_query,
                    std::string body, const CallOptions& call) const;
  // Sends a request with an absolute URL through the pipeline and returns the response
  // whatever its status (for protocols with their own error shapes, like OAuth).
  HttpResponse send(HttpRequest& request, const CallOptions& call) const;
  // The async seam the generated services use. request.url may be a path beginning with
  // '/', appended to base_url. done runs once, with the response of any status or an error.
  void send_async(HttpRequest request, const CallOptions& call, ResponseHandler done) const;

  template <typename F>
  auto run_async(F fn) const -> std::future<decltype(fn())> {
    auto task = std::make_shared<std::packaged_task<decltype(fn())()>>(std::move(fn));
    auto future = task->get_future();
    executor_->post([task] { (*task)(); });
    return future;
  }

 private:
  ClientOptions options_;
  std::string base_url_;  // without a trailing slash
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<Executor> executor_;
};

// Decodes a JSON body into T; a body that does not fit is a ProtocolError naming the field.
template <typename T>
T decode_body(const HttpResponse& response) {
  try {
    return from_json_string<T>(response.body);
  } catch (const FieldError& e) {
    throw_error(ErrorType::kProtocol, std::string("unexpected response: ") + e.what(), response.status,
                "malformed_response", response.header("X-Request-Id"), e.field(), false);
  }
}

// Decodes {"items": [...]} into a vector of T.
template <typename T>
std::vector<T> decode_items(const HttpResponse& response) {
  try {
    auto doc = parse_json(response.body);
    const auto* obj = doc.if_object();
    const auto* items = obj ? obj->if_contains("items") : nullptr;
    if (!items) throw FieldError("items", "missing");
    std::vector<T> out;
    read_json(*items, out, "items");
    return out;
  } catch (const FieldError& e) {
    throw_error(ErrorType::kProtocol, std::string("unexpected response: ") + e.what(), response.status,
                "malformed_response", response.header("X-Request-Id"), e.field(), false);
  }
}

// Raises the hues::Error matching a non-2xx response with the Hue-S error body.
[[noreturn]] void raise_for_status(const HttpResponse& response, const std::string& sent_request_id);

}  // namespace hues::internal
