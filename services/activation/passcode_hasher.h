// PasscodeHasher: how passcodes are stored. A 6-digit passcode has only a
// million values, so no hash alone protects it from someone holding the
// database: the server pepper (a secret file, never on the shards) and the
// attempt limits do. The pepper is applied first (HMAC-SHA256), then Argon2id
// (libsodium, its own random salt per hash) makes each guess cost memory and
// time even for someone who also stole the pepper. docs/activation.md
// justifies the parameters.
//
// With a HashGate, every hash and verify first takes one of its slots, so
// only that many run at once (hash_gate.h says why), each in its slot's
// work memory, kept mapped between hashes (argon2_memory.h).
//
// Thread-safe (stateless apart from the pepper).
#ifndef EID_SERVICES_ACTIVATION_PASSCODE_HASHER_H_
#define EID_SERVICES_ACTIVATION_PASSCODE_HASHER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/activation/hash_gate.h"

namespace eid::activation {

class PasscodeHasher {
 public:
  struct Options {
    // Argon2id passes (t) and memory (m). t=2, m=19 MiB is OWASP's first
    // recommended Argon2id setting; tests lower both.
    uint64_t ops_limit = 2;
    size_t mem_limit_bytes = size_t{19} << 20;
  };

  // `pepper`: at least 32 secret bytes (from a file). `gate`: null, or the
  // bound on concurrent hashes (must outlive this).
  PasscodeHasher(std::string pepper, const Options& options,
                 HashGate* gate = nullptr);

  // The libsodium Argon2id string for `passcode` (salt and parameters
  // inside). RESOURCE_EXHAUSTED if the memory could not be had;
  // DEADLINE_EXCEEDED (PASSCODE_HASHING_BUSY) if `deadline` passed while
  // waiting for the gate (nothing hashed).
  absl::StatusOr<std::string> Hash(
      absl::string_view passcode,
      absl::Time deadline = absl::InfiniteFuture()) const;

  // Whether `passcode` matches `stored` (a Hash() result). Constant-time in
  // the comparison; false for a malformed `stored`. DEADLINE_EXCEEDED
  // (PASSCODE_HASHING_BUSY) as for Hash: then nothing was checked.
  absl::StatusOr<bool> Verify(
      absl::string_view passcode, const std::string& stored,
      absl::Time deadline = absl::InfiniteFuture()) const;

  const Options& options() const { return options_; }

 private:
  std::string Peppered(absl::string_view passcode) const;
  // Takes a slot of the gate into `slot` (nothing without a gate).
  absl::Status Admit(absl::Time deadline, std::optional<HashGate::Slot>& slot) const;

  const std::string pepper_;
  const Options options_;
  HashGate* const gate_;
};

}  // namespace eid::activation

#endif  // EID_SERVICES_ACTIVATION_PASSCODE_HASHER_H_
