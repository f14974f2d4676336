#include "services/common/secrets.h"

#include <sys/stat.h>

#include <fstream>

#include "gtest/gtest.h"

namespace eid {
namespace {

std::string TempPath(const std::string& name) {
  return std::string(getenv("TEST_TMPDIR")) + "/" + name;
}

TEST(SecretsTest, DevSecretIsCreatedOnceWithMode600) {
  DeterministicRandom random;
  const std::string path = TempPath("keys/nested/pepper");
  ASSERT_TRUE(EnsureDevSecretFile(path, 32, random).ok());
  auto first = ReadSecretFile(path);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->size(), 32u);
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_TRUE(EnsureDevSecretFile(path, 32, random).ok());
  EXPECT_EQ(*ReadSecretFile(path), *first);  // A restart keeps the key.
}

TEST(SecretsTest, RefusesMissingShortOrWorldReadableFiles) {
  EXPECT_EQ(ReadSecretFile(TempPath("absent")).status().code(),
            absl::StatusCode::kFailedPrecondition);

  const std::string short_path = TempPath("short");
  std::ofstream(short_path) << "abc";
  chmod(short_path.c_str(), 0600);
  EXPECT_EQ(ReadSecretFile(short_path).status().code(),
            absl::StatusCode::kFailedPrecondition);

  const std::string open_path = TempPath("open");
  std::ofstream(open_path) << std::string(64, 'k');
  chmod(open_path.c_str(), 0644);
  const absl::Status s = ReadSecretFile(open_path).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(s.message()).find("kkkk"), std::string::npos);
}

TEST(SecretsTest, AnOptionalSecretIsNoneWhenAbsentOrEmptyAndCheckedOtherwise) {
  EXPECT_EQ(*ReadOptionalSecretFile(TempPath("no_such")), "");
  const std::string empty = TempPath("empty");
  std::ofstream(empty).flush();
  chmod(empty.c_str(), 0600);
  EXPECT_EQ(*ReadOptionalSecretFile(empty), "");
  const std::string key = TempPath("accepted");
  std::ofstream(key) << std::string(32, 'a');
  chmod(key.c_str(), 0600);
  EXPECT_EQ(*ReadOptionalSecretFile(key), std::string(32, 'a'));
  chmod(key.c_str(), 0644);  // Present, so the usual rules hold.
  EXPECT_EQ(ReadOptionalSecretFile(key).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace eid
