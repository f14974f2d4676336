#include "tools/eidctl/reports.h"

#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "eid/v1/reports.grpc.pb.h"
#include "services/common/proto_time.h"

ABSL_FLAG(std::string, province, "", "reports: province code, e.g. 68.");
ABSL_FLAG(std::string, district, "", "reports: district code, e.g. 672.");
ABSL_FLAG(std::string, commune, "", "reports: commune code.");
ABSL_FLAG(int, level, 0, "reports: only this account level (1 or 2); 0 for both.");
ABSL_FLAG(std::string, by, "",
          "reports counts: dimensions to group by, comma-separated (level, state, "
          "province, district, commune, org_unit), or none.");
ABSL_FLAG(bool, csv, false, "reports not-activated: print the CSV file.");

namespace eid::ctl {
namespace {

v1::Locality PlaceFromFlags() {
  v1::Locality place;
  place.set_province_code(absl::GetFlag(FLAGS_province));
  place.set_district_code(absl::GetFlag(FLAGS_district));
  place.set_commune_code(absl::GetFlag(FLAGS_commune));
  return place;
}

int Failed(const grpc::Status& status) {
  std::fprintf(stderr, "eidctl: %s (%s)\n", status.error_message().c_str(),
               absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()))
                   .c_str());
  return 1;
}

// `text` padded with spaces to `width` characters (UTF-8 aware, so names
// with diacritics line up).
std::string PadRight(const std::string& text, size_t width) {
  size_t chars = 0;
  for (unsigned char c : text) chars += (c & 0xC0) != 0x80;
  return chars >= width ? text : text + std::string(width - chars, ' ');
}

std::string Percent(double rate) { return absl::StrFormat("%.1f%%", rate * 100); }

std::string StateName(v1::AccountState s) {
  return std::string(absl::StripPrefix(v1::AccountState_Name(s), "ACCOUNT_STATE_"));
}

// The row's label: its values of the grouped dimensions.
std::string Label(const v1::CountRow& row, const std::vector<v1::ReportDimension>& by) {
  std::vector<std::string> parts;
  for (v1::ReportDimension d : by) {
    const v1::Locality& l = row.locality();
    switch (d) {
      case v1::REPORT_DIMENSION_LEVEL:
        parts.push_back(absl::StrCat("level ", static_cast<int>(row.level())));
        break;
      case v1::REPORT_DIMENSION_STATE:
        parts.push_back(StateName(row.state()));
        break;
      case v1::REPORT_DIMENSION_PROVINCE:
        parts.push_back(row.locality_name().empty()
                            ? l.province_code()
                            : absl::StrCat(l.province_code(), " ", row.locality_name()));
        break;
      case v1::REPORT_DIMENSION_DISTRICT:
        parts.push_back(absl::StrCat(l.province_code(), "/", l.district_code()));
        break;
      case v1::REPORT_DIMENSION_COMMUNE:
        parts.push_back(
            absl::StrCat(l.province_code(), "/", l.district_code(), "/", l.commune_code()));
        break;
      case v1::REPORT_DIMENSION_ORG_UNIT: {
        const std::string kind(
            absl::StripPrefix(v1::OrgUnitKind_Name(row.org_unit().kind()), "ORG_UNIT_KIND_"));
        parts.push_back(absl::StrCat(kind, ":", row.org_unit().code()));
        break;
      }
      default:
        break;
    }
  }
  return absl::StrJoin(parts, " ");
}

std::string RowJson(const v1::CountRow& row, const std::string& label) {
  return absl::StrCat(
      "{\"label\":", JsonString(label), ",\"registered\":", row.registered(),
      ",\"approved\":", row.approved(), ",\"activated\":", row.activated(),
      ",\"awaiting_activation\":", row.awaiting_activation(), ",\"locked\":", row.locked(),
      ",\"revoked\":", row.revoked(),
      ",\"activation_rate\":", absl::StrFormat("%.6f", row.activation_rate()), "}");
}

std::string RowText(const v1::CountRow& row, const std::string& label) {
  return absl::StrFormat("%s %11d %9d %10d %9d %7d %8d %7s\n", PadRight(label, 28),
                         row.registered(),
                         row.approved(), row.activated(), row.awaiting_activation(),
                         row.locked(), row.revoked(), Percent(row.activation_rate()));
}

