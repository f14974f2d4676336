#include "services/verification/verification_key_cache.h"

#include "absl/strings/str_cat.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"
#include "services/qr/token/qr_token.h"

namespace eid::verification {

VerificationKeyCache::VerificationKeyCache(Fetch fetch,
                                           absl::Duration retry_interval)
    : fetch_(std::move(fetch)), retry_interval_(retry_interval) {}

absl::StatusOr<std::shared_ptr<const VerificationKeyCache::KeySet>>
VerificationKeyCache::Keys(absl::Time now) {
  std::shared_ptr<const KeySet> cached;
  {
    absl::MutexLock lock(&mu_);
    cached = keys_;
  }
  if (cached != nullptr && now < cached->refresh_after) return cached;

  // Due (or never fetched): one caller fetches; while a list exists, the
  // others carry on with it rather than wait.
  if (cached != nullptr) {
    if (!fetch_mu_.TryLock()) return cached;
  } else {
    fetch_mu_.Lock();
  }
  {
    absl::MutexLock lock(&mu_);
    if (keys_ != cached && keys_ != nullptr && now < keys_->refresh_after) {
      cached = keys_;  // Someone else fetched meanwhile.
      fetch_mu_.Unlock();
      return cached;
    }
    cached = keys_;
  }
  absl::Status failure;
  if (cached == nullptr || now - last_attempt_ >= retry_interval_) {
    last_attempt_ = now;
    absl::StatusOr<v1::GetVerificationKeysResponse> fetched = fetch_();
    if (fetched.ok()) {
      auto fresh = std::make_shared<KeySet>();
      for (const v1::VerificationKey& k : fetched->keys()) {
        if (k.public_key().size() != qr::kPublicKeyBytes) continue;
        fresh->keys[k.key_id()] = {k.public_key(), FromProtoTime(k.not_after())};
      }
      fresh->refresh_after = FromProtoTime(fetched->refresh_after());
      absl::MutexLock lock(&mu_);
      keys_ = cached = std::move(fresh);
    } else {
      failure = fetched.status();
    }
  }
  fetch_mu_.Unlock();
  if (cached == nullptr) {
    return Unavailable(v1::DEPENDENCY_UNAVAILABLE,
                       absl::StrCat("cannot fetch the QR verification keys: ",
                                    failure.message()));
  }
  return cached;
}

}  // namespace eid::verification
