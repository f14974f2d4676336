#include "storage/shard/record_codec.h"

#include <cstring>

namespace eid::storage {
namespace {

constexpr char kFormat = 1;

}  // namespace

std::string EncodeRecord(uint64_t version, int64_t expires_at_us,
                         absl::string_view value) {
  std::string out(kRecordHeaderBytes + value.size(), '\0');
  out[0] = kFormat;
  std::memcpy(&out[1], &version, 8);  // x86-64 and arm64 are little-endian.
  std::memcpy(&out[9], &expires_at_us, 8);
  if (!value.empty()) std::memcpy(&out[kRecordHeaderBytes], value.data(), value.size());
  return out;
}

bool DecodeRecord(absl::string_view encoded, StoredRecord* out) {
  if (encoded.size() < kRecordHeaderBytes || encoded[0] != kFormat) return false;
  std::memcpy(&out->version, encoded.data() + 1, 8);
  std::memcpy(&out->expires_at_us, encoded.data() + 9, 8);
  out->value = encoded.substr(kRecordHeaderBytes);
  return true;
}

}  // namespace eid::storage
