// An OTP SMS goes through the SMS queue and KannelSmsSender to a real Kannel:
// bearerbox and smsbox with a fake SMSC (Kannel's own test tool, fakesmsc,
// which prints every message the SMSC receives). Everything listens on free
// loopback ports and is stopped at the end, on failure too.
//
// Delivery reports: Kannel 1.4.5's fake SMSC (gw/smsc/smsc_fake.c) answers
// every message that asked for a final report (dlr-mask 1 or 2) with a
// "delivered" report (type 1) once fakesmsc has it, so the whole path runs
// for real: bearerbox's DLR store, smsbox's GET of our dlr-url, DlrReceiver.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/common/clock.h"
#include "services/common/proto_time.h"
#include "services/common/random.h"
#include "services/common/secrets.h"
#include "services/common/status.h"
#include "services/otp/dlr_http_server.h"
#include "services/otp/dlr_receiver.h"
#include "services/otp/http_client.h"
#include "services/otp/kannel_dlr.h"
#include "services/otp/kannel_sms_sender.h"
#include "services/otp/otp_engine.h"
#include "services/otp/sms_queue.h"
#include "storage/shard/rocksdb_kv_store.h"
#include "tests/util/subprocess.h"

namespace eid::otp {
namespace {

constexpr char kBearerbox[] = "/usr/sbin/bearerbox";
constexpr char kSmsbox[] = "/usr/sbin/smsbox";
constexpr char kFakeSmsc[] = "/usr/lib/kannel/test/fakesmsc";

std::string TmpDir() { return getenv("TEST_TMPDIR"); }

// `n` distinct loopback ports nobody listens on now: each socket stays
// bound until all are chosen, or the kernel may hand out one port twice
// (seen: bearerbox's admin and smsbox ports the same, "Address already in
// use").
std::vector<int> FreePorts(int n) {
  std::vector<int> fds, ports;
  for (int i = 0; i < n; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    fds.push_back(fd);
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int fd : fds) close(fd);
  return ports;
}

bool Accepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok =
      connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

bool WaitUntil(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

class KannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* binary : {kBearerbox, kSmsbox, kFakeSmsc}) {
      ASSERT_EQ(access(binary, X_OK), 0)
          << binary << " is missing: apt-get install kannel kannel-extras";
    }
    const std::vector<int> ports = FreePorts(4);
    admin_port_ = ports[0];
    smsbox_port_ = ports[1];
    smsc_port_ = ports[2];
    sendsms_port_ = ports[3];
    const std::string dir = TmpDir();
    conf_ = dir + "/kannel.conf";
    std::ofstream(conf_) << absl::StrCat(
        "group = core\n"
        "admin-port = ",
        admin_port_,
        "\n"
        "admin-password = admin\n"
        "admin-interface = 127.0.0.1\n"
        "smsbox-port = ",
        smsbox_port_,
        "\n"
        "box-allow-ip = 127.0.0.1\n"
        "log-file = \"",
        dir,
        "/bearerbox.log\"\n"
        "log-level = 0\n"
        "\n"
        "group = smsc\n"
        "smsc = fake\n"
        "smsc-id = fake\n"
        "host = 127.0.0.1\n"
        "port = ",
        smsc_port_,
        "\n"
        "connect-allow-ip = 127.0.0.1\n"
        "\n"
        "group = smsbox\n"
        "bearerbox-host = 127.0.0.1\n"
        "bearerbox-port = ",
        smsbox_port_,
        "\n"
        "sendsms-port = ",
        sendsms_port_,
        "\n"
        "sendsms-interface = 127.0.0.1\n"
        "log-file = \"",
        dir,
        "/smsbox.log\"\n"
        "log-level = 0\n"
        "\n"
        "group = sendsms-user\n"
        "username = eid\n"
        "password = s3cret\n"
        "max-messages = 3\n"
        "concatenation = true\n");

    auto bearerbox = testing::Subprocess::Start({kBearerbox, "-v", "1", conf_},
                                                dir + "/bearerbox.out");
    ASSERT_TRUE(bearerbox.ok()) << bearerbox.status();
    bearerbox_ = *std::move(bearerbox);
    ASSERT_TRUE(
        WaitUntil([&] { return Accepts(smsbox_port_) && Accepts(smsc_port_); },
                  absl::Seconds(15)))
        << testing::ReadFile(dir + "/bearerbox.out");
    // The fake SMSC: connects to bearerbox, generates no messages (-m 0)
    // and prints each one it receives as "Got message N: <from to text ...>".
    smsc_out_ = dir + "/fakesmsc.out";
    auto smsc = testing::Subprocess::Start(
        {kFakeSmsc, "-H", "127.0.0.1", "-r", std::to_string(smsc_port_), "-i",
         "1", "-m", "0", "100 200 text nop"},
        smsc_out_);
    ASSERT_TRUE(smsc.ok()) << smsc.status();
    fakesmsc_ = *std::move(smsc);
    auto smsbox = testing::Subprocess::Start({kSmsbox, "-v", "1", conf_},
                                             dir + "/smsbox.out");
    ASSERT_TRUE(smsbox.ok()) << smsbox.status();
    smsbox_ = *std::move(smsbox);
    ASSERT_TRUE(
        WaitUntil([&] { return Accepts(sendsms_port_); }, absl::Seconds(15)))
        << testing::ReadFile(dir + "/smsbox.out");

