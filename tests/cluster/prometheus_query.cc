#include "tests/cluster/prometheus_query.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tests/util/http_get.h"

namespace eid::testing {
namespace {

std::string UrlEncode(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

const google::protobuf::Value* Field(const google::protobuf::Struct& s,
                                      const std::string& name) {
  auto it = s.fields().find(name);
  return it == s.fields().end() ? nullptr : &it->second;
}

}  // namespace

absl::StatusOr<std::vector<PromSample>> PromQuery(int port, const std::string& promql) {
  absl::StatusOr<std::string> body =
      HttpGet(port, "/api/v1/query?query=" + UrlEncode(promql));
  if (!body.ok()) return body.status();
  google::protobuf::Struct response;
  if (!google::protobuf::util::JsonStringToMessage(*body, &response).ok()) {
    return absl::InternalError(absl::StrCat("not JSON: ", *body));
  }
  const google::protobuf::Value* status = Field(response, "status");
  const google::protobuf::Value* data = Field(response, "data");
  if (status == nullptr || status->string_value() != "success" || data == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(promql, ": ", *body));
  }
  const google::protobuf::Value* type = Field(data->struct_value(), "resultType");
  const google::protobuf::Value* result = Field(data->struct_value(), "result");
  if (type == nullptr || type->string_value() != "vector" || result == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(promql, ": not a vector: ", *body));
  }
  std::vector<PromSample> out;
  for (const google::protobuf::Value& item : result->list_value().values()) {
    PromSample sample;
    if (const auto* metric = Field(item.struct_value(), "metric")) {
      for (const auto& [k, v] : metric->struct_value().fields()) {
        sample.labels[k] = v.string_value();
      }
    }
    // "value": [<unix time>, "<value>"].
    const google::protobuf::Value* value = Field(item.struct_value(), "value");
    if (value == nullptr || value->list_value().values_size() != 2 ||
        !absl::SimpleAtod(value->list_value().values(1).string_value(), &sample.value)) {
      return absl::InternalError(absl::StrCat(promql, ": bad sample in ", *body));
    }
    out.push_back(std::move(sample));
  }
  return out;
}

absl::StatusOr<double> AwaitPromSample(int port, const std::string& promql,
                                       absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string last = "no sample";
  do {
    absl::StatusOr<std::vector<PromSample>> samples = PromQuery(port, promql);
    if (samples.ok() && !samples->empty()) return (*samples)[0].value;
    if (!samples.ok()) last = samples.status().ToString();
    absl::SleepFor(absl::Milliseconds(200));  // Waiting on a real server's scrapes.
  } while (absl::Now() < deadline);
  return absl::DeadlineExceededError(absl::StrCat(promql, ": ", last));
}

}  // namespace eid::testing
