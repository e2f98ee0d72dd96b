// What a Client shares between its copies: options, runtime, pipeline. THE SEAM the
// bindings and the generated services build on is send_async.
#pragma once

#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "hues/client.h"
#include "internal/json_codec.h"
#include "internal/pipeline.h"
#include "internal/runtime.h"

namespace hues::internal {

// Raises the hues::Error matching a non-2xx response with the Hue-S error body.
[[noreturn]] void raise_for_status(const HttpResponse& response, const std::string& sent_request_id);

using ResponseHandler = std::function<void(std::exception_ptr error, HttpResponse response)>;

class ClientCore {
 public:
  explicit ClientCore(ClientOptions options);
  // On a given runtime (tests, bindings with their own lifecycle) instead of the global one.
  ClientCore(ClientOptions options, std::shared_ptr<Runtime> runtime);
  const ClientOptions& options() const { return options_; }

  // Sends request through the pipeline. request.url may be a path starting with '/', which is
  // appended to base_url. done runs exactly once, on an I/O thread (keep it short; never call
  // host code from it), with the response whatever its status, or with an exception_ptr
  // holding a hues::Error subclass (timeout, connection, TLS, protocol, cancelled, queue full).
  // Cancel through call.cancel. Never throws; never blocks. (Once the runtime has shut down
  // there is no I/O thread: done then runs at once with CancelledError.)
  void send_async(HttpRequest request, const CallOptions& call, ResponseHandler done) const;
  // The same with the 2xx body streamed to stream (AttemptContext::stream), each read waiting
  // at most idle for a byte. done then runs when the body ended, with an empty body.
  void send_async(HttpRequest request, const CallOptions& call, std::shared_ptr<ResponseStream> stream,
                  std::chrono::milliseconds idle, ResponseHandler done) const;
  // The runtime the client runs on (for timers and the host executor).
  std::shared_ptr<Runtime> runtime() const { return runtime_; }

  // Sends a request through the pipeline and returns a 2xx response; any other status
  // becomes the matching hues::Error. Start-then-wait over send_async.
  HttpResponse call(const std::string& method, const std::string& path_and_query,
                    std::string body, const CallOptions& call) const;
  // Sends a request with an absolute URL through the pipeline and returns the response
  // whatever its status (for protocols with their own error shapes, like OAuth). Sets the
  // X-Request-Id it sends on request. Start-then-wait over send_async.
  HttpResponse send(HttpRequest& request, const CallOptions& call) const;

  // The async API: the request prepare() builds is sent, a 2xx response is decoded with
  // decode, and the result or error goes to the future. prepare may throw (validation).
  struct Prepared {
    std::string method;
    std::string path_and_query;
    std::string body;
  };
  template <typename T, typename Prepare, typename Decode>
  std::future<T> call_async(Prepare prepare, const CallOptions& call, Decode decode) const {
    auto promise = std::make_shared<std::promise<T>>();
    auto future = promise->get_future();
    HttpRequest request;
    try {
      Prepared p = prepare();
      request = make_request(p.method, p.path_and_query, std::move(p.body));
    } catch (...) {
      promise->set_exception(std::current_exception());
      return future;
    }
    std::string request_id = request.header("X-Request-Id");
    send_async(std::move(request), call, [promise, decode, request_id](std::exception_ptr error, HttpResponse res) {
      try {
        if (error) std::rethrow_exception(error);
        if (res.status < 200 || res.status > 299) raise_for_status(res, request_id);
        promise->set_value(decode(res));
      } catch (...) {
        promise->set_exception(std::current_exception());
      }
    });
    return future;
  }

 private:
  HttpRequest make_request(const std::string& method, const std::string& path_and_query, std::string body) const;

  ClientOptions options_;
  std::string base_url_;  // without a trailing slash
  std::shared_ptr<Runtime> runtime_;
  std::shared_ptr<Pipeline> pipeline_;
  bool watchdog_ = false;  // some stage runs host code that no timer of ours can interrupt
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
    std::vector<T> out;
    if (sax_decode_member(response.body, "items", out)) return out;
    out.clear();
    ScratchJson scratch;
    auto doc = parse_json(response.body, &scratch.resource);
    const auto* obj = doc.if_object();
    const auto* items = obj ? obj->if_contains("items") : nullptr;
    if (!items) throw FieldError("items", "missing");
    read_json(*items, out, "items");
    return out;
  } catch (const FieldError& e) {
    throw_error(ErrorType::kProtocol, std::string("unexpected response: ") + e.what(), response.status,
                "malformed_response", response.header("X-Request-Id"), e.field(), false);
  }
}

}  // namespace hues::internal
