#include "services/audit/leaf_chunks.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "services/audit/audit_keys.h"

namespace eid::audit {
namespace {

Hash HashOf(uint64_t i) {
  Hash h{};
  h[0] = static_cast<uint8_t>(i);
  h[31] = static_cast<uint8_t>(i >> 8);
  return h;
}

std::string LeafBytes(uint64_t i, size_t size = 40) {
  std::string leaf = absl::StrCat("\x0a leaf ", i, " ");  // A field tag first, as a record.
  leaf.resize(size, 'x');
  return leaf;
}

std::vector<std::string> Strings(const std::vector<absl::string_view>& views) {
  return std::vector<std::string>(views.begin(), views.end());
}

TEST(ChunkBuilderTest, CutsAtItsLeafCountAndSplitsBackToTheSameLeaves) {
  ChunkBuilder chunks(3);
  std::vector<std::string> want;
  for (uint64_t i = 10; i < 10 + 2 * ChunkBuilder::kMaxLeaves + 5; ++i) {
    want.push_back(LeafBytes(i));
    chunks.Add(i, want.back(), HashOf(i));
  }
  ASSERT_EQ(chunks.leaves().size(), 3u);
  ASSERT_EQ(chunks.hashes().size(), 3u);
  std::vector<std::string> got;
  uint64_t first = 10;
  for (size_t c = 0; c < 3; ++c) {
    EXPECT_EQ(chunks.leaves()[c].first, LeafKey(3, first));
    EXPECT_EQ(chunks.hashes()[c].first, NodeKey(3, 0, first));
    std::vector<absl::string_view> leaves, hashes;
    ASSERT_TRUE(SplitLeafChunk(chunks.leaves()[c].second, &leaves));
    ASSERT_TRUE(SplitHashChunk(chunks.hashes()[c].second, &hashes));
    ASSERT_EQ(leaves.size(), hashes.size());
    for (size_t k = 0; k < hashes.size(); ++k) {
      const Hash h = HashOf(first + k);
      EXPECT_EQ(hashes[k], absl::string_view(reinterpret_cast<const char*>(h.data()), 32));
    }
    for (const std::string& leaf : Strings(leaves)) got.push_back(leaf);
    first += leaves.size();
  }
  EXPECT_EQ(got, want);
}

TEST(ChunkBuilderTest, CutsAtItsSize) {
  ChunkBuilder chunks(0);
  const size_t big = ChunkBuilder::kMaxBytes / 2 + 1;
  for (uint64_t i = 0; i < 5; ++i) chunks.Add(i, LeafBytes(i, big), HashOf(i));
  // Two leaves reach the size; the third starts a chunk.
  ASSERT_EQ(chunks.leaves().size(), 3u);
  EXPECT_EQ(chunks.leaves()[1].first, LeafKey(0, 2));
  EXPECT_EQ(chunks.leaves()[2].first, LeafKey(0, 4));
}

TEST(ChunkBuilderTest, ALeafThatDoesNotFollowStartsAChunk) {
  ChunkBuilder chunks(0);
  chunks.Add(0, LeafBytes(0), HashOf(0));
  chunks.Add(1, LeafBytes(1), HashOf(1));
  chunks.Add(5, LeafBytes(5), HashOf(5));
  ASSERT_EQ(chunks.leaves().size(), 2u);
  EXPECT_EQ(chunks.leaves()[1].first, LeafKey(0, 5));
  EXPECT_EQ(chunks.hashes()[1].first, NodeKey(0, 0, 5));
}

TEST(SplitTest, AnEntryStoredBeforeChunksIsOneLeafOrOneHash) {
  std::vector<absl::string_view> items;
  const std::string leaf = LeafBytes(7);
  ASSERT_TRUE(SplitLeafChunk(leaf, &items));
  EXPECT_EQ(Strings(items), std::vector<std::string>{leaf});
  const std::string hash(32, 'h');
  ASSERT_TRUE(SplitHashChunk(hash, &items));
  EXPECT_EQ(Strings(items), std::vector<std::string>{hash});
}

TEST(SplitTest, AlteredChunksDoNotSplit) {
  ChunkBuilder chunks(0);
  chunks.Add(0, LeafBytes(0), HashOf(0));
  chunks.Add(1, LeafBytes(1), HashOf(1));
  const std::string good = chunks.leaves()[0].second;
  std::vector<absl::string_view> items;
  ASSERT_TRUE(SplitLeafChunk(good, &items));
  EXPECT_FALSE(SplitLeafChunk(good.substr(0, good.size() - 1), &items));  // Truncated.
  EXPECT_TRUE(items.empty());
  EXPECT_FALSE(SplitLeafChunk(good.substr(0, 3), &items));  // In a length.
  std::string longer = good;
  longer[1] = '\x7f';  // The first length runs past the end.
  EXPECT_FALSE(SplitLeafChunk(longer, &items));
  EXPECT_FALSE(SplitLeafChunk(std::string(1, '\0'), &items));  // No leaf.
  EXPECT_FALSE(SplitLeafChunk("", &items));
  EXPECT_FALSE(SplitHashChunk(std::string(33, 'h'), &items));
  EXPECT_FALSE(SplitHashChunk("", &items));
}

class ChunkCursorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "/chunks-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(path_);
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, path_, &db).ok());
    db_.reset(db);
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(path_);
  }

  // Leaves [first, first + n) of partition 1 in chunks of up to `per_chunk`.
  void Store(uint64_t first, uint64_t n, uint64_t per_chunk) {
    for (uint64_t i = first; i < first + n; i += per_chunk) {
      ChunkBuilder chunks(1);
      for (uint64_t k = i; k < std::min(first + n, i + per_chunk); ++k) {
        chunks.Add(k, LeafBytes(k), HashOf(k));
      }
      for (const auto& [key, value] : chunks.leaves()) {
        ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), key, value).ok());
      }
    }
  }

  ChunkCursor Cursor() { return ChunkCursor::Leaves(db_.get(), db_->DefaultColumnFamily(), 1); }

  std::vector<uint64_t> Indexes(uint64_t begin, uint64_t end, absl::Status* status) {
    std::vector<uint64_t> seen;
    ChunkCursor cursor = Cursor();
    *status = cursor.ReadRange(begin, end, [&](uint64_t i, absl::string_view leaf) {
      EXPECT_EQ(leaf, LeafBytes(i));
      seen.push_back(i);
    });
    return seen;
  }

  std::string path_;
  std::unique_ptr<rocksdb::DB> db_;
};

