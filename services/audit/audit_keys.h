// How the audit log lays out its records in RocksDB (docs/audit-format.md).
// Every key starts with a one-byte kind and the 4-byte big-endian partition,
// so each kind of each partition is one contiguous, ordered range.
//
//   'L' p index(8)             -> a chunk of leaf data (the bytes hashed as
//                                 the leaves), from leaf `index` on
//                                 (leaf_chunks.h)
//   'N' p level(1) index(8)    -> hash of a complete subtree: the 2^level
//                                 leaves from index << level; level 0: a
//                                 chunk of leaf hashes, from leaf `index`
//                                 on, kept apart from the leaf bytes
//   'C' p tree_size(8)         -> a signed Checkpoint (serialized)
//   'E' event_id               -> p index(8): the event is already in the log
//   'S' subject(32) time(8) p index(8)   -> "" (query by subject)
//   'A' actor '\0' time(8) p index(8)    -> "" (query by actor)
//   'I' p                      -> n(8): the 'S' entries of partition p's
//                                 leaves below n are written (subject_index.h)
//   'K' key_id(4)              -> a VerificationKey that has signed checkpoints
//
// Integers are big-endian so byte order is numeric order; times are Unix
// microseconds of the event. A query by time alone reads the leaves: within
// a partition they are in the order recorded.
#ifndef EID_SERVICES_AUDIT_AUDIT_KEYS_H_
#define EID_SERVICES_AUDIT_AUDIT_KEYS_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace eid::audit {

void PutBigEndian64(uint64_t v, std::string* out);
void PutBigEndian32(uint32_t v, std::string* out);
// Reads 8 bytes at `pos`; false if `bytes` is too short.
bool GetBigEndian64(absl::string_view bytes, size_t pos, uint64_t* out);
// Reads 4 bytes at `pos`; false if `bytes` is too short.
bool GetBigEndian32(absl::string_view bytes, size_t pos, uint32_t* out);

std::string LeafKey(uint32_t partition, uint64_t index);
std::string NodeKey(uint32_t partition, int level, uint64_t index);
std::string CheckpointKey(uint32_t partition, uint64_t tree_size);
// The prefix of every checkpoint of a partition.
std::string CheckpointPrefix(uint32_t partition);
std::string EventIdKey(absl::string_view event_id);
// p index(8): where an event is.
std::string PlaceValue(uint32_t partition, uint64_t index);
bool ParsePlace(absl::string_view bytes, uint32_t* partition, uint64_t* index);

std::string SubjectIndexKey(absl::string_view subject, int64_t time_us,
                            uint32_t partition, uint64_t index);
// SubjectIndexKey(...) into *key, reusing its buffer.
void SetSubjectIndexKey(absl::string_view subject, int64_t time_us,
                        uint32_t partition, uint64_t index, std::string* key);
// How far partition p's subject index is written (audit_keys.h's 'I').
std::string SubjectIndexMarkKey(uint32_t partition);
// Where the public half of checkpoint-signing key `key_id` is kept, and the
// prefix of all of them.
std::string SigningKeyKey(uint32_t key_id);
std::string SigningKeyPrefix();

std::string ActorIndexKey(absl::string_view actor, int64_t time_us,
                          uint32_t partition, uint64_t index);

}  // namespace eid::audit

#endif  // EID_SERVICES_AUDIT_AUDIT_KEYS_H_
