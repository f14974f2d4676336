#include "tools/eidctl/audit.h"

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "eid/v1/audit.grpc.pb.h"
#include "services/audit/checkpoint_signer.h"
#include "services/audit/merkle.h"

namespace eid::ctl {
namespace {

using audit::Hash;

constexpr uint64_t kLeavesPerRead = 1000;

bool ToHash(const std::string& bytes, Hash* out) {
  if (bytes.size() != out->size()) return false;
  std::copy(bytes.begin(), bytes.end(), out->begin());
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
    keys_.assign(keys.keys().begin(), keys.keys().end());
    return true;
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
    for (const v1::Checkpoint& c : checkpoints) {
      absl::Status s = audit::VerifyCheckpoint(c, keys_);
      if (!s.ok()) {
        f.Fail(std::string(s.message()));
        return f;
      }
    }
    const uint64_t size = checkpoints.empty() ? 0 : checkpoints.back().tree_size();
    // Recompute the tree leaf by leaf; compare at every checkpoint.
    audit::CompactRange tree;
    std::vector<Hash> hashes;  // Leaf hashes since the last good checkpoint.
    size_t next = 0;
    uint64_t good = 0;
    while (next < checkpoints.size() && checkpoints[next].tree_size() == 0) ++next;
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
    return f;
  }

 private:
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
      bool parsed = true;
      for (const std::string& h : proof.audit_path()) {
        path.emplace_back();
        parsed = parsed && ToHash(h, &path.back());
      }
      if (!parsed || !audit::VerifyInclusion(i, checkpoint.tree_size(),
                                             hashes[i - good], path, root)
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
  if (!verifier.LoadKeys(&error)) {
    std::fprintf(stderr, "eidctl: %s: %s\n", ctx.server.c_str(), error.c_str());
    return 1;
  }
  bool all_ok = true;
  std::string json = "{\"partitions\":[";
  for (size_t i = 0; i < partitions.size(); ++i) {
    const Finding f = verifier.Check(partitions[i]);
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
