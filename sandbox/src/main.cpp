// hues-sandbox: the Hue-S sandbox as a standalone server.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "server.h"

namespace {

constexpr const char* kUsage =
    "usage: hues-sandbox [--host H] [--port N] [--tls-port N|-1] [--data-dir DIR] [--db FILE]\n"
    "                    [--threads N] [--print-ca] [--tls-names N1,N2...] [--max-connections N]\n"
    "                    [--idle-timeout-ms N] [--header-timeout-ms N] [--write-timeout-ms N]\n"
    "                    [--max-sign-in-failures N]\n"
    "                    [--max-sign-in-failures-per-address N] [--max-user-code-failures N]\n"
    "                    [--lockout-seconds N] [--failure-window-seconds N] [--upload-ttl-seconds N]\n"
    "  --host H        address to listen on (default 127.0.0.1)\n"
    "  --port N        HTTP port (default 0: a free port)\n"
    "  --tls-port N    HTTPS port (default 0: a free port; -1: no HTTPS)\n"
    "  --data-dir DIR  database and development CA (default: a temporary directory,\n"
    "                  removed on exit)\n"
    "  --db FILE       database file (default DIR/sandbox.db; its folder is the data\n"
    "                  directory unless --data-dir is given)\n"
    "  --print-ca      also print the development CA certificate (PEM) once listening\n"
    "  --tls-names L   host names / IP addresses the TLS certificate names, comma-separated\n"
    "                  (default localhost,127.0.0.1,::1; others make a wrong-host certificate)\n"
    "  --max-connections N  open connections at most (default: from the descriptor limit);\n"
    "                  near it the connections idle longest are closed first\n"
    "  --idle-timeout-ms N    keep-alive wait for the next request (default 30000)\n"
    "  --header-timeout-ms N  first byte to end of a request header (default 10000)\n"
    "  --write-timeout-ms N   a response's write, or each 256 KiB piece of a streamed one:\n"
    "                  a client reading nothing for this long is dropped (default 30000)\n"
    "  --max-sign-in-failures N  wrong passwords per account before a lockout (default 5)\n"
    "  --max-sign-in-failures-per-address N  ... per client address (default 30)\n"
    "  --max-user-code-failures N  wrong device codes per account (default 5; twice per address)\n"
    "  --lockout-seconds N  the lockout (429) after too many failures, and by default the\n"
    "                  window failures count in (default 900)\n"
    "  --failure-window-seconds N  the window failures count in (default: --lockout-seconds)\n"
    "  --upload-ttl-seconds N  an unfinished upload (/v1/uploads) expires N seconds after its\n"
    "                  creation or last PATCH (default 86400)\n"
    "  --webhook-retry-base-ms N  the first webhook retry's delay (default 5000); the\n"
    "                  standard's later delays (5 min ... 24 h) scale with it\n"
    "  --webhook-max-attempts N  attempts per webhook message (default 10)\n"
    "  --webhook-secret-grace-seconds N  a rotated secret keeps signing this long (default 86400)\n"
    "  --webhook-timeout-ms N  one delivery attempt's deadline (default 15000)\n";

int parse_int(const char* flag, const char* text) {
  char* end = nullptr;
  long v = std::strtol(text, &end, 10);
  if (!*text || *end || v < -1 || v > 65535) {
    std::fprintf(stderr, "hues-sandbox: %s needs a number, got '%s'\n%s", flag, text, kUsage);
    std::exit(2);
  }
  return static_cast<int>(v);
}

int parse_count(const char* flag, const char* text, long min, long max) {
  char* end = nullptr;
  long v = std::strtol(text, &end, 10);
  if (!*text || *end || v < min || v > max) {
    std::fprintf(stderr, "hues-sandbox: %s needs a number from %ld to %ld, got '%s'\n%s", flag, min, max, text, kUsage);
    std::exit(2);
  }
  return static_cast<int>(v);
}

std::vector<std::string> parse_list(const char* text) {
  std::vector<std::string> out;
  std::string item;
  for (const char* p = text;; ++p) {
    if (*p == ',' || !*p) {
      if (!item.empty()) out.push_back(item);
      item.clear();
      if (!*p) break;
    } else {
      item.push_back(*p);
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  hues::sandbox::ServerConfig cfg;
  bool print_ca = false;
  int window = 0;  // --failure-window-seconds, whatever the order of the flags
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "hues-sandbox: %s needs a value\n%s", a.c_str(), kUsage);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--host") cfg.host = value();
    else if (a == "--port") cfg.port = parse_int("--port", value());
    else if (a == "--tls-port") cfg.tls_port = parse_int("--tls-port", value());
    else if (a == "--data-dir") cfg.data_dir = value();
    else if (a == "--db") cfg.db_path = value();
    else if (a == "--threads") cfg.threads = parse_int("--threads", value());
    else if (a == "--print-ca") print_ca = true;
    else if (a == "--tls-names") cfg.tls_names = parse_list(value());
    else if (a == "--max-connections") cfg.max_connections = parse_count("--max-connections", value(), 1, 1000000);
    else if (a == "--idle-timeout-ms") cfg.idle_timeout_ms = parse_count("--idle-timeout-ms", value(), 1, 86400000);
    else if (a == "--header-timeout-ms") cfg.header_timeout_ms = parse_count("--header-timeout-ms", value(), 1, 86400000);
    else if (a == "--write-timeout-ms") cfg.write_timeout_ms = parse_count(a.c_str(), value(), 1, 86400000);
    else if (a == "--max-sign-in-failures") cfg.sign_in.account_failures = parse_count(a.c_str(), value(), 1, 1000000);
    else if (a == "--max-sign-in-failures-per-address") cfg.sign_in.address_failures = parse_count(a.c_str(), value(), 1, 1000000);
    else if (a == "--max-user-code-failures") cfg.sign_in.user_code_failures = parse_count(a.c_str(), value(), 1, 1000000);
    else if (a == "--lockout-seconds")
      cfg.sign_in.window_seconds = cfg.sign_in.lockout_seconds = parse_count(a.c_str(), value(), 1, 86400 * 365);
    else if (a == "--failure-window-seconds") window = parse_count(a.c_str(), value(), 1, 86400 * 365);
    else if (a == "--upload-ttl-seconds") cfg.upload_ttl_seconds = parse_count(a.c_str(), value(), 1, 86400 * 365);
    else if (a == "--webhook-retry-base-ms") cfg.webhook_retry_base_ms = parse_count(a.c_str(), value(), 1, 3600000);
    else if (a == "--webhook-max-attempts") cfg.webhook_max_attempts = parse_count(a.c_str(), value(), 1, 100);
    else if (a == "--webhook-secret-grace-seconds")
      cfg.webhook_secret_grace_seconds = parse_count(a.c_str(), value(), 0, 86400 * 30);
    else if (a == "--webhook-timeout-ms") cfg.webhook_timeout_ms = parse_count(a.c_str(), value(), 1, 600000);
    else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "hues-sandbox: unknown option %s\n%s", a.c_str(), kUsage);
      return 2;
    }
  }
  if (window > 0) cfg.sign_in.window_seconds = window;

  // Block the stop signals before any thread starts, then wait for them synchronously.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  try {
    hues::sandbox::Server server(cfg);
    std::printf("hues-sandbox: %s\n", server.url().c_str());
    if (server.tls_port() >= 0) {
      std::printf("hues-sandbox: %s\n", server.tls_url().c_str());
      std::printf("hues-sandbox: ca %s\n", server.ca_file().c_str());
      if (print_ca) {
        std::ifstream in(server.ca_file());
        std::cout << in.rdbuf();
      }
    }
    std::printf("hues-sandbox: data %s\n", server.data_dir().c_str());
    std::fflush(stdout);
    std::cout.flush();
    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::printf("hues-sandbox: stopping (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    std::fflush(stdout);
    server.stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hues-sandbox: %s\n", e.what());
    return 1;
  }
  return 0;
}
