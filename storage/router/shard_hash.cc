#include "storage/router/shard_hash.h"

#include "storage/common/mix64.h"

namespace eid::storage {

absl::string_view RoutingKeyOf(absl::string_view key) {
  const size_t sep = key.find(kRoutingSeparator);
  return sep == absl::string_view::npos ? key : key.substr(0, sep);
}

bool PrefixIsRouted(absl::string_view prefix) {
  return prefix.find(kRoutingSeparator) != absl::string_view::npos;
}

uint64_t StableHash64(absl::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a offset basis.
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;  // FNV-1a prime.
  }
  return Mix64(h);
}

uint32_t JumpConsistentHash(uint64_t key, uint32_t buckets) {
  int64_t b = -1, j = 0;
  while (j < static_cast<int64_t>(buckets)) {
    b = j;
    key = key * 2862933555777941757ULL + 1;
    j = static_cast<int64_t>((b + 1) * (static_cast<double>(1LL << 31) /
                                        static_cast<double>((key >> 33) + 1)));
  }
  return static_cast<uint32_t>(b);
}

uint32_t ShardOfKey(absl::string_view key, uint32_t shards) {
  return JumpConsistentHash(StableHash64(RoutingKeyOf(key)), shards);
}

}  // namespace eid::storage
