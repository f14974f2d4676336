// ShardRouter: the client side of the storage shards. Maps every key (and
// every replay nonce) to its shard with ShardOfKey (shard_hash.h) over the
// shard list, and calls that shard over one gRPC channel per shard.
//
// - Every call has a deadline (Options::deadline).
// - Idempotent calls (Get, MultiGet, Put, Delete, Scan, GetShardInfo) are
//   retried on UNAVAILABLE, a few times with backoff; CompareAndSwap, Batch
//   and the replay guard never are: a lost answer must not turn into a
//   second attempt (a retried CheckAndRecord would say REPLAYED to the very
//   caller that recorded the nonce).
// - A shard that does not answer is reported as UNAVAILABLE with reason
//   SHARD_UNAVAILABLE and metadata "shard" = its index and address.
// - MultiGet and CheckAndRecordBatch split by shard and call the shards in
//   parallel; Batch must stay on one shard (BATCH_CROSSES_SHARDS); Scan with
//   a prefix holding the whole routing key goes to one shard, any other
//   Scan walks the shards in order with the shard in its page token.
//
// Thread-safe.
#ifndef EID_STORAGE_ROUTER_SHARD_ROUTER_H_
#define EID_STORAGE_ROUTER_SHARD_ROUTER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "eid/v1/storage.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "storage/replay/replay_guard.h"
#include "storage/shard/kv_store.h"

namespace eid::storage {

class ShardRouter : public KvStore, public ReplayGuard {
 public:
  struct Options {
    // Deadline of each attempt.
    absl::Duration deadline = absl::Seconds(2);
    // Attempts of an idempotent call (1 = no retry).
    int max_attempts = 3;
    // Wait before the second attempt; doubles for each later one.
    absl::Duration initial_backoff = absl::Milliseconds(20);
    // How Connect reaches each address: null means plaintext; mutual TLS
    // gives MtlsChannelCredentials (services/common/tls.h).
    std::shared_ptr<grpc::ChannelCredentials> credentials;
  };

  // One shard: a name for errors and logs (its address) and how to reach
  // it. `connect` is called once, on the shard's first call, so a process
  // can route to its own shard through an in-process channel of a server
  // that starts after the router is made.
  //
  // `local`, if set, is the shard's own store when this process hosts it:
  // its KV calls are then made on that store directly, without gRPC's
  // serialisation and thread hand-offs (which cost more than the RocksDB
  // work of a small call); the replay guard and ShardInfo still go through
  // the channel. Resolved with `connect`, on the first call; null = use the
  // channel.
  struct ShardChannel {
    std::string name;
    std::function<std::shared_ptr<grpc::Channel>()> connect;
    std::function<KvStore*()> local;
  };

  // Routes over `shards`, in the order of the shard list (position = shard
  // id). INVALID_ARGUMENT if the list is empty.
  static absl::StatusOr<std::unique_ptr<ShardRouter>> Create(
      std::vector<ShardChannel> shards, const Options& options);
  // The same, opening a channel to each "host:port" with
  // options.credentials.
  static absl::StatusOr<std::unique_ptr<ShardRouter>> Connect(
      const std::vector<std::string>& addresses, const Options& options);

  uint32_t shard_count() const { return static_cast<uint32_t>(shards_.size()); }

  // KvStore.
  absl::StatusOr<v1::GetResponse> Get(const v1::GetRequest& r) override;
  absl::StatusOr<v1::MultiGetResponse> MultiGet(
      const v1::MultiGetRequest& r) override;
  absl::StatusOr<v1::PutResponse> Put(const v1::PutRequest& r) override;
  absl::StatusOr<v1::DeleteResponse> Delete(const v1::DeleteRequest& r) override;
  absl::StatusOr<v1::CompareAndSwapResponse> CompareAndSwap(
      const v1::CompareAndSwapRequest& r) override;
  absl::StatusOr<v1::BatchResponse> Batch(const v1::BatchRequest& r) override;
  absl::StatusOr<v1::ScanResponse> Scan(const v1::ScanRequest& r) override;

  // ReplayGuard.
  absl::StatusOr<ReplayVerdict> CheckAndRecord(absl::string_view nonce,
                                               absl::Time expires_at) override;
  absl::StatusOr<std::vector<ReplayVerdict>> CheckAndRecordBatch(
      absl::Span<const ReplayCheck> checks) override;

  // The shard owning a nonce, and the replay batch sent to one shard as is
  // (ReplayBatcher groups by shard itself).
  uint32_t ShardOfNonce(absl::string_view nonce) const;
  absl::StatusOr<std::vector<ReplayVerdict>> CheckAndRecordOnShard(
      uint32_t shard, absl::Span<const ReplayCheck> checks);

  // GetShardInfo of one shard.
  absl::StatusOr<v1::GetShardInfoResponse> ShardInfo(uint32_t shard);

 private:
  struct Shard {
    std::string name;
    std::function<std::shared_ptr<grpc::Channel>()> connect;
    std::function<KvStore*()> local;
    absl::once_flag connected;
    std::unique_ptr<v1::ShardService::Stub> stub;  // Set once connected.
    KvStore* local_kv = nullptr;                   // Set once connected.
  };
  Shard& Connected(uint32_t shard);
  v1::ShardService::Stub& StubOf(uint32_t shard) { return *Connected(shard).stub; }
  // The shard's store if it is hosted here, else null.
  KvStore* LocalKv(uint32_t shard) { return Connected(shard).local_kv; }
  // A KV call on `shard`: directly on its local store, else by CallShard.
  template <typename Request, typename Response>
  absl::StatusOr<Response> CallKv(
      uint32_t shard, bool idempotent,
      absl::StatusOr<Response> (KvStore::*direct)(const Request&),
      grpc::Status (v1::ShardService::Stub::*method)(grpc::ClientContext*,
                                                     const Request&, Response*),
      const Request& request);
  ShardRouter(std::vector<ShardChannel> shards, const Options& options);

  // Calls `method` with `request` on `shard`, with a fresh deadline per
  // attempt, retrying UNAVAILABLE up to max_attempts when `idempotent`.
  template <typename Request, typename Response>
  absl::StatusOr<Response> CallShard(
      uint32_t shard, bool idempotent,
      grpc::Status (v1::ShardService::Stub::*method)(grpc::ClientContext*,
                                                     const Request&, Response*),
      const Request& request);
  absl::Status ShardError(uint32_t shard, const absl::Status& status) const;

  absl::StatusOr<v1::ScanResponse> ScanAllShards(const v1::ScanRequest& r);

  const Options options_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace eid::storage

#endif  // EID_STORAGE_ROUTER_SHARD_ROUTER_H_
