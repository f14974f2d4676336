#include "storage/replay/local_replay_guard.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace eid::storage {
namespace {

constexpr const char kHighWaterFile[] = "replay_high_water";

absl::Status WriteFileDurably(const std::string& path, const std::string& data) {
  const std::string tmp = path + ".tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno)));
  }
  const bool ok = write(fd, data.data(), data.size()) ==
                      static_cast<ssize_t>(data.size()) &&
                  fsync(fd) == 0;
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

absl::Time ReadHighWater(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::InfinitePast();
  char buf[32] = {};
  const ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  int64_t seconds = 0;
  if (n <= 0 || !absl::SimpleAtoi(absl::string_view(buf, n), &seconds)) {
    return absl::InfinitePast();
  }
  return absl::FromUnixSeconds(seconds);
}

uint32_t ToSeconds(absl::Time t) {
  const int64_t s = absl::ToUnixSeconds(t);
  return s < 0 ? 0 : s > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(s);
}

}  // namespace

absl::string_view ReplayVerdictName(ReplayVerdict verdict) {
  switch (verdict) {
    case ReplayVerdict::kFirst: return "FIRST";
    case ReplayVerdict::kReplayed: return "REPLAYED";
    case ReplayVerdict::kExpired: return "EXPIRED";
    case ReplayVerdict::kFenced: return "FENCED";
  }
  return "UNKNOWN";
}

absl::StatusOr<std::unique_ptr<LocalReplayGuard>> LocalReplayGuard::Create(
    const Options& options, Clock& clock) {
  if (mkdir(options.dir.c_str(), 0750) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create ", options.dir, ": ", std::strerror(errno)));
  }
  const std::string path = options.dir + "/" + kHighWaterFile;
  // The previous process may have accepted tokens up to its last mark plus
  // one maintenance interval.
  const absl::Time start = clock.Now();
  const absl::Time fence =
      std::max(start, ReadHighWater(path) + absl::Seconds(2));
  absl::Status s =
      WriteFileDurably(path, absl::StrCat(absl::ToUnixSeconds(fence)));
  if (!s.ok()) return s;
  auto guard = std::unique_ptr<LocalReplayGuard>(new LocalReplayGuard(
      options, clock,
      fence + options.allowed_skew + options.max_token_lifetime));
  absl::MutexLock lock(&guard->high_water_mu_);
  guard->high_water_ = absl::FromUnixSeconds(absl::ToUnixSeconds(fence));
  return guard;
}

LocalReplayGuard::LocalReplayGuard(const Options& options, Clock& clock,
                                   absl::Time fenced_until)
    : options_(options),
      clock_(clock),
      fenced_until_(fenced_until),
      table_(options.table) {}

absl::Status LocalReplayGuard::Validate(absl::string_view nonce,
                                        absl::Time expires_at,
                                        absl::Time now) const {
  if (nonce.size() != 16) {
    return InvalidArgument(v1::NONCE_INVALID,
                           absl::StrCat("a nonce is 16 bytes, not ", nonce.size()));
  }
  if (expires_at > now + options_.max_token_lifetime + options_.allowed_skew) {
    return InvalidArgument(v1::EXPIRY_INVALID,
                           "expires_at is further ahead than a token can live");
  }
  return absl::OkStatus();
}

ReplayVerdict LocalReplayGuard::CheckOne(absl::string_view nonce,
                                         absl::Time expires_at, absl::Time now) {
  if (expires_at <= fenced_until_) return ReplayVerdict::kFenced;
  // Kept until no verifier, however skewed, can still accept the token.
  switch (table_.CheckAndRecord(Nonce::FromBytes(nonce.data()),
                                ToSeconds(expires_at + options_.allowed_skew),
                                ToSeconds(now))) {
    case ReplayTable::Result::kFirst: return ReplayVerdict::kFirst;
    case ReplayTable::Result::kReplayed: return ReplayVerdict::kReplayed;
    case ReplayTable::Result::kExpired: return ReplayVerdict::kExpired;
  }
  return ReplayVerdict::kReplayed;
}

absl::StatusOr<ReplayVerdict> LocalReplayGuard::CheckAndRecord(
    absl::string_view nonce, absl::Time expires_at) {
  const absl::Time now = clock_.Now();
  if (absl::Status s = Validate(nonce, expires_at, now); !s.ok()) return s;
  return CheckOne(nonce, expires_at, now);
}

absl::StatusOr<std::vector<ReplayVerdict>> LocalReplayGuard::CheckAndRecordBatch(
    absl::Span<const ReplayCheck> checks) {
  const absl::Time now = clock_.Now();
  for (size_t i = 0; i < checks.size(); ++i) {
    absl::Status s = Validate(checks[i].nonce, checks[i].expires_at, now);
    if (!s.ok()) {
      return WithContext(s, absl::StrCat("checks[", i, "]"));
    }
  }
  std::vector<ReplayVerdict> out;
  out.reserve(checks.size());
  for (const ReplayCheck& c : checks) out.push_back(CheckOne(c.nonce, c.expires_at, now));
  return out;
}

absl::Status LocalReplayGuard::Maintain() {
  const absl::Time now = clock_.Now();
  // A full pass: expired entries stop costing memory within a second. It
  // reads the table sequentially (~40 MB for a million entries, a few ms).
  table_.Sweep(ToSeconds(now), SIZE_MAX);
  absl::MutexLock lock(&high_water_mu_);
  high_water_ = std::max(high_water_, now);
  return WriteFileDurably(options_.dir + "/" + kHighWaterFile,
                          absl::StrCat(absl::ToUnixSeconds(high_water_)));
}

}  // namespace eid::storage
