#include "storage/shard/shard_service.h"

#include "absl/strings/str_cat.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"

namespace eid::storage {
namespace {

// Copies an OK result into the response; either way returns the gRPC status.
template <typename T>
grpc::Status Reply(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

}  // namespace

v1::ReplayResult ToReplayResult(ReplayVerdict verdict) {
  switch (verdict) {
    case ReplayVerdict::kFirst: return v1::REPLAY_RESULT_FIRST;
    case ReplayVerdict::kReplayed: return v1::REPLAY_RESULT_REPLAYED;
    case ReplayVerdict::kExpired: return v1::REPLAY_RESULT_EXPIRED;
    case ReplayVerdict::kFenced: return v1::REPLAY_RESULT_FENCED;
  }
  return v1::REPLAY_RESULT_REPLAYED;
}

ReplayVerdict FromReplayResult(v1::ReplayResult result) {
  switch (result) {
    case v1::REPLAY_RESULT_FIRST: return ReplayVerdict::kFirst;
    case v1::REPLAY_RESULT_EXPIRED: return ReplayVerdict::kExpired;
    case v1::REPLAY_RESULT_FENCED: return ReplayVerdict::kFenced;
    default: return ReplayVerdict::kReplayed;  // Never accept the unknown.
  }
}

ShardServiceImpl::ShardServiceImpl(uint32_t shard_id, absl::Time started_at,
                                   RocksDbKvStore& kv, LocalReplayGuard& replay)
    : shard_id_(shard_id), started_at_(started_at), kv_(kv), replay_(replay) {}

grpc::Status ShardServiceImpl::Get(grpc::ServerContext*, const v1::GetRequest* r,
                                   v1::GetResponse* out) {
  return Reply(kv_.Get(*r), out);
}

grpc::Status ShardServiceImpl::MultiGet(grpc::ServerContext*,
                                        const v1::MultiGetRequest* r,
                                        v1::MultiGetResponse* out) {
  return Reply(kv_.MultiGet(*r), out);
}

grpc::Status ShardServiceImpl::Put(grpc::ServerContext*, const v1::PutRequest* r,
                                   v1::PutResponse* out) {
  return Reply(kv_.Put(*r), out);
}

grpc::Status ShardServiceImpl::Delete(grpc::ServerContext*,
                                      const v1::DeleteRequest* r,
                                      v1::DeleteResponse* out) {
  return Reply(kv_.Delete(*r), out);
}

grpc::Status ShardServiceImpl::CompareAndSwap(grpc::ServerContext*,
                                              const v1::CompareAndSwapRequest* r,
                                              v1::CompareAndSwapResponse* out) {
  return Reply(kv_.CompareAndSwap(*r), out);
}

grpc::Status ShardServiceImpl::Batch(grpc::ServerContext*, const v1::BatchRequest* r,
                                     v1::BatchResponse* out) {
  return Reply(kv_.Batch(*r), out);
}

grpc::Status ShardServiceImpl::Scan(grpc::ServerContext*, const v1::ScanRequest* r,
                                    v1::ScanResponse* out) {
  return Reply(kv_.Scan(*r), out);
}

absl::Status ShardServiceImpl::DoCheckAndRecord(const v1::CheckAndRecordRequest& r,
                                                v1::CheckAndRecordResponse* out) {
  absl::StatusOr<ReplayVerdict> verdict =
      replay_.CheckAndRecord(r.nonce(), FromProtoTime(r.expires_at()));
  if (!verdict.ok()) return verdict.status();
  out->set_result(ToReplayResult(*verdict));
  ToProtoTime(replay_.fenced_until(), out->mutable_fenced_until());
  return absl::OkStatus();
}

absl::Status ShardServiceImpl::DoCheckAndRecordBatch(
    const v1::CheckAndRecordBatchRequest& r, v1::CheckAndRecordBatchResponse* out) {
  if (r.entries_size() > kv_.options().max_batch_items) {
    return InvalidArgument(
        v1::BATCH_TOO_LARGE, absl::StrCat(r.entries_size(), " entries; at most ",
                                          kv_.options().max_batch_items));
  }
  std::vector<ReplayCheck> checks;
  checks.reserve(r.entries_size());
  for (const v1::ReplayEntry& e : r.entries()) {
    checks.push_back({e.nonce(), FromProtoTime(e.expires_at())});
  }
  absl::StatusOr<std::vector<ReplayVerdict>> verdicts =
      replay_.CheckAndRecordBatch(checks);
  if (!verdicts.ok()) return verdicts.status();
  out->mutable_results()->Reserve(verdicts->size());
  for (ReplayVerdict v : *verdicts) out->add_results(ToReplayResult(v));
  ToProtoTime(replay_.fenced_until(), out->mutable_fenced_until());
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* ShardServiceImpl::CheckAndRecord(
    grpc::CallbackServerContext* context, const v1::CheckAndRecordRequest* r,
    v1::CheckAndRecordResponse* out) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(DoCheckAndRecord(*r, out)));
  return reactor;
}

grpc::ServerUnaryReactor* ShardServiceImpl::CheckAndRecordBatch(
    grpc::CallbackServerContext* context, const v1::CheckAndRecordBatchRequest* r,
    v1::CheckAndRecordBatchResponse* out) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(DoCheckAndRecordBatch(*r, out)));
  return reactor;
}

grpc::Status ShardServiceImpl::GetShardInfo(grpc::ServerContext*,
                                            const v1::GetShardInfoRequest*,
                                            v1::GetShardInfoResponse* out) {
  out->set_shard_id(shard_id_);
  ToProtoTime(started_at_, out->mutable_started_at());
  ToProtoTime(replay_.fenced_until(), out->mutable_fenced_until());
  for (v1::NamespaceInfo& info : kv_.NamespaceInfos()) {
    *out->add_namespaces() = std::move(info);
  }
  out->set_live_replay_entries(replay_.live_entries());
  out->set_replay_memory_bytes(replay_.memory_bytes());
  const RocksDbKvStore::Options& o = kv_.options();
  out->set_max_key_bytes(o.max_key_bytes);
  out->set_max_value_bytes(o.max_value_bytes);
  out->set_max_batch_items(o.max_batch_items);
  out->set_max_batch_bytes(o.max_batch_bytes);
  out->set_max_scan_limit(o.max_scan_limit);
  out->set_max_token_lifetime_seconds(
      absl::ToInt64Seconds(replay_.options().max_token_lifetime));
  out->set_allowed_skew_seconds(absl::ToInt64Seconds(replay_.options().allowed_skew));
  return grpc::Status::OK;
}

}  // namespace eid::storage
