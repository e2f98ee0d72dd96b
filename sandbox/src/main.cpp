// hues-sandbox: the Hue-S sandbox as a standalone server.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

#include "server.h"

namespace {

constexpr const char* kUsage =
    "usage: hues-sandbox [--host H] [--port N] [--tls-port N|-1] [--data-dir DIR] [--db FILE]\n"
    "                    [--threads N] [--print-ca]\n"
    "  --host H        address to listen on (default 127.0.0.1)\n"
    "  --port N        HTTP port (default 0: a free port)\n"
    "  --tls-port N    HTTPS port (default 0: a free port; -1: no HTTPS)\n"
    "  --data-dir DIR  database and development CA (default: a temporary directory,\n"
    "                  removed on exit)\n"
    "  --db FILE       database file (default DIR/sandbox.db; its folder is the data\n"
    "                  directory unless --data-dir is given)\n"
    "  --print-ca      also print the development CA certificate (PEM) once listening\n";

int parse_int(const char* flag, const char* text) {
  char* end = nullptr;
  long v = std::strtol(text, &end, 10);
  if (!*text || *end || v < -1 || v > 65535) {
    std::fprintf(stderr, "hues-sandbox: %s needs a number, got '%s'\n%s", flag, text, kUsage);
    std::exit(2);
  }
  return static_cast<int>(v);
}

}  // namespace

int main(int argc, char** argv) {
  hues::sandbox::ServerConfig cfg;
  bool print_ca = false;
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
    else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "hues-sandbox: unknown option %s\n%s", a.c_str(), kUsage);
      return 2;
    }
  }

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
