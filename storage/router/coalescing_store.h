// CoalescingStore: the shard router for a service that reads and writes
// single records from many threads at once (verification: an account read
// and a record write per token). Concurrent Gets bound for one shard go out
// as one MultiGet, concurrent Puts as one Batch (Coalescer): a full RPC per
// record would cost more than the record. Idle, a call goes out at once.
//
// Answers are those of the router's own Get and Put: if a coalesced call
// fails as a whole (a shard unreachable, one bad record failing the atomic
// Batch, a key twice in it), each of its records is sent again alone, with
// the router's retries, and gets its own answer. Every other call goes
// straight to the router.
//
// Thread-safe.
#ifndef EID_STORAGE_ROUTER_COALESCING_STORE_H_
#define EID_STORAGE_ROUTER_COALESCING_STORE_H_

#include <memory>
#include <vector>

#include "services/common/coalescer.h"
#include "storage/router/shard_router.h"
#include "storage/shard/forwarding_kv_store.h"

namespace eid::storage {

class CoalescingStore : public ForwardingKvStore {
 public:
  // `router` must outlive the store. `max_batch`: records per call (at most
  // the shards' max_batch_items).
  explicit CoalescingStore(ShardRouter& router, size_t max_batch = 128);

  // Coalesced; every other call goes to the router as it is.
  absl::StatusOr<v1::GetResponse> Get(const v1::GetRequest& r) override;
  absl::StatusOr<v1::PutResponse> Put(const v1::PutRequest& r) override;

 private:
  using GetLane = Coalescer<v1::GetRequest, v1::GetResponse>;
  using PutLane = Coalescer<v1::PutRequest, v1::PutResponse>;

  absl::StatusOr<std::vector<absl::StatusOr<v1::GetResponse>>> SendGets(
      std::vector<v1::GetRequest>& gets);
  absl::StatusOr<std::vector<absl::StatusOr<v1::PutResponse>>> SendPuts(
      std::vector<v1::PutRequest>& puts);

  ShardRouter& router_;
  std::vector<std::unique_ptr<GetLane>> gets_;  // One lane per shard.
  std::vector<std::unique_ptr<PutLane>> puts_;
};

}  // namespace eid::storage

#endif  // EID_STORAGE_ROUTER_COALESCING_STORE_H_
