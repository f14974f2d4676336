// DlrHttpServer: the otp role's own HTTP listener for delivery reports
// (civetweb). GET kDlrPath (kannel_dlr.h) goes to a DlrReceiver; anything
// else is 404. Plain HTTP: it is meant for smsbox on the cluster network,
// and the token in each URL, not the channel, is what makes a report
// believable. It listens before its receiver exists (the dlr-url holds the
// port, and the queue behind the receiver needs the sender that holds the
// dlr-url): until Attach, every report gets 503 and smsbox may retry.
// Thread-safe; destroying it stops the listener.
#ifndef EID_SERVICES_OTP_DLR_HTTP_SERVER_H_
#define EID_SERVICES_OTP_DLR_HTTP_SERVER_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/otp/dlr_receiver.h"

struct mg_context;
struct mg_connection;

namespace eid::otp {

class DlrHttpServer {
 public:
  // Listens on `address` ("host:port"; port 0 picks a free one). UNAVAILABLE
  // if it cannot bind; INVALID_ARGUMENT if it is not host:port.
  static absl::StatusOr<std::unique_ptr<DlrHttpServer>> Start(
      const std::string& address);
  ~DlrHttpServer();

  // Reports go to `receiver` from now on; it must outlive the server.
  void Attach(DlrReceiver* receiver) { receiver_.store(receiver); }

  int port() const { return port_; }

 private:
  DlrHttpServer() = default;
  static int Serve(mg_connection* conn, void* self);

  std::atomic<DlrReceiver*> receiver_{nullptr};
  mg_context* ctx_ = nullptr;
  int port_ = 0;
};

}  // namespace eid::otp

#endif  // EID_SERVICES_OTP_DLR_HTTP_SERVER_H_
