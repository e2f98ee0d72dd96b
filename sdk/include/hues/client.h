// The Hue-S client. A Client is cheap to copy: copies share one connection pool and
// pipeline, and it is safe to use from many threads at once.
//
//   hues::ClientOptions opts;
//   opts.base_url = "https://api.hue-s.vn";
//   opts.api_key = std::getenv("HUES_API_KEY");
//   hues::Client client(opts);
//   for (const auto& c : client.reports().categories()) std::cout << c.name_vi << "\n";
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "hues/error.h"
#include "hues/models.h"
#include "hues/options.h"

namespace hues {

namespace internal {
class ClientCore;
}

// Iterates over every item of a paged list, fetching the next page when the current one is
// used up. Use as a range (for (auto& r : pager)) or with has_next()/next(), which is the
// form the bindings use. Not thread-safe; one pager per consumer.
template <typename T, typename Page>
class Pager {
 public:
  using FetchPage = std::function<Page(const std::string& cursor)>;

  explicit Pager(FetchPage fetch) : fetch_(std::move(fetch)) {}

  // True when another item exists; fetches a page if needed.
  bool has_next() {
    while (index_ >= page_.items.size()) {
      if (started_ && page_.next_cursor.empty()) return false;
      std::string cursor = page_.next_cursor;
      page_ = fetch_(cursor);
      started_ = true;
      index_ = 0;
      ++pages_;
    }
    return true;
  }
  // The next item; throws std::out_of_range when none is left.
  T next() {
    if (!has_next()) throw std::out_of_range("hues::Pager: no more items");
    return page_.items[index_++];
  }
  // Pages fetched so far.
  int pages_fetched() const noexcept { return pages_; }

  class iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using reference = const T&;
    using pointer = const T*;
    using iterator_category = std::input_iterator_tag;
    iterator() = default;
    explicit iterator(Pager* p) : p_(p) { advance(); }
    reference operator*() const { return current_; }
    pointer operator->() const { return &current_; }
    iterator& operator++() { advance(); return *this; }
    void operator++(int) { advance(); }
    bool operator==(const iterator& o) const { return p_ == o.p_; }
    bool operator!=(const iterator& o) const { return p_ != o.p_; }

   private:
    void advance() {
      if (p_ && p_->has_next()) current_ = p_->next(); else p_ = nullptr;
    }
    Pager* p_ = nullptr;
    T current_{};
  };
  iterator begin() { return iterator(this); }
  iterator end() { return iterator(); }

 private:
  FetchPage fetch_;
  Page page_{};
  std::size_t index_ = 0;
  bool started_ = false;
  int pages_ = 0;
};

using ReportPager = Pager<Report, ReportPage>;

// Citizen reports (phản ánh hiện trường): categories, create, read, list.
class ReportsClient {
 public:
  // The categories citizens can report, with their attributes, agency and SLA.
  std::vector<Category> categories(const CallOptions& options = {}) const;
  // Creates a report. Safe to retry: the call carries an Idempotency-Key (options'
  // or a generated one), so a retried create never makes a second report.
  Report create(const NewReport& report, const CallOptions& options = {}) const;
  Report get(const std::string& id, const CallOptions& options = {}) const;
  // One page of reports matching query (use query.cursor for the next page).
  ReportPage list_page(const ReportQuery& query, const CallOptions& options = {}) const;
  // Every report matching query, page after page.
  ReportPager list(const ReportQuery& query = {}, const CallOptions& options = {}) const;

  // Async forms: start the call and return at once (no thread per call); the result or the
  // error arrives through the future, completed on one of the SDK's I/O threads.
  std::future<Report> create_async(const NewReport& report, const CallOptions& options = {}) const;
  std::future<Report> get_async(const std::string& id, const CallOptions& options = {}) const;
  std::future<ReportPage> list_page_async(const ReportQuery& query,
                                          const CallOptions& options = {}) const;

 private:
  friend class Client;
  explicit ReportsClient(std::shared_ptr<internal::ClientCore> core) : core_(std::move(core)) {}
  std::shared_ptr<internal::ClientCore> core_;
};

class Client {
 public:
  // Throws ValidationError (field "base_url", "proxy", ...) for unusable options.
  explicit Client(ClientOptions options);

  ReportsClient reports() const { return ReportsClient(core_); }
  // The signed-in person's profile (/v1/me); needs user credentials.
  CitizenProfile me(const CallOptions& options = {}) const;
  const ClientOptions& options() const;

  // The SDK's version, e.g. "0.1.0".
  static const char* version() noexcept;

 private:
  std::shared_ptr<internal::ClientCore> core_;
};

}  // namespace hues
