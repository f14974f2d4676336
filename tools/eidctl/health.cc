#include "tools/eidctl/health.h"

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"

namespace eid::ctl {
namespace {

using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;

constexpr const char* kServices[] = {
    "eid.v1.ShardService",        "eid.v1.AuditService",
    "eid.v1.OtpService",          "eid.v1.ActivationService",
    "eid.v1.QrService",           "eid.v1.VerificationService",
    "eid.v1.ReportsService",
};

std::string Check(const CommandContext& ctx,
                  grpc::health::v1::Health::Stub& stub,
                  const std::string& service) {
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  const grpc::Status status = stub.Check(ctx.NewCall().get(), request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) return "NOT_HOSTED";
  if (!status.ok()) return "UNREACHABLE";
  return HealthCheckResponse::ServingStatus_Name(response.status());
}

}  // namespace

int Health(const CommandContext& ctx) {
  auto stub = grpc::health::v1::Health::NewStub(ctx.channel);
  std::vector<std::pair<std::string, std::string>> rows;
  rows.emplace_back("(server)", Check(ctx, *stub, ""));
  bool healthy = rows[0].second == "SERVING";
  int hosted = 0;
  for (const char* service : kServices) {
    std::string status = Check(ctx, *stub, service);
    if (status != "NOT_HOSTED") {
      ++hosted;
      healthy = healthy && status == "SERVING";
    }
    rows.emplace_back(service, std::move(status));
  }
  healthy = healthy && hosted > 0;

  if (ctx.json) {
    std::string out = "{\"server\":" + JsonString(ctx.server) +
                      ",\"healthy\":" + (healthy ? "true" : "false") +
                      ",\"services\":{";
    for (size_t i = 0; i < rows.size(); ++i) {
      if (i > 0) out += ",";
      out += JsonString(rows[i].first) + ":" + JsonString(rows[i].second);
    }
    std::printf("%s}}\n", out.c_str());
  } else {
    std::printf("%-30s %s\n", "SERVICE", "STATUS");
    for (const auto& [service, status] : rows) {
      std::printf("%-30s %s\n", service.c_str(), status.c_str());
    }
  }
  return healthy ? 0 : 1;
}

}  // namespace eid::ctl
