// startScan(plan, onProgress?) -> { promise, cancel() }: the CPU scan off the main thread;
// fakeInit(params, start, count, isa?) -> Float32Array for tests.
#include <napi.h>

#include "core/cpu_features.h"
#include "core/scan_cpu.h"
#include "core/scan_kernels.h"
#include "napi/convert.h"
#include "napi/exports.h"
#include "napi/plan_convert.h"
#include "napi/promise_job.h"

namespace np_napi {
namespace {

class ScanJob : public PromiseJob {
 public:
  ScanJob(Napi::Env env, np::ScanPlan plan, Napi::Function on_progress)
      : PromiseJob(env, "neural-phylogeny:scan", on_progress), plan_(std::move(plan)) {}

 protected:
  void Compute() override {
    np::ScanControl control;
    control.cancel = CancelFlag();
    control.progress = ProgressCallback();
    output_ = np::scan_cpu(plan_, control);
  }

  double ProgressTotal() const override { return static_cast<double>(output_.bytes); }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    set_scan_values(env, result, output_);
    result.Set("isa", np::isa_name(output_.isa));
    result.Set("threads", output_.threads);
    result.Set("bytes", static_cast<double>(output_.bytes));
    result.Set("seconds", Seconds());
    result.Set("backend", "cpu");
    result.Set("device", "cpu");
    return result;
  }

 private:
  np::ScanPlan plan_;
  np::ScanOutput output_;
};

Napi::Value StartScan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject())
    throw make_error(env, np::ErrorCode::InvalidArgument, "startScan(plan, onProgress?) needs a plan object");
  np::ScanPlan plan = plan_from_js(info[0].As<Napi::Object>());
  Napi::Function on_progress;
  if (info.Length() > 1 && info[1].IsFunction()) on_progress = info[1].As<Napi::Function>();
  return PromiseJob::Start(new ScanJob(env, std::move(plan), on_progress));
}

// fakeInit(params, start, count, isa?) -> Float32Array: the fake-init values of elements
// [start, start + count) through the chosen kernel set (tests hold them equal to the TS mirror).
Napi::Value FakeInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsObject() || !info[1].IsNumber() || !info[2].IsNumber())
    throw make_error(env, np::ErrorCode::InvalidArgument, "fakeInit(params, start, count, isa?)");
  np::FakeInitParams p = fake_from_js(info[0].As<Napi::Object>());
  double start = info[1].As<Napi::Number>().DoubleValue();
  double count = info[2].As<Napi::Number>().DoubleValue();
  if (!(start >= 0) || !(count >= 0) || count > (1u << 28))
    throw make_error(env, np::ErrorCode::InvalidArgument, "fakeInit: bad start or count");
  np::Isa isa = info.Length() > 3 ? isa_from_js(info[3]) : np::best_isa();
  Napi::Float32Array out = Napi::Float32Array::New(env, static_cast<size_t>(count));
  np::fake_init_range(np::scan_kernels(isa), p, static_cast<uint64_t>(start), out.Data(), static_cast<size_t>(count));
  return out;
}

}  // namespace

void register_scan(Napi::Env env, Napi::Object exports) {
  exports.Set("startScan", Napi::Function::New(env, StartScan, "startScan"));
  exports.Set("fakeInit", Napi::Function::New(env, FakeInit, "fakeInit"));
}

}  // namespace np_napi
