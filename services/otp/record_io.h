// Typed reads and batch mutations of the OTP service's records (protobuf
// messages of eid/otp/records.proto) in the "otp" namespace of a KvStore.
#ifndef EID_SERVICES_OTP_RECORD_IO_H_
#define EID_SERVICES_OTP_RECORD_IO_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "eid/v1/storage.pb.h"
#include "google/protobuf/message_lite.h"
#include "storage/shard/kv_store.h"

namespace eid::otp {

// A record as read: its message (default when absent) and version (0 when
// absent).
template <typename T>
struct Versioned {
  T value;
  uint64_t version = 0;
  bool found() const { return version != 0; }
};

// Reads `key`; INTERNAL if the stored bytes do not parse.
absl::Status ReadRecord(storage::KvStore& kv, const std::string& key,
                        google::protobuf::MessageLite* value,
                        uint64_t* version);

template <typename T>
absl::StatusOr<Versioned<T>> Read(storage::KvStore& kv,
                                  const std::string& key) {
  Versioned<T> out;
  absl::Status s = ReadRecord(kv, key, &out.value, &out.version);
  if (!s.ok()) return s;
  return out;
}

// Appends a put of `value` to `batch`, applied only if the record's version
// is `expected_version` (when given); expires at `expires_at` (none if
// InfiniteFuture).
void AddPut(v1::BatchRequest& batch, const std::string& key,
            const google::protobuf::MessageLite& value, absl::Time expires_at,
            std::optional<uint64_t> expected_version);
// The same with raw bytes (index entries).
void AddPutBytes(v1::BatchRequest& batch, const std::string& key,
                 const std::string& value, absl::Time expires_at,
                 std::optional<uint64_t> expected_version);
// Appends a delete, conditional like AddPut.
void AddDelete(v1::BatchRequest& batch, const std::string& key,
               std::optional<uint64_t> expected_version);

// Whether `status` is a lost compare-and-swap race (ABORTED).
bool IsVersionMismatch(const absl::Status& status);

int64_t ToMicros(absl::Time t);     // InfiniteFuture/Past -> 0.
absl::Time FromMicros(int64_t us);  // 0 -> InfinitePast.

}  // namespace eid::otp

#endif  // EID_SERVICES_OTP_RECORD_IO_H_
