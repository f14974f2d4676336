// ForwardingKvStore: a KvStore that passes every call to another one. A
// store that changes one kind of call (CoalescingStore, or a test's that
// fails or watches it) derives from it and leaves the rest.
#ifndef EID_STORAGE_SHARD_FORWARDING_KV_STORE_H_
#define EID_STORAGE_SHARD_FORWARDING_KV_STORE_H_

#include "storage/shard/kv_store.h"

namespace eid::storage {

class ForwardingKvStore : public KvStore {
 public:
  // `store` must outlive this.
  explicit ForwardingKvStore(KvStore& store) : store_(store) {}

  absl::StatusOr<v1::GetResponse> Get(const v1::GetRequest& r) override {
    return store_.Get(r);
  }
  absl::StatusOr<v1::MultiGetResponse> MultiGet(const v1::MultiGetRequest& r) override {
    return store_.MultiGet(r);
  }
  absl::StatusOr<v1::PutResponse> Put(const v1::PutRequest& r) override {
    return store_.Put(r);
  }
  absl::StatusOr<v1::DeleteResponse> Delete(const v1::DeleteRequest& r) override {
    return store_.Delete(r);
  }
  absl::StatusOr<v1::CompareAndSwapResponse> CompareAndSwap(
      const v1::CompareAndSwapRequest& r) override {
    return store_.CompareAndSwap(r);
  }
  absl::StatusOr<v1::BatchResponse> Batch(const v1::BatchRequest& r) override {
    return store_.Batch(r);
  }
  absl::StatusOr<v1::ScanResponse> Scan(const v1::ScanRequest& r) override {
    return store_.Scan(r);
  }

 protected:
  KvStore& store_;
};

}  // namespace eid::storage

#endif  // EID_STORAGE_SHARD_FORWARDING_KV_STORE_H_
