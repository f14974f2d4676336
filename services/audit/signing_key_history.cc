#include "services/audit/signing_key_history.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "rocksdb/write_batch.h"
#include "services/audit/audit_keys.h"
#include "services/common/proto_time.h"

namespace eid::audit {

absl::StatusOr<std::vector<v1::VerificationKey>> RecordSigningKey(
    rocksdb::DB& db, const v1::VerificationKey& current, absl::Time now) {
  std::vector<v1::VerificationKey> stored;
  const std::string prefix = SigningKeyPrefix();
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    v1::VerificationKey& key = stored.emplace_back();
    if (!key.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(
          absl::StrCat("a stored checkpoint key is unreadable: ", it->key().ToString(true)));
    }
  }
  if (!it->status().ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot read the checkpoint keys: ", it->status().ToString()));
  }

  rocksdb::WriteBatch batch;
  v1::VerificationKey now_signing = current;
  ToProtoTime(now, now_signing.mutable_not_before());
  bool store_current = true;
  std::vector<v1::VerificationKey> past;
  for (v1::VerificationKey& key : stored) {
    if (key.key_id() == current.key_id()) {
      // Signing again: it keeps the time it first signed.
      *now_signing.mutable_not_before() = key.not_before();
      store_current = key.has_signing_until();
      continue;
    }
    if (!key.has_signing_until()) {  // Replaced now.
      ToProtoTime(now, key.mutable_signing_until());
      batch.Put(SigningKeyKey(key.key_id()), key.SerializeAsString());
    }
    past.push_back(std::move(key));
  }
  if (store_current) {
    batch.Put(SigningKeyKey(current.key_id()), now_signing.SerializeAsString());
  }
  if (batch.Count() > 0) {
    rocksdb::WriteOptions sync;
    sync.sync = true;
    rocksdb::Status s = db.Write(sync, &batch);
    if (!s.ok()) {
      return absl::UnavailableError(
          absl::StrCat("cannot store the checkpoint keys: ", s.ToString()));
    }
  }
  std::sort(past.begin(), past.end(), [](const auto& a, const auto& b) {
    return FromProtoTime(a.not_before()) > FromProtoTime(b.not_before());
  });
  std::vector<v1::VerificationKey> keys = {now_signing};
  keys.insert(keys.end(), past.begin(), past.end());
  return keys;
}

}  // namespace eid::audit
