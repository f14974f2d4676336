#include "services/audit/leaf_chunks.h"

#include "absl/strings/str_cat.h"
#include "services/audit/audit_db.h"
#include "services/audit/audit_keys.h"

namespace eid::audit {

void ChunkBuilder::Add(uint64_t index, absl::string_view leaf, const Hash& hash) {
  if (leaves_.empty() || index != next_ || in_chunk_ == kMaxLeaves ||
      leaves_.back().second.size() >= kMaxBytes) {
    leaves_.emplace_back(LeafKey(partition_, index), std::string(1, '\0'));
    hashes_.emplace_back(NodeKey(partition_, 0, index), std::string());
    in_chunk_ = 0;
  }
  std::string& chunk = leaves_.back().second;
  PutBigEndian32(static_cast<uint32_t>(leaf.size()), &chunk);
  chunk.append(leaf.data(), leaf.size());
  hashes_.back().second.append(reinterpret_cast<const char*>(hash.data()), hash.size());
  ++in_chunk_;
  next_ = index + 1;
}

bool SplitLeafChunk(absl::string_view value, std::vector<absl::string_view>* leaves) {
  leaves->clear();
  if (value.empty()) return false;
  if (value[0] != '\0') {  // One leaf, as stored before chunks.
    leaves->push_back(value);
    return true;
  }
  for (size_t pos = 1; pos < value.size();) {
    uint32_t size = 0;
    if (!GetBigEndian32(value, pos, &size) || value.size() - pos - 4 < size) {
      leaves->clear();
      return false;
    }
    leaves->push_back(value.substr(pos + 4, size));
    pos += 4 + size;
  }
  return !leaves->empty();
}

bool SplitHashChunk(absl::string_view value, std::vector<absl::string_view>* hashes) {
  hashes->clear();
  if (value.empty() || value.size() % sizeof(Hash) != 0) return false;
  for (size_t pos = 0; pos < value.size(); pos += sizeof(Hash)) {
    hashes->push_back(value.substr(pos, sizeof(Hash)));
  }
  return true;
}

ChunkCursor ChunkCursor::Leaves(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family,
                                uint32_t partition) {
  std::string key = LeafKey(partition, 0);
  key.resize(key.size() - 8);
  return ChunkCursor(db, family, partition, std::move(key), SplitLeafChunk, "leaf");
}

ChunkCursor ChunkCursor::LeafHashes(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family,
                                    uint32_t partition) {
  std::string key = NodeKey(partition, 0, 0);
  key.resize(key.size() - 8);
  return ChunkCursor(db, family, partition, std::move(key), SplitHashChunk, "leaf hash");
}

ChunkCursor::ChunkCursor(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family,
                         uint32_t partition, std::string prefix, Split split,
                         const char* noun)
    : it_(db->NewIterator(rocksdb::ReadOptions(), family)),
      partition_(partition),
      prefix_(std::move(prefix)),
      split_(split),
      noun_(noun) {}

std::string ChunkCursor::Key(uint64_t index) const {
  std::string key = prefix_;
  PutBigEndian64(index, &key);
  return key;
}

void ChunkCursor::Seek(uint64_t index) {
  if (Valid() && index >= first_ && index - first_ < items_.size()) {
    item_ = index - first_;  // In the chunk already read (a query's next leaf).
    return;
  }
  // The chunk holding `index` starts at or before it.
  it_->SeekForPrev(Key(index));
  if (it_->status().ok() && (!it_->Valid() || !it_->key().starts_with(prefix_))) {
    it_->Seek(Key(index));
  }
  Load(index, /*continuing=*/false);
}

bool ChunkCursor::SeekToLast() {
  it_->SeekForPrev(Key(UINT64_MAX));
  items_.clear();
  item_ = 0;
  if (!it_->Valid() || !it_->key().starts_with(prefix_)) return true;
  if (!SplitEntry()) return false;
  item_ = items_.size() - 1;
  return true;
}

void ChunkCursor::Next() {
  if (!Valid() || ++item_ < items_.size()) return;
  const uint64_t from = first_ + items_.size();
  it_->Next();
  Load(from, /*continuing=*/true);
}

bool ChunkCursor::SplitEntry() {
  const absl::string_view key(it_->key().data(), it_->key().size());
  if (key.size() != prefix_.size() + 8 || !GetBigEndian64(key, prefix_.size(), &first_) ||
      !split_(absl::string_view(it_->value().data(), it_->value().size()), &items_) ||
      first_ > UINT64_MAX - items_.size()) {
    items_.clear();
    return false;
  }
  return true;
}

void ChunkCursor::Load(uint64_t from, bool continuing) {
  items_.clear();
  item_ = 0;
  for (; it_->Valid() && it_->key().starts_with(prefix_); it_->Next()) {
    if (!SplitEntry()) continue;
    if (continuing && first_ < from) break;  // Overlaps the last: altered.
    if (first_ + items_.size() > from) {
      item_ = from > first_ ? from - first_ : 0;
      return;
    }
  }
  items_.clear();
}

absl::Status ChunkCursor::At(uint64_t index) const {
  if (Valid() && this->index() == index) return absl::OkStatus();
  if (!status().ok()) return DbUnavailable(status(), "cannot read the audit log");
  return absl::DataLossError(absl::StrCat("audit partition ", partition_, ": ", noun_, " ",
                                          index, " is missing or unreadable"));
}

absl::Status ChunkCursor::ReadRange(
    uint64_t begin, uint64_t end,
    absl::FunctionRef<void(uint64_t index, absl::string_view value)> visit) {
  Seek(begin);
  for (uint64_t expected = begin; expected < end; ++expected) {
    if (expected != begin) Next();
    if (absl::Status s = At(expected); !s.ok()) return s;
    visit(expected, value());
  }
  return absl::OkStatus();
}

}  // namespace eid::audit
