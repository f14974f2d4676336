#include "storage/router/coalescing_store.h"

#include <utility>

#include "storage/router/shard_hash.h"

namespace eid::storage {

CoalescingStore::CoalescingStore(ShardRouter& router, size_t max_batch)
    : ForwardingKvStore(router), router_(router) {
  for (uint32_t s = 0; s < router.shard_count(); ++s) {
    gets_.push_back(std::make_unique<GetLane>(
        max_batch, [this](std::vector<v1::GetRequest>& gets) { return SendGets(gets); }));
    puts_.push_back(std::make_unique<PutLane>(
        max_batch, [this](std::vector<v1::PutRequest>& puts) { return SendPuts(puts); }));
  }
}

absl::StatusOr<v1::GetResponse> CoalescingStore::Get(const v1::GetRequest& r) {
  return gets_[ShardOfKey(r.key(), router_.shard_count())]->Call(r);
}

absl::StatusOr<v1::PutResponse> CoalescingStore::Put(const v1::PutRequest& r) {
  return puts_[ShardOfKey(r.key(), router_.shard_count())]->Call(r);
}

absl::StatusOr<std::vector<absl::StatusOr<v1::GetResponse>>> CoalescingStore::SendGets(
    std::vector<v1::GetRequest>& gets) {
  std::vector<absl::StatusOr<v1::GetResponse>> answers;
  answers.reserve(gets.size());
  if (gets.size() > 1) {
    v1::MultiGetRequest request;
    for (const v1::GetRequest& g : gets) {
      v1::RecordKey& key = *request.add_keys();
      key.set_namespace_(g.namespace_());
      key.set_key(g.key());
    }
    absl::StatusOr<v1::MultiGetResponse> read = router_.MultiGet(request);
    if (read.ok() && read->results_size() == request.keys_size()) {
      for (v1::MultiGetResult& result : *read->mutable_results()) {
        v1::GetResponse& answer = answers.emplace_back().emplace();
        answer.set_found(result.found());
        if (result.found()) *answer.mutable_record() = std::move(*result.mutable_record());
      }
      return answers;
    }
  }
  // Alone, or after a failed MultiGet: one by one, each with its own answer.
  for (const v1::GetRequest& g : gets) answers.push_back(router_.Get(g));
  return answers;
}

absl::StatusOr<std::vector<absl::StatusOr<v1::PutResponse>>> CoalescingStore::SendPuts(
    std::vector<v1::PutRequest>& puts) {
  std::vector<absl::StatusOr<v1::PutResponse>> answers;
  answers.reserve(puts.size());
  if (puts.size() > 1) {
    v1::BatchRequest request;
    for (const v1::PutRequest& p : puts) {
      v1::Mutation& m = *request.add_mutations();
      m.set_namespace_(p.namespace_());
      m.set_key(p.key());
      m.set_put_value(p.value());
      if (p.has_expires_at()) *m.mutable_expires_at() = p.expires_at();
    }
    absl::StatusOr<v1::BatchResponse> written = router_.Batch(request);
    if (written.ok() && written->versions_size() == request.mutations_size()) {
      for (uint64_t version : written->versions()) {
        answers.emplace_back().emplace().set_version(version);
      }
      return answers;
    }
  }
  for (const v1::PutRequest& p : puts) answers.push_back(router_.Put(p));
  return answers;
}

}  // namespace eid::storage
