// AuditServiceImpl: the reading RPCs (Query, GetCitizenHistory,
// ExportEvents) and who may call them.
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "services/activation/device_signature.h"
#include "services/audit/audit_service.h"
#include "services/audit/event_id.h"
#include "services/common/random.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"
#include "services/validation/id_number.h"

namespace eid::audit {
namespace {

constexpr int kDefaultPage = 50;
constexpr int kMaxPage = 1000;
constexpr int kExportChunk = 500;

int PageSize(const v1::PageRequest& page) {
  if (page.page_size() <= 0) return kDefaultPage;
  return std::min(page.page_size(), kMaxPage);
}

bool HasRole(const v1::Account& account, v1::Role role) {
  for (const v1::RoleGrant& grant : account.roles()) {
    if (grant.role() == role) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<AuditReader> AuditServiceImpl::Auditor(
    const grpc::ServerContext& context, const v1::Credentials& credentials,
    absl::string_view method) {
  if (authenticate_ == nullptr) {
    return Unavailable(v1::DEPENDENCY_UNAVAILABLE,
                       "this audit service has no session authenticator");
  }
  absl::StatusOr<AuditReader> reader =
      authenticate_(context, credentials, method, nullptr);
  if (!reader.ok()) return reader.status();
  if (!reader->internal && !HasRole(reader->account, v1::ROLE_AUDITOR)) {
    return PermissionDenied(v1::ROLE_REQUIRED, "this needs ROLE_AUDITOR");
  }
  return reader;
}

absl::StatusOr<v1::AuditFilter> AuditServiceImpl::Resolve(
    const v1::AuditFilter& filter) const {
  v1::AuditFilter out = filter;
  if (!filter.subject_id_number().empty()) {
    absl::Status valid =
        validation::ValidateIdNumberForLookup(filter.subject_id_number(), absl::Now());
    if (!valid.ok()) return valid;
    if (!filter.subject().empty()) {
      return InvalidArgument(v1::FIELD_INVALID,
                             "give subject or subject_id_number, not both");
    }
    out.set_subject(subject_of_(filter.subject_id_number()));
    out.clear_subject_id_number();
  }
  return out;
}

void AuditServiceImpl::RecordRead(absl::string_view action, const AuditReader& reader,
                                  const v1::AuditFilter& filter) {
  v1::AuditEvent event;
  // Unguessable, like every producer's: an id known in advance could be
  // appended first to make this record a "duplicate".
  event.set_event_id(NewEventId(SystemRandom::Get()));
  *event.mutable_time() = ToProtoTime(absl::Now());
  event.set_service("audit");
  event.set_action(std::string(action));
  event.set_outcome(v1::AUDIT_OUTCOME_SUCCESS);
  event.set_actor(reader.internal ? "service:internal"
                                  : absl::StrCat("account:", reader.account.account_id()));
  // The citizen whose events were read sees the read in their history.
  event.set_subject(filter.subject());
  if (!filter.actor().empty()) (*event.mutable_attributes())["filter_actor"] = filter.actor();
  if (!filter.action().empty()) (*event.mutable_attributes())["filter_action"] = filter.action();
  log_.Append({event}).status().IgnoreError();
}

grpc::Status AuditServiceImpl::Query(grpc::ServerContext* context,
                                     const v1::QueryRequest* r, v1::QueryResponse* out) {
  absl::StatusOr<AuditReader> reader =
      Auditor(*context, r->credentials(), "/eid.v1.AuditService/Query");
  if (!reader.ok()) return ToGrpcStatus(reader.status());
  absl::StatusOr<v1::AuditFilter> filter = Resolve(r->filter());
  if (!filter.ok()) return ToGrpcStatus(filter.status());
  std::string next;
  absl::StatusOr<std::vector<v1::AuditRecord>> records =
      log_.Query(*filter, PageSize(r->page()), r->page().page_token(), &next);
  if (!records.ok()) return ToGrpcStatus(records.status());
  RecordRead("audit.queried", *reader, *filter);
  for (v1::AuditRecord& record : *records) *out->add_records() = std::move(record);
  out->set_next_page_token(next);
  return grpc::Status::OK;
}

grpc::Status AuditServiceImpl::GetCitizenHistory(grpc::ServerContext* context,
                                                 const v1::GetCitizenHistoryRequest* r,
                                                 v1::GetCitizenHistoryResponse* out) {
  if (authenticate_ == nullptr) {
    return ToGrpcStatus(Unavailable(v1::DEPENDENCY_UNAVAILABLE,
                                    "this audit service has no session authenticator"));
  }
  const std::string digest = activation::RequestDigest(*r);
  absl::StatusOr<AuditReader> reader = authenticate_(
      *context, r->credentials(), "/eid.v1.AuditService/GetCitizenHistory", &digest);
  if (!reader.ok()) return ToGrpcStatus(reader.status());
  if (reader->internal || reader->subject.empty()) {
    return ToGrpcStatus(PermissionDenied(v1::ROLE_REQUIRED,
                                         "a citizen's history is for the citizen"));
  }
  v1::AuditFilter filter;
  filter.set_subject(reader->subject);
  *filter.mutable_start_time() = r->start_time();
  *filter.mutable_end_time() = r->end_time();
  if (!r->has_start_time()) filter.clear_start_time();
  if (!r->has_end_time()) filter.clear_end_time();
  if (r->actions_size() == 1) filter.set_action(r->actions(0));
  std::string next;
  absl::StatusOr<std::vector<v1::AuditRecord>> records =
      log_.Query(filter, PageSize(r->page()), r->page().page_token(), &next);
  if (!records.ok()) return ToGrpcStatus(records.status());
  for (v1::AuditRecord& record : *records) {
    bool wanted = r->actions_size() <= 1;
    for (const std::string& action : r->actions()) {
      wanted = wanted || ActionMatches(action, record.event().action());
    }
    // A page may come back short when several actions are asked for; the
    // token still continues where the scan stopped.
    if (wanted) *out->add_records() = std::move(record);
  }
  out->set_next_page_token(next);
  return grpc::Status::OK;
}

grpc::Status AuditServiceImpl::ExportEvents(
    grpc::ServerContext* context, const v1::ExportEventsRequest* r,
    grpc::ServerWriter<v1::ExportEventsResponse>* writer) {
  absl::StatusOr<AuditReader> reader =
      Auditor(*context, r->credentials(), "/eid.v1.AuditService/ExportEvents");
  if (!reader.ok()) return ToGrpcStatus(reader.status());
  absl::StatusOr<v1::AuditFilter> filter = Resolve(r->filter());
  if (!filter.ok()) return ToGrpcStatus(filter.status());
  RecordRead("audit.exported", *reader, *filter);
  std::string token = r->resume_token();
  google::protobuf::util::JsonPrintOptions json;
  json.preserve_proto_field_names = true;
  do {
    if (context->IsCancelled()) return grpc::Status::CANCELLED;
    std::string next;
    // Without a subject or an actor there is no index to read: the whole
    // log, in the order recorded.
    const bool whole_log = filter->subject().empty() && filter->actor().empty();
    absl::StatusOr<std::vector<v1::AuditRecord>> records =
        whole_log ? log_.ScanRecorded(*filter, kExportChunk, token, &next)
                  : log_.Query(*filter, kExportChunk, token, &next);
    if (!records.ok()) return ToGrpcStatus(records.status());
    v1::ExportEventsResponse chunk;
    for (v1::AuditRecord& record : *records) {
      if (r->format() == v1::EXPORT_FORMAT_RECORDS) {
        *chunk.add_records() = std::move(record);
        continue;
      }
      std::string line;
      (void)google::protobuf::util::MessageToJsonString(record, &line, json);
      chunk.mutable_json_lines()->append(line).append("\n");
    }
    chunk.set_resume_token(next);
    if (!writer->Write(chunk)) return grpc::Status::CANCELLED;
    token = next;
  } while (!token.empty());
  return grpc::Status::OK;
}

}  // namespace eid::audit
