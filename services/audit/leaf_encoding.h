// The exact bytes hashed as an audit leaf: the AuditRecord (event, partition,
// leaf index, time recorded), serialized deterministically (map entries
// sorted), so the same record always hashes the same.
//
// Serializing the event is most of the cost and does not depend on where the
// event lands, so Append's caller does it on its own thread
// (EncodeEventField) and the committer only appends the three fields it
// decides (LeafData). Protobuf writes fields in field-number order and the
// event is field 1, so the concatenation is byte for byte the record's own
// deterministic serialization (RecordLeafData, which the tests compare).
#ifndef EID_SERVICES_AUDIT_LEAF_ENCODING_H_
#define EID_SERVICES_AUDIT_LEAF_ENCODING_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "eid/v1/audit.pb.h"

namespace eid::audit {

// AuditRecord field 1 holding `event`: tag, length, deterministic bytes.
std::string EncodeEventField(const v1::AuditEvent& event);

// The leaf data of the event whose EncodeEventField() is `event_field`,
// placed at `leaf_index` of `partition` at `recorded_at`.
std::string LeafData(absl::string_view event_field, uint32_t partition,
                     uint64_t leaf_index, absl::Time recorded_at);

// The same bytes from a whole record (leaf_data must be unset).
std::string RecordLeafData(const v1::AuditRecord& record);

// The record leaf `index` of `partition` holds as `data`; DATA_LOSS if the
// bytes are not one.
absl::StatusOr<v1::AuditRecord> ParseLeafRecord(uint32_t partition, uint64_t index,
                                                absl::string_view data);

}  // namespace eid::audit

#endif  // EID_SERVICES_AUDIT_LEAF_ENCODING_H_
