#include "hues/http.h"

#include "hues/error.h"
#include "internal/runtime.h"

#include <strings.h>

namespace hues {
namespace {

std::string find_header(const Headers& headers, const std::string& name) {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.c_str(), name.c_str(), k.size()) == 0) return v;
  }
  return {};
}

}  // namespace

std::string HttpRequest::header(const std::string& name) const { return find_header(headers, name); }

void HttpRequest::set_header(const std::string& name, std::string value) {
  for (auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.c_str(), name.c_str(), k.size()) == 0) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(name, std::move(value));
}

std::string HttpResponse::header(const std::string& name) const { return find_header(headers, name); }

// Callbacks run under the lock, so once remove_callback returns its callback will not run:
// transports rely on that to know when a cancel can no longer touch a connection.
void CancellationToken::cancel() {
  std::lock_guard<std::mutex> lock(mu_);
  if (cancelled_.exchange(true)) return;
  for (auto& [id, fn] : callbacks_) fn();
}

std::uint64_t CancellationToken::add_callback(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (cancelled_) {
    fn();
    return 0;
  }
  if (callbacks_.empty()) callbacks_.reserve(4);  // a call registers two or three: one allocation, not three
  callbacks_.emplace_back(next_id_, std::move(fn));
  return next_id_++;
}

void CancellationToken::remove_callback(std::uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = callbacks_.begin(); it != callbacks_.end(); ++it) {
    if (it->first == id) {
      callbacks_.erase(it);
      return;
    }
  }
}

// Runs the blocking send on the host executor, which is where code that may block belongs;
// the pipeline moves the completion back to an I/O thread.
void Transport::send_async(HttpRequest request, AttemptContext context, Completion done) {
  if (request.shared_body) {  // send() implementations read body
    request.body = *request.shared_body;
    request.shared_body.reset();
  }
  if (request.body_reader) {
    try {
      request.body.resize(static_cast<std::size_t>(request.body_length));
      for (std::size_t got = 0, n = 0; got < request.body.size(); got += n)
        if ((n = request.body_reader(static_cast<std::int64_t>(got), &request.body[got], request.body.size() - got)) == 0)
          throw_error(ErrorType::kValidation, "the request body ended before its length", 0, "body_too_short");
    } catch (...) {
      return done(std::current_exception(), {});
    }
    request.body_reader = nullptr;
  }
  auto shared_done = std::make_shared<Completion>(std::move(done));
  auto task = [this, request = std::move(request), context = std::move(context), shared_done] {
    HttpResponse response;
    try {
      response = send(request, context);
    } catch (...) {
      return (*shared_done)(std::current_exception(), {});
    }
    (*shared_done)(nullptr, std::move(response));
  };
  auto rt = internal::Runtime::global();
  if (rt->stopping())
    return (*shared_done)(internal::make_error(ErrorType::kCancelled, "the SDK is shutting down", "cancelled"), {});
  if (!rt->host().post(std::move(task)))
    (*shared_done)(internal::make_error(ErrorType::kResourceExhausted, "too many blocking transport calls queued",
                                        "queue_full", true), {});
}

}  // namespace hues
