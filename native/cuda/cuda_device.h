// Selecting the CUDA device a call runs on, once for the scan, the edge encoder and the tools.
#pragma once
#include <string>

namespace np {

struct CudaDeviceChoice {
  std::string name;
  int major = 0, minor = 0;
  int multiprocessors = 1;
};

// Makes `device` current on this thread: E_NO_CUDA when there is no driver or device,
// E_INVALID_ARG for an index that does not exist.
CudaDeviceChoice use_cuda_device(int device);

}  // namespace np
