// What the generated services (services.cpp) share: start one call of the call table
// through ClientCore::send_async and turn its response into a future's value or error.
#pragma once

#include <future>
#include <type_traits>
#include <memory>
#include <string>

#include "internal/calls.h"
#include "internal/client_core.h"
#include "internal/json_codec.h"

namespace hues::internal {

// Validates args with the call's generated validator (ValidationError naming the field)
// and builds the request: path from the template, query, JSON body.
HttpRequest prepare_request(int call_id, const boost::json::object& args);

template <typename T>
struct decode_whole {
  T operator()(const HttpResponse& res) const { return decode_body<T>(res); }
};

// The result is one member of the body ({"items": [...]}).
template <typename T>
struct decode_member {
  explicit decode_member(const char* name) : name(name) {}
  T operator()(const HttpResponse& res) const {
    try {
      T out{};
      if (sax_decode_member(res.body, name, out)) return out;
      out = T{};
      ScratchJson scratch;
      auto doc = parse_json(res.body, &scratch.resource);
      const auto* obj = doc.if_object();
      const auto* member = obj ? obj->if_contains(name) : nullptr;
      if (!member) throw FieldError(name, "is required");
      read_json(*member, out, name);
      return out;
    } catch (const FieldError& e) {
      throw_error(ErrorType::kProtocol, std::string("unexpected response: ") + e.what(), res.status,
                  "malformed_response", res.header("X-Request-Id"), e.field(), false);
    }
  }
  const char* name;
};

// Starts one call; finish(error, result) runs once with the decoded result or the error.
// For void calls the result is a placeholder.
template <typename T>
using CallResult = std::conditional_t<std::is_void_v<T>, bool, T>;

template <typename T, typename Decode, typename Finish>
void start_call_then(const std::shared_ptr<ClientCore>& core, int call_id, const boost::json::object& args,
                     const CallOptions& options, Decode decode, Finish finish) {
  try {
    HttpRequest request = prepare_request(call_id, args);
    std::string request_id = request.header("X-Request-Id");
    // The handler holds the core: a client dropped while a call is in flight lives until it ends.
    core->send_async(std::move(request), options,
                     [finish, decode, core, request_id](std::exception_ptr error, HttpResponse response) mutable {
                       if (error) return finish(error, CallResult<T>{});
                       CallResult<T> value{};
                       try {
                         if (response.status < 200 || response.status > 299) raise_for_status(response, request_id);
                         if constexpr (!std::is_void_v<T>) value = decode(response);
                       } catch (...) {
                         return finish(std::current_exception(), CallResult<T>{});
                       }
                       finish(nullptr, std::move(value));
                     });
  } catch (...) {
    finish(std::current_exception(), CallResult<T>{});
  }
}

template <typename T, typename Decode>
std::future<T> start_call(const std::shared_ptr<ClientCore>& core, int call_id, boost::json::object args,
                          const CallOptions& options, Decode decode) {
  auto promise = std::make_shared<std::promise<T>>();
  auto future = promise->get_future();
  start_call_then<T>(core, call_id, args, options, std::move(decode),
                     [promise](std::exception_ptr error, CallResult<T> value) {
                       if (error) return promise->set_exception(error);
                       if constexpr (std::is_void_v<T>) {
                         promise->set_value();
                       } else {
                         promise->set_value(std::move(value));
                       }
                     });
  return future;
}

// The sync form: the same call, started then waited for by wait_for, whose waiting thread
// runs the runtime's sync loop (so the response is read and decoded on the calling thread).
template <typename T, typename Decode>
T call_sync(const std::shared_ptr<ClientCore>& core, int call_id, boost::json::object args,
            const CallOptions& options, Decode decode) {
  auto rt = core->runtime();
  auto run = [&](auto done) { start_call_then<T>(core, call_id, args, options, std::move(decode), std::move(done)); };
  if constexpr (std::is_void_v<T>) {
    wait_for<CallResult<T>>(rt.get(), run);
  } else {
    return wait_for<T>(rt.get(), run);
  }
}

}  // namespace hues::internal
