#include "certs.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <vector>

namespace hues::sandbox {
namespace {

namespace fs = std::filesystem;

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

constexpr long kValidDays = 365;

[[noreturn]] void fail(const std::string& what) {
  unsigned long e = ERR_get_error();
  char buf[256] = "";
  if (e) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  throw std::runtime_error("sandbox certificates: " + what + (e ? std::string(": ") + buf : ""));
}

void check(int ok, const char* what) {
  if (ok != 1) fail(what);
}

PkeyPtr new_p256_key() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) fail("EC P-256 key generation");
  return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext) fail(std::string("extension ") + OBJ_nid2sn(nid));
  check(X509_add_ext(cert, ext.get(), -1), "X509_add_ext");
}

// "DNS:name" or "IP:address" for each name, sorted: the subjectAltName a certificate needs.
std::vector<std::string> san_entries(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& n : names.empty() ? std::vector<std::string>{"localhost", "127.0.0.1", "::1"} : names) {
    unsigned char buf[16];
    const bool ip = inet_pton(AF_INET, n.c_str(), buf) == 1 || inet_pton(AF_INET6, n.c_str(), buf) == 1;
    if (n.empty() || (n.find_first_of(",: ") != std::string::npos && !ip)) throw std::runtime_error("sandbox certificates: bad TLS name '" + n + "'");
    out.push_back((ip ? "IP:" : "DNS:") + n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The subjectAltName entries cert carries, in san_entries' form.
std::vector<std::string> cert_san(X509* cert) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
    if (g->type == GEN_DNS) {
      out.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.dNSName)),
                                         static_cast<std::size_t>(ASN1_STRING_length(g->d.dNSName))));
    } else if (g->type == GEN_IPADD) {
      char text[INET6_ADDRSTRLEN] = "";
      const int len = ASN1_STRING_length(g->d.iPAddress);
      inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(g->d.iPAddress), text, sizeof text);
      out.push_back(std::string("IP:") + text);
    }
  }
  GENERAL_NAMES_free(names);
  std::sort(out.begin(), out.end());
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ",") + x;
  return out;
}

// A certificate for subject_cn, signed by issuer_key (issuer == nullptr: self-signed); a
// server certificate's subjectAltName is san.
X509Ptr make_cert(const char* subject_cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, const std::string& san = "") {
  X509Ptr cert(X509_new());
  if (!cert) fail("X509_new");
  check(X509_set_version(cert.get(), X509_VERSION_3), "X509_set_version");
  // 128-bit random positive serial, as CA/B guidelines ask, so re-issued certs never clash.
  unsigned char serial[16];
  check(RAND_bytes(serial, sizeof serial), "RAND_bytes");
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()))) fail("serial");
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);  // tolerate small clock skew
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValidDays * 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("VN"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Hue-S Sandbox (development only)"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(subject_cn), -1,
                             -1, 0);
  check(X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name), "issuer");
  check(X509_set_pubkey(cert.get(), key), "X509_set_pubkey");
  X509* signer = issuer ? issuer : cert.get();
  add_ext(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (!issuer) {
    add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
    add_ext(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
    add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
    add_ext(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    add_ext(cert.get(), signer, NID_subject_alt_name, san.c_str());
  }
  if (X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) <= 0) fail("X509_sign");
  return cert;
}

// Writes via a temporary file and rename, so a concurrent reader never sees half a file.
// Every file is created owner-only (0600) before a byte is written, like the database.
void write_pem(const fs::path& path, const std::vector<X509*>& certs, EVP_PKEY* key) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || ::fchmod(fd, 0600) != 0) {
      if (fd >= 0) ::close(fd);
      fail("cannot write " + tmp.string());
    }
    std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>> bio(BIO_new_fd(fd, BIO_CLOSE));
    if (!bio) {
      ::close(fd);
      fail("cannot write " + tmp.string());
    }
    if (key) check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr), "write key");
    for (X509* c : certs) check(PEM_write_bio_X509(bio.get(), c), "write certificate");
    if (BIO_flush(bio.get()) != 1) fail("flush " + tmp.string());
  }
  fs::rename(tmp, path);
}

X509Ptr read_cert(const fs::path& path) {
  std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>> bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return nullptr;
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

PkeyPtr read_key(const fs::path& path) {
  std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>> bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return nullptr;
  return PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

// Still valid a day from now.
bool fresh(X509* cert) {
  time_t t = time(nullptr) + 24 * 3600;
  return X509_cmp_time(X509_get0_notAfter(cert), &t) > 0;
}

}  // namespace

CertFiles ensure_dev_certificates(const std::string& dir, const std::vector<std::string>& names) {
  const std::vector<std::string> san = san_entries(names);
  const fs::path d(dir);
  CertFiles files{(d / "ca.pem").string(), (d / "server.pem").string(), (d / "server-key.pem").string()};
  const fs::path ca_key_path = d / "ca-key.pem";

  // Files an older version wrote 0644 become owner-only too.
  for (const auto& p : {fs::path(files.ca), ca_key_path, fs::path(files.server_cert), fs::path(files.server_key)})
    if (::chmod(p.c_str(), 0600) != 0 && errno != ENOENT) fail("cannot make " + p.string() + " private");
  X509Ptr ca = read_cert(files.ca), server = read_cert(files.server_cert);
  PkeyPtr ca_key = read_key(ca_key_path), server_key = read_key(files.server_key);
  ERR_clear_error();  // missing files on first start are expected
  if (ca && server && server_key && fresh(server.get()) && X509_check_private_key(server.get(), server_key.get()) == 1 &&
      X509_verify(server.get(), X509_get0_pubkey(ca.get())) == 1 && cert_san(server.get()) == san)
    return files;
  ERR_clear_error();

  // Keep an existing CA (clients may already trust it) and only re-issue the server cert.
  if (!ca || !ca_key || !fresh(ca.get()) || X509_check_private_key(ca.get(), ca_key.get()) != 1) {
    ERR_clear_error();
    ca_key = new_p256_key();
    ca = make_cert("Hue-S Sandbox Development CA", ca_key.get(), nullptr, nullptr);
    write_pem(ca_key_path, {}, ca_key.get());
    write_pem(files.ca, {ca.get()}, nullptr);
  }
  server_key = new_p256_key();
  const std::string cn = san.front().substr(san.front().find(':') + 1);
  server = make_cert(cn.c_str(), server_key.get(), ca.get(), ca_key.get(), join(san));
  write_pem(files.server_key, {}, server_key.get());
  write_pem(files.server_cert, {server.get(), ca.get()}, nullptr);
  return files;
}

}  // namespace hues::sandbox
