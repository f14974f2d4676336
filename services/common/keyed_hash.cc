#include "services/common/keyed_hash.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "absl/base/internal/endian.h"

namespace eid {

std::string KeyedHash(absl::string_view key,
                      std::initializer_list<absl::string_view> parts) {
  std::string message;
  for (absl::string_view part : parts) {
    char len[4];
    absl::big_endian::Store32(len, static_cast<uint32_t>(part.size()));
    message.append(len, 4);
    message.append(part.data(), part.size());
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
       out, &out_len);
  return std::string(reinterpret_cast<char*>(out), out_len);
}

std::string Sha256(absl::string_view data) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return std::string(reinterpret_cast<char*>(out), sizeof(out));
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace eid