int Counts(const CommandContext& ctx) {
  v1::CountAccountsRequest request;
  *request.mutable_filter()->mutable_locality() = PlaceFromFlags();
  request.mutable_filter()->set_level(static_cast<v1::AccountLevel>(absl::GetFlag(FLAGS_level)));
  std::string by = absl::GetFlag(FLAGS_by);
  if (by.empty()) {
    const v1::Locality& l = request.filter().locality();
    by = l.province_code().empty() ? "province" : l.district_code().empty() ? "district" : "commune";
  }
  std::vector<v1::ReportDimension> dims;
  if (by != "none") {
    for (absl::string_view name : absl::StrSplit(by, ',', absl::SkipWhitespace())) {
      v1::ReportDimension d;
      if (!v1::ReportDimension_Parse(
              absl::StrCat("REPORT_DIMENSION_", absl::AsciiStrToUpper(name)), &d) ||
          d == v1::REPORT_DIMENSION_UNSPECIFIED) {
        std::fprintf(stderr, "eidctl: --by: unknown dimension \"%s\"\n",
                     std::string(name).c_str());
        return 2;
      }
      dims.push_back(d);
      request.add_group_by(d);
    }
  }
  request.mutable_page()->set_page_size(1000);
  auto stub = v1::ReportsService::NewStub(ctx.channel);
  std::vector<v1::CountRow> rows;
  v1::CountAccountsResponse response;
  do {
    response.clear_rows();
    const grpc::Status status = stub->CountAccounts(ctx.NewCall().get(), request, &response);
    if (!status.ok()) return Failed(status);
    rows.insert(rows.end(), response.rows().begin(), response.rows().end());
    request.mutable_page()->set_page_token(response.next_page_token());
  } while (!response.next_page_token().empty());

  const std::string as_of = absl::FormatTime(absl::RFC3339_sec, FromProtoTime(response.as_of()),
                                             absl::UTCTimeZone());
  if (ctx.json) {
    std::string out = absl::StrCat("{\"as_of\":", JsonString(as_of), ",\"rows\":[");
    for (size_t i = 0; i < rows.size(); ++i) {
      absl::StrAppend(&out, i > 0 ? "," : "", RowJson(rows[i], Label(rows[i], dims)));
    }
    absl::StrAppend(&out, "],\"total\":", RowJson(response.total(), "total"), "}");
    std::printf("%s\n", out.c_str());
    return 0;
  }
  std::printf("%-28s %11s %9s %10s %9s %7s %8s %7s\n", by.c_str(), "registered", "approved",
              "activated", "awaiting", "locked", "revoked", "rate");
  for (const v1::CountRow& row : rows) {
    std::fputs(RowText(row, Label(row, dims)).c_str(), stdout);
  }
  std::fputs(RowText(response.total(), "TOTAL").c_str(), stdout);
  std::printf("as of %s\n", as_of.c_str());
  return 0;
}

int NotActivated(const CommandContext& ctx) {
  const v1::Locality place = PlaceFromFlags();
  const auto level = static_cast<v1::AccountLevel>(absl::GetFlag(FLAGS_level));
  auto stub = v1::ReportsService::NewStub(ctx.channel);
  if (absl::GetFlag(FLAGS_csv)) {
    v1::ExportNotActivatedCsvRequest request;
    *request.mutable_locality() = place;
    request.set_level(level);
    auto call = ctx.NewCall();
    auto reader = stub->ExportNotActivatedCsv(call.get(), request);
    v1::ExportNotActivatedCsvResponse chunk;
    while (reader->Read(&chunk)) {
      std::fwrite(chunk.csv_chunk().data(), 1, chunk.csv_chunk().size(), stdout);
    }
    const grpc::Status status = reader->Finish();
    return status.ok() ? 0 : Failed(status);
  }
  v1::ListNotActivatedRequest request;
  *request.mutable_locality() = place;
  request.set_level(level);
  request.mutable_page()->set_page_size(1000);
  std::vector<v1::NotActivatedRow> rows;
  v1::ListNotActivatedResponse response;
  do {
    response.clear_rows();
    const grpc::Status status =
        stub->ListNotActivated(ctx.NewCall().get(), request, &response);
    if (!status.ok()) return Failed(status);
    rows.insert(rows.end(), response.rows().begin(), response.rows().end());
    request.mutable_page()->set_page_token(response.next_page_token());
  } while (!response.next_page_token().empty());
  if (ctx.json) {
    std::string out = absl::StrCat("{\"total\":", rows.size(), ",\"rows\":[");
    for (size_t i = 0; i < rows.size(); ++i) {
      const v1::NotActivatedRow& r = rows[i];
      absl::StrAppend(
          &out, i > 0 ? "," : "", "{\"account_id\":", JsonString(r.account_id()),
          ",\"masked_id_number\":", JsonString(r.masked_id_number()),
          ",\"full_name\":", JsonString(r.full_name()), ",\"phone\":", JsonString(r.phone()),
          ",\"level\":", static_cast<int>(r.level()),
          ",\"commune\":", JsonString(r.locality().commune_code()), ",\"approved_at\":",
          JsonString(absl::FormatTime(absl::RFC3339_sec, FromProtoTime(r.approved_at()),
                                      absl::UTCTimeZone())),
          "}");
    }
    std::printf("%s]}\n", out.c_str());
    return 0;
  }
  for (const v1::NotActivatedRow& r : rows) {
    std::printf("%s  %s %s  level %d  %s  approved %s\n", r.masked_id_number().c_str(),
                PadRight(r.full_name(), 30).c_str(), r.phone().c_str(), static_cast<int>(r.level()),
                r.locality().commune_code().c_str(),
                absl::FormatTime("%d/%m/%Y", FromProtoTime(r.approved_at()),
                                 absl::FixedTimeZone(7 * 3600))
                    .c_str());
  }
  std::printf("%zu approved, not activated\n", rows.size());
  return 0;
}

}  // namespace

int Reports(const CommandContext& ctx) {
  if (ctx.args.size() == 1 && ctx.args[0] == "counts") return Counts(ctx);
  if (ctx.args.size() == 1 && ctx.args[0] == "not-activated") return NotActivated(ctx);
  std::fprintf(stderr,
               "usage: eidctl reports counts [--province=P --district=D --by=...]\n"
               "       eidctl reports not-activated --province=P --district=D [--csv]\n");
  return 2;
}

}  // namespace eid::ctl
