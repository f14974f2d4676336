#include "services/otp/otp_testing.h"

#include <sys/stat.h>

#include <atomic>
#include <cstdlib>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "eid/v1/error.pb.h"
#include "gtest/gtest.h"
#include "services/common/random.h"
#include "services/common/secrets.h"

namespace eid::otp::testing {

std::string FreshDir(const std::string& name) {
  static std::atomic<int> counter{0};
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name,
                                       "-", counter.fetch_add(1));
  ::mkdir(dir.c_str(), 0700);
  return dir;
}

std::unique_ptr<storage::RocksDbKvStore> OpenStore(const std::string& name,
                                                   Clock& clock) {
  return OpenStoreAt(FreshDir(name), clock);
}

std::unique_ptr<storage::RocksDbKvStore> OpenStoreAt(const std::string& path,
                                                     Clock& clock) {
  storage::RocksDbKvStore::Options options;
  options.path = path;
  options.block_cache_bytes = 8 << 20;
  auto db = storage::RocksDbKvStore::Open(options, clock);
  EXPECT_TRUE(db.ok()) << db.status();
  return db.ok() ? *std::move(db) : nullptr;
}

std::string PepperFile(const std::string& name) {
  const std::string path = FreshDir(name) + "/pepper";
  DeterministicRandom random(42);
  EXPECT_TRUE(EnsureDevSecretFile(path, 32, random).ok());
  return path;
}

absl::Status FakeSmsSender::Send(const Sms& sms) {
  absl::MutexLock lock(&mu_);
  ++calls_;
  if (fail_always_ || fail_next_ > 0) {
    if (fail_next_ > 0) --fail_next_;
    return absl::UnavailableError("fake: gateway down");
  }
  sent_.push_back(sms);
  return absl::OkStatus();
}

std::vector<Sms> FakeSmsSender::sent() const {
  absl::MutexLock lock(&mu_);
  return sent_;
}
int FakeSmsSender::calls() const {
  absl::MutexLock lock(&mu_);
  return calls_;
}
void FakeSmsSender::FailNext(int n) {
  absl::MutexLock lock(&mu_);
  fail_next_ = n;
}
void FakeSmsSender::FailAlways(bool on) {
  absl::MutexLock lock(&mu_);
  fail_always_ = on;
}

absl::StatusOr<v1::BatchResponse> SyncRecorder::Batch(const v1::BatchRequest& r) {
  {
    absl::MutexLock lock(&mu);
    (r.defer_sync() ? deferred : synced)++;
    std::vector<std::string>& keys = r.defer_sync() ? deferred_keys : synced_keys;
    for (const v1::Mutation& m : r.mutations()) keys.push_back(m.key());
  }
  return store_.Batch(r);
}

}  // namespace eid::otp::testing
