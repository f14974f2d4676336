#include "tools/eidctl/audit.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "eid/v1/audit.grpc.pb.h"
#include "services/audit/checkpoint_signer.h"
#include "services/audit/merkle.h"

ABSL_FLAG(std::string, audit_trusted_keys, "",
          "audit verify: a file of the checkpoint-signing public keys to trust "
          "(hex, one a line, # comments), obtained apart from the server; "
          "checkpoints signed by any other key are TAMPERED. Unset: the keys "
          "the server lists.");
ABSL_FLAG(std::string, audit_witness_dir, "",
          "audit verify: a directory where each partition's latest verified "
          "checkpoint is kept; the next run proves the log still extends it "
          "(a consistency proof), so a tail removed or rewritten with its "
          "checkpoints is TAMPERED.");

namespace eid::ctl {
namespace {

using audit::Hash;

constexpr uint64_t kLeavesPerRead = 1000;

bool ToHash(const std::string& bytes, Hash* out) {
  if (bytes.size() != out->size()) return false;
  std::copy(bytes.begin(), bytes.end(), out->begin());
  return true;
}

// A proof's hashes as served; false if one is not 32 bytes.
bool ToHashes(const google::protobuf::RepeatedPtrField<std::string>& served,
              std::vector<Hash>* out) {
  out->assign(served.size(), Hash{});
  for (int i = 0; i < served.size(); ++i) {
    if (!ToHash(served[i], &(*out)[i])) return false;
  }
  return true;
}

// What one partition's check found.
struct Finding {
  uint32_t partition = 0;
  uint64_t leaves = 0;
  size_t checkpoints = 0;
  bool ok = true;
  int64_t first_bad_index = -1;  // The first leaf that differs, if known.
  bool unchecked = false;        // A call failed: nothing is known either way.
  std::string problem;           // Empty when ok.
  v1::Checkpoint latest;         // The last checkpoint checked, if any.

  void Fail(std::string what, int64_t index = -1) {
    if (!ok) return;  // The first problem is the one to report.
    ok = false;
    problem = std::move(what);
    first_bad_index = index;
  }

  // The server did not answer: the partition could not be checked, which is
  // not evidence of tampering.
  void CouldNotCheck(std::string what) {
    Fail(std::move(what));
    unchecked = true;
  }
};

class Verifier {
 public:
  explicit Verifier(const CommandContext& ctx)
      : ctx_(ctx), stub_(v1::AuditService::NewStub(ctx.channel)) {}

  bool LoadKeys(std::string* error) {
    v1::GetCheckpointKeysResponse keys;
    grpc::Status s = stub_->GetCheckpointKeys(ctx_.NewCall().get(), {}, &keys);
    if (!s.ok()) {
      *error = s.error_message();
      return false;
    }
    keys_.clear();
    for (const v1::VerificationKey& key : keys.keys()) {
      if (trusted_.empty() || trusted_.contains(key.public_key())) keys_.push_back(key);
    }
    return true;
  }

  // Reads --audit_trusted_keys; false (with `error`) if unreadable or a line
  // is not a 32-byte key in hex.
  bool LoadTrustedKeys(const std::string& path, std::string* error) {
    std::ifstream in(path);
    if (!in) {
      *error = absl::StrCat("cannot read ", path);
      return false;
    }
    std::string line;
    while (std::getline(in, line)) {
      const absl::string_view key = absl::StripAsciiWhitespace(line);
      if (key.empty() || key[0] == '#') continue;
      const std::string bytes = absl::HexStringToBytes(key);
      if (key.size() != 64 || absl::BytesToHexString(bytes) != absl::AsciiStrToLower(key)) {
        *error = absl::StrCat(path, ": not a 32-byte key in hex: ", key);
        return false;
      }
      trusted_.insert(bytes);
    }
    if (trusted_.empty()) {
      *error = absl::StrCat(path, " names no key");
      return false;
    }
    return true;
  }

