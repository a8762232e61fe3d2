#include <cuda_runtime.h>

#include "cuda/device_probe.cuh"

namespace np {

CudaStatus cuda_status() {
  CudaStatus s;
  s.compiled = true;
  cudaRuntimeGetVersion(&s.runtime_version);
  cudaError_t err = cudaDriverGetVersion(&s.driver_version);
  if (err != cudaSuccess || s.driver_version == 0) {
    s.reason = "no CUDA driver found (libcuda is not installed or cannot be loaded)";
    cudaGetLastError();
    return s;
  }
  int count = 0;
  err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    s.reason = std::string("no usable CUDA device: ") + cudaGetErrorString(err);
    cudaGetLastError();
    return s;
  }
  if (count == 0) {
    s.reason = "no CUDA device found";
    return s;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) {
      cudaGetLastError();
      continue;
    }
    CudaDeviceInfo d;
    d.index = i;
    d.name = prop.name;
    d.major = prop.major;
    d.minor = prop.minor;
    d.total_memory = prop.totalGlobalMem;
    d.multiprocessors = prop.multiProcessorCount;
    s.devices.push_back(d);
  }
  s.usable = !s.devices.empty();
  if (!s.usable) s.reason = "CUDA devices were found but none could be queried";
  return s;
}

}  // namespace np
