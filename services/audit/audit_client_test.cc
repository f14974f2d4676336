#include "services/audit/audit_client.h"

#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "services/audit/audit_server.h"
#include "services/common/grpc_server.h"
#include "services/common/proto_time.h"
#include "services/common/random.h"
#include "services/common/rpc_metrics.h"
#include "services/common/secrets.h"
#include "tests/util/metric_value.h"
#include "tests/util/proc_stat.h"

namespace eid::audit {
namespace {

v1::AuditEvent Event(int i) {
  v1::AuditEvent e;
  ToProtoTime(absl::FromUnixSeconds(1790000000 + i), e.mutable_time());
  e.set_service("otp");
  e.set_action("otp.sent");
  e.set_outcome(v1::AUDIT_OUTCOME_SUCCESS);
  e.set_actor("service:otp");
  e.set_subject(std::string(32, static_cast<char>('a' + i % 7)));
  e.set_request_id(absl::StrCat("req-", i));
  return e;
}

// The audit service on a fixed loopback port, started and stopped at will.
class AuditClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(getenv("TEST_TMPDIR"), "/",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    port_ = testing::FreeLoopbackPort();
    ASSERT_GT(port_, 0);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_),
                                   grpc::InsecureChannelCredentials());
    ASSERT_TRUE(EnsureDevSecretFile(dir_ + "/keys/seed", 32, SystemRandom::Get()).ok());
  }
  void TearDown() override {
    client_.reset();
    StopAudit();
  }

  void StartAudit() {
    AuditServer::Options options;
    options.dir = dir_ + "/audit";
    options.signing_seed_file = dir_ + "/keys/seed";
    options.checkpoint_interval = absl::ZeroDuration();
    auto audit = AuditServer::Open(options, clock_);
    ASSERT_TRUE(audit.ok()) << audit.status();
    audit_ = std::move(*audit);
    GrpcServer::Options server_options;
    server_options.address = absl::StrCat("127.0.0.1:", port_);
    server_options.shutdown_grace = absl::Milliseconds(100);
    auto server = GrpcServer::Start(
        server_options, {{"eid.v1.AuditService", &audit_->service()}}, rpc_metrics_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  void StopAudit() {
    if (server_ != nullptr) server_->Shutdown();
    server_.reset();
    audit_.reset();
  }

  void StartClient(absl::Duration linger = AuditClient::Options().linger) {
    client_.reset();
    AuditClient::Options options;
    options.linger = linger;
    options.spool_dir = dir_ + "/spool";
    options.deadline = absl::Seconds(2);
    options.initial_backoff = absl::Milliseconds(10);
    options.max_backoff = absl::Milliseconds(50);
    auto client = AuditClient::Create(options, channel_, SystemRandom::Get(), metrics_);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
  }

  // Append calls the audit service has started.
  double Appends() {
    for (const prometheus::MetricFamily& f : server_registry_.Collect()) {
      if (f.name != "grpc_server_started_total") continue;
      for (const prometheus::ClientMetric& m : f.metric) {
        for (const prometheus::ClientMetric::Label& l : m.label) {
          if (l.name == "grpc_method" && l.value == "Append") return m.counter.value;
        }
      }
    }
    return 0;
  }

  // Every event id in the log, with how often it is there.
  std::multiset<std::string> LoggedIds() {
    std::multiset<std::string> ids;
    for (uint32_t p = 0; p < audit_->log().partitions(); ++p) {
      const uint64_t n = audit_->log().TreeSize(p);
      if (n == 0) continue;
      auto leaves = audit_->log().ReadLeaves(p, 0, n);
      EXPECT_TRUE(leaves.ok());
      for (const auto& r : *leaves) ids.insert(r.event().event_id());
    }
    return ids;
  }

  FakeClock clock_;
  std::string dir_;
  int port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  prometheus::Registry metrics_;
  prometheus::Registry server_registry_;
  RpcMetrics rpc_metrics_{server_registry_};
  std::unique_ptr<AuditServer> audit_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<AuditClient> client_;
};

TEST_F(AuditClientTest, EventsAreSentAndAcknowledgedOnce) {
  StartAudit();
  StartClient();
  for (int i = 0; i < 120; ++i) ASSERT_TRUE(client_->Record(Event(i)).ok());
  ASSERT_TRUE(client_->Flush(absl::Seconds(20)));
  const std::multiset<std::string> ids = LoggedIds();
  EXPECT_EQ(ids.size(), 120u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 120u);
}

TEST_F(AuditClientTest, TheSpoolFillsWhileAuditIsDownAndDrainsWhenItReturns) {
  StartClient();  // Nothing listens on the port yet.
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(client_->Record(Event(i)).ok());
  EXPECT_FALSE(client_->Flush(absl::Milliseconds(300)));
  EXPECT_EQ(client_->pending(), 300);

  // The producer restarts while audit is still down: the spool survives.
  StartClient();
  EXPECT_EQ(client_->pending(), 300);
  for (int i = 300; i < 350; ++i) ASSERT_TRUE(client_->Record(Event(i)).ok());

  StartAudit();
  ASSERT_TRUE(client_->Flush(absl::Seconds(30))) << client_->pending() << " left";
  const std::multiset<std::string> ids = LoggedIds();
  EXPECT_EQ(ids.size(), 350u);  // Nothing lost,
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 350u);  // nothing twice.
}

