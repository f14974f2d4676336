// QrIssuer: the core of QrService — issues the one-minute identity token of
// an activated level-2 account with QR verification on, for the device of
// the caller's session, and publishes the keys that check it. Every issue,
// refused or not, is audited ("qr.issued") once the caller is known.
//
// Metrics (in the registry passed in):
//   eid_qr_issued_total{outcome="issued"|"refused"|"error"}
//
// Thread-safe.
#ifndef EID_SERVICES_QR_QR_ISSUER_H_
#define EID_SERVICES_QR_QR_ISSUER_H_

#include "absl/status/statusor.h"
#include "eid/v1/qr.pb.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "services/activation/session_client.h"
#include "services/audit/audit_client.h"
#include "services/common/clock.h"
#include "services/common/random.h"
#include "services/qr/qr_key_ring.h"

namespace eid::qr {

inline constexpr char kIssueQrMethod[] = "/eid.v1.QrService/IssueQr";

class QrIssuer {
 public:
  // Collaborators must outlive the issuer.
  QrIssuer(activation::SessionChecker& sessions, QrKeyRing& keys,
           audit::AuditSink& audit, Clock& clock, RandomSource& random,
           prometheus::Registry& metrics);

  // IssueQr (qr.proto lists the errors). Nothing is issued on any error.
  absl::StatusOr<v1::IssueQrResponse> IssueQr(const v1::IssueQrRequest& request);

  v1::GetVerificationKeysResponse GetVerificationKeys();

 private:
  // Checks the account and makes the token; the caller is already known.
  absl::StatusOr<v1::IssueQrResponse> IssueFor(const v1::Account& account,
                                               const v1::IssueQrRequest& request);
  absl::Status Audit(const absl::Status& outcome, const v1::AuthenticateSessionResponse& caller,
             const v1::IssueQrResponse* issued);

  activation::SessionChecker& sessions_;
  QrKeyRing& keys_;
  audit::AuditSink& audit_;
  Clock& clock_;
  RandomSource& random_;
  prometheus::Counter& issued_;
  prometheus::Counter& refused_;
  prometheus::Counter& errors_;
};

}  // namespace eid::qr

#endif  // EID_SERVICES_QR_QR_ISSUER_H_
