// A main() for a libFuzzer target built without libFuzzer: runs every file
// of the directories (or files) named on the command line through
// LLVMFuzzerTestOneInput once, so `bazel test` covers a seed corpus with the
// same code the fuzzer runs. The target aborts on a broken invariant; this
// fails when it finds no input at all (a corpus that went missing).
#include <dirent.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

// The regular files at `path`: itself, or the entries of a directory.
std::vector<std::string> FilesAt(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return {};
  if (S_ISREG(st.st_mode)) return {path};
  std::vector<std::string> files;
  if (DIR* dir = opendir(path.c_str())) {
    while (dirent* entry = readdir(dir)) {
      const std::string name = entry->d_name;
      if (name == "." || name == "..") continue;
      for (const std::string& f : FilesAt(path + "/" + name))
        files.push_back(f);
    }
    closedir(dir);
  }
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 0;
  for (int i = 1; i < argc; ++i) {
    for (const std::string& file : FilesAt(argv[i])) {
      std::ifstream in(file, std::ios::binary);
      std::stringstream bytes;
      bytes << in.rdbuf();
      const std::string input = bytes.str();
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()),
                             input.size());
      ++runs;
    }
  }
  std::printf("fuzz_replay: ran %d inputs\n", runs);
  if (runs == 0) {
    std::fprintf(stderr, "fuzz_replay: no inputs found\n");
    return 1;
  }
  return 0;
}
