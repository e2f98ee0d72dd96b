// Typed fetch benchmark: keep-alive GET of one report and JSON -> model, by the Hue-S SDK
// and by a libcurl + Boost.JSON loop doing the same, against the same sandbox endpoint in
// the same run. Rounds alternate the two so machine noise hits both alike.
//
//   build/release/tests/benchmarks/fetch_bench [--iterations N] [--rounds R] [--url URL --key KEY --id ID]
//                                              [--threads T] [--only hues|curl|raw]
//
// --only: one client alone, for profiling it (perf record, callgrind).
// --threads T (T > 1): hues only, T threads sharing one client, each doing N GETs per round.
#include <curl/curl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <hues/hues.h>
#include <hues/testing/sandbox.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// CPU time of the whole process (every thread, user + system), in seconds: with the sandbox in
// another process this is the client's own cost, which the wall clock mixes with the server's
// and with the kernel's wake-ups on both sides.
double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

// The libcurl peer decodes into the same model, field by field, as a hand-written client would.
hues::Report decode(const boost::json::value& v) {
  const auto& o = v.as_object();
  auto str = [&](const char* k) { return std::string(o.at(k).as_string()); };
  hues::Report r;
  r.id = str("id");
  r.category = str("category");
  r.description = str("description");
  r.status = str("status");
  r.agency_code = str("agency_code");
  r.created_at = str("created_at");
  r.updated_at = str("updated_at");
  r.anonymous = o.at("anonymous").as_bool();
  const auto& loc = o.at("location").as_object();
  r.location.lat = loc.at("lat").to_number<double>();
  r.location.lon = loc.at("lon").to_number<double>();
  r.location.address = std::string(loc.at("address").as_string());
  r.location.ward = std::string(loc.at("ward").as_string());
  for (const auto& m : o.at("media").as_array()) r.media.emplace_back(m.as_string());
  return r;
}

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

double run_curl(const std::string& url, const std::string& key, int iterations) {
  CURL* curl = curl_easy_init();
  std::string body;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, ("X-Api-Key: " + key).c_str());
  headers = curl_slist_append(headers, "Accept: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 30000L);
  std::size_t check = 0;
  auto start = Clock::now();
  for (int i = 0; i < iterations; ++i) {
    body.clear();
    if (curl_easy_perform(curl) != CURLE_OK) throw std::runtime_error("curl failed");
    check += decode(boost::json::parse(body)).description.size();
  }
  auto took = std::chrono::duration<double>(Clock::now() - start).count();
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (check == 0) throw std::runtime_error("empty reports");
  return iterations / took;
}

// The floor: one blocking keep-alive socket writing a fixed request and reading until the
// body's Content-Length, no HTTP library, no JSON decode. No client can beat it against this
// server; the gap between it and libcurl is all a client library can win on this machine.
double run_raw(const std::string& url, const std::string& key, int iterations) {
  auto hostport = url.substr(url.find("://") + 3);
  auto slash = hostport.find('/');
  auto path = slash == std::string::npos ? std::string("/") : hostport.substr(slash);
  hostport = hostport.substr(0, slash);
  auto colon = hostport.rfind(':');
  std::string host = hostport.substr(0, colon);
  if (host == "localhost") host = "127.0.0.1";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(hostport.substr(colon + 1))));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) throw std::runtime_error("raw: IPv4 literal only");
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("raw: connect");
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + hostport + "\r\nX-Api-Key: " + key +
                    "\r\nAccept: application/json\r\n\r\n";
  std::string buf(65536, '\0');
  std::size_t check = 0;
  auto start = Clock::now();
  for (int i = 0; i < iterations; ++i) {
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
      throw std::runtime_error("raw: send");
    std::size_t got = 0, want = std::string::npos;
    while (want == std::string::npos || got < want) {
      ssize_t n = ::recv(fd, buf.data() + got, buf.size() - got, 0);
      if (n <= 0) throw std::runtime_error("raw: recv");
      got += static_cast<std::size_t>(n);
      std::string_view head(buf.data(), got);
      auto end = head.find("\r\n\r\n");
      auto cl = head.find("Content-Length: ");
      if (want == std::string::npos && end != std::string_view::npos && cl != std::string_view::npos)
        want = end + 4 + std::stoul(std::string(head.substr(cl + 16, head.find("\r\n", cl) - cl - 16)));
    }
    check += got;
  }
  auto took = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  if (check == 0) throw std::runtime_error("raw: empty");
  return iterations / took;
}

double run_hues(const hues::Client& client, const std::string& id, int iterations) {
  auto reports = client.reports();
  std::size_t check = 0;
  auto start = Clock::now();
  for (int i = 0; i < iterations; ++i) check += reports.get(id).description.size();
  auto took = std::chrono::duration<double>(Clock::now() - start).count();
  if (check == 0) throw std::runtime_error("empty reports");
  return iterations / took;
}

