// The namespaces a shard serves (one RocksDB column family each) and their
// durability: the one table that says which records must survive a power
// loss.
#ifndef EID_STORAGE_SHARD_NAMESPACES_H_
#define EID_STORAGE_SHARD_NAMESPACES_H_

#include <vector>

#include "absl/strings/string_view.h"

namespace eid::storage {

struct NamespaceSpec {
  absl::string_view name;
  // Writes are acknowledged only after the WAL is fsync'd. Off only where a
  // lost write after a crash is harmless.
  bool synced;
  absl::string_view holds;  // For docs and GetShardInfo readers.
};

// Every namespace, in a fixed order.
const std::vector<NamespaceSpec>& Namespaces();

// The spec of `name`, or nullptr if there is no such namespace.
const NamespaceSpec* FindNamespace(absl::string_view name);

}  // namespace eid::storage

#endif  // EID_STORAGE_SHARD_NAMESPACES_H_
