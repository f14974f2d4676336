#include "services/common/secrets.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace eid {
namespace {

absl::Status MakeDirs(const std::string& dir) {
  if (dir.empty()) return absl::OkStatus();
  struct stat st;
  if (stat(dir.c_str(), &st) == 0) return absl::OkStatus();
  const size_t slash = dir.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    absl::Status parent = MakeDirs(dir.substr(0, slash));
    if (!parent.ok()) return parent;
  }
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", dir, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ReadSecretFile(const std::string& path,
                                           size_t min_bytes) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "secret file ", path, ": ", std::strerror(errno)));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || (st.st_mode & 0077) != 0) {
    close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "secret file ", path, " must not be readable by group or others "
        "(chmod 600)"));
  }
  std::string data;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) data.append(buf, n);
  close(fd);
  if (data.size() < min_bytes) {
    return absl::FailedPreconditionError(absl::StrCat(
        "secret file ", path, " holds ", data.size(), " bytes; need at least ",
        min_bytes));
  }
  return data;
}

absl::StatusOr<std::string> ReadOptionalSecretFile(const std::string& path,
                                                   size_t min_bytes) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || st.st_size == 0) return std::string();
  return ReadSecretFile(path, min_bytes);
}

absl::Status EnsureDevSecretFile(const std::string& path, size_t bytes,
                                 RandomSource& random) {
  const size_t slash = path.rfind('/');
  if (slash != std::string::npos) {
    absl::Status dirs = MakeDirs(path.substr(0, slash));
    if (!dirs.ok()) return dirs;
  }
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  const std::string secret = random.Bytes(bytes);
  const bool ok = write(fd, secret.data(), secret.size()) ==
                      static_cast<ssize_t>(secret.size()) &&
                  fsync(fd) == 0;
  close(fd);
  if (!ok) {
    unlink(path.c_str());
    return absl::FailedPreconditionError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

}  // namespace eid