  // With --audit_witness_dir: the log must still extend the checkpoint kept
  // there for this partition; then the latest one checked is kept instead.
  void CheckWitness(const std::string& dir, Finding* f) {
    if (!f->ok) return;
    const std::string path = WitnessPath(dir, f->partition);
    std::ifstream in(path, std::ios::binary);
    if (!in && f->checkpoints == 0) return;  // Nothing seen, nothing to keep.
    if (in) {
      std::stringstream bytes;
      bytes << in.rdbuf();
      v1::Checkpoint witnessed;
      if (!witnessed.ParseFromString(bytes.str())) {
        f->CouldNotCheck(absl::StrCat(path, " is not a checkpoint"));
        return;
      }
      // Checked when it was kept; its key need not be served now (a
      // server that dropped it to hide a rewrite is found by Extends).
      if (witnessed.partition() != f->partition || witnessed.root_hash().size() != 32) {
        f->CouldNotCheck(absl::StrCat(path, " is not a checkpoint of this partition"));
        return;
      }
      if (f->checkpoints == 0) {
        f->Fail(absl::StrCat("the log has no checkpoint, but one of size ",
                             witnessed.tree_size(), " was witnessed before"));
        return;
      }
      if (!Extends(witnessed, f->latest, f)) return;
    }
    if (!KeepDurably(dir, path, f->latest.SerializeAsString())) {
      f->CouldNotCheck(absl::StrCat("cannot keep the checkpoint in ", path));
    }
  }

  // Writes `bytes` to `path` in `dir` (made if missing) so that a crash
  // leaves the old file or the new one: a temporary file, fsync'd, renamed
  // over it, and the directory fsync'd.
  static bool KeepDurably(const std::string& dir, const std::string& path,
                          const std::string& bytes) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    const std::string temp = absl::StrCat(path, ".", getpid(), ".new");
    const int fd =
        open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return false;
    const bool written = write(fd, bytes.data(), bytes.size()) ==
                             static_cast<ssize_t>(bytes.size()) &&
                         fsync(fd) == 0;
    close(fd);
    if (!written || rename(temp.c_str(), path.c_str()) != 0) {
      unlink(temp.c_str());
      return false;
    }
    const int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) return false;
    const bool synced = fsync(dir_fd) == 0;
    close(dir_fd);
    return synced;
  }


  bool Partitions(std::vector<uint32_t>* out, std::string* error) {
    v1::ListPartitionsResponse list;
    grpc::Status s = stub_->ListPartitions(ctx_.NewCall().get(), {}, &list);
    if (!s.ok()) {
      *error = s.error_message();
      return false;
    }
    for (const v1::Checkpoint& c : list.checkpoints()) out->push_back(c.partition());
    return true;
  }

