#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/otp/http_client.h"
#include "services/otp/kannel_sms_sender.h"
#include "services/otp/outbox_sms_sender.h"

namespace eid::otp {
namespace {

std::string TmpPath(const std::string& name) {
  return absl::StrCat(getenv("TEST_TMPDIR"), "/", name);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(OutboxSmsSenderTest, AppendsOneJsonLinePerSmsInA0600File) {
  FakeClock clock(absl::FromUnixSeconds(1735700000));
  const std::string path = TmpPath("outbox.jsonl");
  {
    auto outbox = OutboxSmsSender::Open(path, clock);
    ASSERT_TRUE(outbox.ok()) << outbox.status();
    EXPECT_EQ((*outbox)->name(), "outbox");
    ASSERT_TRUE((*outbox)
                    ->Send({"m0-1", "+84912345678", "VNeID: Ma OTP la 123456."})
                    .ok());
    ASSERT_TRUE((*outbox)->Send({"m1-2", "+84987654321", "say \"hi\"\n"}).ok());
  }
  EXPECT_EQ(ReadAll(path),
            "{\"time\":\"2025-01-01T02:53:20Z\",\"message_id\":\"m0-1\","
            "\"from\":\"VNeID\","
            "\"to\":\"+84912345678\",\"text\":\"VNeID: Ma OTP la 123456.\"}\n"
            "{\"time\":\"2025-01-01T02:53:20Z\",\"message_id\":\"m1-2\","
            "\"from\":\"VNeID\","
            "\"to\":\"+84987654321\",\"text\":\"say \\\"hi\\\"\\n\"}\n");
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  // A reopen appends.
  auto again = OutboxSmsSender::Open(path, clock);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE((*again)->Send({"m2-3", "+84912345678", "x"}).ok());
  EXPECT_NE(ReadAll(path).find("m0-1"), std::string::npos);
  EXPECT_NE(ReadAll(path).find("m2-3"), std::string::npos);
}

TEST(OutboxSmsSenderTest, UnwritableDirectoryFailsAtOpen) {
  FakeClock clock;
  EXPECT_EQ(
      OutboxSmsSender::Open("/nonexistent/dir/outbox", clock).status().code(),
      absl::StatusCode::kFailedPrecondition);
}

// A one-shot HTTP server on a loopback port: answers each connection with
// `reply` (or never, if empty) and keeps the last request.
class FakeHttpServer {
 public:
  explicit FakeHttpServer(std::string reply, int connections = 1)
      : reply_(std::move(reply)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(fd_, 4), 0);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, connections] {
      for (int i = 0; i < connections; ++i) {
        const int c = accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        std::string request;
        char buf[1024];
        while (request.find("\r\n\r\n") == std::string::npos) {
          const ssize_t n = read(c, buf, sizeof(buf));
          if (n <= 0) break;
          request.append(buf, n);
        }
        request_ = request;
        if (reply_.empty()) {
          done_.WaitForNotification();
        } else {
          (void)!write(c, reply_.data(), reply_.size());
        }
        close(c);
      }
    });
  }
  ~FakeHttpServer() {
    done_.Notify();
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  std::string request() const { return request_; }

 private:
  std::string reply_;
  int fd_;
  int port_;
  std::thread thread_;
  std::string request_;
  absl::Notification done_;
};

std::string CredentialsFile(const std::string& content) {
  const std::string path = TmpPath("kannel-" + std::to_string(getpid()) + "-" +
                                   std::to_string(content.size()));
  std::ofstream(path) << content;
  chmod(path.c_str(), 0600);
  return path;
}

TEST(HttpClientTest, UrlEncodesEverythingButUnreserved) {
  EXPECT_EQ(UrlEncode("a b+c/d:é~"), "a%20b%2Bc%2Fd%3A%C3%A9~");
}

TEST(KannelSmsSenderTest, SendsAnEncodedGetAndAccepts202) {
  FakeHttpServer server(
      "HTTP/1.1 202 Accepted\r\nContent-Length: 24\r\nConnection: "
      "Keep-Alive\r\n\r\n"
      "0: Accepted for delivery");
  KannelSmsSender::Options options;
  options.port = server.port();
  options.credentials_file = CredentialsFile("eid:s3cret&x\n");
  auto kannel = KannelSmsSender::Create(options);
  ASSERT_TRUE(kannel.ok()) << kannel.status();
  EXPECT_TRUE(
      (*kannel)->Send({"m0-1", "+84912345678", "Ma OTP la 123456."}).ok());
  EXPECT_EQ(
      server.request().substr(0, server.request().find("\r\n")),
      "GET /cgi-bin/sendsms?username=eid&password=s3cret%26x&from=VNeID"
      "&to=%2B84912345678&text=Ma%20OTP%20la%20123456.&charset=UTF-8&coding=0 "
      "HTTP/1.0");
}

TEST(KannelSmsSenderTest, OtherStatusesAreErrorsNamingTheStatus) {
  FakeHttpServer server("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
  KannelSmsSender::Options options;
  options.port = server.port();
  options.credentials_file = CredentialsFile("eid:wrong");
  auto kannel = KannelSmsSender::Create(options);
  ASSERT_TRUE(kannel.ok());
  const absl::Status s =
      (*kannel)->Send({"m0-1", "+84912345678", "secret text 123456"});
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "kannel: HTTP 403");
}

TEST(KannelSmsSenderTest, ASilentServerHitsTheDeadline) {
  FakeHttpServer server("");
  KannelSmsSender::Options options;
  options.port = server.port();
  options.credentials_file = CredentialsFile("eid:pw");
  options.deadline = absl::Milliseconds(300);
  auto kannel = KannelSmsSender::Create(options);
  ASSERT_TRUE(kannel.ok());
  const absl::Time start = absl::Now();
  const absl::Status s = (*kannel)->Send({"m0-1", "+84912345678", "x"});
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST(KannelSmsSenderTest, NobodyListeningIsUnavailable) {
  int port;
  {
    FakeHttpServer server("HTTP/1.0 200 OK\r\n\r\n", 0);
    port = server.port();
  }
  KannelSmsSender::Options options;
  options.port = port;
  options.credentials_file = CredentialsFile("eid:pw");
  auto kannel = KannelSmsSender::Create(options);
  ASSERT_TRUE(kannel.ok());
  const absl::Status s = (*kannel)->Send({"m0-1", "+84912345678", "x"});
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(s.message().find("+849"), absl::string_view::npos);
}

TEST(KannelSmsSenderTest, CredentialsMustBeUserColonPasswordInAPrivateFile) {
  KannelSmsSender::Options options;
  options.credentials_file = TmpPath("missing");
  EXPECT_EQ(KannelSmsSender::Create(options).status().code(),
            absl::StatusCode::kFailedPrecondition);
  options.credentials_file = CredentialsFile("no-colon-here");
  EXPECT_EQ(KannelSmsSender::Create(options).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace eid::otp
