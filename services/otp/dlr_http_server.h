// DlrHttpServer: the otp role's own HTTP listener for delivery reports
// (civetweb). GET kDlrPath (kannel_dlr.h) goes to a DlrReceiver; anything
// else is 404. Plain HTTP: it is meant for smsbox on the cluster network,
// and the token in each URL, not the channel, is what makes a report
// believable. Thread-safe; destroying it stops the listener.
#ifndef EID_SERVICES_OTP_DLR_HTTP_SERVER_H_
#define EID_SERVICES_OTP_DLR_HTTP_SERVER_H_

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
  // if it cannot bind; INVALID_ARGUMENT if it is not host:port. `receiver`
  // must outlive the server.
  static absl::StatusOr<std::unique_ptr<DlrHttpServer>> Start(
      const std::string& address, DlrReceiver& receiver);
  ~DlrHttpServer();

  int port() const { return port_; }

 private:
  explicit DlrHttpServer(DlrReceiver& receiver) : receiver_(receiver) {}
  static int Serve(mg_connection* conn, void* self);

  DlrReceiver& receiver_;
  mg_context* ctx_ = nullptr;
  int port_ = 0;
};

}  // namespace eid::otp

#endif  // EID_SERVICES_OTP_DLR_HTTP_SERVER_H_
