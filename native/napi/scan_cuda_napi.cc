// CUDA bindings, compiled only into builds with the CUDA backend (cmake NP_CUDA_SOURCES), so
// their presence tells TypeScript that this build can scan on a GPU:
//   startScanCuda(plan, onProgress?, device?) -> { promise, cancel() }   (like startScan)
//   fakeInitCuda(params, start, count, device?) -> Float32Array            (tests)
//   cudaBandwidth(device?, bytes?) -> Promise<{ deviceName, h2dPinned, h2dPageable, d2d }>
// plan.cuda holds the CUDA-only options: { stageBytes, slots, readers, resident, repeat, gram,
// deviceDequant }.
#include <napi.h>


#include "core/cuda_backend.h"
#include "napi/convert.h"
#include "napi/exports.h"
#include "napi/plan_convert.h"
#include "napi/promise_job.h"

namespace np_napi {
namespace {

np::CudaScanOptions options_from_js(const Napi::Object& plan, int device) {
  np::CudaScanOptions o;
  o.device = device;
  Napi::Value v = plan.Get("cuda");
  if (v.IsUndefined() || v.IsNull()) return o;
  Napi::Env env = plan.Env();
  if (!v.IsObject()) throw make_error(env, np::ErrorCode::InvalidArgument, "plan.cuda must be an object");
  Napi::Object c = v.As<Napi::Object>();
  const double stage = get_number_or(c, "stageBytes", static_cast<double>(o.stage_bytes));
  if (!(stage >= 65536) || stage > 4.0 * 1024 * 1024 * 1024)
    throw make_error(env, np::ErrorCode::InvalidArgument, "cuda.stageBytes must be in [64 KiB, 4 GiB]");
  o.stage_bytes = static_cast<size_t>(stage);
  o.slots = static_cast<int>(get_number_or(c, "slots", o.slots));
  o.readers = static_cast<int>(get_number_or(c, "readers", 0));
  if (o.readers < 0 || o.readers > 256) throw make_error(env, np::ErrorCode::InvalidArgument, "cuda.readers must be 0..256");
  Napi::Value resident = c.Get("resident");
  if (!resident.IsUndefined()) {
    if (!resident.IsBoolean()) throw make_error(env, np::ErrorCode::InvalidArgument, "cuda.resident must be a boolean");
    o.resident = resident.As<Napi::Boolean>().Value();
  }
  o.repeat = static_cast<int>(get_number_or(c, "repeat", 1));
  Napi::Value device_dequant = c.Get("deviceDequant");
  if (!device_dequant.IsUndefined()) {
    if (!device_dequant.IsBoolean()) throw make_error(env, np::ErrorCode::InvalidArgument, "cuda.deviceDequant must be a boolean");
    o.device_dequant = device_dequant.As<Napi::Boolean>().Value();
  }
  Napi::Value gram = c.Get("gram");
  if (!gram.IsUndefined()) {
    const std::string g = gram.IsString() ? gram.As<Napi::String>().Utf8Value() : "";
    if (g == "auto") o.gram = np::CudaGram::Auto;
    else if (g == "dmma") o.gram = np::CudaGram::Mma;
    else if (g == "fma") o.gram = np::CudaGram::Fma;
    else throw make_error(env, np::ErrorCode::InvalidArgument, "cuda.gram must be 'auto', 'dmma' or 'fma'");
  }
  return o;
}

int device_from_js(const Napi::CallbackInfo& info, size_t index) {
  if (info.Length() <= index || info[index].IsUndefined() || info[index].IsNull()) return 0;
  if (!info[index].IsNumber()) throw make_error(info.Env(), np::ErrorCode::InvalidArgument, "device must be a number");
  const double d = info[index].As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d != static_cast<double>(static_cast<int>(d)))
    throw make_error(info.Env(), np::ErrorCode::InvalidArgument, "device must be a non-negative integer");
  return static_cast<int>(d);
}

// Same shape as startScan's job: Promise, throttled progress, cancel via a flag.
class CudaScanJob : public PromiseJob {
 public:
  CudaScanJob(Napi::Env env, np::ScanPlan plan, np::CudaScanOptions options, Napi::Function on_progress)
      : PromiseJob(env, "neural-phylogeny:scan-cuda", on_progress), plan_(std::move(plan)), options_(options) {}

 protected:
  void Compute() override {
    np::ScanControl control;
    control.cancel = CancelFlag();
    control.progress = ProgressCallback();
    result_ = np::scan_cuda_ex(plan_, control, options_);
  }

  double ProgressTotal() const override { return static_cast<double>(result_.output.bytes); }

