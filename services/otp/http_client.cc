#include "services/otp/http_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace eid::otp {
namespace {

constexpr size_t kMaxResponse = 64 << 10;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Waits until `fd` is ready for `events` or `deadline` passes.
absl::Status WaitFor(int fd, short events, absl::Time deadline) {
  for (;;) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError("http: deadline exceeded");
    }
    pollfd p{fd, events, 0};
    const int n =
        ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (n > 0) return absl::OkStatus();
    if (n < 0 && errno != EINTR) {
      return absl::UnavailableError(
          absl::StrCat("http: poll: ", std::strerror(errno)));
    }
  }
}

// Connects to the first address of host:port that answers.
absl::StatusOr<int> Connect(const std::string& host, int port,
                            absl::Time deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  const std::string service = absl::StrCat(port);
  const int rc =
      ::getaddrinfo(host.c_str(), service.c_str(), &hints, &addresses);
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("http: resolve: ", gai_strerror(rc)));
  }
  absl::Status last = absl::UnavailableError("http: no address");
  for (addrinfo* a = addresses; a != nullptr; a = a->ai_next) {
    const int fd =
        ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                 a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      ::freeaddrinfo(addresses);
      return fd;
    }
    if (errno == EINPROGRESS) {
      absl::Status ready = WaitFor(fd, POLLOUT, deadline);
      int err = 0;
      socklen_t len = sizeof(err);
      if (ready.ok() &&
          ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
        ::freeaddrinfo(addresses);
        return fd;
      }
      last = ready.ok() ? absl::UnavailableError(absl::StrCat(
                              "http: connect: ", std::strerror(err)))
                        : ready;
    } else {
      last = absl::UnavailableError(
          absl::StrCat("http: connect: ", std::strerror(errno)));
    }
    ::close(fd);
    if (absl::IsDeadlineExceeded(last)) break;
  }
  ::freeaddrinfo(addresses);
  return last;
}

// Whether `raw` holds a whole response: the header block and, when it
// names one, Content-Length bytes of body.
bool Complete(const std::string& raw) {
  const size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(raw).substr(0, end), "\r\n")) {
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    if (absl::EqualsIgnoreCase(
            absl::StripAsciiWhitespace(line.substr(0, colon)),
            "content-length")) {
      size_t length;
      if (absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(colon + 1)),
                           &length)) {
        return raw.size() >= end + 4 + length;
      }
    }
  }
  return false;  // No length: the body ends when the server closes.
}

}  // namespace

absl::StatusOr<HttpResponse> HttpGet(const std::string& host, int port,
                                     absl::string_view target,
                                     absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<int> connected = Connect(host, port, deadline);
  if (!connected.ok()) return connected.status();
  Fd fd(*connected);
  const std::string request =
      absl::StrCat("GET ", target, " HTTP/1.0\r\nHost: ", host,
                   "\r\nConnection: close\r\n\r\n");
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd.get(), request.data() + sent,
                             request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += n;
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      absl::Status ready = WaitFor(fd.get(), POLLOUT, deadline);
      if (!ready.ok()) return ready;
    } else {
      return absl::UnavailableError(
          absl::StrCat("http: send: ", std::strerror(errno)));
    }
  }
  std::string raw;
  char buf[4096];
  while (raw.size() < kMaxResponse && !Complete(raw)) {
    const ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
    if (n > 0) {
      raw.append(buf, n);
    } else if (n == 0) {
      break;
    } else if (errno == EAGAIN || errno == EINTR) {
      absl::Status ready = WaitFor(fd.get(), POLLIN, deadline);
      if (!ready.ok()) return ready;
    } else {
      return absl::UnavailableError(
          absl::StrCat("http: recv: ", std::strerror(errno)));
    }
  }
  // "HTTP/1.x NNN reason"
  HttpResponse response;
  const size_t line_end = raw.find("\r\n");
  std::vector<absl::string_view> status_line = absl::StrSplit(
      absl::string_view(raw).substr(0, line_end), absl::MaxSplits(' ', 2));
  if (status_line.size() < 2 || !absl::StartsWith(status_line[0], "HTTP/") ||
      !absl::SimpleAtoi(status_line[1], &response.status)) {
    return absl::UnavailableError("http: the answer is not HTTP");
  }
  const size_t body = raw.find("\r\n\r\n");
  if (body != std::string::npos) response.body = raw.substr(body + 4);
  return response;
}

std::string UrlEncode(absl::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace eid::otp
