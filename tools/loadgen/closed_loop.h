// A closed-loop load generator over gRPC's async client: a fixed number of
// calls in flight on one completion queue; each answer starts the next call
// until the run's time or its requests are used up. Benchmarks drive the
// real service and its peer with the same generator, side by side.
#ifndef EID_TOOLS_LOADGEN_CLOSED_LOOP_H_
#define EID_TOOLS_LOADGEN_CLOSED_LOOP_H_

#include <functional>
#include <memory>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/completion_queue.h"
#include "grpcpp/support/async_unary_call.h"
#include "tools/loadgen/latency_stats.h"

namespace eid::loadgen {

struct LoadOptions {
  int concurrency = 32;                       // Calls in flight.
  absl::Duration duration = absl::Seconds(5); // No new call after this.
  absl::Duration deadline = absl::Seconds(5); // Of each call.
};

template <typename Request, typename Response>
struct UnaryLoad {
  // Starts one call, e.g. `stub->PrepareAsyncVerifyQr(ctx, request, cq)`.
  std::function<std::unique_ptr<grpc::ClientAsyncResponseReader<Response>>(
      grpc::ClientContext*, const Request&, grpc::CompletionQueue*)>
      prepare;
  // Fills the next request; false when there is none left.
  std::function<bool(Request*)> next;
  // Whether an OK answer is the right one (e.g. the expected verdict).
  std::function<bool(const Response&)> check = [](const Response&) { return true; };
};

template <typename Request, typename Response>
LoadResult RunClosedLoop(const LoadOptions& options, const UnaryLoad<Request, Response>& load) {
  struct Slot {
    std::unique_ptr<grpc::ClientContext> context;
    Request request;
    Response response;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader;
    absl::Time started;
  };
  grpc::CompletionQueue cq;
  std::vector<Slot> slots(options.concurrency);
  const absl::Time start = absl::Now();
  const absl::Time stop_starting = start + options.duration;
  const auto launch = [&](Slot& slot) {
    slot.request = Request();
    if (absl::Now() >= stop_starting || !load.next(&slot.request)) return false;
    slot.context = std::make_unique<grpc::ClientContext>();
    slot.context->set_deadline(absl::ToChronoTime(absl::Now() + options.deadline));
    slot.response.Clear();
    slot.started = absl::Now();
    slot.reader = load.prepare(slot.context.get(), slot.request, &cq);
    slot.reader->StartCall();
    slot.reader->Finish(&slot.response, &slot.status, &slot);
    return true;
  };
  int in_flight = 0;
  for (Slot& slot : slots) in_flight += launch(slot) ? 1 : 0;
  LoadResult result;
  LatencyRecorder latencies;
  absl::Time last_answer = start;
  void* tag = nullptr;
  bool ok = false;
  while (in_flight > 0 && cq.Next(&tag, &ok)) {
    Slot& slot = *static_cast<Slot*>(tag);
    last_answer = absl::Now();
    latencies.Record(last_answer - slot.started);
    ++result.calls;
    ++result.codes[slot.status.error_code()];
    if (slot.status.ok() && !load.check(slot.response)) ++result.rejected;
    if (!launch(slot)) --in_flight;
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  result.elapsed = last_answer - start;
  latencies.Finish(result);
  return result;
}

}  // namespace eid::loadgen

#endif  // EID_TOOLS_LOADGEN_CLOSED_LOOP_H_
