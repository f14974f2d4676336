#include "tools/eidctl/accounts.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "eid/v1/activation.grpc.pb.h"
#include "tools/eidctl/progress.h"
#include "tools/eidctl/registration_file.h"

ABSL_FLAG(int, import_batch, 200, "accounts import: rows per ImportRegistrations stream.");

namespace eid::ctl {
namespace {

struct Failure {
  int line = 0;
  std::string reason;
  std::string message;
};

std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

int Import(const CommandContext& ctx, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "eidctl: cannot read %s\n", path.c_str());
    return 2;
  }
  std::stringstream content;
  content << in.rdbuf();
  std::string error;
  const std::string name = Basename(path);
  std::vector<FileRow> rows = ParseRegistrationFile(name, content.str(), &error);
  if (!error.empty()) {
    std::fprintf(stderr, "eidctl: %s: %s\n", path.c_str(), error.c_str());
    return 2;
  }
  const int batch = std::max(1, absl::GetFlag(FLAGS_import_batch));

  std::vector<Failure> failures;
  std::map<std::string, int> line_of;  // row_ref -> line.
  v1::ImportRegistrationsResponse total;
  auto stub = v1::ActivationService::NewStub(ctx.channel);
  Progress progress("rows", rows.size());
  std::string call_error;
  size_t done = 0;
  for (size_t start = 0; start < rows.size() && call_error.empty(); start += batch) {
    const size_t end = std::min(rows.size(), start + batch);
    std::vector<const FileRow*> to_send;
    for (size_t i = start; i < end; ++i) {
      if (rows[i].ok) {
        to_send.push_back(&rows[i]);
        line_of[rows[i].request.row_ref()] = rows[i].line;
      } else {
        failures.push_back({rows[i].line, "FILE_FORMAT", rows[i].error});
      }
    }
    if (!to_send.empty()) {
      auto call = ctx.NewCall();
      v1::ImportRegistrationsResponse summary;
      auto writer = stub->ImportRegistrations(call.get(), &summary);
      for (const FileRow* row : to_send) {
        if (!writer->Write(row->request)) break;  // The server ended it.
      }
      writer->WritesDone();
      const grpc::Status status = writer->Finish();
      if (!status.ok()) {
        call_error = status.error_message();
        break;
      }
      total.set_received(total.received() + summary.received());
      total.set_created(total.created() + summary.created());
      total.set_already_registered(total.already_registered() + summary.already_registered());
      total.set_approved(total.approved() + summary.approved());
      for (const v1::ImportFailure& f : summary.failures()) {
        failures.push_back({line_of[f.row_ref()], f.reason(), f.message()});
      }
    }
    done = end;
    progress.Update(done, failures.size());
  }
  progress.Finish();
  std::sort(failures.begin(), failures.end(),
            [](const Failure& a, const Failure& b) { return a.line < b.line; });

  if (ctx.json) {
    std::string out = absl::StrCat(
        "{\"file\":", JsonString(name), ",\"rows\":", rows.size(),
        ",\"received\":", total.received(), ",\"created\":", total.created(),
        ",\"already_registered\":", total.already_registered(),
        ",\"approved\":", total.approved(), ",\"failed\":", failures.size(),
        ",\"failures\":[");
    for (size_t i = 0; i < failures.size(); ++i) {
      absl::StrAppend(&out, i > 0 ? "," : "", "{\"line\":", failures[i].line,
                      ",\"reason\":", JsonString(failures[i].reason),
                      ",\"message\":", JsonString(failures[i].message), "}");
    }
    absl::StrAppend(&out, "]");
    if (!call_error.empty()) absl::StrAppend(&out, ",\"error\":", JsonString(call_error));
    std::printf("%s}\n", out.c_str());
  } else {
    for (const Failure& f : failures) {
      std::printf("%s:%d: %s: %s\n", name.c_str(), f.line, f.reason.c_str(),
                  f.message.c_str());
    }
    std::printf(
        "%zu rows: %lld created, %lld already registered, %lld approved, %zu failed\n",
        rows.size(), static_cast<long long>(total.created()),
        static_cast<long long>(total.already_registered()),
        static_cast<long long>(total.approved()), failures.size());
    if (!call_error.empty()) {
      std::printf("stopped after %zu rows: %s\n", done, call_error.c_str());
    }
  }
  return failures.empty() && call_error.empty() ? 0 : 1;
}

}  // namespace

int Accounts(const CommandContext& ctx) {
  if (ctx.args.size() == 2 && ctx.args[0] == "import") return Import(ctx, ctx.args[1]);
  std::fprintf(stderr, "usage: eidctl accounts import FILE (.csv or .jsonl)\n");
  return 2;
}

}  // namespace eid::ctl
