// How a record is laid out in a RocksDB value (docs/storage.md):
//
//   byte 0       format, 1
//   bytes 1-8    version, uint64 little-endian (never 0 for a live record)
//   bytes 9-16   expires_at, int64 Unix microseconds little-endian (0: never)
//   bytes 17-    the value
//
// Pure functions; thread-compatible.
#ifndef EID_STORAGE_SHARD_RECORD_CODEC_H_
#define EID_STORAGE_SHARD_RECORD_CODEC_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace eid::storage {

struct StoredRecord {
  uint64_t version = 0;
  int64_t expires_at_us = 0;  // 0: never expires.
  absl::string_view value;     // Points into the encoded bytes.

  bool ExpiredAt(int64_t now_us) const {
    return expires_at_us != 0 && expires_at_us <= now_us;
  }
};

inline constexpr size_t kRecordHeaderBytes = 17;

std::string EncodeRecord(uint64_t version, int64_t expires_at_us,
                         absl::string_view value);

// False if `encoded` is not a record of a known format.
bool DecodeRecord(absl::string_view encoded, StoredRecord* out);

}  // namespace eid::storage

#endif  // EID_STORAGE_SHARD_RECORD_CODEC_H_