  Finding Check(uint32_t partition) {
    Finding f;
    f.partition = partition;
    std::vector<v1::Checkpoint> checkpoints;
    if (!ListCheckpoints(partition, &checkpoints, &f)) return f;
    f.checkpoints = checkpoints.size();
    for (size_t k = 0; k < checkpoints.size(); ++k) {
      const v1::Checkpoint& c = checkpoints[k];
      if (c.partition() != partition) {
        f.Fail(absl::StrCat("a checkpoint of partition ", c.partition(), " is listed here"));
        return f;
      }
      // Listed in order, one root a size: each is then compared in turn
      // with the tree rebuilt (one out of order would skip the rest).
      if (k > 0 && (c.tree_size() < checkpoints[k - 1].tree_size() ||
                    (c.tree_size() == checkpoints[k - 1].tree_size() &&
                     c.root_hash() != checkpoints[k - 1].root_hash()))) {
        f.Fail(absl::StrCat("the checkpoint of size ", c.tree_size(),
                            " does not follow the one of size ",
                            checkpoints[k - 1].tree_size()));
        return f;
      }
      absl::Status s = audit::VerifyCheckpoint(c, keys_);
      if (!s.ok()) {
        f.Fail(std::string(s.message()));
        return f;
      }
    }
    const uint64_t size = checkpoints.empty() ? 0 : checkpoints.back().tree_size();
    if (!checkpoints.empty()) f.latest = checkpoints.back();
    // Recompute the tree leaf by leaf; compare at every checkpoint.
    audit::CompactRange tree;
    std::vector<Hash> hashes;  // Leaf hashes since the last good checkpoint.
    size_t next = 0;
    uint64_t good = 0;
    for (; next < checkpoints.size() && checkpoints[next].tree_size() == 0; ++next) {
      Hash root{};
      if (!ToHash(checkpoints[next].root_hash(), &root) || root != audit::EmptyRootHash()) {
        f.Fail("a checkpoint of size 0 does not have the empty tree's root");
        return f;
      }
    }
    // Pages of kLeavesPerRead. A page the server cannot read whole
    // (DATA_LOSS: a leaf missing, or its stored entry altered so that it no
    // longer splits into its leaves) is read again one leaf at a time, each
    // checked as every other, to name the leaf.
    uint64_t one_at_a_time_until = 0;
    for (uint64_t start = 0; start < size && f.ok;) {
      const uint64_t per_read = start < one_at_a_time_until ? 1 : kLeavesPerRead;
      v1::ReadLeavesRequest read;
      read.set_partition(partition);
      read.set_start_index(start);
      read.set_end_index(std::min(size, start + per_read));
      v1::ReadLeavesResponse leaves;
      grpc::Status s = stub_->ReadLeaves(ctx_.NewCall().get(), read, &leaves);
      if (s.error_code() == grpc::StatusCode::DATA_LOSS && per_read > 1) {
        one_at_a_time_until = read.end_index();
        continue;
      }
      if (s.error_code() == grpc::StatusCode::DATA_LOSS) {
        f.leaves = tree.size();
        f.Fail(absl::StrCat("leaf ", start, " is missing or unreadable (", s.error_message(), ")"),
               static_cast<int64_t>(start));
        return f;
      }
      if (!s.ok()) {
        f.CouldNotCheck(
            absl::StrCat("reading leaves from ", start, ": ", s.error_message()));
        return f;
      }
      start = read.end_index();
      for (const v1::AuditRecord& leaf : leaves.records()) {
        const uint64_t i = tree.size();
        if (leaf.leaf_index() != i || leaf.partition() != partition) {
          f.Fail(absl::StrCat("leaf ", i, " claims to be leaf ", leaf.leaf_index(),
                              " of partition ", leaf.partition()),
                 static_cast<int64_t>(i));
        }
        const Hash h = audit::LeafHash(leaf.leaf_data());
        hashes.push_back(h);
        (void)tree.Append(h);
        while (next < checkpoints.size() && checkpoints[next].tree_size() == tree.size()) {
          Hash signed_root{};
          ToHash(checkpoints[next].root_hash(), &signed_root);
          if (tree.Root() != signed_root) {
            f.leaves = tree.size();
            FindChangedLeaf(partition, checkpoints[next], good, hashes, &f);
            return f;
          }
          good = tree.size();
          hashes.clear();
          ++next;
        }
      }
    }
    f.leaves = tree.size();
    if (f.ok && tree.size() != size) {
      f.Fail(absl::StrCat("the log returned ", tree.size(), " of ", size, " leaves"),
             static_cast<int64_t>(tree.size()));
    }
    if (f.ok && next != checkpoints.size()) {
      f.Fail(absl::StrCat("the checkpoint of size ", checkpoints[next].tree_size(),
                          " was never reached"));
    }
    return f;
  }

  static std::string WitnessPath(const std::string& dir, uint32_t partition) {
    return absl::StrCat(dir, "/partition-", partition, ".checkpoint");
  }

