// TEMPORARY: send_async over the synchronous pipeline on the client's worker pool, until the
// asynchronous transport lands (it replaces this file).
#include "internal/client_core.h"

namespace hues::internal {

void ClientCore::send_async(HttpRequest request, const CallOptions& call, ResponseHandler done) const {
  if (!request.url.empty() && request.url.front() == '/') request.url = base_url_ + request.url;
  auto req = std::make_shared<HttpRequest>(std::move(request));
  executor_->post([this, req, call, done = std::move(done)] {
    HttpResponse res;
    try {
      res = send(*req, call);
    } catch (...) {
      done(std::current_exception(), {});
      return;
    }
    done(nullptr, std::move(res));
  });
}

}  // namespace hues::internal
