#include "services/audit/leaf_encoding.h"

#include "absl/strings/str_cat.h"

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "services/common/proto_time.h"

namespace eid::audit {
namespace {

// Deterministic serialization of `message`, appended to `out`.
void AppendDeterministic(const google::protobuf::MessageLite& message,
                         std::string* out) {
  google::protobuf::io::StringOutputStream stream(out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
}

}  // namespace

std::string EncodeEventField(const v1::AuditEvent& event) {
  std::string body;
  AppendDeterministic(event, &body);
  std::string out;
  out.reserve(body.size() + 6);
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.WriteTag(v1::AuditRecord::kEventFieldNumber << 3 |
                   2);  // Length-delimited.
    coded.WriteVarint32(static_cast<uint32_t>(body.size()));
  }
  out += body;
  return out;
}

std::string LeafData(absl::string_view event_field, uint32_t partition,
                     uint64_t leaf_index, absl::Time recorded_at) {
  v1::AuditRecord tail;  // Fields after the event; no maps, so deterministic.
  tail.set_partition(partition);
  tail.set_leaf_index(leaf_index);
  ToProtoTime(recorded_at, tail.mutable_recorded_at());
  std::string out;
  out.reserve(event_field.size() + 32);
  out.append(event_field.data(), event_field.size());
  tail.AppendToString(&out);
  return out;
}

std::string RecordLeafData(const v1::AuditRecord& record) {
  std::string out;
  AppendDeterministic(record, &out);
  return out;
}

absl::StatusOr<v1::AuditRecord> ParseLeafRecord(uint32_t partition, uint64_t index,
                                                absl::string_view data) {
  v1::AuditRecord record;
  if (!record.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    return absl::DataLossError(
        absl::StrCat("audit partition ", partition, ": leaf ", index, " is unreadable"));
  }
  return record;
}

}  // namespace eid::audit
