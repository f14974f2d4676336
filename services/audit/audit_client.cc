#include "services/audit/audit_client.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/client_context.h"
#include "rocksdb/statistics.h"
#include "rocksdb/write_batch.h"
#include "services/audit/audit_keys.h"
#include "services/audit/event_id.h"
#include "services/common/log.h"
#include "services/common/status.h"

namespace eid::audit {
namespace {

// The events of a rejected-events file, each once (a crash between its
// append and its removal from the spool appends it again), and in `whole`
// the length of its complete records (a crash mid-append leaves a torn
// last one).
std::vector<v1::AuditEvent> ReadRejectedFile(const std::string& path, size_t* whole) {
  std::vector<v1::AuditEvent> out;
  std::set<std::string> seen;
  std::ifstream in(path, std::ios::binary);
  const std::string content((std::istreambuf_iterator<char>(in)),
                            std::istreambuf_iterator<char>());
  size_t at = 0;
  while (at + 4 <= content.size()) {
    size_t n = 0;
    for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<unsigned char>(content[at + i]);
    if (at + 4 + n > content.size()) break;
    v1::AuditEvent& e = out.emplace_back();
    if (!e.ParseFromArray(content.data() + at + 4, static_cast<int>(n)) ||
        !seen.insert(e.event_id()).second) {
      out.pop_back();
    }
    at += 4 + n;
  }
  if (whole != nullptr) *whole = at;
  return out;
}

std::string SequenceKey(uint64_t sequence) {
  std::string key;
  PutBigEndian64(sequence, &key);
  return key;
}

// Each client's series apart: a process may run two (its role's, and its
// server's for denied calls), in one registry.
std::map<std::string, std::string> SpoolLabel(const std::string& spool_dir) {
  return {{"spool", std::filesystem::path(spool_dir).filename().string()}};
}

}  // namespace

AuditClient::AuditClient(const Options& options, Connect audit,
                         RandomSource& random, prometheus::Registry& metrics)
    : options_(options),
      connect_(std::move(audit)),
      random_(random),
      spool_events_(prometheus::BuildGauge()
                        .Name("audit_client_spool_events")
                        .Help("Audit events spooled locally, not yet acknowledged.")
                        .Register(metrics)
                        .Add(SpoolLabel(options.spool_dir))),
      sent_(prometheus::BuildCounter()
                .Name("audit_client_sent_total")
                .Help("Audit events the audit service acknowledged.")
                .Register(metrics)
                .Add(SpoolLabel(options.spool_dir))),
      failures_(prometheus::BuildCounter()
                    .Name("audit_client_send_failures_total")
                    .Help("Append calls to the audit service that failed.")
                    .Register(metrics)
                    .Add(SpoolLabel(options.spool_dir))),
      rejected_path_(options.spool_dir + ".rejected"),
      spool_fsyncs_(prometheus::BuildCounter()
                        .Name("audit_client_spool_fsyncs_total")
                        .Help("Fsyncs of the audit spool, made while the audit "
                              "service does not answer.")
                        .Register(metrics)
                        .Add(SpoolLabel(options.spool_dir))),
      rejected_(prometheus::BuildGauge()
                    .Name("audit_client_rejected_events")
                    .Help("Audit events the audit log would refuse (too large, a field "
                          "missing), set aside in <spool_dir>.rejected.")
                    .Register(metrics)
                    .Add(SpoolLabel(options.spool_dir))) {}

absl::StatusOr<std::unique_ptr<AuditClient>> AuditClient::Create(
    const Options& options, std::shared_ptr<grpc::Channel> audit, RandomSource& random,
    prometheus::Registry& metrics) {
  return Create(options, Connect([audit] { return audit; }), random, metrics);
}

absl::StatusOr<std::unique_ptr<AuditClient>> AuditClient::Create(
    const Options& options, Connect audit, RandomSource& random,
    prometheus::Registry& metrics) {
  std::unique_ptr<AuditClient> client(
      new AuditClient(options, std::move(audit), random, metrics));
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.statistics = rocksdb::CreateDBStatistics();  // For spool_wal_syncs().
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.spool_dir, &db);
  if (!s.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot open the audit spool at ", options.spool_dir, ": ", s.ToString()));
  }
  client->spool_.reset(db);
  // A torn last record is cut off, so that what is appended next reads.
  size_t whole = 0;
  client->rejected_.Set(ReadRejectedFile(client->rejected_path_, &whole).size());
  std::error_code error;
  if (std::filesystem::exists(client->rejected_path_, error) &&
      std::filesystem::file_size(client->rejected_path_, error) > whole) {
    std::filesystem::resize_file(client->rejected_path_, whole, error);
    if (error) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot repair ", client->rejected_path_, ": ", error.message()));
    }
  }
  // Count what a previous process left, and continue its sequence.
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  int64_t left = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++left;
  it->SeekToLast();
  uint64_t last = 0;
  if (it->Valid() && GetBigEndian64(absl::string_view(it->key().data(), it->key().size()),
                                    0, &last)) {
    absl::MutexLock lock(&client->mu_);
    client->next_sequence_ = last + 1;
  }
  client->pending_ = left;
  client->spool_events_.Set(left);
  client->sender_ = std::thread([c = client.get()] { c->SendLoop(); });
  return client;
}

