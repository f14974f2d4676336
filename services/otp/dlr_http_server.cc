#include "services/otp/dlr_http_server.h"

#include <civetweb.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"

namespace eid::otp {
namespace {

// The value of `name` in the query string ("" if absent or too long).
std::string Var(const char* query, const char* name) {
  if (query == nullptr) return "";
  char value[256];
  const int n = mg_get_var(query, std::strlen(query), name, value, sizeof(value));
  return n < 0 ? "" : std::string(value, n);
}

void Send(mg_connection* conn, int status, const std::string& body) {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Length: %zu\r\n"
            "Connection: close\r\n\r\n",
            status, mg_get_response_code_text(conn, status), body.size());
  mg_write(conn, body.data(), body.size());
}

}  // namespace

absl::StatusOr<std::unique_ptr<DlrHttpServer>> DlrHttpServer::Start(
    const std::string& address) {
  if (address.rfind(':') == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--sms_dlr_address must be host:port, not \"", address,
                     "\""));
  }
  auto server = std::unique_ptr<DlrHttpServer>(new DlrHttpServer());
  const char* options[] = {"listening_ports", address.c_str(),
                           "num_threads",     "4",
                           "request_timeout_ms", "10000",
                           nullptr};
  mg_callbacks callbacks{};
  // Silences civetweb's own stderr logging; errors reach us through Start.
  callbacks.log_message = [](const mg_connection*, const char*) { return 1; };
  server->ctx_ = mg_start(&callbacks, nullptr, options);
  if (server->ctx_ == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("delivery-report listener: cannot listen on ", address));
  }
  mg_set_request_handler(server->ctx_, kDlrPath, &DlrHttpServer::Serve,
                         server.get());
  mg_server_port ports[1];
  if (mg_get_server_ports(server->ctx_, 1, ports) < 1) {
    return absl::UnavailableError("delivery-report listener: no port");
  }
  server->port_ = ports[0].port;
  return server;
}

DlrHttpServer::~DlrHttpServer() {
  if (ctx_ != nullptr) mg_stop(ctx_);
}

int DlrHttpServer::Serve(mg_connection* conn, void* self) {
  const mg_request_info* request = mg_get_request_info(conn);
  auto* server = static_cast<DlrHttpServer*>(self);
  if (std::strcmp(request->local_uri, kDlrPath) != 0) {
    Send(conn, 404, "not found\n");
    return 404;
  }
  if (std::strcmp(request->request_method, "GET") != 0) {
    Send(conn, 405, "GET only\n");
    return 405;
  }
  DlrReceiver* receiver = server->receiver_.load();
  if (receiver == nullptr) {
    Send(conn, 503, "starting\n");
    return 503;
  }
  const char* q = request->query_string;
  DlrQuery query{Var(q, "id"), Var(q, "n"), Var(q, "auth"), Var(q, "type")};
  const DlrReply reply = receiver->Handle(query, request->remote_addr);
  Send(conn, reply.status, reply.body);
  return reply.status;
}

}  // namespace eid::otp
