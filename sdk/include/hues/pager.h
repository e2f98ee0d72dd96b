// Pager: every item of a paged list, one page fetched at a time (generated services return
// it from their list calls).
#pragma once

#include <cstddef>
#include <functional>
#include <iterator>
#include <stdexcept>
#include <string>

namespace hues {

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

}  // namespace hues
