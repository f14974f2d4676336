#include "storage/router/shard_router.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"
#include "storage/router/shard_hash.h"
#include "storage/shard/shard_service.h"

namespace eid::storage {
namespace {

// A page token of a scan over every shard: "<shard>:<the shard's token>".
std::string AllShardsToken(uint32_t shard, const std::string& inner) {
  return absl::StrCat(shard, ":", inner);
}

bool ParseAllShardsToken(const std::string& token, uint32_t shards,
                         uint32_t* shard, std::string* inner) {
  const size_t colon = token.find(':');
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(token.substr(0, colon), shard) || *shard >= shards) {
    return false;
  }
  *inner = token.substr(colon + 1);
  return true;
}

v1::ReplayEntry ToEntry(const ReplayCheck& c) {
  v1::ReplayEntry e;
  e.set_nonce(c.nonce);
  ToProtoTime(c.expires_at, e.mutable_expires_at());
  return e;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ShardRouter>> ShardRouter::Create(
    std::vector<ShardChannel> shards, const Options& options) {
  if (shards.empty()) {
    return absl::InvalidArgumentError("the shard list is empty");
  }
  return std::unique_ptr<ShardRouter>(new ShardRouter(std::move(shards), options));
}

absl::StatusOr<std::unique_ptr<ShardRouter>> ShardRouter::Connect(
    const std::vector<std::string>& addresses, const Options& options) {
  std::vector<ShardChannel> shards;
  for (const std::string& address : addresses) {
    if (address.empty()) {
      return absl::InvalidArgumentError("empty address in the shard list");
    }
    std::shared_ptr<grpc::ChannelCredentials> credentials =
        options.credentials != nullptr ? options.credentials
                                       : grpc::InsecureChannelCredentials();
    shards.push_back({address, [address, credentials] {
                        return grpc::CreateChannel(address, credentials);
                      }});
  }
  return Create(std::move(shards), options);
}

ShardRouter::ShardRouter(std::vector<ShardChannel> shards, const Options& options)
    : options_(options) {
  for (ShardChannel& s : shards) {
    auto shard = std::make_unique<Shard>();
    shard->name = std::move(s.name);
    shard->connect = std::move(s.connect);
    shard->local = std::move(s.local);
    shards_.push_back(std::move(shard));
  }
}

ShardRouter::Shard& ShardRouter::Connected(uint32_t shard) {
  Shard& s = *shards_[shard];
  absl::call_once(s.connected, [&s] {
    s.stub = v1::ShardService::NewStub(s.connect());
    if (s.local) s.local_kv = s.local();
  });
  return s;
}

absl::Status ShardRouter::ShardError(uint32_t shard,
                                     const absl::Status& status) const {
  if (status.code() != absl::StatusCode::kUnavailable &&
      status.code() != absl::StatusCode::kDeadlineExceeded) {
    return status;
  }
  const std::string name = absl::StrCat(shard, " (", shards_[shard]->name, ")");
  return WithMetadata(
      Error(status.code(), v1::SHARD_UNAVAILABLE,
            absl::StrCat("shard ", name, " did not answer: ", status.message())),
      "shard", name);
}

template <typename Request, typename Response>
absl::StatusOr<Response> ShardRouter::CallShard(
    uint32_t shard, bool idempotent,
    grpc::Status (v1::ShardService::Stub::*method)(grpc::ClientContext*, const Request&,
                                                   Response*),
    const Request& request) {
  const int attempts = idempotent ? std::max(1, options_.max_attempts) : 1;
  absl::Duration backoff = options_.initial_backoff;
  absl::Status status;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + options_.deadline));
    Response out;
    status = FromGrpcStatus((StubOf(shard).*method)(&context, request, &out));
    if (status.ok()) return out;
    if (status.code() != absl::StatusCode::kUnavailable) break;
    if (attempt < attempts) {
      absl::SleepFor(backoff);  // Backoff between retries, not a test wait.
      backoff *= 2;
    }
  }
  return ShardError(shard, status);
}

