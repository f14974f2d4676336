#include "services/activation/passcode_hasher.h"

#include <sodium.h>

#include <cstdlib>
#include <optional>

#include "services/activation/argon2_memory.h"
#include "services/common/keyed_hash.h"
#include "services/common/sodium.h"

namespace eid::activation {

PasscodeHasher::PasscodeHasher(std::string pepper, const Options& options,
                               HashGate* gate)
    : pepper_(std::move(pepper)), options_(options), gate_(gate) {
  // Without sodium_init() libsodium runs its portable Argon2, not the
  // SIMD one picked for this CPU.
  if (!SodiumReady()) std::abort();
}

std::string PasscodeHasher::Peppered(absl::string_view passcode) const {
  return KeyedHash(pepper_, {"passcode", passcode});
}

absl::Status PasscodeHasher::Admit(absl::Time deadline,
                                   std::optional<HashGate::Slot>& slot) const {
  if (gate_ == nullptr) return absl::OkStatus();
  absl::StatusOr<HashGate::Slot> entered = gate_->Enter(deadline);
  if (!entered.ok()) return entered.status();
  slot.emplace(*std::move(entered));
  return absl::OkStatus();
}

absl::StatusOr<std::string> PasscodeHasher::Hash(absl::string_view passcode,
                                                 absl::Time deadline) const {
  std::optional<HashGate::Slot> slot;
  if (absl::Status s = Admit(deadline, slot); !s.ok()) return s;
  const std::string input = Peppered(passcode);
  Argon2Memory::Lend lend(slot ? slot->memory() : nullptr);
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, input.data(), input.size(),
                            options_.ops_limit, options_.mem_limit_bytes,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return absl::ResourceExhaustedError("argon2id: out of memory");
  }
  return std::string(out);
}

absl::StatusOr<bool> PasscodeHasher::Verify(absl::string_view passcode,
                                            const std::string& stored,
                                            absl::Time deadline) const {
  if (stored.empty() || stored.size() >= crypto_pwhash_STRBYTES) return false;
  std::optional<HashGate::Slot> slot;
  if (absl::Status s = Admit(deadline, slot); !s.ok()) return s;
  const std::string input = Peppered(passcode);
  Argon2Memory::Lend lend(slot ? slot->memory() : nullptr);
  return crypto_pwhash_str_verify(stored.c_str(), input.data(),
                                  input.size()) == 0;
}

}  // namespace eid::activation
