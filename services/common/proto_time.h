// absl::Time <-> google.protobuf.Timestamp, in one place.
#ifndef EID_SERVICES_COMMON_PROTO_TIME_H_
#define EID_SERVICES_COMMON_PROTO_TIME_H_

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace eid {

// Whole nanoseconds; times before 1970 keep a non-negative `nanos`.
void ToProtoTime(absl::Time t, google::protobuf::Timestamp* out);
google::protobuf::Timestamp ToProtoTime(absl::Time t);

// An unset Timestamp (0 s, 0 ns) is the Unix epoch.
absl::Time FromProtoTime(const google::protobuf::Timestamp& t);

}  // namespace eid

#endif  // EID_SERVICES_COMMON_PROTO_TIME_H_
