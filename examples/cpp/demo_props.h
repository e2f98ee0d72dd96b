// The demo's stage props, plain POSIX and standard C++ (no SDK code): a photo the citizen
// takes (a real baseline JPEG, drawn and encoded here), the taxi's mobile network (a TCP
// relay that refuses connections until the signal comes back), and the partner's webhook
// receiver (a tiny HTTP/1.1 server that hands each delivery's raw bytes to a callback).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace demo {

// ---- the photo: a 1600x1200 street scene as a baseline JPEG (YCbCr 4:4:4) -------------------
// Each 8x8 block keeps its mean colour (DC only, quantizer 1) with a little grain, coded with
// the standard DC Huffman table (ITU-T T.81 Annex K); decoders show it as a mosaic photo.
inline std::string street_photo(int width = 1600, int height = 1200) {
  std::string out;
  auto u16 = [&](int v) { out += char(v >> 8), out += char(v & 0xFF); };
  auto marker = [&](int m, int len) { out += '\xFF', out += char(m), u16(len); };
  out += "\xFF\xD8";
  marker(0xE0, 16), out.append("JFIF\0\x01\x01\0\0\x01\0\x01\0\0", 14);
  marker(0xDB, 67), out += '\0', out.append(64, '\x01');  // one quantization table: all 1
  marker(0xC0, 17), out += '\x08', u16(height), u16(width), out += '\x03';
  for (int c = 1; c <= 3; ++c) out += char(c), out += '\x11', out += '\0';
  static const std::uint8_t dc_bits[16] = {0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0};
  marker(0xC4, 2 + 17 + 12), out += '\x00';
  for (auto b : dc_bits) out += char(b);
  for (int v = 0; v < 12; ++v) out += char(v);
  marker(0xC4, 2 + 17 + 1), out += '\x10', out += '\x01', out.append(15, '\0'), out += '\0';  // AC: EOB only ("0")
  marker(0xDA, 12), out += '\x03';
  for (int c = 1; c <= 3; ++c) out += char(c), out += '\0';
  out += '\0', out += '\x3F', out += '\0';
  // The DC table's codes (Annex C): code lengths in order, each code one more than the last.
  std::array<std::pair<std::uint32_t, int>, 12> dc_code{};
  for (int len = 1, code = 0, sym = 0; len <= 16; ++len, code <<= 1)
    for (int i = 0; i < dc_bits[len - 1]; ++i) dc_code[sym++] = {std::uint32_t(code++), len};
  std::uint32_t acc = 0;
  int nbits = 0;
  auto put = [&](std::uint32_t bits, int n) {
    for (int i = n - 1; i >= 0; --i) {
      acc = acc << 1 | ((bits >> i) & 1);
      if (++nbits == 8) {
        out += char(acc);
        if (acc == 0xFF) out += '\0';  // byte stuffing
        acc = 0, nbits = 0;
      }
    }
  };
  std::uint64_t seed = 0x9E3779B97F4A7C15ull;  // fixed: the same photo on every run
  auto grain = [&] {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return int(seed >> 59) - 16;  // -16..15
  };
  int prev[3] = {0, 0, 0};
  for (int by = 0; by < height / 8; ++by)
    for (int bx = 0; bx < width / 8; ++bx) {
      const double x = (bx * 8 + 4.0) / width, y = (by * 8 + 4.0) / height;
      double r, g, b;  // sky, the market's roof, houses, the pavement with red stools, the road
      if (y < 0.35) r = 120 + 80 * y, g = 170 + 60 * y, b = 235;
      else if (y < 0.45) r = 170, g = 60, b = 45;
      else if (y < 0.62) r = 225 - 40 * std::fmod(x * 7, 1.0), g = 205, b = 150;
      else if (y < 0.75) r = (std::fmod(x * 13, 1.0) < 0.3 ? 200 : 150), g = 140 - 60 * (r > 160), b = 130 - 70 * (r > 160);
      else r = g = b = 90 + 40 * (std::fabs(y - 0.87) < 0.005 && std::fmod(x * 6, 1.0) < 0.5) * 3;
      const double ycc[3] = {0.299 * r + 0.587 * g + 0.114 * b, 128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
                             128 + 0.5 * r - 0.418688 * g - 0.081312 * b};
      for (int c = 0; c < 3; ++c) {
        const int mean = std::clamp(int(std::lround(ycc[c])) + (c == 0 ? grain() : grain() / 4), 0, 255);
        const int dc = 8 * (mean - 128), diff = dc - prev[c];
        prev[c] = dc;
        int cat = 0;
        while ((std::abs(diff) >> cat) != 0) ++cat;
        put(dc_code[cat].first, dc_code[cat].second);
        if (cat) put(std::uint32_t(diff < 0 ? diff + (1 << cat) - 1 : diff), cat);
        put(0, 1);  // EOB
      }
    }
  put(0x7F, (8 - nbits) % 8);  // pad the last byte with 1 bits
  out += "\xFF\xD9";
  return out;
}