template <typename Request, typename Response>
absl::StatusOr<Response> ShardRouter::CallKv(
    uint32_t shard, bool idempotent,
    absl::StatusOr<Response> (KvStore::*direct)(const Request&),
    grpc::Status (v1::ShardService::Stub::*method)(grpc::ClientContext*, const Request&,
                                                   Response*),
    const Request& request) {
  if (KvStore* local = LocalKv(shard)) {
    absl::StatusOr<Response> out = (local->*direct)(request);
    if (!out.ok()) return ShardError(shard, out.status());
    return out;
  }
  return CallShard(shard, idempotent, method, request);
}

absl::StatusOr<v1::GetResponse> ShardRouter::Get(const v1::GetRequest& r) {
  return CallKv(ShardOfKey(r.key(), shard_count()), true, &KvStore::Get,
                &v1::ShardService::Stub::Get, r);
}

absl::StatusOr<v1::PutResponse> ShardRouter::Put(const v1::PutRequest& r) {
  return CallKv(ShardOfKey(r.key(), shard_count()), true, &KvStore::Put,
                &v1::ShardService::Stub::Put, r);
}

absl::StatusOr<v1::DeleteResponse> ShardRouter::Delete(const v1::DeleteRequest& r) {
  return CallKv(ShardOfKey(r.key(), shard_count()), true, &KvStore::Delete,
                &v1::ShardService::Stub::Delete, r);
}

absl::StatusOr<v1::CompareAndSwapResponse> ShardRouter::CompareAndSwap(
    const v1::CompareAndSwapRequest& r) {
  return CallKv(ShardOfKey(r.key(), shard_count()), false, &KvStore::CompareAndSwap,
                &v1::ShardService::Stub::CompareAndSwap, r);
}

absl::StatusOr<v1::BatchResponse> ShardRouter::Batch(const v1::BatchRequest& r) {
  const uint32_t shard =
      r.mutations().empty() ? 0 : ShardOfKey(r.mutations(0).key(), shard_count());
  for (int i = 1; i < r.mutations_size(); ++i) {
    if (ShardOfKey(r.mutations(i).key(), shard_count()) != shard) {
      return WithMetadata(
          InvalidArgument(v1::BATCH_CROSSES_SHARDS,
                          absl::StrCat("mutations[", i,
                                       "] belongs to another shard than "
                                       "mutations[0]; a batch is atomic only "
                                       "within one routing key")),
          "index", absl::StrCat(i));
    }
  }
  return CallKv(shard, false, &KvStore::Batch, &v1::ShardService::Stub::Batch, r);
}

