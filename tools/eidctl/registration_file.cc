#include "tools/eidctl/registration_file.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace eid::ctl {
namespace {

constexpr const char* kColumns[] = {
    "level",      "id_number",   "full_name",     "date_of_birth",
    "sex",        "phone",       "province",      "district",
    "commune",    "org_units",   "approve",       "card_number",
    "intake_office", "officer_id", "face_photo_reference",
};

bool KnownColumn(const std::string& name) {
  for (const char* c : kColumns) {
    if (name == c) return true;
  }
  return false;
}

// "17/05/1990", "05/1990" or "1990".
bool ParseDate(absl::string_view text, v1::Date* date) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '/');
  int values[3] = {0, 0, 0};
  if (parts.empty() || parts.size() > 3) return false;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].empty() || !absl::SimpleAtoi(parts[i], &values[i])) return false;
  }
  date->set_year(values[parts.size() - 1]);
  if (parts.size() >= 2) date->set_month(values[parts.size() - 2]);
  if (parts.size() == 3) date->set_day(values[0]);
  return true;
}

bool ParseSex(absl::string_view text, v1::Sex* sex) {
  const std::string t = absl::AsciiStrToLower(text);
  if (t == "m" || t == "male" || t == "nam") {
    *sex = v1::SEX_MALE;
  } else if (t == "f" || t == "female" || t == "nu" || t == "nữ") {
    *sex = v1::SEX_FEMALE;
  } else {
    return false;
  }
  return true;
}

bool ParseBool(absl::string_view text, bool* out) {
  const std::string t = absl::AsciiStrToLower(text);
  if (t.empty() || t == "0" || t == "false" || t == "no") {
    *out = false;
  } else if (t == "1" || t == "true" || t == "yes") {
    *out = true;
  } else {
    return false;
  }
  return true;
}

// "KIND:CODE[:PARENT]", e.g. "SCHOOL_CLASS:THPT-LH/12A1:THPT-LH".
bool ParseOrgUnit(absl::string_view text, v1::OrgUnit* unit) {
  std::vector<std::string> parts = absl::StrSplit(text, absl::MaxSplits(':', 2));
  if (parts.size() < 2) return false;
  v1::OrgUnitKind kind;
  if (!v1::OrgUnitKind_Parse(absl::StrCat("ORG_UNIT_KIND_", parts[0]), &kind) ||
      kind == v1::ORG_UNIT_KIND_UNSPECIFIED) {
    return false;
  }
  unit->set_kind(kind);
  unit->set_code(parts[1]);
  if (parts.size() == 3) unit->set_parent_code(parts[2]);
  return true;
}

// Fills `row` from column name -> value; false with `error` on a value the
// file format does not allow (the server checks the rest).
bool FillRow(const std::map<std::string, std::string>& values,
             v1::ImportRegistrationsRequest* row, std::string* error) {
  auto get = [&](const char* key) -> std::string {
    auto it = values.find(key);
    return it == values.end() ? "" : std::string(absl::StripAsciiWhitespace(it->second));
  };
  const std::string level = get("level");
  if (level == "1" || level.empty()) {
    row->set_level(v1::ACCOUNT_LEVEL_1);
  } else if (level == "2") {
    row->set_level(v1::ACCOUNT_LEVEL_2);
  } else {
    *error = absl::StrCat("level must be 1 or 2, not \"", level, "\"");
    return false;
  }
  v1::PersonalDetails& p = *row->mutable_person();
  p.set_id_number(get("id_number"));
  p.set_full_name(get("full_name"));
  p.set_phone(get("phone"));
  p.set_face_photo_reference(get("face_photo_reference"));
  if (const std::string dob = get("date_of_birth");
      !dob.empty() && !ParseDate(dob, p.mutable_date_of_birth())) {
    *error = absl::StrCat("date_of_birth must be DD/MM/YYYY, not \"", dob, "\"");
    return false;
  }
  if (const std::string sex = get("sex"); !sex.empty()) {
    v1::Sex parsed;
    if (!ParseSex(sex, &parsed)) {
      *error = absl::StrCat("sex must be M or F, not \"", sex, "\"");
      return false;
    }
    p.set_sex(parsed);
  }
  p.mutable_locality()->set_province_code(get("province"));
  p.mutable_locality()->set_district_code(get("district"));
  p.mutable_locality()->set_commune_code(get("commune"));
  for (absl::string_view unit :
       absl::StrSplit(get("org_units"), ';', absl::SkipWhitespace())) {
    if (!ParseOrgUnit(absl::StripAsciiWhitespace(unit), p.add_org_units())) {
      *error = absl::StrCat("org_units must be KIND:CODE[:PARENT] separated by ';', not \"",
                            unit, "\"");
      return false;
    }
  }
  bool approve = false;
  if (!ParseBool(get("approve"), &approve)) {
    *error = absl::StrCat("approve must be 1, 0 or empty, not \"", get("approve"), "\"");
    return false;
  }
  row->set_approve(approve);
  if (row->level() == v1::ACCOUNT_LEVEL_2) {
    v1::Level2Intake& intake = *row->mutable_intake();
    intake.set_card_number(get("card_number"));
    intake.set_officer_id(get("officer_id"));
    if (const std::string office = get("intake_office"); !office.empty()) {
      intake.mutable_intake_office()->set_kind(v1::ORG_UNIT_KIND_POLICE_OFFICE);
      intake.mutable_intake_office()->set_code(office);
    }
  }
  return true;
}