AuditClient::~AuditClient() { StopSending(); }

void AuditClient::StopSending() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (sender_.joinable()) sender_.join();
}

absl::Status AuditClient::Record(v1::AuditEvent event) {
  if (event.event_id().empty()) event.set_event_id(NewEventId(random_));
  if (event.ByteSizeLong() > options_.max_event_bytes) {
    // The log would refuse it, and it would hold back all that follows.
    const absl::Status refused = absl::InvalidArgumentError(
        absl::StrCat("larger than ", options_.max_event_bytes, " bytes"));
    if (!SetAside("", event, refused)) {
      return absl::UnavailableError("audit: the rejected-events file cannot be written");
    }
    return absl::OkStatus();
  }
  uint64_t sequence;
  {
    absl::MutexLock lock(&mu_);
    sequence = next_sequence_++;
    writing_.insert(sequence);
  }
  // Not fsync'd here: a process crash keeps it (the OS has it), and within
  // about a linger either the audit service's group commit or the sender's
  // sync of the spool (SyncSpool) makes it durable; an fsync per event on
  // the caller's path would cost every request.
  rocksdb::Status s = spool_->Put(rocksdb::WriteOptions(), SequenceKey(sequence),
                                  event.SerializeAsString());
  if (s.ok()) spool_events_.Set(pending_.fetch_add(1) + 1);
  absl::MutexLock lock(&mu_);
  writing_.erase(sequence);
  if (!s.ok()) {
    log::Error("audit.spool_failed").With("error", s.ToString());
    return absl::UnavailableError(absl::StrCat("audit spool: ", s.ToString()));
  }
  ++wakeups_;
  return absl::OkStatus();
}

bool AuditClient::SendBatch() {
  // An operator copied the set-aside events off and removed the file.
  if (rejected_.Value() > 0 && !std::filesystem::exists(rejected_path_)) rejected_.Set(0);
  // Every sequence below `written` is in the spool before the iterator is
  // made (or was sent already); one at or above it may still be on its way.
  const uint64_t written = WrittenBelow();
  v1::AppendRequest request;
  std::vector<std::string> keys;
  std::vector<size_t> key_of_event;  // request.events(i) is under keys[key_of_event[i]].
  std::unique_ptr<rocksdb::Iterator> it(spool_->NewIterator(rocksdb::ReadOptions()));
  size_t batch_bytes = 0;
  for (it->Seek(SequenceKey(send_from_));
       it->Valid() && request.events_size() < options_.max_batch &&
       (keys.empty() || batch_bytes + it->value().size() <= options_.max_batch_bytes);
       it->Next()) {
    batch_bytes += it->value().size();
    keys.push_back(it->key().ToString());
    if (!request.add_events()->ParseFromArray(it->value().data(), it->value().size())) {
      // Unreadable: cannot be sent, and must not block the rest.
      log::Error("audit.spool_entry_unreadable").With("key", absl::BytesToHexString(keys.back()));
      request.mutable_events()->RemoveLast();
    } else {
      key_of_event.push_back(keys.size() - 1);
    }
  }
  if (keys.empty()) {
    send_from_ = std::max(send_from_, written);
    return true;
  }
  v1::AppendResponse response;
  if (request.events_size() > 0) {
    if (stub_ == nullptr) {
      std::shared_ptr<grpc::Channel> channel = connect_();
      if (channel == nullptr) {  // The audit service is not reachable yet.
        failures_.Increment();
        return false;
      }
      stub_ = v1::AuditService::NewStub(channel);
    }
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + options_.deadline));
    grpc::Status s = stub_->Append(&context, request, &response);
    if (!s.ok()) {
      const absl::Status refused = FromGrpcStatus(s);
      size_t index = 0;
      if (refused.code() == absl::StatusCode::kInvalidArgument &&
          absl::SimpleAtoi(MetadataOf(refused, "index"), &index) &&
          index < key_of_event.size()) {
        // That event will never be taken: set it aside, and go on.
        if (SetAside(keys[key_of_event[index]], request.events(index), refused)) return true;
      }
      failures_.Increment();
      return false;
    }
  }
  // Acknowledged (durable on the audit side): drop them here.
  rocksdb::WriteBatch done;
  for (const std::string& key : keys) done.Delete(key);
  if (!spool_->Write(rocksdb::WriteOptions(), &done).ok()) return false;
  uint64_t last = 0;
  GetBigEndian64(keys.back(), 0, &last);
  send_from_ = std::min(last + 1, written);
  sent_.Increment(request.events_size());
  spool_events_.Set(pending_.fetch_sub(keys.size()) - keys.size());
  return true;
}

