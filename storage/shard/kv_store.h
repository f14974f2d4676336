// KvStore: the key-value operations of one storage shard, with the wire
// messages of eid.v1.ShardService as arguments (storage.proto documents
// each). Implemented by RocksDbKvStore (inside a shard) and by the router's
// client (calling a shard over gRPC), so services and the gRPC adapter share
// one contract and one conformance test suite.
//
// Errors carry the reasons listed in storage.proto. Thread-safe.
#ifndef EID_STORAGE_SHARD_KV_STORE_H_
#define EID_STORAGE_SHARD_KV_STORE_H_

#include "absl/status/statusor.h"
#include "eid/v1/storage.pb.h"

namespace eid::storage {

class KvStore {
 public:
  virtual ~KvStore() = default;

  virtual absl::StatusOr<v1::GetResponse> Get(const v1::GetRequest& r) = 0;
  virtual absl::StatusOr<v1::MultiGetResponse> MultiGet(
      const v1::MultiGetRequest& r) = 0;
  virtual absl::StatusOr<v1::PutResponse> Put(const v1::PutRequest& r) = 0;
  virtual absl::StatusOr<v1::DeleteResponse> Delete(
      const v1::DeleteRequest& r) = 0;
  virtual absl::StatusOr<v1::CompareAndSwapResponse> CompareAndSwap(
      const v1::CompareAndSwapRequest& r) = 0;
  virtual absl::StatusOr<v1::BatchResponse> Batch(const v1::BatchRequest& r) = 0;
  virtual absl::StatusOr<v1::ScanResponse> Scan(const v1::ScanRequest& r) = 0;
};

}  // namespace eid::storage

#endif  // EID_STORAGE_SHARD_KV_STORE_H_
