// AuditServiceImpl: eid.v1.AuditService over an AuditLog and the public
// halves of its checkpoint keys. Translates only: wire in, absl::Status ->
// grpc::Status out (audit.proto documents every RPC). Thread-safe.
//
// Query, ExportEvents and ReadLeaves serve auditors (ROLE_AUDITOR) and
// internal callers; GetCitizenHistory a citizen's own events (device
// signature required). Callers are authenticated by the ReaderAuthenticator
// given to SetReaders (without one, those RPCs answer UNAVAILABLE). Every
// query and export is itself recorded in the log (audit.queried,
// audit.exported). The reading RPCs live in audit_queries.cc.
#ifndef EID_SERVICES_AUDIT_AUDIT_SERVICE_H_
#define EID_SERVICES_AUDIT_AUDIT_SERVICE_H_

#include <vector>

#include "eid/v1/audit.grpc.pb.h"
#include "eid/v1/common.pb.h"
#include "services/audit/audit_log.h"
#include "services/audit/audit_readers.h"

namespace eid::audit {

class AuditServiceImpl final : public v1::AuditService::Service {
 public:
  // `log` must outlive the service. `checkpoint_keys`: the public halves of
  // every key that has signed its checkpoints (RecordSigningKey).
  AuditServiceImpl(AuditLog& log, std::vector<v1::VerificationKey> checkpoint_keys);

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
  grpc::Status Query(grpc::ServerContext*, const v1::QueryRequest* request,
                     v1::QueryResponse* response) override;
  grpc::Status GetCitizenHistory(grpc::ServerContext*,
                                 const v1::GetCitizenHistoryRequest* request,
                                 v1::GetCitizenHistoryResponse* response) override;
  grpc::Status ExportEvents(grpc::ServerContext*, const v1::ExportEventsRequest* request,
                            grpc::ServerWriter<v1::ExportEventsResponse>* writer) override;

  // Who may read (set once, before serving).
  void SetReaders(ReaderAuthenticator authenticate, SubjectOf subject_of) {
    authenticate_ = std::move(authenticate);
    subject_of_ = std::move(subject_of);
  }

 private:
  // An auditor or internal caller of `method`; PERMISSION_DENIED
  // ROLE_REQUIRED for anyone else.
  absl::StatusOr<AuditReader> Auditor(const grpc::ServerContext& context,
                                      const v1::Credentials& credentials,
                                      absl::string_view method);
  // `filter` with subject_id_number turned into its subject.
  absl::StatusOr<v1::AuditFilter> Resolve(const v1::AuditFilter& filter) const;
  // Records a read of the log (audit.queried / audit.exported) in it.
  void RecordRead(absl::string_view action, const AuditReader& reader,
                  const v1::AuditFilter& filter);

  AuditLog& log_;
  const std::vector<v1::VerificationKey> checkpoint_keys_;
  ReaderAuthenticator authenticate_;
  SubjectOf subject_of_;
};

}  // namespace eid::audit

#endif  // EID_SERVICES_AUDIT_AUDIT_SERVICE_H_
