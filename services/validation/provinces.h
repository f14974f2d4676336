// Vietnam's provinces, as the personal ID number and the reports need them.
//
// Former provinces: the 63 province-level units before the 2025 merger. The
// first three digits of every 12-digit personal identification number are
// the code of the province where the birth was registered, from the list of
// Circular 07/2016/TT-BCA (kept by Circular 59/2021/TT-BCA): "0" followed by
// the unit's two-digit General Statistics Office code ("001" Hà Nội, "002" Hà
// Giang, ... "096" Cà Mau). ID numbers keep these codes for good.
//
// Current provinces: the 34 province-level units formed by Resolution
// 202/2025/QH15 (adopted 12 June 2025, in force 1 July 2025), with their
// two-digit codes from Decision 19/2025/QD-TTg (the code of one of the merged
// units, e.g. "08" Tuyên Quang for Hà Giang + Tuyên Quang). These are the codes
// of eid.v1.Locality.province_code and of the reports.
//
// All data is static and immutable; every function is thread-safe, and the
// returned pointers and spans live for the whole program.
#ifndef EID_SERVICES_VALIDATION_PROVINCES_H_
#define EID_SERVICES_VALIDATION_PROVINCES_H_

#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace eid::validation {

// A province-level unit after 1 July 2025.
struct CurrentProvince {
  absl::string_view code;  // Two digits, e.g. "01".
  absl::string_view name;  // Short name with diacritics, e.g. "Hà Nội".
  bool is_city;            // A centrally-run city (thành phố), not a tỉnh.
};

// A province-level unit before 1 July 2025, as coded in ID numbers.
struct Province {
  absl::string_view id_code;       // Three digits, e.g. "002".
  absl::string_view name;          // e.g. "Hà Giang".
  absl::string_view current_code;  // The current province it lies in: "08".
};

// The 63 former provinces, ordered by code.
absl::Span<const Province> FormerProvinces();

// The 34 current provinces, ordered by code.
absl::Span<const CurrentProvince> CurrentProvinces();

// The former province with this three-digit ID code, or nullptr if `code3` is
// not one (e.g. "000", "099", "01", "0a1").
const Province* FindProvinceByIdCode(absl::string_view code3);

// The current province the former province `code3` was merged into (itself,
// with its old code, for the 11 unchanged ones), or nullptr if `code3` is
// not a former province's ID code.
const CurrentProvince* CurrentProvinceOf(absl::string_view code3);

// The current province with this two-digit code, or nullptr.
const CurrentProvince* FindCurrentProvince(absl::string_view code2);

// The former provinces that make up the current province `code2`, ordered by
// code; empty if `code2` is unknown.
std::vector<const Province*> FormerProvincesOf(absl::string_view code2);

}  // namespace eid::validation

#endif  // EID_SERVICES_VALIDATION_PROVINCES_H_