    store_path_ = dir + "/store";
    storage::RocksDbKvStore::Options store;
    store.path = store_path_;
    auto kv = storage::RocksDbKvStore::Open(store, Clock::Real());
    ASSERT_TRUE(kv.ok()) << kv.status();
    kv_ = *std::move(kv);
    pepper_ = dir + "/pepper";
    ASSERT_TRUE(EnsureDevSecretFile(pepper_, 32, SystemRandom::Get()).ok());
    dlr_key_ = dir + "/sms_dlr_key";
    ASSERT_TRUE(EnsureDevSecretFile(dlr_key_, 32, SystemRandom::Get()).ok());
  }

  void TearDown() override {
    // Stopped in reverse order; the destructors SIGKILL whatever is left.
    for (auto* p : {&smsbox_, &fakesmsc_, &bearerbox_}) {
      if (*p == nullptr) continue;
      (*p)->Signal(SIGTERM);
      (void)(*p)->Wait(absl::Seconds(5));
      p->reset();  // SIGKILLs it if it did not stop.
    }
  }

  // `dlr_url`: where to ask smsbox to send delivery reports ("" = none).
  std::unique_ptr<KannelSmsSender> Sender(const std::string& credentials,
                                          const std::string& dlr_url = "") {
    const std::string path =
        TmpDir() + "/kannel-credentials-" + std::to_string(++files_);
    std::ofstream(path) << credentials << "\n";
    chmod(path.c_str(), 0600);
    KannelSmsSender::Options options;
    options.host = "127.0.0.1";
    options.port = sendsms_port_;
    options.credentials_file = path;
    options.deadline = absl::Seconds(5);
    options.dlr_url = dlr_url;
    options.dlr_key_file = dlr_key_;
    auto sender = KannelSmsSender::Create(options);
    EXPECT_TRUE(sender.ok()) << sender.status();
    return sender.ok() ? *std::move(sender) : nullptr;
  }

  int admin_port_, smsbox_port_, smsc_port_, sendsms_port_;
  int files_ = 0;
  std::string conf_, smsc_out_, store_path_, pepper_, dlr_key_;
  std::unique_ptr<testing::Subprocess> bearerbox_, fakesmsc_, smsbox_;
  std::unique_ptr<storage::RocksDbKvStore> kv_;
  prometheus::Registry metrics_;
};

TEST_F(KannelTest, AnOtpSmsReachesTheSmscWithItsTextAndDestination) {
  std::unique_ptr<KannelSmsSender> sender = Sender("eid:s3cret");
  ASSERT_NE(sender, nullptr);
  SmsQueue queue(SmsQueue::Options(), *kv_, *sender, Clock::Real(),
                 SystemRandom::Get(), metrics_);
  OtpEngine::Options options;
  options.pepper_file = pepper_;
  auto engine = OtpEngine::Create(
      options, *kv_, queue, Clock::Real(), SystemRandom::Get(),
      [](const std::string&) { return v1::ACCOUNT_STATE_APPROVED; });
  ASSERT_TRUE(engine.ok()) << engine.status();
  queue.Start();

  v1::SendOtpRequest send;
  send.set_request_id("kannel-1");
  send.set_account_id("acc-kannel");
  send.set_phone("0912345678");
  send.set_purpose(v1::OTP_PURPOSE_ACTIVATION);
  absl::StatusOr<v1::SendOtpResponse> sent = (*engine)->SendOtp(send);
  ASSERT_TRUE(sent.ok()) << sent.status();

  // Kannel accepted it ...
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto s = queue.Status(sent->message_id());
        return s.ok() && s->state() == v1::DELIVERY_STATE_SENT;
      },
      absl::Seconds(20)))
      << queue.Status(sent->message_id())->last_error();
  EXPECT_EQ(queue.Status(sent->message_id())->transport(), "kannel");

  // ... and the SMSC received it, from VNeID to the normalised number.
  const std::regex got(
      "Got message [0-9]+: <VNeID \\+84912345678 text (VNeID: Ma OTP kich hoat "
      "tai khoan cua "
      "ban la ([0-9]{6})\\. Ma co hieu luc trong 5 phut\\. Khong chia se ma "
      "nay cho bat ky "
      "ai\\.)>");
  std::smatch m;
  std::string printed;
  ASSERT_TRUE(WaitUntil(
      [&] {
        printed = testing::ReadFile(smsc_out_);
        return std::regex_search(printed, m, got);
      },
      absl::Seconds(20)))
      << printed;
  const std::string code = m[2];
  queue.Stop();

  // The code the phone got is the code the engine accepts.
  v1::CheckOtpRequest check;
  check.set_otp_id(sent->otp_id());
  check.set_code(code);
  absl::StatusOr<v1::CheckOtpResponse> checked = (*engine)->CheckOtp(check);
  EXPECT_TRUE(checked.ok()) << checked.status();
}

