#include "services/audit/checkpoint_signer.h"

#include <sodium.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/common/proto_time.h"
#include "services/common/sodium.h"

namespace eid::audit {

std::string CheckpointBody(uint32_t partition, uint64_t tree_size,
                           const Hash& root, absl::Time time) {
  const google::protobuf::Timestamp t = ToProtoTime(time);
  return absl::StrFormat(
      "eid.v1/audit/%u\n%u\n%s\n%d.%09d\n", partition, tree_size,
      absl::Base64Escape(absl::string_view(reinterpret_cast<const char*>(root.data()),
                                           root.size())),
      t.seconds(), t.nanos());
}

absl::StatusOr<std::unique_ptr<CheckpointSigner>> CheckpointSigner::FromSeed(
    absl::string_view seed, absl::Time not_before) {
  if (seed.size() != crypto_sign_SEEDBYTES) {
    return absl::InvalidArgumentError(
        absl::StrCat("an Ed25519 seed is ", crypto_sign_SEEDBYTES, " bytes"));
  }
  if (!SodiumReady()) return absl::InternalError("libsodium failed to start");
  std::unique_ptr<CheckpointSigner> signer(new CheckpointSigner());
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  signer->secret_key_.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_seed_keypair(pk,
                           reinterpret_cast<unsigned char*>(&signer->secret_key_[0]),
                           reinterpret_cast<const unsigned char*>(seed.data()));
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, pk, sizeof(pk));
  signer->public_key_.set_key_id((uint32_t{digest[0]} << 24) | (digest[1] << 16) |
                                 (digest[2] << 8) | digest[3]);
  signer->public_key_.set_public_key(pk, sizeof(pk));
  ToProtoTime(not_before, signer->public_key_.mutable_not_before());
  return signer;
}

CheckpointSigner::~CheckpointSigner() {
  sodium_memzero(&secret_key_[0], secret_key_.size());
}

v1::Checkpoint CheckpointSigner::Sign(uint32_t partition, uint64_t tree_size,
                                      const Hash& root, absl::Time time) const {
  v1::Checkpoint c;
  c.set_partition(partition);
  c.set_tree_size(tree_size);
  c.set_root_hash(root.data(), root.size());
  ToProtoTime(time, c.mutable_time());
  c.set_key_id(public_key_.key_id());
  c.set_body(CheckpointBody(partition, tree_size, root, time));
  unsigned char signature[crypto_sign_BYTES];
  crypto_sign_detached(signature, nullptr,
                       reinterpret_cast<const unsigned char*>(c.body().data()),
                       c.body().size(),
                       reinterpret_cast<const unsigned char*>(secret_key_.data()));
  c.set_signature(signature, sizeof(signature));
  return c;
}

absl::Status VerifyCheckpoint(const v1::Checkpoint& c,
                              absl::Span<const v1::VerificationKey> keys) {
  const v1::VerificationKey* key = nullptr;
  for (const v1::VerificationKey& k : keys) {
    if (k.key_id() == c.key_id()) key = &k;
  }
  if (key == nullptr || key->public_key().size() != crypto_sign_PUBLICKEYBYTES) {
    return absl::DataLossError(
        absl::StrCat("checkpoint of size ", c.tree_size(), ": unknown key ", c.key_id()));
  }
  if (c.signature().size() != crypto_sign_BYTES ||
      crypto_sign_verify_detached(
          reinterpret_cast<const unsigned char*>(c.signature().data()),
          reinterpret_cast<const unsigned char*>(c.body().data()), c.body().size(),
          reinterpret_cast<const unsigned char*>(key->public_key().data())) != 0) {
    return absl::DataLossError(
        absl::StrCat("checkpoint of size ", c.tree_size(), ": bad signature"));
  }
  Hash root{};
  if (c.root_hash().size() != root.size()) {
    return absl::DataLossError("checkpoint root hash is not 32 bytes");
  }
  std::copy(c.root_hash().begin(), c.root_hash().end(), root.begin());
  if (c.body() != CheckpointBody(c.partition(), c.tree_size(), root,
                                 FromProtoTime(c.time()))) {
    return absl::DataLossError(absl::StrCat(
        "checkpoint of size ", c.tree_size(), ": its fields differ from what was signed"));
  }
  if (key->has_not_after() && FromProtoTime(c.time()) > FromProtoTime(key->not_after())) {
    return absl::DataLossError(absl::StrCat("checkpoint of size ", c.tree_size(),
                                            ": signed after its key expired"));
  }
  return absl::OkStatus();
}

}  // namespace eid::audit
