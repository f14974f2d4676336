#include "tools/eidctl/shard.h"

#include <cstdio>
#include <string>

#include "absl/time/time.h"
#include "eid/v1/storage.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "services/common/proto_time.h"

namespace eid::ctl {
namespace {

std::string TimeText(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", FromProtoTime(t),
                          absl::UTCTimeZone());
}

int Info(const CommandContext& ctx) {
  auto stub = v1::ShardService::NewStub(ctx.channel);
  v1::GetShardInfoResponse info;
  const grpc::Status status =
      stub->GetShardInfo(ctx.NewCall().get(), v1::GetShardInfoRequest(), &info);
  if (!status.ok()) {
    std::fprintf(stderr, "eidctl: %s: %s\n", ctx.server.c_str(),
                 status.error_message().c_str());
    return 1;
  }
  if (ctx.json) {
    std::string json;
    google::protobuf::util::JsonPrintOptions options;
    options.always_print_primitive_fields = true;
    if (!google::protobuf::util::MessageToJsonString(info, &json, options).ok()) {
      return 1;
    }
    std::printf("%s\n", json.c_str());
    return 0;
  }
  std::printf("shard %u at %s, started %s\n", info.shard_id(), ctx.server.c_str(),
              TimeText(info.started_at()).c_str());
  std::printf("replay: %llu live entries, %.1f MiB; tokens expiring before %s "
              "are FENCED\n",
              static_cast<unsigned long long>(info.live_replay_entries()),
              info.replay_memory_bytes() / 1048576.0,
              TimeText(info.fenced_until()).c_str());
  std::printf("%-14s %-7s %14s %14s\n", "NAMESPACE", "SYNCED", "KEYS (est.)",
              "BYTES (est.)");
  for (const v1::NamespaceInfo& ns : info.namespaces()) {
    std::printf("%-14s %-7s %14llu %14llu\n", ns.name().c_str(),
                ns.synced() ? "yes" : "no",
                static_cast<unsigned long long>(ns.approximate_keys()),
                static_cast<unsigned long long>(ns.approximate_bytes()));
  }
  std::printf("limits: key %u B, value %u B, batch %u items / %u B, scan %u; "
              "token lifetime %u s, skew %u s\n",
              info.max_key_bytes(), info.max_value_bytes(), info.max_batch_items(),
              info.max_batch_bytes(), info.max_scan_limit(),
              info.max_token_lifetime_seconds(), info.allowed_skew_seconds());
  return 0;
}

}  // namespace

int Shard(const CommandContext& ctx) {
  if (ctx.args.size() == 1 && ctx.args[0] == "info") return Info(ctx);
  std::fputs("usage: eidctl shard info\n", stderr);
  return 2;
}

}  // namespace eid::ctl
