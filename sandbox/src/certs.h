// The sandbox's development PKI: a self-signed CA and a localhost server certificate it
// signs, created on first start in the data directory and reused afterwards.
#pragma once

#include <string>
#include <vector>

namespace hues::sandbox {

struct CertFiles {
  std::string ca;           // ca.pem: the CA certificate clients trust
  std::string server_cert;  // server.pem: server certificate followed by the CA (chain)
  std::string server_key;   // server-key.pem (0600)
};

// Reuses the files in dir when they are present, parse, and the server certificate is
// valid for at least another day and names exactly `names` (host names or IP addresses;
// empty: localhost, 127.0.0.1, ::1); otherwise (re)creates them, keeping a valid CA.
// Throws std::runtime_error.
CertFiles ensure_dev_certificates(const std::string& dir, const std::vector<std::string>& names = {});

}  // namespace hues::sandbox
