// The one place a CUDA entry point (scan, edge encoder, tools) picks its GPU.
#include "cuda/cuda_device.h"

#include <cuda_runtime.h>

#include <string>

#include "core/error.h"
#include "cuda/cuda_check.h"

namespace np {

CudaDeviceChoice use_cuda_device(int device) {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    cudaGetLastError();
    throw Error(ErrorCode::NoCuda, std::string("no usable CUDA device: ") +
                                       (err != cudaSuccess ? cudaGetErrorString(err) : "none found"));
  }
  if (device < 0 || device >= count)
    throw Error(ErrorCode::InvalidArgument,
                "CUDA device " + std::to_string(device) + " does not exist (" + std::to_string(count) + " found)");
  NP_CUDA_CHECK(cudaSetDevice(device));
  cudaDeviceProp prop;
  NP_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  return CudaDeviceChoice{prop.name, prop.major, prop.minor, prop.multiProcessorCount};
}

}  // namespace np
