// AuditServiceImpl: eid.v1.AuditService over an AuditLog and the checkpoint
// signer. Translates only: wire in, absl::Status -> grpc::Status out
// (audit.proto documents every RPC). Thread-safe.
//
// Query, GetCitizenHistory and ExportEvents need a citizen's or auditor's
// session, which the activation service issues (issue 4): until it lands
// they answer UNIMPLEMENTED. ReadLeaves serves internal callers (no
// credentials), which is what `eidctl audit verify` is.
#ifndef EID_SERVICES_AUDIT_AUDIT_SERVICE_H_
#define EID_SERVICES_AUDIT_AUDIT_SERVICE_H_

#include "eid/v1/audit.grpc.pb.h"
#include "services/audit/audit_log.h"
#include "services/audit/checkpoint_signer.h"

namespace eid::audit {

class AuditServiceImpl final : public v1::AuditService::Service {
 public:
  // `log` and `signer` must outlive the service.
  AuditServiceImpl(AuditLog& log, const CheckpointSigner& signer);

  grpc::Status Append(grpc::ServerContext*, const v1::AppendRequest* request,
                      v1::AppendResponse* response) override;
  grpc::Status ListPartitions(grpc::ServerContext*, const v1::ListPartitionsRequest*,
                              v1::ListPartitionsResponse* response) override;
  grpc::Status GetCheckpoint(grpc::ServerContext*, const v1::GetCheckpointRequest* request,
                             v1::GetCheckpointResponse* response) override;
  grpc::Status ListCheckpoints(grpc::ServerContext*,
                               const v1::ListCheckpointsRequest* request,
                               v1::ListCheckpointsResponse* response) override;
  grpc::Status GetCheckpointKeys(grpc::ServerContext*, const v1::GetCheckpointKeysRequest*,
                                 v1::GetCheckpointKeysResponse* response) override;
  grpc::Status GetInclusionProof(grpc::ServerContext*,
                                 const v1::GetInclusionProofRequest* request,
                                 v1::GetInclusionProofResponse* response) override;
  grpc::Status GetConsistencyProof(grpc::ServerContext*,
                                   const v1::GetConsistencyProofRequest* request,
                                   v1::GetConsistencyProofResponse* response) override;
  grpc::Status ReadLeaves(grpc::ServerContext*, const v1::ReadLeavesRequest* request,
                          v1::ReadLeavesResponse* response) override;

 private:
  AuditLog& log_;
  const CheckpointSigner& signer_;
};

}  // namespace eid::audit

#endif  // EID_SERVICES_AUDIT_AUDIT_SERVICE_H_
