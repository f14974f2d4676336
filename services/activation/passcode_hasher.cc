#include "services/activation/passcode_hasher.h"

#include <sodium.h>

#include <cstdlib>

#include "services/common/keyed_hash.h"
#include "services/common/sodium.h"

namespace eid::activation {

PasscodeHasher::PasscodeHasher(std::string pepper, const Options& options)
    : pepper_(std::move(pepper)), options_(options) {
  // Without sodium_init() libsodium runs its portable Argon2, not the
  // SIMD one picked for this CPU.
  if (!SodiumReady()) std::abort();
}

std::string PasscodeHasher::Peppered(absl::string_view passcode) const {
  return KeyedHash(pepper_, {"passcode", passcode});
}

absl::StatusOr<std::string> PasscodeHasher::Hash(
    absl::string_view passcode) const {
  const std::string input = Peppered(passcode);
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, input.data(), input.size(),
                            options_.ops_limit, options_.mem_limit_bytes,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return absl::ResourceExhaustedError("argon2id: out of memory");
  }
  return std::string(out);
}

bool PasscodeHasher::Verify(absl::string_view passcode,
                            const std::string& stored) const {
  if (stored.empty() || stored.size() >= crypto_pwhash_STRBYTES) return false;
  const std::string input = Peppered(passcode);
  return crypto_pwhash_str_verify(stored.c_str(), input.data(),
                                  input.size()) == 0;
}

}  // namespace eid::activation