// ---- sockets --------------------------------------------------------------------------------
inline int loopback_socket(int port = 0) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(std::uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind");
  return fd;
}

inline int port_of(int fd) {
  sockaddr_in a{};
  socklen_t n = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  return ntohs(a.sin_port);
}

inline bool write_all(int fd, const char* p, std::size_t n) {
  while (n) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    p += w, n -= std::size_t(w);
  }
  return true;
}

// ---- the taxi's mobile network --------------------------------------------------------------
// A port bound on 127.0.0.1 but not listening: every connection to it is refused, as with no
// signal. signal_back() starts listening and relays each connection to the sandbox.
class MobileNetwork {
 public:
  explicit MobileNetwork(int sandbox_port) : target_(sandbox_port), fd_(loopback_socket()) {
    if (::pipe2(wake_, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  }
  ~MobileNetwork() {
    if (relay_.joinable()) {
      ::write(wake_[1], "x", 1);
      relay_.join();
    }
    ::close(fd_), ::close(wake_[0]), ::close(wake_[1]);
  }
  int port() const { return port_of(fd_); }
  void signal_back() {
    ::listen(fd_, 16);
    relay_ = std::thread([this] { run(); });
  }

 private:
  void run() {
    std::vector<std::pair<int, int>> links;  // (phone side, sandbox side)
    for (;;) {
      std::vector<pollfd> p = {{wake_[0], POLLIN, 0}, {fd_, POLLIN, 0}};
      for (auto [a, b] : links) p.push_back({a, POLLIN, 0}), p.push_back({b, POLLIN, 0});
      if (::poll(p.data(), p.size(), -1) < 0) continue;
      if (p[0].revents) break;
      if (p[1].revents & POLLIN) {
        int a = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        int b = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(std::uint16_t(target_));
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (a >= 0 && ::connect(b, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) links.emplace_back(a, b);
        else ::close(a), ::close(b);
      }
      std::vector<std::pair<int, int>> open;
      for (std::size_t i = 0; i < links.size(); ++i) {
        auto [a, b] = links[i];
        bool alive = true;
        for (int side = 0; side < 2 && alive; ++side) {
          if (!p[2 + 2 * i + side].revents) continue;
          char buf[16384];
          ssize_t n = ::recv(side ? b : a, buf, sizeof buf, 0);
          alive = n > 0 && write_all(side ? a : b, buf, std::size_t(n));
        }
        if (alive) open.emplace_back(a, b);
        else ::close(a), ::close(b);
      }
      links = open;
    }
    for (auto [a, b] : links) ::close(a), ::close(b);
  }

  int target_;
  int fd_;
  int wake_[2];
  std::thread relay_;
};

// ---- the partner's webhook receiver ---------------------------------------------------------
// HTTP/1.1 on 127.0.0.1, one connection at a time: reads a POST (headers, Content-Length
// body), answers 204 and hands the raw body and the headers (names lower-cased) to on_post.
class WebhookReceiver {
 public:
  using Handler = std::function<void(const std::string& body, const std::map<std::string, std::string>& headers)>;
  explicit WebhookReceiver(Handler on_post) : on_post_(std::move(on_post)), fd_(loopback_socket()) {
    ::listen(fd_, 16);
    thread_ = std::thread([this] { run(); });
  }
  ~WebhookReceiver() {
    ::shutdown(fd_, SHUT_RDWR);  // wakes the blocked accept
    thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_of(fd_)) + "/hooks/hues"; }

 private:
  void run() {
    for (;;) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      timeval tv{5, 0};  // a stalled sender is dropped
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      serve(c);
      ::close(c);
    }
  }
  void serve(int c) {
    std::string in;
    char buf[8192];
    std::size_t head_end;
    while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0 || in.size() > 65536) return;
      in.append(buf, std::size_t(n));
    }
    std::map<std::string, std::string> headers;
    for (std::size_t at = in.find("\r\n") + 2; at < head_end;) {
      std::size_t end = in.find("\r\n", at), colon = in.find(':', at);
      if (colon < end) {
        std::string name = in.substr(at, colon - at), value = in.substr(colon + 1, end - colon - 1);
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return std::tolower(ch); });
        value.erase(0, value.find_first_not_of(' '));
        headers[name] = value;
      }
      at = end + 2;
    }
    const std::size_t length = std::stoul(headers.count("content-length") ? headers["content-length"] : "0");
    std::string body = in.substr(head_end + 4);
    while (body.size() < length) {
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return;
      body.append(buf, std::size_t(n));
    }
    const std::string ok = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
    write_all(c, ok.data(), ok.size());
    if (in.compare(0, 5, "POST ") == 0) on_post_(body.substr(0, length), headers);
  }

  Handler on_post_;
  int fd_;
  std::thread thread_;
};

}  // namespace demo