  // Partitions with a checkpoint kept in `dir`: checked even if the server
  // no longer lists them.
  static std::vector<uint32_t> WitnessedPartitions(const std::string& dir) {
    std::vector<uint32_t> out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      const std::string name = entry.path().filename().string();
      uint32_t p = 0;
      absl::string_view rest(name);
      if (absl::ConsumePrefix(&rest, "partition-") && absl::ConsumeSuffix(&rest, ".checkpoint") &&
          absl::SimpleAtoi(rest, &p)) {
        out.push_back(p);
      }
    }
    return out;
  }

 private:
  // Whether `later` (checked) extends `witnessed` (kept by an earlier run):
  // same root at the same size, else a consistency proof between the two.
  bool Extends(const v1::Checkpoint& witnessed, const v1::Checkpoint& later, Finding* f) {
    const std::string what = absl::StrCat("the checkpoint of size ", witnessed.tree_size(),
                                          " witnessed before");
    Hash first{}, second{};
    if (!ToHash(witnessed.root_hash(), &first) || !ToHash(later.root_hash(), &second)) {
      f->Fail(absl::StrCat(what, " or the latest has no root"));
      return false;
    }
    if (later.tree_size() < witnessed.tree_size()) {
      f->Fail(absl::StrCat("the log has ", later.tree_size(), " signed leaves, fewer than ",
                           what),
              static_cast<int64_t>(later.tree_size()));
      return false;
    }
    if (witnessed.tree_size() == 0) {  // Every tree extends the empty one.
      if (first == audit::EmptyRootHash()) return true;
      f->Fail(absl::StrCat(what, " does not have the empty tree's root"));
      return false;
    }
    if (later.tree_size() == witnessed.tree_size()) {
      if (first == second) return true;
      f->Fail(absl::StrCat("the log's root at size ", later.tree_size(), " differs from ",
                           what));
      return false;
    }
    v1::GetConsistencyProofRequest request;
    request.set_partition(f->partition);
    request.set_first_size(witnessed.tree_size());
    request.set_second_size(later.tree_size());
    v1::GetConsistencyProofResponse proof;
    grpc::Status s = stub_->GetConsistencyProof(ctx_.NewCall().get(), request, &proof);
    if (!s.ok()) {
      f->CouldNotCheck(absl::StrCat("proving it extends ", what, ": ", s.error_message()));
      return false;
    }
    std::vector<Hash> path;
    if (!ToHashes(proof.proof(), &path) ||
        !audit::VerifyConsistency(witnessed.tree_size(), later.tree_size(), first, second,
                                  path)
             .ok()) {
      f->Fail(absl::StrCat("the log no longer extends ", what));
      return false;
    }
    return true;
  }

  bool ListCheckpoints(uint32_t partition, std::vector<v1::Checkpoint>* out,
                       Finding* f) {
    v1::ListCheckpointsRequest request;
    request.set_partition(partition);
    request.mutable_page()->set_page_size(1000);
    do {
      v1::ListCheckpointsResponse page;
      grpc::Status s = stub_->ListCheckpoints(ctx_.NewCall().get(), request, &page);
      if (!s.ok()) {
        f->CouldNotCheck(absl::StrCat("listing checkpoints: ", s.error_message()));
        return false;
      }
      out->insert(out->end(), page.checkpoints().begin(), page.checkpoints().end());
      request.mutable_page()->set_page_token(page.next_page_token());
    } while (!request.page().page_token().empty());
    return true;
  }

  // The checkpoint's root differs from the recomputed one, and every leaf
  // before `good` matched an earlier checkpoint. The signed root is trusted:
  // the first leaf whose own bytes, with the server's audit path, do not
  // lead to it is the first one changed since the checkpoint was signed.
  void FindChangedLeaf(uint32_t partition, const v1::Checkpoint& checkpoint,
                       uint64_t good, const std::vector<Hash>& hashes, Finding* f) {
    Hash root{};
    ToHash(checkpoint.root_hash(), &root);
    const std::string where = absl::StrCat("the checkpoint of size ",
                                           checkpoint.tree_size());
    for (uint64_t i = good; i < checkpoint.tree_size(); ++i) {
      v1::GetInclusionProofRequest request;
      request.set_partition(partition);
      request.set_leaf_index(i);
      request.set_tree_size(checkpoint.tree_size());
      v1::GetInclusionProofResponse proof;
      grpc::Status s = stub_->GetInclusionProof(ctx_.NewCall().get(), request, &proof);
      if (!s.ok()) {
        f->CouldNotCheck(absl::StrCat("proving leaf ", i, ": ", s.error_message()));
        return;
      }
      std::vector<Hash> path;
      if (!ToHashes(proof.audit_path(), &path) ||
          !audit::VerifyInclusion(i, checkpoint.tree_size(), hashes[i - good], path, root)
               .ok()) {
        f->Fail(absl::StrCat("leaf ", i, " differs from what ", where, " signed"),
                static_cast<int64_t>(i));
        return;
      }
    }
    f->Fail(absl::StrCat(where, " does not match the leaves, but no single leaf "
                                "could be named"));
  }

  const CommandContext& ctx_;
  std::unique_ptr<v1::AuditService::Stub> stub_;
  std::vector<v1::VerificationKey> keys_;
  absl::flat_hash_set<std::string> trusted_;  // Raw public keys; empty: all.
};

