// Where a key lives: the pure functions of the shard layout.
//
// A key's routing key is the part before its first '|' (the whole key when
// there is none), so records meant to be scanned together — "d/79-760|<id>",
// "d/79-760|<id2>" — share a shard, and a scan whose prefix holds a '|' goes
// to that one shard. The routing key is hashed with a fixed, seedless 64-bit
// hash (the same in every process and release) and mapped to a shard by
// jump consistent hashing (Lamping & Veach 2014): growing from n to n+1
// shards moves only 1/(n+1) of the keys, all to the new shard.
#ifndef EID_STORAGE_ROUTER_SHARD_HASH_H_
#define EID_STORAGE_ROUTER_SHARD_HASH_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace eid::storage {

// The separator ending a key's routing part.
inline constexpr char kRoutingSeparator = '|';

// The part of `key` that picks its shard.
absl::string_view RoutingKeyOf(absl::string_view key);

// Whether a scan of `prefix` stays on one shard (the prefix holds the whole
// routing key).
bool PrefixIsRouted(absl::string_view prefix);

// FNV-1a over the bytes, then a 64-bit finaliser (so that short keys differing
// in one byte land far apart). Stable: changing it moves every record.
uint64_t StableHash64(absl::string_view bytes);

// Jump consistent hash: a bucket in [0, buckets) for `key`. `buckets` >= 1.
uint32_t JumpConsistentHash(uint64_t key, uint32_t buckets);

// The shard, of `shards`, owning `key`.
uint32_t ShardOfKey(absl::string_view key, uint32_t shards);

}  // namespace eid::storage

#endif  // EID_STORAGE_ROUTER_SHARD_HASH_H_