absl::StatusOr<v1::MultiGetResponse> ShardRouter::MultiGet(
    const v1::MultiGetRequest& r) {
  // Split by shard, remembering each key's place in the request.
  std::vector<v1::MultiGetRequest> parts(shard_count());
  std::vector<std::vector<int>> places(shard_count());
  for (int i = 0; i < r.keys_size(); ++i) {
    const uint32_t shard = ShardOfKey(r.keys(i).key(), shard_count());
    *parts[shard].add_keys() = r.keys(i);
    places[shard].push_back(i);
  }
  std::vector<v1::MultiGetResponse> answers(shard_count());
  std::vector<absl::Status> statuses(shard_count());
  // First attempt on every shard at once; retries (rare) one by one.
  {
    std::vector<std::unique_ptr<grpc::ClientContext>> contexts(shard_count());
    int calls = 0;
    for (uint32_t s = 0; s < shard_count(); ++s) {
      calls += !places[s].empty() && LocalKv(s) == nullptr;
    }
    absl::BlockingCounter done(calls);
    for (uint32_t s = 0; s < shard_count(); ++s) {
      if (places[s].empty() || LocalKv(s) != nullptr) continue;
      contexts[s] = std::make_unique<grpc::ClientContext>();
      contexts[s]->set_deadline(absl::ToChronoTime(absl::Now() + options_.deadline));
      StubOf(s).async()->MultiGet(
          contexts[s].get(), &parts[s], &answers[s],
          [&, s](grpc::Status status) {
            statuses[s] = FromGrpcStatus(status);
            done.DecrementCount();
          });
    }
    for (uint32_t s = 0; s < shard_count(); ++s) {
      if (places[s].empty() || LocalKv(s) == nullptr) continue;
      absl::StatusOr<v1::MultiGetResponse> local = LocalKv(s)->MultiGet(parts[s]);
      statuses[s] = local.status();
      if (local.ok()) answers[s] = std::move(*local);
    }
    done.Wait();
  }
  v1::MultiGetResponse out;
  out.mutable_results()->Reserve(r.keys_size());
  for (int i = 0; i < r.keys_size(); ++i) out.add_results();
  for (uint32_t s = 0; s < shard_count(); ++s) {
    if (places[s].empty()) continue;
    if (statuses[s].code() == absl::StatusCode::kUnavailable) {
      absl::StatusOr<v1::MultiGetResponse> retried =
          CallShard(s, true, &v1::ShardService::Stub::MultiGet, parts[s]);
      statuses[s] = retried.status();
      if (retried.ok()) answers[s] = std::move(*retried);
    }
    if (!statuses[s].ok()) return ShardError(s, statuses[s]);
    for (size_t k = 0; k < places[s].size(); ++k) {
      *out.mutable_results(places[s][k]) = std::move(*answers[s].mutable_results(k));
    }
  }
  return out;
}

absl::StatusOr<v1::ScanResponse> ShardRouter::Scan(const v1::ScanRequest& r) {
  if (!PrefixIsRouted(r.prefix())) return ScanAllShards(r);
  return CallKv(ShardOfKey(r.prefix(), shard_count()), true, &KvStore::Scan,
                &v1::ShardService::Stub::Scan, r);
}

absl::StatusOr<v1::ScanResponse> ShardRouter::ScanAllShards(
    const v1::ScanRequest& r) {
  uint32_t shard = 0;
  v1::ScanRequest request = r;
  request.clear_page_token();
  if (!r.page_token().empty() &&
      !ParseAllShardsToken(r.page_token(), shard_count(), &shard,
                           request.mutable_page_token())) {
    return InvalidArgument(v1::PAGE_TOKEN_INVALID,
                           "page_token does not belong to this scan");
  }
  // One shard's page per call; an empty shard moves on to the next.
  for (; shard < shard_count(); ++shard) {
    absl::StatusOr<v1::ScanResponse> scanned = CallKv(
        shard, true, &KvStore::Scan, &v1::ShardService::Stub::Scan, request);
    if (!scanned.ok()) return scanned.status();
    v1::ScanResponse& page = *scanned;
    if (!page.next_page_token().empty()) {
      page.set_next_page_token(AllShardsToken(shard, page.next_page_token()));
      return page;
    }
    if (page.records_size() > 0 || shard + 1 == shard_count()) {
      if (shard + 1 < shard_count()) {
        page.set_next_page_token(AllShardsToken(shard + 1, ""));
      }
      return page;
    }
    request.clear_page_token();
  }
  return v1::ScanResponse();
}

uint32_t ShardRouter::ShardOfNonce(absl::string_view nonce) const {
  return JumpConsistentHash(StableHash64(nonce), shard_count());
}

absl::StatusOr<ReplayVerdict> ShardRouter::CheckAndRecord(absl::string_view nonce,
                                                          absl::Time expires_at) {
  v1::CheckAndRecordRequest request;
  request.set_nonce(std::string(nonce));
  ToProtoTime(expires_at, request.mutable_expires_at());
  absl::StatusOr<v1::CheckAndRecordResponse> out = CallShard(
      ShardOfNonce(nonce), false, &v1::ShardService::Stub::CheckAndRecord, request);
  if (!out.ok()) return out.status();
  return FromReplayResult(out->result());
}