  Napi::Value Result(Napi::Env env) override {
    const np::ScanOutput& out = result_.output;
    Napi::Object r = Napi::Object::New(env);
    set_scan_values(env, r, out);
    const std::string cc = std::to_string(result_.cc_major) + "." + std::to_string(result_.cc_minor);
    // The "kernel set" of a CUDA scan: the architecture it ran on and the Gram path (the GPU
    // itself is `device`).
    r.Set("isa", "sm_" + std::to_string(result_.cc_major) + std::to_string(result_.cc_minor) + " " + result_.gram);
    r.Set("threads", out.threads);
    r.Set("bytes", static_cast<double>(out.bytes));
    r.Set("seconds", Seconds());
    r.Set("backend", "cuda");
    r.Set("device", result_.device_name);
    r.Set("deviceIndex", options_.device);
    r.Set("computeCapability", cc);
    r.Set("gram", result_.gram);
    Napi::Object t = Napi::Object::New(env);
    t.Set("setup", result_.setup_seconds);
    t.Set("pipeline", result_.pipeline_seconds);
    t.Set("compute", result_.compute_seconds);
    t.Set("computeMin", result_.compute_seconds_min);
    r.Set("timings", t);
    return r;
  }

 private:
  np::ScanPlan plan_;
  np::CudaScanOptions options_;
  np::CudaScanResult result_;
};

Napi::Value StartScanCuda(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject())
    throw make_error(env, np::ErrorCode::InvalidArgument, "startScanCuda(plan, onProgress?, device?) needs a plan object");
  Napi::Object js = info[0].As<Napi::Object>();
  np::ScanPlan plan = plan_from_js(js);
  const int device = device_from_js(info, 2);
  np::CudaScanOptions options = options_from_js(js, device);
  Napi::Function on_progress;
  if (info.Length() > 1 && info[1].IsFunction()) on_progress = info[1].As<Napi::Function>();
  return PromiseJob::Start(new CudaScanJob(env, std::move(plan), options, on_progress));
}

// Synchronous (a test helper): the first call in a process also creates the CUDA context.
Napi::Value FakeInitCuda(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsObject() || !info[1].IsNumber() || !info[2].IsNumber())
    throw make_error(env, np::ErrorCode::InvalidArgument, "fakeInitCuda(params, start, count, device?)");
  np::FakeInitParams p = fake_from_js(info[0].As<Napi::Object>(), {});
  double start = info[1].As<Napi::Number>().DoubleValue();
  double count = info[2].As<Napi::Number>().DoubleValue();
  if (!(start >= 0) || start > 9007199254740991.0 || !(count >= 0) || count > (1u << 28))
    throw make_error(env, np::ErrorCode::InvalidArgument, "fakeInitCuda: bad start or count");
  const int device = device_from_js(info, 3);
  std::vector<float> values;
  try {
    values = np::fake_init_cuda(p, static_cast<uint64_t>(start), static_cast<size_t>(count), device);
  } catch (...) {
    CapturedError e;
    e.capture_current();
    throw e.to_js(env);
  }
  Napi::Float32Array out = Napi::Float32Array::New(env, values.size());
  std::copy(values.begin(), values.end(), out.Data());
  return out;
}

class BandwidthJob : public PromiseJob {
 public:
  BandwidthJob(Napi::Env env, int device, size_t bytes) : PromiseJob(env, "neural-phylogeny:cuda-bandwidth"), device_(device), bytes_(bytes) {}

 protected:
  void Compute() override { bw_ = np::cuda_bandwidth(device_, bytes_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("deviceName", bw_.device_name);
    o.Set("bytes", static_cast<double>(bytes_));
    o.Set("h2dPinned", bw_.h2d_pinned);
    o.Set("h2dPageable", bw_.h2d_pageable);
    o.Set("d2d", bw_.d2d);
    return o;
  }

 private:
  int device_;
  size_t bytes_;
  np::CudaBandwidth bw_;
};

Napi::Value CudaBandwidthJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int device = device_from_js(info, 0);
  double bytes = 256.0 * 1024 * 1024;
  if (info.Length() > 1 && info[1].IsNumber()) bytes = info[1].As<Napi::Number>().DoubleValue();
  if (!(bytes >= 1024.0 * 1024) || bytes > 16.0 * 1024 * 1024 * 1024)
    throw make_error(env, np::ErrorCode::InvalidArgument, "cudaBandwidth: bytes must be in [1 MiB, 16 GiB]");
  return PromiseJob::Start(new BandwidthJob(env, device, static_cast<size_t>(bytes)), false);
}

}  // namespace

void register_scan_cuda(Napi::Env env, Napi::Object exports) {
  exports.Set("startScanCuda", Napi::Function::New(env, StartScanCuda, "startScanCuda"));
  exports.Set("fakeInitCuda", Napi::Function::New(env, FakeInitCuda, "fakeInitCuda"));
  exports.Set("cudaBandwidth", Napi::Function::New(env, CudaBandwidthJs, "cudaBandwidth"));
}

}  // namespace np_napi
