// Checked CUDA calls: every runtime call in native/cuda goes through NP_CUDA_CHECK, which turns
// a failure into np::Error(ErrorCode::Cuda) naming the call, the runtime's message and the
// place. Errors never abort the process; the napi layer turns them into E_CUDA JS errors.
#pragma once
#include <cuda_runtime.h>

#include <string>

#include "core/error.h"

namespace np {
namespace cuda_util {

[[noreturn]] inline void throw_cuda(cudaError_t err, const char* call, const char* file, int line) {
  // Clear a non-sticky error so that later, unrelated calls do not report it again.
  cudaGetLastError();
  throw Error(ErrorCode::Cuda, std::string(call) + " failed: " + cudaGetErrorString(err) + " at " + file + ":" + std::to_string(line));
}

}  // namespace cuda_util
}  // namespace np

#define NP_CUDA_CHECK(call)                                                      \
  do {                                                                           \
    cudaError_t np_cuda_err_ = (call);                                           \
    if (np_cuda_err_ != cudaSuccess)                                             \
      ::np::cuda_util::throw_cuda(np_cuda_err_, #call, __FILE__, __LINE__);      \
  } while (0)
