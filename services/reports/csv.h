// The not-activated list as a CSV file (RFC 4180, UTF-8, CRLF), the format
// reports.proto gives for ExportNotActivatedCsv.
#ifndef EID_SERVICES_REPORTS_CSV_H_
#define EID_SERVICES_REPORTS_CSV_H_

#include <string>

#include "absl/strings/string_view.h"
#include "eid/v1/reports.pb.h"

namespace eid::reports {

// The UTF-8 byte-order mark and the header line.
std::string CsvHead();

// One data line (CRLF-terminated) for row number `stt` (1-based).
std::string CsvLine(uint64_t stt, const v1::NotActivatedRow& row);

// `field` quoted when it holds a comma, quote, CR or LF (quotes doubled).
std::string CsvField(absl::string_view field);

// "DD/MM/YYYY" ("MM/YYYY" or "YYYY" when day or month is unknown).
std::string DateText(const v1::Date& date);

}  // namespace eid::reports

#endif  // EID_SERVICES_REPORTS_CSV_H_
