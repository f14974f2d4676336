// AuditLog::ScanRecorded: the whole log in the order recorded, for exports
// (a SIEM takes every event, or every event of a period), without an index.
#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/audit/audit_db.h"
#include "services/audit/audit_keys.h"
#include "services/audit/audit_log.h"
#include "services/audit/leaf_chunks.h"
#include "services/audit/leaf_encoding.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"

namespace eid::audit {
namespace {

// A page token: 'R', partition(4), next leaf index(8) or kEnter: the
// partition is still to be entered (at the first leaf of the time range).
constexpr uint64_t kEnter = UINT64_MAX;

std::string ScanToken(uint32_t partition, uint64_t index) {
  std::string token = "R";
  PutBigEndian32(partition, &token);
  PutBigEndian64(index, &token);
  return absl::WebSafeBase64Escape(token);
}

bool ParseScanToken(const std::string& page_token, uint32_t* partition, uint64_t* index) {
  std::string token;
  return absl::WebSafeBase64Unescape(page_token, &token) && token.size() == 13 &&
         token[0] == 'R' && GetBigEndian32(token, 1, partition) &&
         GetBigEndian64(token, 5, index);
}

}  // namespace

absl::StatusOr<uint64_t> AuditLog::FirstRecordedAtOrAfter(uint32_t partition, uint64_t size,
                                                          absl::Time t) const {
  if (absl::Status s = CheckPartition(partition); !s.ok()) return s;
  uint64_t low = 0, high = size;  // The answer is in [low, high].
  ChunkCursor leaves = ChunkCursor::Leaves(db_, store_->leaves(partition), partition);
  while (low < high) {
    const uint64_t mid = low + (high - low) / 2;
    absl::StatusOr<v1::AuditRecord> record = ReadRecord(leaves, partition, mid);
    if (!record.ok()) return record.status();
    if (FromProtoTime(record->recorded_at()) < t) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  return low;
}

absl::StatusOr<std::vector<v1::AuditRecord>> AuditLog::ScanRecorded(
    const v1::AuditFilter& filter, int limit, const std::string& page_token,
    std::string* next_page_token) const {
  next_page_token->clear();
  limit = std::max(limit, 1);
  if (!filter.subject().empty() || !filter.subject_id_number().empty() ||
      !filter.actor().empty()) {
    return InvalidArgument(v1::FIELD_INVALID,
                           "a scan of the whole log takes no subject or actor (Query does)");
  }
  const absl::Time start =
      filter.has_start_time() ? FromProtoTime(filter.start_time()) : absl::InfinitePast();
  const absl::Time end =
      filter.has_end_time() ? FromProtoTime(filter.end_time()) : absl::InfiniteFuture();
  if (end < start) {
    return InvalidArgument(v1::FIELD_INVALID, "filter.end_time is before start_time");
  }
  const uint32_t partitions = options_.partitions;
  uint32_t p = 0;
  uint64_t i = 0;
  bool entered = false;  // Whether `i` is already where partition p starts.
  if (!page_token.empty()) {
    if (!ParseScanToken(page_token, &p, &i) || p >= partitions) {
      return InvalidArgument(v1::PAGE_TOKEN_INVALID, "page_token does not belong to a scan");
    }
    entered = i != kEnter;
  }
  std::vector<v1::AuditRecord> out;
  uint64_t scanned = 0;
  while (p < partitions && static_cast<int>(out.size()) < limit &&
         scanned < kScanLeavesPerPage) {
    const uint64_t size = TreeSize(p);
    if (!entered) {
      absl::StatusOr<uint64_t> first = filter.has_start_time()
                                           ? FirstRecordedAtOrAfter(p, size, start - kScanClockSlack)
                                           : absl::StatusOr<uint64_t>(0);
      if (!first.ok()) return first.status();
      i = *first;
      entered = true;
    }
    ChunkCursor leaves = ChunkCursor::Leaves(db_, store_->leaves(p), p);
    leaves.Seek(i);
    for (; i < size && static_cast<int>(out.size()) < limit && scanned < kScanLeavesPerPage;
         ++i, ++scanned, leaves.Next()) {
      if (absl::Status s = leaves.At(i); !s.ok()) return s;
      absl::StatusOr<v1::AuditRecord> record = ParseLeafRecord(p, i, leaves.value());
      if (!record.ok()) return record.status();
      const absl::Time at = FromProtoTime(record->event().time());
      if (at < start || at >= end || !ActionMatches(filter.action(), record->event().action())) {
        continue;
      }
      out.push_back(*std::move(record));
    }
    if (i < size) break;  // The page is full; go on from i.
    ++p;
    entered = false;
  }
  if (p < partitions) *next_page_token = ScanToken(p, entered ? i : kEnter);
  return out;
}

}  // namespace eid::audit
