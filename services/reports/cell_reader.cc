#include "services/reports/cell_reader.h"

#include <functional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace eid::reports {
namespace {

constexpr int kScanPage = 1000;

template <typename Enum>
bool ParseEnum(absl::string_view text, bool (*valid)(int), Enum* out) {
  int value = 0;
  if (!absl::SimpleAtoi(text, &value) || !valid(value)) return false;
  *out = static_cast<Enum>(value);
  return true;
}

// "<province>|<district>|<commune>|" of a scan prefix, as deep as `place`.
std::string PlacePrefix(const v1::Locality& place) {
  if (place.province_code().empty()) return "";
  std::string out = absl::StrCat(place.province_code(), "|");
  if (place.district_code().empty()) return out;
  absl::StrAppend(&out, place.district_code(), "|");
  if (place.commune_code().empty()) return out;
  return absl::StrCat(out, place.commune_code(), "|");
}

}  // namespace

bool ParseCellKey(absl::string_view key, Cell* cell) {
  std::vector<absl::string_view> parts = absl::StrSplit(key, '|');
  size_t at = 0;
  if (parts.size() == 6 && parts[0] == "L") {
    at = 1;
  } else if (parts.size() == 8 && parts[0] == "O") {
    v1::OrgUnitKind kind;
    if (!ParseEnum(parts[1], v1::OrgUnitKind_IsValid, &kind)) return false;
    cell->org_unit.set_kind(kind);
    cell->org_unit.set_code(std::string(parts[2]));
    at = 3;
  } else {
    return false;
  }
  cell->locality.set_province_code(std::string(parts[at]));
  cell->locality.set_district_code(std::string(parts[at + 1]));
  cell->locality.set_commune_code(std::string(parts[at + 2]));
  return ParseEnum(parts[at + 3], v1::AccountLevel_IsValid, &cell->level) &&
         ParseEnum(parts[at + 4], v1::AccountState_IsValid, &cell->state);
}

absl::Status CellReader::ScanAll(
    const std::string& suffix,
    const std::function<absl::Status(absl::string_view, const std::string&)>& each) {
  for (uint32_t shard = 0; shard < index_.shard_count(); ++shard) {
    const std::string& rk = index_.RoutingKeyOfShard(shard);
    v1::ScanRequest scan;
    scan.set_namespace_(activation::kIndexNamespace);
    // The prefix holds the routing key: one shard answers.
    scan.set_prefix(absl::StrCat(rk, "|", suffix));
    scan.set_limit(kScanPage);
    do {
      absl::StatusOr<v1::ScanResponse> page = kv_.Scan(scan);
      if (!page.ok()) return page.status();
      for (const v1::Record& record : page->records()) {
        absl::string_view key = record.key();
        key.remove_prefix(rk.size() + 1);
        if (absl::Status s = each(key, record.value()); !s.ok()) return s;
      }
      scan.set_page_token(page->next_page_token());
    } while (!scan.page_token().empty());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Cell>> CellReader::LocalityCells(const v1::Locality& place) {
  std::vector<Cell> cells;
  absl::Status s = ScanAll(
      absl::StrCat("cell|L|", PlacePrefix(place)),
      [&](absl::string_view key, const std::string& value) -> absl::Status {
        Cell cell;
        key.remove_prefix(5);  // "cell|"
        if (!ParseCellKey(key, &cell) || !cell.counts.ParseFromString(value)) {
          return absl::DataLossError(absl::StrCat("report cell unreadable: ", key));
        }
        cells.push_back(std::move(cell));
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return cells;
}

absl::StatusOr<std::vector<Cell>> CellReader::OrgCells(const v1::OrgUnit& unit) {
  std::string suffix = "cell|O|";
  if (!unit.code().empty()) absl::StrAppend(&suffix, unit.kind(), "|", unit.code(), "|");
  std::vector<Cell> cells;
  absl::Status s =
      ScanAll(suffix, [&](absl::string_view key, const std::string& value) -> absl::Status {
        Cell cell;
        key.remove_prefix(5);
        if (!ParseCellKey(key, &cell) || !cell.counts.ParseFromString(value)) {
          return absl::DataLossError(absl::StrCat("report cell unreadable: ", key));
        }
        cells.push_back(std::move(cell));
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return cells;
}

absl::StatusOr<std::vector<v1::NotActivatedRow>> CellReader::NotActivated(
    absl::string_view province, absl::string_view district) {
  std::string suffix = absl::StrCat("na|", province, "|");
  if (!district.empty()) absl::StrAppend(&suffix, district, "|");
  std::vector<v1::NotActivatedRow> rows;
  absl::Status s =
      ScanAll(suffix, [&](absl::string_view key, const std::string& value) -> absl::Status {
        if (!rows.emplace_back().ParseFromString(value)) {
          return absl::DataLossError(absl::StrCat("not-activated entry unreadable: ", key));
        }
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return rows;
}

}  // namespace eid::reports
