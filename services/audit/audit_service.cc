#include "services/audit/audit_service.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace eid::audit {
namespace {

constexpr int kMaxAppendEvents = 1000;
constexpr uint64_t kMaxLeavesPerRead = 1000;
constexpr int kDefaultPage = 50;
constexpr int kMaxPage = 1000;

std::string Bytes(const Hash& h) {
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}

int PageSize(const v1::PageRequest& page) {
  if (page.page_size() <= 0) return kDefaultPage;
  return std::min(page.page_size(), kMaxPage);
}

}  // namespace

AuditServiceImpl::AuditServiceImpl(AuditLog& log,
                                   std::vector<v1::VerificationKey> checkpoint_keys)
    : log_(log), checkpoint_keys_(std::move(checkpoint_keys)) {}

grpc::Status AuditServiceImpl::Append(grpc::ServerContext*,
                                      const v1::AppendRequest* r,
                                      v1::AppendResponse* out) {
  if (r->events_size() > kMaxAppendEvents) {
    return ToGrpcStatus(WithMetadata(
        InvalidArgument(v1::BATCH_TOO_LARGE, absl::StrCat(r->events_size(),
                                                          " events; at most ",
                                                          kMaxAppendEvents)),
        "limit", absl::StrCat(kMaxAppendEvents)));
  }
  const std::vector<v1::AuditEvent> events(r->events().begin(), r->events().end());
  absl::StatusOr<std::vector<AuditLog::Placement>> placed = log_.Append(events);
  if (!placed.ok()) return ToGrpcStatus(placed.status());
  for (int i = 0; i < r->events_size(); ++i) {
    v1::AppendResult* result = out->add_results();
    result->set_event_id(r->events(i).event_id());
    result->set_partition((*placed)[i].partition);
    result->set_leaf_index((*placed)[i].leaf_index);
    result->set_duplicate((*placed)[i].duplicate);
  }
  return grpc::Status::OK;
}

grpc::Status AuditServiceImpl::ListPartitions(grpc::ServerContext*,
                                              const v1::ListPartitionsRequest*,
                                              v1::ListPartitionsResponse* out) {
  for (uint32_t p = 0; p < log_.partitions(); ++p) {
    absl::StatusOr<v1::Checkpoint> c = log_.LatestCheckpoint(p);
    if (c.ok()) *out->add_checkpoints() = std::move(*c);
  }
  return grpc::Status::OK;
}

grpc::Status AuditServiceImpl::GetCheckpoint(grpc::ServerContext*,
                                             const v1::GetCheckpointRequest* r,
                                             v1::GetCheckpointResponse* out) {
  absl::StatusOr<v1::Checkpoint> c = log_.LatestCheckpoint(r->partition());
  if (!c.ok()) return ToGrpcStatus(c.status());
  *out->mutable_checkpoint() = std::move(*c);
  return grpc::Status::OK;
}

grpc::Status AuditServiceImpl::ListCheckpoints(grpc::ServerContext*,
                                               const v1::ListCheckpointsRequest* r,
                                               v1::ListCheckpointsResponse* out) {
  // The page token is the tree size the next page starts at.
  uint64_t from = 0;
  if (!r->page().page_token().empty() &&
      !absl::SimpleAtoi(r->page().page_token(), &from)) {
    return ToGrpcStatus(InvalidArgument(v1::PAGE_TOKEN_INVALID,
                                        "page_token is not one ListCheckpoints gave"));
  }
  const int limit = PageSize(r->page());
  absl::StatusOr<std::vector<v1::Checkpoint>> list =
      log_.ListCheckpoints(r->partition(), from, limit + 1);
  if (!list.ok()) return ToGrpcStatus(list.status());
  if (static_cast<int>(list->size()) > limit) {
    out->set_next_page_token(absl::StrCat(list->back().tree_size()));
    list->pop_back();
  }
  for (v1::Checkpoint& c : *list) *out->add_checkpoints() = std::move(c);
  return grpc::Status::OK;
}

grpc::Status AuditServiceImpl::GetCheckpointKeys(grpc::ServerContext*,
                                                 const v1::GetCheckpointKeysRequest*,
                                                 v1::GetCheckpointKeysResponse* out) {
  for (const v1::VerificationKey& key : checkpoint_keys_) *out->add_keys() = key;
  return grpc::Status::OK;
}

grpc::Status AuditServiceImpl::GetInclusionProof(grpc::ServerContext*,
                                                 const v1::GetInclusionProofRequest* r,
                                                 v1::GetInclusionProofResponse* out) {
  absl::StatusOr<std::vector<Hash>> proof =
      log_.InclusionProof(r->partition(), r->leaf_index(), r->tree_size());
  if (!proof.ok()) return ToGrpcStatus(proof.status());
  absl::StatusOr<Hash> leaf =
      log_.SubtreeHash(r->partition(), r->leaf_index(), r->leaf_index() + 1);
  if (!leaf.ok()) return ToGrpcStatus(leaf.status());
  out->set_leaf_index(r->leaf_index());
  out->set_tree_size(r->tree_size());
  out->set_leaf_hash(Bytes(*leaf));
  for (const Hash& h : *proof) out->add_audit_path(Bytes(h));
  return grpc::Status::OK;
}

grpc::Status AuditServiceImpl::GetConsistencyProof(
    grpc::ServerContext*, const v1::GetConsistencyProofRequest* r,
    v1::GetConsistencyProofResponse* out) {
  absl::StatusOr<std::vector<Hash>> proof =
      log_.ConsistencyProof(r->partition(), r->first_size(), r->second_size());
  if (!proof.ok()) return ToGrpcStatus(proof.status());
  out->set_first_size(r->first_size());
  out->set_second_size(r->second_size());
  for (const Hash& h : *proof) out->add_proof(Bytes(h));
  return grpc::Status::OK;
}

grpc::Status AuditServiceImpl::ReadLeaves(grpc::ServerContext* context,
                                          const v1::ReadLeavesRequest* r,
                                          v1::ReadLeavesResponse* out) {
  if (r->has_credentials() || authenticate_ != nullptr) {
    absl::StatusOr<AuditReader> reader =
        Auditor(*context, r->credentials(), "/eid.v1.AuditService/ReadLeaves");
    if (!reader.ok()) return ToGrpcStatus(reader.status());
  }
  if (r->end_index() > r->start_index() &&
      r->end_index() - r->start_index() > kMaxLeavesPerRead) {
    return ToGrpcStatus(
        InvalidArgument(v1::BATCH_TOO_LARGE,
                        absl::StrCat("at most ", kMaxLeavesPerRead, " leaves per read")));
  }
  absl::StatusOr<std::vector<v1::AuditRecord>> leaves =
      log_.ReadLeaves(r->partition(), r->start_index(), r->end_index());
  if (!leaves.ok()) return ToGrpcStatus(leaves.status());
  for (v1::AuditRecord& record : *leaves) *out->add_records() = std::move(record);
  return grpc::Status::OK;
}

}  // namespace eid::audit
