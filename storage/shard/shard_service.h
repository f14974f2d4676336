// ShardServiceImpl: eid.v1.ShardService over one shard's RocksDbKvStore and
// LocalReplayGuard. Only translates: wire in, absl::Status -> grpc::Status
// out (storage.proto documents every RPC). Thread-safe.
//
// The replay guard's two methods use gRPC's callback API: they never block,
// and answering on the thread that read the request saves the sync server's
// hand-off to a worker thread, most of a small call's cost. The KV methods
// stay synchronous because a synced write waits for an fsync.
#ifndef EID_STORAGE_SHARD_SHARD_SERVICE_H_
#define EID_STORAGE_SHARD_SHARD_SERVICE_H_

#include "absl/time/time.h"
#include "eid/v1/storage.grpc.pb.h"
#include "storage/replay/local_replay_guard.h"
#include "storage/shard/rocksdb_kv_store.h"

namespace eid::storage {

using ShardServiceBase = v1::ShardService::WithCallbackMethod_CheckAndRecord<
    v1::ShardService::WithCallbackMethod_CheckAndRecordBatch<
        v1::ShardService::Service>>;

class ShardServiceImpl final : public ShardServiceBase {
 public:
  // `kv` and `replay` must outlive the service.
  ShardServiceImpl(uint32_t shard_id, absl::Time started_at, RocksDbKvStore& kv,
                   LocalReplayGuard& replay);

  grpc::Status Get(grpc::ServerContext*, const v1::GetRequest* request,
                   v1::GetResponse* response) override;
  grpc::Status MultiGet(grpc::ServerContext*, const v1::MultiGetRequest* request,
                        v1::MultiGetResponse* response) override;
  grpc::Status Put(grpc::ServerContext*, const v1::PutRequest* request,
                   v1::PutResponse* response) override;
  grpc::Status Delete(grpc::ServerContext*, const v1::DeleteRequest* request,
                      v1::DeleteResponse* response) override;
  grpc::Status CompareAndSwap(grpc::ServerContext*,
                              const v1::CompareAndSwapRequest* request,
                              v1::CompareAndSwapResponse* response) override;
  grpc::Status Batch(grpc::ServerContext*, const v1::BatchRequest* request,
                     v1::BatchResponse* response) override;
  grpc::Status Scan(grpc::ServerContext*, const v1::ScanRequest* request,
                    v1::ScanResponse* response) override;
  grpc::ServerUnaryReactor* CheckAndRecord(
      grpc::CallbackServerContext* context,
      const v1::CheckAndRecordRequest* request,
      v1::CheckAndRecordResponse* response) override;
  grpc::ServerUnaryReactor* CheckAndRecordBatch(
      grpc::CallbackServerContext* context,
      const v1::CheckAndRecordBatchRequest* request,
      v1::CheckAndRecordBatchResponse* response) override;
  grpc::Status GetShardInfo(grpc::ServerContext*, const v1::GetShardInfoRequest*,
                            v1::GetShardInfoResponse* response) override;

 private:
  absl::Status DoCheckAndRecord(const v1::CheckAndRecordRequest& r,
                                v1::CheckAndRecordResponse* out);
  absl::Status DoCheckAndRecordBatch(const v1::CheckAndRecordBatchRequest& r,
                                     v1::CheckAndRecordBatchResponse* out);

  const uint32_t shard_id_;
  const absl::Time started_at_;
  RocksDbKvStore& kv_;
  LocalReplayGuard& replay_;
};

// Wire <-> ReplayVerdict.
v1::ReplayResult ToReplayResult(ReplayVerdict verdict);
ReplayVerdict FromReplayResult(v1::ReplayResult result);

}  // namespace eid::storage

#endif  // EID_STORAGE_SHARD_SHARD_SERVICE_H_