TEST_F(ChunkCursorTest, ReadsRangesThatStartAndEndInsideChunks) {
  Store(0, 30, 7);
  // Partitions 0 and 2 around it must not be read as 1's.
  ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), LeafKey(0, 100), "\x0a zero").ok());
  ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), LeafKey(2, 0), "\x0a two").ok());
  absl::Status status;
  std::vector<uint64_t> want;
  for (uint64_t i = 5; i < 23; ++i) want.push_back(i);
  EXPECT_EQ(Indexes(5, 23, &status), want);
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(Indexes(29, 30, &status), std::vector<uint64_t>{29});
  EXPECT_TRUE(status.ok()) << status;

  ChunkCursor last = Cursor();
  ASSERT_TRUE(last.SeekToLast());
  ASSERT_TRUE(last.Valid());
  EXPECT_EQ(last.index(), 29u);
  last.Next();
  EXPECT_FALSE(last.Valid());
}

TEST_F(ChunkCursorTest, AMissingOrUnreadableChunkIsNamedByTheFirstLeafNotRead) {
  Store(0, 21, 7);  // Chunks at 0, 7, 14.
  absl::Status status;
  Indexes(0, 22, &status);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(status.message(), "audit partition 1: leaf 21 is missing or unreadable");

  ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), LeafKey(1, 7), std::string("\0\0\0", 3)).ok());
  EXPECT_EQ(Indexes(2, 21, &status), (std::vector<uint64_t>{2, 3, 4, 5, 6}));
  EXPECT_EQ(status.message(), "audit partition 1: leaf 7 is missing or unreadable");
  // The cursor itself steps over it, to the leaves after.
  ChunkCursor cursor = Cursor();
  cursor.Seek(8);
  ASSERT_TRUE(cursor.Valid());
  EXPECT_EQ(cursor.index(), 14u);
}

TEST_F(ChunkCursorTest, AnEmptyPartitionBetweenOthersHasNoLeaves) {
  ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), LeafKey(0, 5), "\x0a zero").ok());
  ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), LeafKey(2, 0), "\x0a two").ok());
  ChunkCursor cursor = Cursor();
  ASSERT_TRUE(cursor.SeekToLast());
  EXPECT_FALSE(cursor.Valid());
  cursor.Seek(0);
  EXPECT_FALSE(cursor.Valid());
  cursor.Seek(6);
  EXPECT_FALSE(cursor.Valid());
}

TEST_F(ChunkCursorTest, TheLastEntryIsNeverSkipped) {
  Store(0, 14, 7);
  ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), LeafKey(1, 7), std::string("\0\0\0", 3)).ok());
  ChunkCursor cursor = Cursor();
  EXPECT_FALSE(cursor.SeekToLast());  // Not leaf 6: the size would shrink.
  EXPECT_FALSE(cursor.Valid());
}

TEST_F(ChunkCursorTest, AnEntryOverlappingTheOneBeforeStopsTheWalk) {
  Store(0, 10, 10);
  Store(5, 10, 10);  // Leaves 5..14 again, keyed at 5: an altered store.
  absl::Status status;
  // Seek(5) lands in the later entry; a walk from 0 stops at it instead of
  // reading two different leaves 5..9 depending on where it started.
  Indexes(0, 15, &status);
  EXPECT_EQ(status.message(), "audit partition 1: leaf 10 is missing or unreadable");
}

TEST_F(ChunkCursorTest, LeavesStoredOneAnEntryReadAsBefore) {
  for (uint64_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), LeafKey(1, i), LeafBytes(i)).ok());
  }
  Store(5, 10, 4);  // Chunks after them, as a newer eidd appends.
  absl::Status status;
  std::vector<uint64_t> want;
  for (uint64_t i = 3; i < 15; ++i) want.push_back(i);
  EXPECT_EQ(Indexes(3, 15, &status), want);
  EXPECT_TRUE(status.ok()) << status;
}

TEST_F(ChunkCursorTest, HashesReadFromTheirChunks) {
  ChunkBuilder chunks(1);
  for (uint64_t i = 0; i < 70; ++i) chunks.Add(i, LeafBytes(i), HashOf(i));
  for (const auto& [key, value] : chunks.hashes()) {
    ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), key, value).ok());
  }
  ChunkCursor hashes = ChunkCursor::LeafHashes(db_.get(), db_->DefaultColumnFamily(), 1);
  std::vector<uint64_t> seen;
  absl::Status status = hashes.ReadRange(60, 70, [&](uint64_t i, absl::string_view h) {
    const Hash want = HashOf(i);
    EXPECT_EQ(h, absl::string_view(reinterpret_cast<const char*>(want.data()), 32));
    seen.push_back(i);
  });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(seen.size(), 10u);
  status = hashes.ReadRange(69, 71, [](uint64_t, absl::string_view) {});
  EXPECT_EQ(status.message(), "audit partition 1: leaf hash 70 is missing or unreadable");
}

}  // namespace
}  // namespace eid::audit
