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
      auto doc = parse_json(res.body);
      const auto* obj = doc.if_object();
      const auto* member = obj ? obj->if_contains(name) : nullptr;
      if (!member) throw FieldError(name, "is required");
      T out{};
      read_json(*member, out, name);
      return out;
    } catch (const FieldError& e) {
      throw_error(ErrorType::kProtocol, std::string("unexpected response: ") + e.what(), res.status,
                  "malformed_response", res.header("X-Request-Id"), e.field(), false);
    }
  }
  const char* name;
};

template <typename T, typename Decode>
std::future<T> start_call(const std::shared_ptr<ClientCore>& core, int call_id, boost::json::object args,
                          const CallOptions& options, Decode decode) {
  auto promise = std::make_shared<std::promise<T>>();
  auto future = promise->get_future();
  try {
    HttpRequest request = prepare_request(call_id, args);
    std::string request_id = request.header("X-Request-Id");
    // The handler holds the core: a client dropped while a call is in flight lives until it ends.
    core->send_async(std::move(request), options,
                     [promise, decode, core, request_id](std::exception_ptr error, HttpResponse response) {
                       if (error) return promise->set_exception(error);
                       try {
                         if (response.status < 200 || response.status > 299) raise_for_status(response, request_id);
                         if constexpr (std::is_void_v<T>) {
                           promise->set_value();
                         } else {
                           promise->set_value(decode(response));
                         }
                       } catch (...) {
                         promise->set_exception(std::current_exception());
                       }
                     });
  } catch (...) {
    promise->set_exception(std::current_exception());
  }
  return future;
}

}  // namespace hues::internal