int Verify(const CommandContext& ctx) {
  Verifier verifier(ctx);
  std::string error;
  std::vector<uint32_t> partitions;
  if (ctx.args.size() == 2) {
    uint32_t p = 0;
    if (!absl::SimpleAtoi(ctx.args[1], &p)) {
      std::fputs("usage: eidctl audit verify [PARTITION]\n", stderr);
      return 2;
    }
    partitions.push_back(p);
  } else if (!verifier.Partitions(&partitions, &error)) {
    std::fprintf(stderr, "eidctl: %s: %s\n", ctx.server.c_str(), error.c_str());
    return 1;
  }
  const std::string witness_dir = absl::GetFlag(FLAGS_audit_witness_dir);
  if (ctx.args.size() != 2 && !witness_dir.empty()) {
    for (uint32_t p : Verifier::WitnessedPartitions(witness_dir)) {
      if (std::find(partitions.begin(), partitions.end(), p) == partitions.end()) {
        partitions.push_back(p);
      }
    }
  }
  const std::string trusted = absl::GetFlag(FLAGS_audit_trusted_keys);
  if (!trusted.empty() && !verifier.LoadTrustedKeys(trusted, &error)) {
    std::fprintf(stderr, "eidctl: %s\n", error.c_str());
    return 2;
  }
  if (!verifier.LoadKeys(&error)) {
    std::fprintf(stderr, "eidctl: %s: %s\n", ctx.server.c_str(), error.c_str());
    return 1;
  }
  bool all_ok = true;
  std::string json = "{\"partitions\":[";
  for (size_t i = 0; i < partitions.size(); ++i) {
    Finding f = verifier.Check(partitions[i]);
    if (!witness_dir.empty()) verifier.CheckWitness(witness_dir, &f);
    all_ok = all_ok && f.ok;
    if (ctx.json) {
      absl::StrAppend(&json, i ? "," : "", "{\"partition\":", f.partition,
                      ",\"leaves\":", f.leaves, ",\"checkpoints\":", f.checkpoints,
                      ",\"ok\":", f.ok ? "true" : "false",
                      ",\"checked\":", f.unchecked ? "false" : "true");
      if (!f.ok) {
        absl::StrAppend(&json, ",\"first_bad_index\":", f.first_bad_index,
                        ",\"problem\":", JsonString(f.problem));
      }
      json += "}";
    } else if (f.ok) {
      std::printf("partition %u: %llu leaves, %zu checkpoints: intact\n", f.partition,
                  static_cast<unsigned long long>(f.leaves), f.checkpoints);
    } else if (f.unchecked) {
      std::printf("partition %u: COULD NOT CHECK: %s\n", f.partition, f.problem.c_str());
    } else {
      std::printf("partition %u: TAMPERED: %s\n", f.partition, f.problem.c_str());
    }
  }
  if (ctx.json) std::printf("%s],\"ok\":%s}\n", json.c_str(), all_ok ? "true" : "false");
  return all_ok ? 0 : 1;
}

}  // namespace

int Audit(const CommandContext& ctx) {
  if (!ctx.args.empty() && ctx.args[0] == "verify" && ctx.args.size() <= 2) {
    return Verify(ctx);
  }
  std::fputs("usage: eidctl audit verify [PARTITION]\n", stderr);
  return 2;
}

}  // namespace eid::ctl