TEST_F(AuditClientTest, TwoClientsInOneProcessReportTheirSpoolsApart) {
  StartClient();  // Its spool is ".../spool"; audit is down.
  AuditClient::Options options;
  options.spool_dir = dir_ + "/spool-denials";
  auto other = AuditClient::Create(options, channel_, SystemRandom::Get(), metrics_);
  ASSERT_TRUE(other.ok()) << other.status();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client_->Record(Event(i)).ok());
  ASSERT_TRUE((*other)->Record(Event(100)).ok());
  EXPECT_EQ(testing::MetricValue(metrics_, "audit_client_spool_events", "spool"), 3);
  EXPECT_EQ(testing::MetricValue(metrics_, "audit_client_spool_events", "spool-denials"), 1);
}

double Counter(prometheus::Registry& registry, const std::string& name) {
  for (const prometheus::MetricFamily& f : registry.Collect()) {
    if (f.name == name && !f.metric.empty()) return f.metric[0].counter.value;
  }
  return -1;
}

// Until the RocksDB ticker `sync_count` passes `n` (up to 20 s); its value.
uint64_t AwaitSyncsAbove(AuditClient& client, uint64_t n) {
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (client.spool_wal_syncs() <= n && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));  // Polling the sender's progress.
  }
  return client.spool_wal_syncs();
}

// While the audit service does not answer, the spool is the events' only
// copy: the sender fsyncs it, at once and then every linger that brought
// events. Once the service answers and keeps up, events wait for its commit
// instead and the spool is not fsync'd.
TEST_F(AuditClientTest, WhileAuditDoesNotAnswerTheSpoolIsFsyncedEveryLinger) {
  // Nothing listens on the port yet; after the first failed send the next
  // try is an hour away, so only the linger's syncs can follow.
  AuditClient::Options options;
  options.spool_dir = dir_ + "/spool";
  options.initial_backoff = absl::Hours(1);
  options.max_backoff = absl::Hours(1);
  auto client = AuditClient::Create(options, channel_, SystemRandom::Get(), metrics_);
  ASSERT_TRUE(client.ok()) << client.status();
  client_ = std::move(*client);
  const uint64_t at_open = client_->spool_wal_syncs();
  ASSERT_TRUE(client_->Record(Event(0)).ok());
  const uint64_t first = AwaitSyncsAbove(*client_, at_open);  // After the failed send.
  ASSERT_GT(first, at_open);
  for (int i = 1; i <= 10; ++i) ASSERT_TRUE(client_->Record(Event(i)).ok());
  EXPECT_GT(AwaitSyncsAbove(*client_, first), first);  // Not waiting for the next try.
  client_->StopSending();  // No sync from here: the counter has caught up.
  EXPECT_EQ(Counter(metrics_, "audit_client_spool_fsyncs_total"),
            static_cast<double>(client_->spool_wal_syncs() - at_open));

  StartClient();  // Retries soon; the spool is kept.
  StartAudit();
  ASSERT_TRUE(client_->Flush(absl::Seconds(30))) << client_->pending() << " left";
  const uint64_t drained = client_->spool_wal_syncs();
  for (int i = 11; i <= 15; ++i) ASSERT_TRUE(client_->Record(Event(i)).ok());
  ASSERT_TRUE(client_->Flush(absl::Seconds(30))) << client_->pending() << " left";
  EXPECT_EQ(client_->spool_wal_syncs(), drained);
  EXPECT_EQ(LoggedIds().size(), 16u);
}

// Without a linger, a sender whose sends fail still waits its backoff
// between tries (10 ms, doubling to 50 ms here), not none.
TEST_F(AuditClientTest, WithoutALingerFailedSendsStillBackOff) {
  StartClient(absl::ZeroDuration());  // Nothing listens on the port.
  ASSERT_TRUE(client_->Record(Event(0)).ok());
  EXPECT_FALSE(client_->Flush(absl::Milliseconds(300)));
  EXPECT_LE(Counter(metrics_, "audit_client_send_failures_total"), 12);
  EXPECT_GE(Counter(metrics_, "audit_client_send_failures_total"), 1);
}

// The sender resumes each batch where the last one ended; an event whose
// spool write finishes after a later one's is still sent.
TEST_F(AuditClientTest, EventsRecordedConcurrentlyWhileSendingAreAllSent) {
  StartAudit();
  StartClient();
  std::vector<std::thread> producers;
  for (int t = 0; t < 8; ++t) {
    producers.emplace_back([this, t] {
      for (int i = 0; i < 100; ++i) ASSERT_TRUE(client_->Record(Event(t * 100 + i)).ok());
    });
  }
  for (std::thread& p : producers) p.join();
  ASSERT_TRUE(client_->Flush(absl::Seconds(30))) << client_->pending() << " left";
  const std::multiset<std::string> ids = LoggedIds();
  EXPECT_EQ(ids.size(), 800u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 800u);
}

