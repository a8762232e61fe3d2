// cudaStatus() and cpuInfo(): what this machine and this build can run.
#include <napi.h>

#include <thread>

#include "core/cpu_features.h"
#include "core/cuda_backend.h"
#include "napi/exports.h"

namespace np_napi {

static Napi::Value CudaStatusJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  np::CudaStatus s = np::cuda_status();
  Napi::Object o = Napi::Object::New(env);
  o.Set("compiled", s.compiled);
  o.Set("usable", s.usable);
  o.Set("reason", s.reason);
  o.Set("driverVersion", s.driver_version);
  o.Set("runtimeVersion", s.runtime_version);
  Napi::Array devices = Napi::Array::New(env, s.devices.size());
  for (size_t i = 0; i < s.devices.size(); ++i) {
    const np::CudaDeviceInfo& d = s.devices[i];
    Napi::Object dj = Napi::Object::New(env);
    dj.Set("index", d.index);
    dj.Set("name", d.name);
    dj.Set("computeCapability", std::to_string(d.major) + "." + std::to_string(d.minor));
    dj.Set("totalMemory", static_cast<double>(d.total_memory));
    dj.Set("multiprocessors", d.multiprocessors);
    devices.Set(static_cast<uint32_t>(i), dj);
  }
  o.Set("devices", devices);
  return o;
}

static Napi::Value CpuInfoJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("isa", np::isa_name(np::best_isa()));
  o.Set("features", np::cpu_feature_summary());
  o.Set("threads", static_cast<double>(std::thread::hardware_concurrency()));
  Napi::Array supported = Napi::Array::New(env);
  uint32_t n = 0;
  for (np::Isa isa : {np::Isa::Scalar, np::Isa::Avx2, np::Isa::Avx512})
    if (np::isa_supported(isa)) supported.Set(n++, np::isa_name(isa));
  o.Set("supportedIsas", supported);
  return o;
}

void register_device(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaStatus", Napi::Function::New(env, CudaStatusJs, "cudaStatus"));
  exports.Set("cpuInfo", Napi::Function::New(env, CpuInfoJs, "cpuInfo"));
}

}  // namespace np_napi