FileRow MakeRow(const std::string& name, int line,
                const std::map<std::string, std::string>& values) {
  FileRow row;
  row.line = line;
  row.request.set_row_ref(absl::StrCat(name, ":", line));
  row.ok = FillRow(values, &row.request, &row.error);
  return row;
}

std::vector<FileRow> ParseJsonLines(const std::string& name, const std::string& content,
                                    std::string* error) {
  std::vector<FileRow> rows;
  int line = 0;
  for (absl::string_view text : absl::StrSplit(content, '\n')) {
    ++line;
    text = absl::StripAsciiWhitespace(text);
    if (line == 1) absl::ConsumePrefix(&text, "\xEF\xBB\xBF");
    if (text.empty()) continue;
    google::protobuf::Struct object;
    std::map<std::string, std::string> values;
    std::string problem;
    if (!google::protobuf::util::JsonStringToMessage(std::string(text), &object).ok()) {
      problem = "not a JSON object";
    }
    for (const auto& [key, value] : object.fields()) {
      if (!KnownColumn(key)) {
        problem = absl::StrCat("unknown field \"", key, "\"");
        break;
      }
      switch (value.kind_case()) {
        case google::protobuf::Value::kStringValue:
          values[key] = value.string_value();
          break;
        case google::protobuf::Value::kNumberValue:
          values[key] = absl::StrCat(value.number_value());
          break;
        case google::protobuf::Value::kBoolValue:
          values[key] = value.bool_value() ? "1" : "0";
          break;
        case google::protobuf::Value::kListValue: {
          std::vector<std::string> items;
          for (const auto& item : value.list_value().values()) {
            items.push_back(item.string_value());
          }
          values[key] = absl::StrJoin(items, ";");
          break;
        }
        case google::protobuf::Value::kNullValue:
          break;
        default:
          problem = absl::StrCat("field \"", key, "\" must be a string or number");
      }
    }
    if (!problem.empty()) {
      FileRow bad;
      bad.line = line;
      bad.error = problem;
      rows.push_back(std::move(bad));
      continue;
    }
    rows.push_back(MakeRow(name, line, values));
  }
  (void)error;
  return rows;
}

}  // namespace

std::vector<CsvRecord> SplitCsv(const std::string& content) {
  std::vector<CsvRecord> records;
  absl::string_view text = content;
  absl::ConsumePrefix(&text, "\xEF\xBB\xBF");
  int line = 1;
  size_t i = 0;
  while (i < text.size()) {
    CsvRecord record;
    record.line = line;
    std::string field;
    bool in_quotes = false;
    bool ended = false;
    while (i < text.size() && !ended) {
      const char c = text[i++];
      if (in_quotes) {
        if (c == '"') {
          if (i < text.size() && text[i] == '"') {
            field.push_back('"');
            ++i;
          } else {
            in_quotes = false;
          }
        } else {
          if (c == '\n') ++line;
          field.push_back(c);
        }
      } else if (c == '"') {
        in_quotes = true;
      } else if (c == ',') {
        record.fields.push_back(std::move(field));
        field.clear();
      } else if (c == '\r' && i < text.size() && text[i] == '\n') {
        // The LF ends the record.
      } else if (c == '\n') {
        ++line;
        ended = true;
      } else {
        field.push_back(c);
      }
    }
    record.fields.push_back(std::move(field));
    const bool blank = record.fields.size() == 1 &&
                       absl::StripAsciiWhitespace(record.fields[0]).empty();
    if (!blank) records.push_back(std::move(record));
  }
  return records;
}

std::vector<FileRow> ParseRegistrationFile(const std::string& name,
                                           const std::string& content,
                                           std::string* error) {
  if (absl::EndsWith(name, ".jsonl") || absl::EndsWith(name, ".json")) {
    return ParseJsonLines(name, content, error);
  }
  std::vector<CsvRecord> records = SplitCsv(content);
  if (records.empty()) {
    *error = "the file is empty: a CSV file starts with a header line";
    return {};
  }
  std::vector<std::string> header;
  for (const std::string& column : records[0].fields) {
    header.push_back(absl::AsciiStrToLower(absl::StripAsciiWhitespace(column)));
    if (!KnownColumn(header.back())) {
      *error = absl::StrCat("line ", records[0].line, ": unknown column \"", header.back(),
                            "\" (known: ", absl::StrJoin(kColumns, ","), ")");
      return {};
    }
  }
  std::vector<FileRow> rows;
  for (size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& record = records[r];
    if (record.fields.size() != header.size()) {
      FileRow bad;
      bad.line = record.line;
      bad.error = absl::StrCat("has ", record.fields.size(), " fields, the header ",
                               header.size());
      rows.push_back(std::move(bad));
      continue;
    }
    std::map<std::string, std::string> values;
    for (size_t c = 0; c < header.size(); ++c) values[header[c]] = record.fields[c];
    rows.push_back(MakeRow(name, record.line, values));
  }
  return rows;
}

}  // namespace eid::ctl
