// TEMPORARY SHIM, to be dropped at merge: ClientCore::send_async over the sync send(), run
// on the client's executor threads. The real async core (another branch) replaces it.
#include "internal/client_core.h"

namespace hues::internal {

void ClientCore::send_async(HttpRequest request, const CallOptions& call, ResponseHandler done) const {
  if (!request.url.empty() && request.url.front() == '/') request.url = base_url_ + request.url;
  executor_->post([this, request = std::move(request), call, done = std::move(done)]() mutable {
    HttpResponse response;
    std::exception_ptr error;
    try {
      response = send(request, call);
    } catch (...) {
      error = std::current_exception();
    }
    done(error, std::move(response));
  });
}

}  // namespace hues::internal
