#include "services/otp/record_io.h"

#include "services/common/proto_time.h"
#include "services/common/status.h"
#include "services/otp/otp_keys.h"

namespace eid::otp {

absl::Status ReadRecord(storage::KvStore& kv, const std::string& key,
                        google::protobuf::MessageLite* value,
                        uint64_t* version) {
  v1::GetRequest get;
  get.set_namespace_(std::string(kNamespace));
  get.set_key(key);
  absl::StatusOr<v1::GetResponse> got = kv.Get(get);
  if (!got.ok()) return got.status();
  value->Clear();
  *version = 0;
  if (!got->found()) return absl::OkStatus();
  if (!value->ParseFromString(got->record().value())) {
    return absl::InternalError("otp: a stored record does not parse");
  }
  *version = got->record().version();
  return absl::OkStatus();
}

void AddPut(v1::BatchRequest& batch, const std::string& key,
            const google::protobuf::MessageLite& value, absl::Time expires_at,
            std::optional<uint64_t> expected_version) {
  AddPutBytes(batch, key, value.SerializeAsString(), expires_at,
              expected_version);
}

void AddPutBytes(v1::BatchRequest& batch, const std::string& key,
                 const std::string& value, absl::Time expires_at,
                 std::optional<uint64_t> expected_version) {
  v1::Mutation* m = batch.add_mutations();
  m->set_namespace_(std::string(kNamespace));
  m->set_key(key);
  m->set_put_value(value);
  if (expires_at != absl::InfiniteFuture())
    ToProtoTime(expires_at, m->mutable_expires_at());
  if (expected_version.has_value()) m->set_expected_version(*expected_version);
}

void AddDelete(v1::BatchRequest& batch, const std::string& key,
               std::optional<uint64_t> expected_version) {
  v1::Mutation* m = batch.add_mutations();
  m->set_namespace_(std::string(kNamespace));
  m->set_key(key);
  m->set_delete_record(true);
  if (expected_version.has_value()) m->set_expected_version(*expected_version);
}

bool IsVersionMismatch(const absl::Status& status) {
  return absl::IsAborted(status);
}

int64_t ToMicros(absl::Time t) {
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) return 0;
  return absl::ToUnixMicros(t);
}

absl::Time FromMicros(int64_t us) {
  return us == 0 ? absl::InfinitePast() : absl::FromUnixMicros(us);
}

}  // namespace eid::otp
