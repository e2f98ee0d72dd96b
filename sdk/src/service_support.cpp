#include "internal/service_support.h"

#include "internal/pipeline.h"

namespace hues::internal {

HttpRequest prepare_request(int call_id, const boost::json::object& args) {
  const CallDescriptor* call = find_call(call_id);
  if (!call || call->kind != CallKind::kHttp)
    throw_error(ErrorType::kValidation, "no HTTP call " + std::to_string(call_id), 0, "validation_error", {}, "call_id");
  if (auto problem = call->validate_args(args))
    throw_error(ErrorType::kValidation, problem->message, 0, "validation_error", {}, problem->field);
  PreparedCall prepared = prepare_call(*call, args);
  HttpRequest request;
  request.method = std::move(prepared.method);
  request.url = std::move(prepared.target);  // a path: send_async prefixes base_url
  request.headers.emplace_back("Accept", "application/json");
  if (call->body_model) request.headers.emplace_back("Content-Type", "application/json");
  for (auto& [name, value] : prepared.headers) request.set_header(name, std::move(value));
  request.body = std::move(prepared.body);
  // Set here rather than by the pipeline so an error can quote it (raise_for_status).
  request.set_header("X-Request-Id", new_request_id());
  return request;
}

}  // namespace hues::internal
