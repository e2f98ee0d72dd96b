#include "events.h"

#include <boost/json.hpp>

#include <vector>

#include "internal/json_codec.h"

namespace hues::sandbox {

bool EventHub::acquire(const std::string& who) {
  std::lock_guard<std::mutex> lk(mu_);
  if (closing_.load(std::memory_order_relaxed)) return false;
  int& mine = per_caller_[who];
  if (open_ >= max_ || mine >= max_per_caller_) {
    if (mine == 0) per_caller_.erase(who);
    return false;
  }
  ++mine;
  ++open_;
  return true;
}

void EventHub::release(const std::string& who) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = per_caller_.find(who);
  if (it == per_caller_.end()) return;
  --open_;
  if (--it->second == 0) per_caller_.erase(it);
  if (open_ == 0) released_.notify_all();
}

void EventHub::close_all() {
  std::lock_guard<std::mutex> lk(mu_);
  closing_.store(true, std::memory_order_release);
  for (auto& [id, wake] : waiters_) wake();
}

bool EventHub::wait_closed(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lk(mu_);
  return released_.wait_for(lk, timeout, [this] { return open_ == 0; });
}

void EventHub::published(std::int64_t seq) {
  std::lock_guard<std::mutex> lk(mu_);
  if (seq > latest_.load(std::memory_order_relaxed)) latest_.store(seq, std::memory_order_release);
  for (auto& [id, wake] : waiters_) wake();
}

std::uint64_t EventHub::add_waiter(std::function<void()> wake) {
  std::lock_guard<std::mutex> lk(mu_);
  const auto id = next_waiter_++;
  waiters_.emplace(id, std::move(wake));
  return id;
}

void EventHub::remove_waiter(std::uint64_t id) {
  std::lock_guard<std::mutex> lk(mu_);
  waiters_.erase(id);
}

bool event_visible_to(const StoredEvent& e, const Caller& c) {
  return !e.is_private || (!c.principal.empty() && c.principal == e.reporter) || c.role == "ioc" ||
         (c.role == "agency" && !c.agency_code.empty() && (c.agency_code == e.agency || c.agency_code == e.agency_before));
}

const char* event_type(const StoredEvent& e) {
  return e.agency_before.empty() ? "report.created" : "report.status_changed";
}

std::string event_json(const StoredEvent& e, const Caller& caller) {
  StoredReport r;
  r.report.anonymous = e.anonymous;
  r.reporter = e.reporter;
  std::vector<TimelineEntry> one{e.entry};
  present(one, r, caller);  // the same shaping as the report's timeline
  const TimelineEntry& t = one.front();
  boost::json::object o;
  o["id"] = std::to_string(e.seq);
  o["type"] = event_type(e);
  o["report_id"] = e.report_id;
  o["category"] = e.category;
  o["status"] = t.status.str();
  o["at"] = t.at;
  o["actor_role"] = t.actor_role.str();
  o["actor"] = t.actor;
  if (t.agency_code) o["agency_code"] = *t.agency_code;
  o["note"] = t.note;
  boost::json::array attachments;
  for (const auto& a : t.attachments) attachments.emplace_back(a);
  o["attachments"] = std::move(attachments);
  o["version"] = e.version;
  return internal::serialize_json(o);
}

std::string EventStream::next(bool& more) {
  const auto rows = store_.events_after(after_, kBatch);
  more = rows.size() == kBatch;
  std::string out;
  for (const auto& e : rows) {
    after_ = e.seq;
    if (!event_visible_to(e, caller_)) continue;
    // One `data:` line: the JSON has no raw line break (the serializer escapes them).
    out += "id: " + std::to_string(e.seq) + "\nevent: " + event_type(e) + "\ndata: " + event_json(e, caller_) + "\n\n";
  }
  return out;
}

}  // namespace hues::sandbox
