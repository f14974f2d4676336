#include "services/reports/csv.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "services/common/proto_time.h"

namespace eid::reports {

std::string CsvHead() {
  return "\xEF\xBB\xBF"
         "stt,masked_id_number,full_name,date_of_birth,phone,level,province,"
         "district,commune,approved_at\r\n";
}

std::string CsvField(absl::string_view field) {
  if (field.find_first_of(",\"\r\n") == absl::string_view::npos) {
    return std::string(field);
  }
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string DateText(const v1::Date& d) {
  if (d.month() == 0) return absl::StrFormat("%04d", d.year());
  if (d.day() == 0) return absl::StrFormat("%02d/%04d", d.month(), d.year());
  return absl::StrFormat("%02d/%02d/%04d", d.day(), d.month(), d.year());
}

std::string CsvLine(uint64_t stt, const v1::NotActivatedRow& row) {
  // Vietnam's time, as the district staff read it.
  static const absl::TimeZone kVietnam = absl::FixedTimeZone(7 * 3600);
  const std::string approved =
      absl::FormatTime("%Y-%m-%dT%H:%M:%S+07:00", FromProtoTime(row.approved_at()), kVietnam);
  const v1::Locality& l = row.locality();
  return absl::StrCat(
      absl::StrJoin(std::vector<std::string>{absl::StrCat(stt), CsvField(row.masked_id_number()),
                     CsvField(row.full_name()), DateText(row.date_of_birth()),
                     CsvField(row.phone()), absl::StrCat(static_cast<int>(row.level())),
                     CsvField(l.province_code()), CsvField(l.district_code()),
                     CsvField(l.commune_code()), approved},
                    ","),
      "\r\n");
}

}  // namespace eid::reports