// Events that keep coming a few at a time (one step of a flow after
// another) go out at most about once a linger, not one Append (one commit
// and fsync of the audit service) per event or two.
TEST_F(AuditClientTest, ASteadyTrickleIsSentAboutOnceALinger) {
  StartAudit();
  const absl::Duration linger = absl::Milliseconds(50);
  StartClient(linger);
  const absl::Time start = absl::Now();
  for (int i = 0; i < 400; ++i) {
    ASSERT_TRUE(client_->Record(Event(i)).ok());
    absl::SleepFor(absl::Microseconds(750));  // The trickle's pace, not a wait.
  }
  ASSERT_TRUE(client_->Flush(absl::Seconds(30))) << client_->pending() << " left";
  const double lingers = (absl::Now() - start) / linger;
  EXPECT_LE(Appends(), lingers + 3);
  EXPECT_EQ(LoggedIds().size(), 400u);
}

// However long the linger, a full batch does not wait for it.
TEST_F(AuditClientTest, AFullBatchGoesAtOnce) {
  StartAudit();
  client_.reset();
  AuditClient::Options options;
  options.spool_dir = dir_ + "/spool";
  options.max_batch = 10;
  options.linger = absl::Hours(1);
  auto client = AuditClient::Create(options, channel_, SystemRandom::Get(), metrics_);
  ASSERT_TRUE(client.ok()) << client.status();
  client_ = std::move(*client);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(client_->Record(Event(i)).ok());
  ASSERT_TRUE(client_->Flush(absl::Seconds(20))) << client_->pending() << " left";
  EXPECT_EQ(LoggedIds().size(), 20u);
}

TEST_F(AuditClientTest, AResentBatchIsRecordedOnce) {
  StartAudit();
  StartClient();
  v1::AuditEvent e = Event(1);
  e.set_event_id("fixed-id");
  ASSERT_TRUE(client_->Record(e).ok());
  ASSERT_TRUE(client_->Flush(absl::Seconds(20)));
  // As if the acknowledgement had been lost and the spool sent it again.
  ASSERT_TRUE(client_->Record(e).ok());
  ASSERT_TRUE(client_->Flush(absl::Seconds(20)));
  EXPECT_EQ(LoggedIds().count("fixed-id"), 1u);
}

// An event the log would refuse — too large (caught here), or refused by
// the log (no actor) — would be refused forever: it is set aside in a file
// beside the spool, kept across a restart, and the events after it are sent.
TEST_F(AuditClientTest, EventsTheLogRefusesAreSetAsideAndTheRestIsSent) {
  StartAudit();
  StartClient(absl::ZeroDuration());
  v1::AuditEvent big = Event(0);
  (*big.mutable_attributes())["note"] = std::string(20 * 1024, 'x');
  big.set_event_id("big");
  v1::AuditEvent anonymous = Event(1);
  anonymous.clear_actor();
  anonymous.set_event_id("no-actor");
  ASSERT_TRUE(client_->Record(big).ok());
  ASSERT_TRUE(client_->Record(Event(2)).ok());
  ASSERT_TRUE(client_->Record(anonymous).ok());
  ASSERT_TRUE(client_->Record(Event(3)).ok());
  ASSERT_TRUE(client_->Flush(absl::Seconds(20)));
  EXPECT_EQ(LoggedIds().size(), 2u);
  std::vector<v1::AuditEvent> rejected = client_->RejectedEvents();
  ASSERT_EQ(rejected.size(), 2u);
  EXPECT_EQ(rejected[0].event_id(), "big");
  EXPECT_EQ(rejected[1].event_id(), "no-actor");
  EXPECT_EQ(testing::MetricValue(metrics_, "audit_client_rejected_events", "spool"), 2);
  EXPECT_EQ(Counter(metrics_, "audit_client_send_failures_total"), 0);

  // A crash in the middle of an append leaves a torn record: the restart
  // cuts it off, so what is set aside next still reads.
  client_.reset();
  std::ofstream(dir_ + "/spool.rejected", std::ios::binary | std::ios::app)
      << std::string("\x00\x00\x01\x00\x0a", 5);  // A length, and 1 of its 256 bytes.
  StartClient(absl::ZeroDuration());  // A restart: what was set aside stays.
  EXPECT_EQ(client_->RejectedEvents().size(), 2u);
  EXPECT_EQ(testing::MetricValue(metrics_, "audit_client_rejected_events", "spool"), 2);
  ASSERT_TRUE(client_->Record(Event(4)).ok());
  big.set_event_id("big-again");
  ASSERT_TRUE(client_->Record(big).ok());
  ASSERT_TRUE(client_->Flush(absl::Seconds(20)));
  EXPECT_EQ(LoggedIds().size(), 3u);
  rejected = client_->RejectedEvents();
  ASSERT_EQ(rejected.size(), 3u);
  EXPECT_EQ(rejected[2].event_id(), "big-again");
}

}  // namespace
}  // namespace eid::audit
