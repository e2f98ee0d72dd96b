// A tiny scripted tus 1.0.0 endpoint on a real socket (tests only): core, creation,
// creation-defer-length; one upload at a time, kept in memory. A test's `fault` hook sees each
// request before it is handled and may answer it instead (a 503, a 409 after moving the
// offset, ...), so the client's recovery paths can be driven one by one. Every request is
// logged ("PATCH 1048576 503", "HEAD 0 200") for the test to check the order of steps.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "fault_server.h"

namespace hues_test {

class TusServer {
 public:
  struct Request {
    std::string method, target;
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
    std::string body;
    std::string header(const std::string& name) const {
      for (auto& [k, v] : headers)
        if (k == name) return v;
      return {};
    }
  };
  // Called under the server's lock, before the request is handled; returns a status to answer
  // with instead (0: handle it). May change data/length/offset (the server's state).
  using Fault = std::function<int(const Request&, TusServer&)>;

  explicit TusServer(bool defer_length = true, Fault fault = {})
      : defer_(defer_length), fault_(std::move(fault)), server_([this](int fd, int) { serve(fd); }) {}

  std::string endpoint() const { return server_.url() + "/files"; }
  std::string data() {
    std::lock_guard<std::mutex> lock(mu_);
    return data_;
  }
  std::vector<std::string> log() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }

  // The server's state, for fault hooks (under the lock already).
  std::string data_;
  std::int64_t length_ = -1;  // -1: deferred
  bool created_ = false;

 private:
  static Request parse(const std::string& msg) {
    Request r;
    auto head_end = msg.find("\r\n\r\n");
    std::string head = msg.substr(0, head_end);
    r.body = msg.substr(head_end + 4);
    std::size_t line_end = head.find("\r\n");
    std::string first = head.substr(0, line_end);
    auto sp1 = first.find(' '), sp2 = first.rfind(' ');
    r.method = first.substr(0, sp1);
    r.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    std::size_t at = line_end == std::string::npos ? head.size() : line_end + 2;
    while (at < head.size()) {
      auto end = head.find("\r\n", at);
      if (end == std::string::npos) end = head.size();
      std::string line = head.substr(at, end - at);
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon), value = line.substr(colon + 1);
        for (auto& c : name) c = static_cast<char>(::tolower(c));
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        r.headers.emplace_back(name, value);
      }
      at = end + 2;
    }
    return r;
  }

  static std::string answer(int status, const std::string& headers) {
    return "HTTP/1.1 " + std::to_string(status) + " X\r\nTus-Resumable: 1.0.0\r\nContent-Length: 0\r\n" + headers +
           "\r\n";
  }

  std::string handle(const Request& r) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string off = r.header("upload-offset");
    int forced = fault_ ? fault_(r, *this) : 0;
    auto logged = [&](int status) {
      log_.push_back(r.method + " " + (off.empty() ? std::to_string(data_.size()) : off) + " " + std::to_string(status));
      return status;
    };
    if (forced) return answer(logged(forced), "");
    if (r.method == "OPTIONS") {
      logged(204);
      return answer(204, std::string("Tus-Version: 1.0.0\r\nTus-Extension: creation") +
                             (defer_ ? ",creation-defer-length" : "") + "\r\n");
    }
    if (r.method == "POST") {
      data_.clear();
      created_ = true;
      std::string len = r.header("upload-length");
      length_ = len.empty() ? -1 : std::stoll(len);
      if (len.empty() && (!defer_ || r.header("upload-defer-length") != "1")) return answer(logged(400), "");
      return answer(logged(201), "Location: /files/1\r\n");
    }
    if (r.target != "/files/1" || !created_) return answer(logged(404), "");
    std::string state = "Upload-Offset: " + std::to_string(data_.size()) + "\r\n" +
                        (length_ >= 0 ? "Upload-Length: " + std::to_string(length_) : std::string("Upload-Defer-Length: 1")) +
                        "\r\nCache-Control: no-store\r\n";
    if (r.method == "HEAD") return answer(logged(200), state);
    if (r.method != "PATCH") return answer(logged(405), "");
    if (off != std::to_string(data_.size())) return answer(logged(409), "");
    std::string len = r.header("upload-length");
    if (!len.empty()) {
      if (length_ >= 0 && std::stoll(len) != length_) return answer(logged(400), "");
      length_ = std::stoll(len);
    }
    if (length_ >= 0 && static_cast<std::int64_t>(data_.size() + r.body.size()) > length_) return answer(logged(413), "");
    data_ += r.body;
    return answer(logged(204), "Upload-Offset: " + std::to_string(data_.size()) + "\r\n");
  }

  void serve(int fd) {
    for (;;) {
      std::string msg = read_message(fd);
      if (msg.empty()) break;
      send_all(fd, handle(parse(msg)));
    }
    ::close(fd);
  }

  bool defer_;
  Fault fault_;
  std::mutex mu_;
  std::vector<std::string> log_;
  FaultServer server_;  // last: its threads stop before the state they use goes
};

}  // namespace hues_test
