#include "services/qr/qr_key_ring.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "services/common/keyed_hash.h"
#include "services/common/status.h"

namespace eid::qr {
namespace {

constexpr absl::string_view kDerivationLabel = "eid.v1/qr-signing-key";
constexpr size_t kMinMasterSeedBytes = 32;

std::string BigEndian32(uint32_t v) {
  return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
}

}  // namespace

absl::StatusOr<std::unique_ptr<QrKeyRing>> QrKeyRing::Create(std::string master_seed,
                                                            const Options& options) {
  if (master_seed.size() < kMinMasterSeedBytes) {
    return absl::InvalidArgumentError("the QR master seed must be at least 32 bytes");
  }
  if (options.overlap < kTokenLifetime) {
    return absl::InvalidArgumentError(
        "QR key overlap must be at least the token lifetime (60 s)");
  }
  if (options.rotation < 2 * options.overlap) {
    return absl::InvalidArgumentError("QR key rotation must be at least twice the overlap");
  }
  return std::unique_ptr<QrKeyRing>(new QrKeyRing(std::move(master_seed), options));
}

QrKeyRing::QrKeyRing(std::string master_seed, const Options& options)
    : master_seed_(std::move(master_seed)), options_(options) {}

QrKeyRing::~QrKeyRing() = default;

int64_t QrKeyRing::PeriodAt(absl::Time t) const {
  absl::Duration rem;
  const int64_t q = absl::IDivDuration(t - absl::UnixEpoch(), options_.rotation, &rem);
  return rem < absl::ZeroDuration() ? q - 1 : q;  // Floor, before 1970 too.
}

absl::Time QrKeyRing::StartOf(int64_t period) const {
  return absl::UnixEpoch() + options_.rotation * period;
}

absl::StatusOr<std::shared_ptr<const QrSigningKey>> QrKeyRing::KeyOf(int64_t period) {
  if (period < 1 || period > std::numeric_limits<uint32_t>::max()) {
    return Unavailable(v1::SIGNING_KEY_UNAVAILABLE,
                       absl::StrCat("no QR signing key for period ", period));
  }
  absl::MutexLock lock(&mu_);
  auto it = keys_.find(period);
  if (it != keys_.end()) return it->second;
  const uint32_t key_id = static_cast<uint32_t>(period);
  std::string seed = KeyedHash(master_seed_, {kDerivationLabel, BigEndian32(key_id)});
  absl::StatusOr<std::unique_ptr<QrSigningKey>> key = QrSigningKey::FromSeed(key_id, seed);
  std::fill(seed.begin(), seed.end(), '\0');
  if (!key.ok()) return key.status();
  std::shared_ptr<const QrSigningKey> shared = std::move(*key);
  keys_[period] = shared;
  // Keep only the neighbours of the newest period asked for.
  while (keys_.size() > 4) keys_.erase(keys_.begin());
  return shared;
}

absl::StatusOr<std::shared_ptr<const QrSigningKey>> QrKeyRing::SigningKeyAt(absl::Time now) {
  return KeyOf(PeriodAt(now));
}

QrKeyRing::PublicKey QrKeyRing::PublicOf(int64_t period, const QrSigningKey& key) const {
  PublicKey out;
  out.key_id = key.key_id();
  out.public_key = key.public_key();
  out.not_before = StartOf(period);
  out.signing_until = StartOf(period + 1);
  out.not_after = out.signing_until + options_.overlap;
  return out;
}

std::vector<QrKeyRing::PublicKey> QrKeyRing::PublishedAt(absl::Time now) {
  const int64_t current = PeriodAt(now);
  std::vector<PublicKey> out;
  for (int64_t period = current + 1; period >= current - 1; --period) {
    const absl::Time published = StartOf(period) - options_.overlap;
    const absl::Time not_after = StartOf(period + 1) + options_.overlap;
    if (now < published || now >= not_after) continue;
    absl::StatusOr<std::shared_ptr<const QrSigningKey>> key = KeyOf(period);
    if (key.ok()) out.push_back(PublicOf(period, **key));
  }
  return out;
}

absl::Time QrKeyRing::NextChangeAfter(absl::Time now) const {
  const int64_t current = PeriodAt(now);
  // The previous key expires, then the next one is published.
  const absl::Time previous_gone = StartOf(current) + options_.overlap;
  if (now < previous_gone) return previous_gone;
  const absl::Time next_published = StartOf(current + 1) - options_.overlap;
  if (now < next_published) return next_published;
  return StartOf(current + 1) + options_.overlap;
}

}  // namespace eid::qr
