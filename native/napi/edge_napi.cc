// startEdgeEncode(plan, onProgress?) -> { promise, cancel() }: the edge encoder's forward over
// whole matrices on worker threads (lib/learned/native-encoder.ts builds the plan).
#include <napi.h>

#include "core/cpu_features.h"
#include "core/cuda_backend.h"
#include "core/edge_encoder_cpu.h"
#include "core/edge_encoder_cuda.h"
#include "core/error.h"
#include "napi/convert.h"
#include "napi/exports.h"
#include "napi/plan_convert.h"
#include "napi/promise_job.h"

namespace np_napi {
namespace {

// The CUDA forward where it was compiled in; elsewhere the same E_NO_CUDA, with the same
// reason, that cudaStatus() gives and the scan's device choice reports.
np::EdgeOutput encode_on_cuda(const np::EdgePlan& plan, const np::ScanControl& control) {
#if defined(NP_HAVE_CUDA)
  return np::edge_encode_cuda(plan, control);
#else
  (void)plan;
  (void)control;
  throw np::Error(np::ErrorCode::NoCuda, "edge encoder: device 'cuda': CUDA is not usable: " + np::cuda_status().reason);
#endif
}

class EdgeJob : public PromiseJob {
 public:
  EdgeJob(Napi::Env env, np::EdgePlan plan, bool use_cuda, Napi::Function on_progress)
      : PromiseJob(env, "neural-phylogeny:edge-encode", on_progress), plan_(std::move(plan)), use_cuda_(use_cuda) {}

 protected:
  void Compute() override {
    np::ScanControl control;
    control.cancel = CancelFlag();
    control.progress = ProgressCallback();
    output_ = use_cuda_ ? encode_on_cuda(plan_, control) : np::edge_encode_cpu(plan_, control);
  }

  double ProgressTotal() const override { return static_cast<double>(output_.bytes); }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    Napi::Float64Array values = Napi::Float64Array::New(env, output_.values.size());
    std::copy(output_.values.begin(), output_.values.end(), values.Data());
    result.Set("values", values);
    result.Set("isa", np::isa_name(output_.isa));
    result.Set("threads", output_.threads);
    result.Set("bytes", static_cast<double>(output_.bytes));
    result.Set("seconds", Seconds());
    result.Set("backend", output_.backend);
    result.Set("device", output_.device);
    return result;
  }

 private:
  np::EdgePlan plan_;
  bool use_cuda_;
  np::EdgeOutput output_;
};

Napi::Value StartEdgeEncode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject())
    throw make_error(env, np::ErrorCode::InvalidArgument, "startEdgeEncode(plan, onProgress?) needs a plan object");
  bool use_cuda = false;
  np::EdgePlan plan = edge_plan_from_js(info[0].As<Napi::Object>(), &use_cuda);
  Napi::Function on_progress;
  if (info.Length() > 1 && info[1].IsFunction()) on_progress = info[1].As<Napi::Function>();
  return PromiseJob::Start(new EdgeJob(env, std::move(plan), use_cuda, on_progress));
}

}  // namespace

void register_edge(Napi::Env env, Napi::Object exports) {
  exports.Set("startEdgeEncode", Napi::Function::New(env, StartEdgeEncode, "startEdgeEncode"));
}

}  // namespace np_napi
