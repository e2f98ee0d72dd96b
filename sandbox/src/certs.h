// The sandbox's development PKI: a self-signed CA and a localhost server certificate it
// signs, created on first start in the data directory and reused afterwards.
#pragma once

#include <string>

namespace hues::sandbox {

struct CertFiles {
  std::string ca;           // ca.pem: the CA certificate clients trust
  std::string server_cert;  // server.pem: server certificate followed by the CA (chain)
  std::string server_key;   // server-key.pem (0600)
};

// Reuses the files in dir when they are present, parse, and the server certificate is
// valid for at least another day; otherwise (re)creates them. Throws std::runtime_error.
CertFiles ensure_dev_certificates(const std::string& dir);

}  // namespace hues::sandbox