TEST_F(KannelTest, RejectedCredentialsAreRetriedAndReportedWithTheHttpStatus) {
  std::unique_ptr<KannelSmsSender> sender = Sender("eid:wrong");
  ASSERT_NE(sender, nullptr);
  SmsQueue queue(SmsQueue::Options(), *kv_, *sender, Clock::Real(),
                 SystemRandom::Get(), metrics_);
  SmsQueue::Outgoing sms;
  sms.phone = "+84912345678";
  sms.text = "VNeID: test";
  absl::StatusOr<std::string> id = queue.Enqueue(sms);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(queue.RunOnce().ok());
  absl::StatusOr<v1::GetDeliveryStatusResponse> s = queue.Status(*id);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->state(), v1::DELIVERY_STATE_FAILED);
  EXPECT_EQ(s->last_error(), "kannel: HTTP 403");
  EXPECT_TRUE(s->has_next_attempt_at());
}

TEST_F(KannelTest, TheSmscsDeliveryReportMarksTheMessageDelivered) {
  auto listener = DlrHttpServer::Start("127.0.0.1:0");
  ASSERT_TRUE(listener.ok()) << listener.status();
  const int dlr_port = (*listener)->port();
  const std::string dlr_url =
      absl::StrCat("http://127.0.0.1:", dlr_port, kDlrPath);
  std::unique_ptr<KannelSmsSender> sender = Sender("eid:s3cret", dlr_url);
  ASSERT_NE(sender, nullptr);
  SmsQueue queue(SmsQueue::Options(), *kv_, *sender, Clock::Real(),
                 SystemRandom::Get(), metrics_);
  auto auth = DlrAuthenticator::FromFile(dlr_key_);
  ASSERT_TRUE(auth.ok()) << auth.status();
  DlrReceiver receiver(queue, *auth, nullptr, Clock::Real(), metrics_);
  (*listener)->Attach(&receiver);

  SmsQueue::Outgoing sms;
  sms.phone = "+84912345678";
  sms.text = "VNeID: tai khoan cua ban da duoc kich hoat.";
  absl::StatusOr<std::string> id = queue.Enqueue(sms);
  ASSERT_TRUE(id.ok()) << id.status();
  const absl::Time before = absl::Now();
  ASSERT_TRUE(queue.RunOnce().ok());

  // fakesmsc gets it; the fake SMSC reports "delivered"; smsbox calls us.
  absl::StatusOr<v1::GetDeliveryStatusResponse> s;
  ASSERT_TRUE(WaitUntil(
      [&] {
        s = queue.Status(*id);
        return s.ok() && s->state() == v1::DELIVERY_STATE_DELIVERED;
      },
      absl::Seconds(20)))
      << (s.ok() ? v1::DeliveryState_Name(s->state()) : s.status().ToString())
      << "\n" << testing::ReadFile(TmpDir() + "/smsbox.log");
  ASSERT_TRUE(s->has_delivered_at());
  const absl::Time delivered_at = FromProtoTime(s->delivered_at());
  EXPECT_GE(delivered_at, before - absl::Seconds(1));
  EXPECT_LE(delivered_at, absl::Now());
  EXPECT_EQ(s->attempts(), 1);

  // A report with a token made under another key is refused; nothing changes.
  const std::string forged = absl::StrCat(
      kDlrPath, "?id=", *id, "&n=1&auth=",
      DlrAuthenticator(std::string(32, 'f')).Token(*id, 1), "&type=", kDlrFailed);
  absl::StatusOr<HttpResponse> refused =
      HttpGet("127.0.0.1", dlr_port, forged, absl::Seconds(5));
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->status, 403);
  // The genuine report again (smsbox may repeat it): a duplicate.
  const std::string again = absl::StrCat(kDlrPath, "?id=", *id, "&n=1&auth=",
                                         auth->Token(*id, 1), "&type=1");
  absl::StatusOr<HttpResponse> duplicate =
      HttpGet("127.0.0.1", dlr_port, again, absl::Seconds(5));
  ASSERT_TRUE(duplicate.ok()) << duplicate.status();
  EXPECT_EQ(duplicate->status, 200);
  EXPECT_EQ(duplicate->body, "duplicate\n");
  s = queue.Status(*id);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->state(), v1::DELIVERY_STATE_DELIVERED);
  EXPECT_EQ(FromProtoTime(s->delivered_at()), delivered_at);
  listener->reset();  // Stops the listener before the receiver goes.
}

}  // namespace
}  // namespace eid::otp
