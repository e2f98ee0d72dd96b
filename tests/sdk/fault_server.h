// Real-socket servers that misbehave on purpose (tests only): a scripted HTTP server and a
// relay in front of another server that can drop a response after the upstream handled it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace hues_test {

inline void send_all(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

// Reads one HTTP/1.1 message with a Content-Length body (or none). Empty on EOF/error.
// headers_only: a response to HEAD (its Content-Length describes a body never sent).
inline std::string read_message(int fd, bool headers_only = false) {
  std::string buf;
  char chunk[4096];
  std::size_t need = std::string::npos;
  for (;;) {
    auto end = buf.find("\r\n\r\n");
    if (end != std::string::npos && need == std::string::npos) {
      need = end + 4;
      std::string head = buf.substr(0, end);
      for (auto& c : head) c = static_cast<char>(::tolower(c));
      auto cl = head.find("content-length:");
      if (cl != std::string::npos && !headers_only) need += std::stoul(head.substr(cl + 15));
    }
    if (need != std::string::npos && buf.size() >= need) return buf.substr(0, need);
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return {};
    buf.append(chunk, static_cast<std::size_t>(n));
  }
}

// Closes with a TCP RST instead of a FIN: what a crashed peer or middlebox looks like.
inline void reset(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

inline std::string http_response(int status, const std::string& body,
                                 const std::string& extra_headers = {}) {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body;
}

// Accepts connections on 127.0.0.1:<ephemeral> and hands each to handler(fd, index),
// index counting connections from 0. The handler owns the fd.
class FaultServer {
 public:
  using Handler = std::function<void(int fd, int index)>;
  explicit FaultServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0)
      throw std::runtime_error("FaultServer: cannot listen");
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~FaultServer() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    acceptor_.join();
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : open_) ::shutdown(fd, SHUT_RDWR);  // wakes handlers blocked in recv
    for (auto& t : workers_) t.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  int connections() const { return count_.load(); }
  bool stopping() const { return stopping_.load(); }

 private:
  void accept_loop() {
    for (;;) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      if (stopping_) { ::close(fd); return; }
      int index = count_++;
      std::lock_guard<std::mutex> lock(mu_);
      open_.push_back(fd);
      workers_.emplace_back([this, fd, index] { handler_(fd, index); });
    }
  }
  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<int> count_{0};
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> open_;
  std::vector<std::thread> workers_;
};

inline int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Copies bytes both ways between a and b until either side closes.
inline void relay(int a, int b) {
  pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  char buf[16384];
  for (;;) {
    if (::poll(fds, 2, 10000) <= 0) return;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = ::recv(fds[i].fd, buf, sizeof buf, 0);
        if (n <= 0) return;
        send_all(fds[1 - i].fd, std::string(buf, static_cast<std::size_t>(n)));
      }
    }
  }
}

// An HTTP relay that takes one request at a time: script(request, index) answers it itself (a
// fault) or returns nothing, and the request goes to the upstream server on a connection of
// its own; upstream URLs in the answer's headers (a tus Location) are pointed at the relay.
// Every request's head is kept, in arrival order, with its arrival time.
class ScriptedRelay {
 public:
  using Script = std::function<std::optional<std::string>(const std::string& request, int index)>;
  ScriptedRelay(int upstream_port, Script script)
      : upstream_(upstream_port), script_(std::move(script)), server_([this](int fd, int) { serve(fd); }) {}
  std::string url() const { return server_.url(); }
  int port() const { return server_.port(); }
  struct Seen {
    std::string head;  // request line and headers
    std::chrono::steady_clock::time_point at;
  };
  std::vector<Seen> seen() const {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  void serve(int fd) {
    for (;;) {
      std::string request = read_message(fd);
      if (request.empty()) break;
      int index;
      {
        std::lock_guard<std::mutex> lock(mu_);
        index = static_cast<int>(seen_.size());
        seen_.push_back({request.substr(0, request.find("\r\n\r\n")), std::chrono::steady_clock::now()});
      }
      if (auto answer = script_(request, index)) {
        send_all(fd, *answer);
        continue;
      }
      int up = connect_to(upstream_);
      if (up < 0) break;
      send_all(up, request);
      std::string response = read_message(up, request.rfind("HEAD ", 0) == 0);
      ::close(up);
      if (response.empty()) break;
      const std::string from = "http://127.0.0.1:" + std::to_string(upstream_), to = url();
      auto end = response.find("\r\n\r\n");
      for (auto at = response.find(from); at != std::string::npos && at < end; at = response.find(from, at + to.size())) {
        response.replace(at, from.size(), to);
        end = response.find("\r\n\r\n");
      }
      send_all(fd, response);
    }
    ::close(fd);
  }
  int upstream_;
  Script script_;
  mutable std::mutex mu_;
  std::vector<Seen> seen_;
  FaultServer server_;  // last: stopped (its handlers joined) before the rest goes
};

}  // namespace hues_test