// T threads sharing one client, each its own N GETs; total GETs/s.
double run_hues_threads(const hues::Client& client, const std::string& id, int iterations, int threads) {
  std::vector<std::thread> pool;
  std::vector<std::size_t> checks(threads);
  auto start = Clock::now();
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      auto reports = client.reports();
      for (int i = 0; i < iterations; ++i) checks[t] += reports.get(id).description.size();
    });
  for (auto& th : pool) th.join();
  auto took = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto c : checks)
    if (c == 0) throw std::runtime_error("empty reports");
  return double(iterations) * threads / took;
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = 2000, rounds = 5, threads = 1;
  std::string url, key, id, only;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--iterations") iterations = std::stoi(argv[i + 1]);
    else if (a == "--rounds") rounds = std::stoi(argv[i + 1]);
    else if (a == "--url") url = argv[i + 1];
    else if (a == "--key") key = argv[i + 1];
    else if (a == "--id") id = argv[i + 1];
    else if (a == "--threads") threads = std::stoi(argv[i + 1]);
    else if (a == "--only") only = argv[i + 1];
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::unique_ptr<hues::testing::Sandbox> sandbox;
  if (url.empty()) {
    hues::testing::SandboxOptions so;
    so.tls_port = -1;
    sandbox = std::make_unique<hues::testing::Sandbox>(so);
    url = sandbox->url();
    key = sandbox->api_key();
  }
  hues::ClientOptions options;
  options.base_url = url;
  options.api_key = key;
  hues::Client client(options);
  if (id.empty()) {
    hues::NewReport r;
    r.category = client.reports().categories().at(0).code;
    r.description = "Đèn đường hỏng trước chợ Đông Ba, đường Trần Hưng Đạo, tối om từ 3 đêm nay.";
    r.location = {16.4726, 107.5885, "Chợ Đông Ba, 2 Trần Hưng Đạo", "Đông Ba"};
    id = client.reports().create(r).id;
  }
  std::string get_url = url + "/v1/reports/" + id;
  if (threads > 1) {
    run_hues_threads(client, id, std::max(1, iterations / 10), threads);
    std::vector<double> rates;
    for (int round = 0; round < rounds; ++round) {
      rates.push_back(run_hues_threads(client, id, iterations, threads));
      std::cout << "round " << round + 1 << ": hues " << threads << " threads " << static_cast<long>(rates.back())
                << " req/s\n";
    }
    std::sort(rates.begin(), rates.end());
    std::cout << "median hues " << threads << " threads: " << static_cast<long>(rates[rates.size() / 2])
              << " req/s (" << iterations << " GETs per thread x " << rounds << " rounds)\n";
    curl_global_cleanup();
    return 0;
  }
  if (!only.empty()) {
    for (int round = 0; round < rounds; ++round) {
      double t0 = cpu_seconds();
      double r = only == "curl"  ? run_curl(get_url, key, iterations)
                 : only == "raw" ? run_raw(get_url, key, iterations)
                                 : run_hues(client, id, iterations);
      std::cout << "round " << round + 1 << ": " << only << " " << static_cast<long>(r) << " req/s, client CPU "
                << (cpu_seconds() - t0) / iterations * 1e6 << " us per request\n";
    }
    curl_global_cleanup();
    return 0;
  }
  run_hues(client, id, std::max(1, iterations / 10));  // warm both paths up
  run_curl(get_url, key, std::max(1, iterations / 10));

  std::vector<double> ratios, cpu_ratios, floor_ratios;
  double best_hues = 0, best_curl = 0;
  for (int round = 0; round < rounds; ++round) {
    double t0 = cpu_seconds();
    double h = run_hues(client, id, iterations);
    double t1 = cpu_seconds();
    double c = run_curl(get_url, key, iterations);
    double t2 = cpu_seconds();
    double raw = run_raw(get_url, key, iterations);
    floor_ratios.push_back(raw / c);
    double cpu_h = (t1 - t0) / iterations * 1e6, cpu_c = (t2 - t1) / iterations * 1e6;
    best_hues = std::max(best_hues, h);
    best_curl = std::max(best_curl, c);
    ratios.push_back(h / c);
    cpu_ratios.push_back(cpu_c / cpu_h);
    std::cout << "round " << round + 1 << ": hues " << static_cast<long>(h) << " req/s, libcurl+Boost.JSON "
              << static_cast<long>(c) << " req/s, ratio " << h / c << "; client CPU per request " << cpu_h
              << " us vs " << cpu_c << " us; socket floor " << static_cast<long>(raw) << " req/s ("
              << raw / c << "x libcurl)\n";
  }
  std::sort(ratios.begin(), ratios.end());
  std::sort(cpu_ratios.begin(), cpu_ratios.end());
  std::sort(floor_ratios.begin(), floor_ratios.end());
  std::cout << "median ratio hues/libcurl: " << ratios[ratios.size() / 2] << " (best " << static_cast<long>(best_hues)
            << " vs " << static_cast<long>(best_curl) << " req/s, " << iterations << " GETs x " << rounds
            << " rounds); client CPU, libcurl/hues: " << cpu_ratios[cpu_ratios.size() / 2]
            << (sandbox ? " (sandbox in-process: CPU includes it)" : "") << "; socket floor/libcurl: "
            << floor_ratios[floor_ratios.size() / 2] << "\n";
  curl_global_cleanup();
  return 0;
}
