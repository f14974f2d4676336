#include "services/common/status.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"

namespace eid {
namespace {

constexpr absl::string_view kErrorInfoUrl =
    "type.googleapis.com/eid.v1.ErrorInfo";

}  // namespace

absl::Status Error(absl::StatusCode code, v1::ErrorReason reason,
                   absl::string_view message) {
  absl::Status status(code, message);
  v1::ErrorInfo info;
  info.set_reason(v1::ErrorReason_Name(reason));
  info.set_domain(std::string(kErrorDomain));
  status.SetPayload(kErrorInfoUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

absl::Status InvalidArgument(v1::ErrorReason reason, absl::string_view m) {
  return Error(absl::StatusCode::kInvalidArgument, reason, m);
}
absl::Status NotFound(v1::ErrorReason reason, absl::string_view m) {
  return Error(absl::StatusCode::kNotFound, reason, m);
}
absl::Status AlreadyExists(v1::ErrorReason reason, absl::string_view m) {
  return Error(absl::StatusCode::kAlreadyExists, reason, m);
}
absl::Status FailedPrecondition(v1::ErrorReason reason, absl::string_view m) {
  return Error(absl::StatusCode::kFailedPrecondition, reason, m);
}
absl::Status PermissionDenied(v1::ErrorReason reason, absl::string_view m) {
  return Error(absl::StatusCode::kPermissionDenied, reason, m);
}
absl::Status Unauthenticated(v1::ErrorReason reason, absl::string_view m) {
  return Error(absl::StatusCode::kUnauthenticated, reason, m);
}
absl::Status ResourceExhausted(v1::ErrorReason reason, absl::string_view m) {
  return Error(absl::StatusCode::kResourceExhausted, reason, m);
}
absl::Status Aborted(v1::ErrorReason reason, absl::string_view m) {
  return Error(absl::StatusCode::kAborted, reason, m);
}
absl::Status Unavailable(v1::ErrorReason reason, absl::string_view m) {
  return Error(absl::StatusCode::kUnavailable, reason, m);
}

absl::Status WithMetadata(absl::Status status, absl::string_view key,
                          absl::string_view value) {
  absl::optional<absl::Cord> payload = status.GetPayload(kErrorInfoUrl);
  v1::ErrorInfo info;
  if (!payload.has_value() || !info.ParseFromString(std::string(*payload))) {
    return status;
  }
  (*info.mutable_metadata())[std::string(key)] = std::string(value);
  status.SetPayload(kErrorInfoUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

absl::Status WithContext(const absl::Status& status,
                         absl::string_view context) {
  if (status.ok()) return status;
  absl::Status out(status.code(), absl::StrCat(context, ": ", status.message()));
  status.ForEachPayload([&out](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

std::string ReasonOf(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kErrorInfoUrl);
  if (!payload.has_value()) return "";
  v1::ErrorInfo info;
  if (!info.ParseFromString(std::string(*payload))) return "";
  return info.reason();
}

std::string MetadataOf(const absl::Status& status, absl::string_view key) {
  absl::optional<absl::Cord> payload = status.GetPayload(kErrorInfoUrl);
  v1::ErrorInfo info;
  if (!payload.has_value() || !info.ParseFromString(std::string(*payload))) return "";
  auto it = info.metadata().find(std::string(key));
  return it == info.metadata().end() ? "" : it->second;
}

bool LostVersionRace(const absl::Status& status) {
  return ReasonOf(status) == v1::ErrorReason_Name(v1::VERSION_MISMATCH);
}

v1::StatusDetails ToStatusDetails(const absl::Status& status) {
  v1::StatusDetails details;
  details.set_code(static_cast<int>(status.code()));
  if (status.ok()) return details;
  details.set_message(std::string(status.message()));
  absl::optional<absl::Cord> payload = status.GetPayload(kErrorInfoUrl);
  if (payload.has_value()) {
    google::protobuf::Any* any = details.add_details();
    any->set_type_url(std::string(kErrorInfoUrl));
    any->set_value(std::string(*payload));
  }
  return details;
}

absl::Status FromStatusDetails(const v1::StatusDetails& details) {
  if (details.code() == 0) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(details.code()), details.message());
  for (const google::protobuf::Any& any : details.details()) {
    if (any.type_url() == kErrorInfoUrl) out.SetPayload(kErrorInfoUrl, absl::Cord(any.value()));
  }
  return out;
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  const std::string message(status.message());
  if (!status.GetPayload(kErrorInfoUrl).has_value()) return grpc::Status(code, message);
  return grpc::Status(code, message, ToStatusDetails(status).SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  v1::StatusDetails details;
  if (status.error_details().empty() || !details.ParseFromString(status.error_details())) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        status.error_message());
  }
  // The call's own code and message are authoritative.
  details.set_code(status.error_code());
  details.set_message(status.error_message());
  return FromStatusDetails(details);
}

}  // namespace eid
