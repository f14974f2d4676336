// eidctl audit verify against an audit server that lies: it serves leaves
// other than those its real, signed checkpoints cover, and lists those
// checkpoints out of order, so that a walk trusting the order would compare
// none of them. A real server cannot be made to do this; a fake can.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eid/v1/audit.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/audit/checkpoint_signer.h"
#include "services/audit/leaf_encoding.h"
#include "services/audit/merkle.h"
#include "services/common/grpc_server.h"
#include "services/common/proto_time.h"
#include "services/common/rpc_metrics.h"
#include "tests/util/subprocess.h"

namespace eid {
namespace {

using ::testing::HasSubstr;

class LyingAuditService final : public v1::AuditService::Service {
 public:
  std::vector<v1::AuditRecord> leaves;  // Served by ReadLeaves.
  std::vector<v1::Checkpoint> listing;  // Served by ListCheckpoints.
  v1::VerificationKey key;

  grpc::Status ListPartitions(grpc::ServerContext*, const v1::ListPartitionsRequest*,
                              v1::ListPartitionsResponse* out) override {
    *out->add_checkpoints() = listing.back();
    return grpc::Status::OK;
  }
  grpc::Status GetCheckpointKeys(grpc::ServerContext*, const v1::GetCheckpointKeysRequest*,
                                 v1::GetCheckpointKeysResponse* out) override {
    *out->add_keys() = key;
    return grpc::Status::OK;
  }
  grpc::Status ListCheckpoints(grpc::ServerContext*, const v1::ListCheckpointsRequest*,
                               v1::ListCheckpointsResponse* out) override {
    for (const v1::Checkpoint& c : listing) *out->add_checkpoints() = c;
    return grpc::Status::OK;
  }
  grpc::Status ReadLeaves(grpc::ServerContext*, const v1::ReadLeavesRequest* r,
                          v1::ReadLeavesResponse* out) override {
    for (uint64_t i = r->start_index(); i < r->end_index() && i < leaves.size(); ++i) {
      *out->add_records() = leaves[i];
    }
    return grpc::Status::OK;
  }
};

// Leaf i of partition 0 with `action`, its leaf_data set.
v1::AuditRecord Leaf(uint64_t i, const std::string& action) {
  v1::AuditRecord record;
  record.mutable_event()->set_event_id(absl::StrCat("lie-", i));
  record.mutable_event()->set_action(action);
  record.set_partition(0);
  record.set_leaf_index(i);
  ToProtoTime(absl::FromUnixSeconds(1790000000), record.mutable_recorded_at());
  record.set_leaf_data(audit::RecordLeafData(record));
  return record;
}

class LyingServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto signer = audit::CheckpointSigner::FromSeed(std::string(32, 's'),
                                                    absl::FromUnixSeconds(1700000000));
    ASSERT_TRUE(signer.ok()) << signer.status();
    std::vector<audit::Hash> hashes;
    for (uint64_t i = 0; i < 8; ++i) {
      honest_.push_back(Leaf(i, "login"));
      hashes.push_back(audit::LeafHash(honest_.back().leaf_data()));
    }
    const absl::Time at = absl::FromUnixSeconds(1790000100);
    c4_ = (*signer)->Sign(0, 4, audit::RootFromLeafHashes(absl::MakeConstSpan(hashes).first(4)), at);
    c8_ = (*signer)->Sign(0, 8, audit::RootFromLeafHashes(hashes), at);
    service_.key = (*signer)->public_key();
    auto server = GrpcServer::Start(GrpcServer::Options(),
                                    {{"eid.v1.AuditService", &service_}}, rpc_metrics_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  int Verify(std::string* out) {
    auto code = testing::Run({testing::RunfilePath("tools/eidctl/eidctl"),
                              absl::StrCat("--server=127.0.0.1:", server_->port()), "audit",
                              "verify"},
                             out, absl::Seconds(60));
    return code.ok() ? *code : -1;
  }

  std::vector<v1::AuditRecord> honest_;
  v1::Checkpoint c4_, c8_;
  LyingAuditService service_;
  prometheus::Registry registry_;
  RpcMetrics rpc_metrics_{registry_};
  std::unique_ptr<GrpcServer> server_;
};

TEST_F(LyingServerTest, AnHonestListingOfHonestLeavesIsIntact) {
  service_.leaves = honest_;
  service_.listing = {c4_, c8_};
  std::string out;
  EXPECT_EQ(Verify(&out), 0) << out;
  EXPECT_THAT(out, HasSubstr("partition 0: 8 leaves, 2 checkpoints: intact"));
}

TEST_F(LyingServerTest, CheckpointsListedOutOfOrderAreTampered) {
  service_.leaves = honest_;
  service_.leaves[1] = Leaf(1, "logout");  // Rewritten, under real checkpoints.
  // Read in order the walk would stop at 4 leaves and, waiting for size 8
  // first, compare no root at all.
  service_.listing = {c8_, c4_};
  std::string out;
  EXPECT_EQ(Verify(&out), 1) << out;
  EXPECT_THAT(out, HasSubstr("partition 0: TAMPERED: the checkpoint of size 4 does not "
                             "follow the one of size 8"));
}

}  // namespace
}  // namespace eid
