// One keyed store of generated models, in memory or as one JSON file per key: the token
// stores (identity.cpp: TokenStore of TokenSet) and the upload stores (upload.cpp: UploadStore
// of UploadRecord) are both this template, so the locking, the file naming and the crash-safe
// write live in one place.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>

#include "hues/error.h"
#include "internal/crypto.h"
#include "internal/json_codec.h"

namespace hues::internal {

// Interface has Record load(key), save(key, const Record&), remove(key), all virtual.
template <class Interface, class Record>
class MemoryRecordStore final : public Interface {
 public:
  Record load(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = records_.find(key);
    return it == records_.end() ? Record{} : it->second;
  }
  void save(const std::string& key, const Record& record) override {
    std::lock_guard<std::mutex> lock(mu_);
    records_[key] = record;
  }
  void remove(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    records_.erase(key);
  }

 private:
  std::mutex mu_;
  std::map<std::string, Record> records_;
};

// How a file store's failures are raised: the error type and code, and what it stores (for
// the message); the field is always "directory".
struct RecordStoreErrors {
  ErrorType type;
  const char* code;
  const char* what;  // "token file", "upload record"
};

// Files named <prefix><32 hex digits of sha256(key)>.json in directory (created 0700), each
// written 0600 to a temporary file, fsynced and renamed, so a kill at any instant leaves the
// old record or the new one, never half of one. A damaged file loads as an empty Record.
template <class Interface, class Record>
class FileRecordStore final : public Interface {
 public:
  FileRecordStore(std::string directory, std::string prefix, RecordStoreErrors errors)
      : dir_(std::move(directory)), prefix_(std::move(prefix)), errors_(errors) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) fail("cannot create the directory " + dir_ + ": " + ec.message());
    ::chmod(dir_.c_str(), 0700);
  }
  Record load(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::ifstream in(path(key), std::ios::binary);
    if (!in) return {};
    std::stringstream text;
    text << in.rdbuf();
    try {
      return from_json_string<Record>(text.str());
    } catch (const FieldError&) {
      return {};  // a damaged file means "none", never a crash
    }
  }
  void save(const std::string& key, const Record& record) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::string target = path(key), tmp = target + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) fail(std::string("cannot write a ") + errors_.what + " in " + dir_);
    std::string data = to_json_string(record);
    bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), target.c_str()) != 0) {
      ::unlink(tmp.c_str());
      fail(std::string("cannot write a ") + errors_.what + " in " + dir_);
    }
  }
  void remove(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    ::unlink(path(key).c_str());
  }

 private:
  [[noreturn]] void fail(const std::string& message) const {
    throw_error(errors_.type, message, 0, errors_.code, {}, "directory");
  }
  std::string path(const std::string& key) const {
    return dir_ + "/" + prefix_ + to_hex(sha256(key)).substr(0, 32) + ".json";
  }
  std::string dir_;
  std::string prefix_;
  RecordStoreErrors errors_;
  std::mutex mu_;
};

}  // namespace hues::internal
