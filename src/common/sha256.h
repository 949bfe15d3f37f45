#pragma once
// SHA-256 digests as lowercase hex, via OpenSSL's libcrypto. Thread-safe.

#include <cstddef>
#include <string>
#include <string_view>

namespace cohortdb {

// Digest of the bytes of "data".
std::string Sha256Hex(std::string_view data);

// Incremental digest for streamed input (files read in chunks).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(const void* data, std::size_t size);
  // Returns the hex digest; the object must not be updated afterwards.
  std::string FinishHex();

 private:
  void* ctx_;  // EVP_MD_CTX*
};

// Digest of a whole file; throws InputError if it cannot be read.
std::string Sha256OfFile(const std::string& path);

}  // namespace cohortdb
