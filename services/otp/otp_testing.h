// Test helpers for the OTP service: a real RocksDB KvStore in the test's
// temp dir, a scriptable SmsSender and a pepper file.
#ifndef EID_SERVICES_OTP_OTP_TESTING_H_
#define EID_SERVICES_OTP_OTP_TESTING_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "services/common/clock.h"
#include "services/otp/sms_sender.h"
#include "storage/shard/forwarding_kv_store.h"
#include "storage/shard/rocksdb_kv_store.h"

namespace eid::otp::testing {

// A fresh directory under TEST_TMPDIR.
std::string FreshDir(const std::string& name);

// Opens a RocksDbKvStore in a fresh directory; fails the test if it cannot.
std::unique_ptr<storage::RocksDbKvStore> OpenStore(const std::string& name,
                                                   Clock& clock);

// Writes a 32-byte pepper file (mode 0600) and returns its path.
std::string PepperFile(const std::string& name);

// Opens (or reopens) a RocksDbKvStore at `path`.
std::unique_ptr<storage::RocksDbKvStore> OpenStoreAt(const std::string& path,
                                                     Clock& clock);


// Records every SMS; fails the next `fail_next` sends (or all while
// `fail_always`) with UNAVAILABLE "fake: gateway down". Thread-safe.
class FakeSmsSender : public SmsSender {
 public:
  absl::Status Send(const Sms& sms) override;
  std::string name() const override { return "fake"; }

  std::vector<Sms> sent() const;
  int calls() const;
  void FailNext(int n);
  void FailAlways(bool on);

 private:
  mutable absl::Mutex mu_;
  std::vector<Sms> sent_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  int fail_next_ ABSL_GUARDED_BY(mu_) = 0;
  bool fail_always_ ABSL_GUARDED_BY(mu_) = false;
};

// Passes every call on, recording whether each Batch waits for its fsync
// (defer_sync) and the keys it writes. Thread-safe; read the records once
// the writers are done.
class SyncRecorder : public storage::ForwardingKvStore {
 public:
  using ForwardingKvStore::ForwardingKvStore;
  absl::StatusOr<v1::BatchResponse> Batch(const v1::BatchRequest& r) override;

  int synced ABSL_GUARDED_BY(mu) = 0;
  int deferred ABSL_GUARDED_BY(mu) = 0;
  std::vector<std::string> synced_keys ABSL_GUARDED_BY(mu);
  std::vector<std::string> deferred_keys ABSL_GUARDED_BY(mu);
  absl::Mutex mu;
};

}  // namespace eid::otp::testing

#endif  // EID_SERVICES_OTP_OTP_TESTING_H_