absl::StatusOr<std::vector<ReplayVerdict>> ShardRouter::CheckAndRecordOnShard(
    uint32_t shard, absl::Span<const ReplayCheck> checks) {
  v1::CheckAndRecordBatchRequest request;
  request.mutable_entries()->Reserve(checks.size());
  for (const ReplayCheck& c : checks) *request.add_entries() = ToEntry(c);
  absl::StatusOr<v1::CheckAndRecordBatchResponse> answered = CallShard(
      shard, false, &v1::ShardService::Stub::CheckAndRecordBatch, request);
  if (!answered.ok()) return answered.status();
  const v1::CheckAndRecordBatchResponse& out = *answered;
  if (out.results_size() != static_cast<int>(checks.size())) {
    return absl::InternalError(absl::StrCat("shard ", shard, " answered ",
                                            out.results_size(), " of ",
                                            checks.size(), " nonces"));
  }
  std::vector<ReplayVerdict> verdicts;
  verdicts.reserve(checks.size());
  for (int result : out.results()) {
    verdicts.push_back(FromReplayResult(static_cast<v1::ReplayResult>(result)));
  }
  return verdicts;
}

absl::StatusOr<std::vector<ReplayVerdict>> ShardRouter::CheckAndRecordBatch(
    absl::Span<const ReplayCheck> checks) {
  // Split by shard; each shard's part is sent on its own thread of the
  // callback API, all at once.
  std::vector<std::vector<ReplayCheck>> parts(shard_count());
  std::vector<std::vector<size_t>> places(shard_count());
  for (size_t i = 0; i < checks.size(); ++i) {
    const uint32_t shard = ShardOfNonce(checks[i].nonce);
    parts[shard].push_back(checks[i]);
    places[shard].push_back(i);
  }
  std::vector<v1::CheckAndRecordBatchRequest> requests(shard_count());
  std::vector<v1::CheckAndRecordBatchResponse> answers(shard_count());
  std::vector<absl::Status> statuses(shard_count());
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts(shard_count());
  int calls = 0;
  for (uint32_t s = 0; s < shard_count(); ++s) calls += !parts[s].empty();
  absl::BlockingCounter done(calls);
  for (uint32_t s = 0; s < shard_count(); ++s) {
    if (parts[s].empty()) continue;
    for (const ReplayCheck& c : parts[s]) *requests[s].add_entries() = ToEntry(c);
    contexts[s] = std::make_unique<grpc::ClientContext>();
    contexts[s]->set_deadline(absl::ToChronoTime(absl::Now() + options_.deadline));
    StubOf(s).async()->CheckAndRecordBatch(
        contexts[s].get(), &requests[s], &answers[s], [&, s](grpc::Status status) {
          statuses[s] = FromGrpcStatus(status);
          done.DecrementCount();
        });
  }
  done.Wait();
  std::vector<ReplayVerdict> out(checks.size(), ReplayVerdict::kReplayed);
  for (uint32_t s = 0; s < shard_count(); ++s) {
    if (parts[s].empty()) continue;
    if (!statuses[s].ok()) return ShardError(s, statuses[s]);
    if (answers[s].results_size() != static_cast<int>(parts[s].size())) {
      return absl::InternalError(absl::StrCat("shard ", s, " answered ",
                                              answers[s].results_size(), " of ",
                                              parts[s].size(), " nonces"));
    }
    for (size_t k = 0; k < parts[s].size(); ++k) {
      out[places[s][k]] = FromReplayResult(
          static_cast<v1::ReplayResult>(answers[s].results(k)));
    }
  }
  return out;
}

absl::StatusOr<v1::GetShardInfoResponse> ShardRouter::ShardInfo(uint32_t shard) {
  if (shard >= shard_count()) {
    return absl::InvalidArgumentError(absl::StrCat("no shard ", shard));
  }
  return CallShard(shard, true, &v1::ShardService::Stub::GetShardInfo,
                   v1::GetShardInfoRequest());
}

}  // namespace eid::storage
