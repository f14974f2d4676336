// Registration files for `eidctl accounts import`: CSV (RFC 4180, UTF-8, a
// header line naming the columns) or JSON lines (one object per line with
// the same names), turned into ImportRegistrationsRequest rows. The format
// is documented in docs/reports.md; docs/examples/registrations.csv is an
// example. Pure functions, no I/O.
#ifndef EID_TOOLS_EIDCTL_REGISTRATION_FILE_H_
#define EID_TOOLS_EIDCTL_REGISTRATION_FILE_H_

#include <string>
#include <vector>

#include "eid/v1/activation.pb.h"

namespace eid::ctl {

// One data line of the file: the row to send, or why it cannot be sent.
struct FileRow {
  int line = 0;               // 1-based line where the record starts.
  bool ok = false;
  v1::ImportRegistrationsRequest request;  // When ok; row_ref "<name>:<line>".
  std::string error;          // When not ok: a human sentence.
};

// Parses `content` of the file `name` (".jsonl"/".json" -> JSON lines,
// anything else CSV). A file-level problem (no header, an unknown column)
// goes to `*error` and returns no rows.
std::vector<FileRow> ParseRegistrationFile(const std::string& name,
                                           const std::string& content,
                                           std::string* error);

// Splits CSV `content` into records of fields, each with the line it
// starts on (quotes, doubled quotes, CRLF and newlines in quotes handled;
// a leading UTF-8 BOM dropped). Exposed for tests.
struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
};
std::vector<CsvRecord> SplitCsv(const std::string& content);

}  // namespace eid::ctl

#endif  // EID_TOOLS_EIDCTL_REGISTRATION_FILE_H_
