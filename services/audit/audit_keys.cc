#include "services/audit/audit_keys.h"

namespace eid::audit {

void PutBigEndian64(uint64_t v, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

void PutBigEndian32(uint32_t v, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

bool GetBigEndian64(absl::string_view bytes, size_t pos, uint64_t* out) {
  if (bytes.size() < pos + 8) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[pos + i]);
  *out = v;
  return true;
}

bool GetBigEndian32(absl::string_view bytes, size_t pos, uint32_t* out) {
  if (bytes.size() < pos + 4) return false;
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[pos + i]);
  *out = v;
  return true;
}

namespace {

std::string Prefix(char kind, uint32_t partition) {
  std::string key(1, kind);
  PutBigEndian32(partition, &key);
  return key;
}

// Times before 1970 never occur in events; clamp so the order holds.
uint64_t TimeBits(int64_t time_us) { return time_us < 0 ? 0 : time_us; }

void AppendPlace(int64_t time_us, uint32_t partition, uint64_t index,
                 std::string* key) {
  PutBigEndian64(TimeBits(time_us), key);
  PutBigEndian32(partition, key);
  PutBigEndian64(index, key);
}

}  // namespace

std::string LeafKey(uint32_t partition, uint64_t index) {
  std::string key = Prefix('L', partition);
  PutBigEndian64(index, &key);
  return key;
}

std::string NodeKey(uint32_t partition, int level, uint64_t index) {
  std::string key = Prefix('N', partition);
  key.push_back(static_cast<char>(level));
  PutBigEndian64(index, &key);
  return key;
}

std::string CheckpointKey(uint32_t partition, uint64_t tree_size) {
  std::string key = CheckpointPrefix(partition);
  PutBigEndian64(tree_size, &key);
  return key;
}

std::string CheckpointPrefix(uint32_t partition) { return Prefix('C', partition); }

std::string SigningKeyKey(uint32_t key_id) {
  std::string key = SigningKeyPrefix();
  PutBigEndian32(key_id, &key);
  return key;
}

std::string SigningKeyPrefix() { return "K"; }

std::string EventIdKey(absl::string_view event_id) {
  std::string key = "E";
  key.append(event_id.data(), event_id.size());
  return key;
}

std::string PlaceValue(uint32_t partition, uint64_t index) {
  std::string v;
  PutBigEndian32(partition, &v);
  PutBigEndian64(index, &v);
  return v;
}

bool ParsePlace(absl::string_view bytes, uint32_t* partition, uint64_t* index) {
  if (bytes.size() != 12) return false;
  uint32_t p = 0;
  for (size_t i = 0; i < 4; ++i) p = (p << 8) | static_cast<uint8_t>(bytes[i]);
  *partition = p;
  return GetBigEndian64(bytes, 4, index);
}

std::string SubjectIndexKey(absl::string_view subject, int64_t time_us,
                            uint32_t partition, uint64_t index) {
  std::string key;
  SetSubjectIndexKey(subject, time_us, partition, index, &key);
  return key;
}

void SetSubjectIndexKey(absl::string_view subject, int64_t time_us,
                        uint32_t partition, uint64_t index, std::string* key) {
  key->assign("S");
  key->append(subject.data(), subject.size());
  AppendPlace(time_us, partition, index, key);
}

std::string SubjectIndexMarkKey(uint32_t partition) { return Prefix('I', partition); }

std::string ActorIndexKey(absl::string_view actor, int64_t time_us,
                          uint32_t partition, uint64_t index) {
  std::string key = "A";
  key.append(actor.data(), actor.size());
  key.push_back('\0');
  AppendPlace(time_us, partition, index, &key);
  return key;
}

}  // namespace eid::audit