bool AuditClient::SetAside(const std::string& key, const v1::AuditEvent& event,
                           const absl::Status& refused) {
  {
    // Appended as (4-byte big-endian length, the event), and fsync'd: it
    // leaves the spool for good. A write that fails part way is cut back,
    // so the file stays a run of whole records (a crash mid-append leaves
    // a torn last one, cut at the next open).
    absl::MutexLock lock(&rejected_mu_);
    const std::string bytes = event.SerializeAsString();
    std::string record;
    for (int shift = 24; shift >= 0; shift -= 8) {
      record.push_back(static_cast<char>((bytes.size() >> shift) & 0xff));
    }
    record += bytes;
    const bool created = !std::filesystem::exists(rejected_path_);
    const int fd = ::open(rejected_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
      log::Error("audit.rejected_file_failed").With("error", std::strerror(errno));
      return false;
    }
    struct stat before;
    int error = ::fstat(fd, &before) == 0 ? 0 : errno;
    for (size_t done = 0; error == 0 && done < record.size();) {
      const ssize_t n = ::write(fd, record.data() + done, record.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) error = n < 0 ? errno : EIO;
      if (n > 0) done += n;
    }
    if (error == 0 && ::fsync(fd) != 0) error = errno;
    if (error != 0 && ::ftruncate(fd, before.st_size) == 0) ::fsync(fd);
    ::close(fd);
    if (error == 0 && created) {  // Its directory entry, the first time.
      const std::string dir = std::filesystem::path(rejected_path_).parent_path().string();
      const int dir_fd =
          ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dir_fd < 0 || ::fsync(dir_fd) != 0) error = errno;
      if (dir_fd >= 0) ::close(dir_fd);
    }
    if (error != 0) {
      log::Error("audit.rejected_file_failed").With("error", std::strerror(error));
      return false;
    }
  }
  if (!key.empty()) {
    if (!spool_->Delete(rocksdb::WriteOptions(), key).ok()) return false;
    spool_events_.Set(pending_.fetch_sub(1) - 1);
  }
  rejected_.Increment();
  log::Error("audit.event_rejected")
      .With("event_id", event.event_id())
      .With("service", event.service())
      .With("action", event.action())
      .With(refused);
  return true;
}

std::vector<v1::AuditEvent> AuditClient::RejectedEvents() const {
  return ReadRejectedFile(rejected_path_, nullptr);
}

void AuditClient::SendLoop() {
  absl::Duration backoff = options_.initial_backoff;
  for (;;) {
    uint64_t seen = 0;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      seen = wakeups_;
    }
    if (pending_.load() > 0) {
      if (SendBatch()) {
        backoff = options_.initial_backoff;
        // A backlog of a full batch or more waits longer than a linger for
        // the audit service: the spool is its only copy meanwhile.
        if (pending_.load() >= options_.max_batch) SyncSpool();
        // Under a steady trickle, send at most once a linger: each Append
        // costs the audit service a commit.
        Linger();
        continue;
      }
      // The audit service is down or slow: the spool is the events' only
      // copy. It is synced now and every linger (without one: once) until
      // the next try.
      const absl::Time retry = absl::Now() + backoff;
      const absl::Duration step =
          options_.linger > absl::ZeroDuration() ? options_.linger : backoff;
      for (;;) {
        SyncSpool();
        absl::MutexLock lock(&mu_);
        const auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
        const absl::Duration wait = std::min(step, retry - absl::Now());
        if (stopping_ || wait <= absl::ZeroDuration()) break;
        if (mu_.AwaitWithTimeout(absl::Condition(&stop), wait)) break;
      }
      backoff = std::min(backoff * 2, options_.max_backoff);
      continue;
    }
    {  // Idle until Record() adds something (or shutdown).
      absl::MutexLock lock(&mu_);
      const auto woken = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || wakeups_ != seen;
      };
      mu_.Await(absl::Condition(&woken));
    }
    Linger();  // Lets the events that follow this one join its batch.
  }
}

uint64_t AuditClient::WrittenBelow() {
  absl::MutexLock lock(&mu_);
  return writing_.empty() ? next_sequence_ : *writing_.begin();
}

uint64_t AuditClient::spool_wal_syncs() const {
  return spool_->GetOptions().statistics->getTickerCount(rocksdb::WAL_FILE_SYNCED);
}

void AuditClient::SyncSpool() {
  const uint64_t upto = WrittenBelow();
  if (upto == synced_upto_) return;  // Nothing spooled since the last sync.
  const rocksdb::Status s = spool_->SyncWAL();
  if (!s.ok()) {
    log::Error("audit.spool_sync_failed").With("error", s.ToString());
    return;  // Tried again at the next sync.
  }
  synced_upto_ = upto;  // A Record still writing then is the next sync's.
  spool_fsyncs_.Increment();
}

void AuditClient::Linger() {
  if (options_.linger <= absl::ZeroDuration()) return;
  // A full batch goes at once; so does everything at shutdown.
  const auto stop_or_full = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || pending_.load() >= options_.max_batch;
  };
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stop_or_full), options_.linger);
}

bool AuditClient::Flush(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (pending_.load() > 0) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));  // Polling the sender's progress.
  }
  return true;
}

}  // namespace eid::audit
