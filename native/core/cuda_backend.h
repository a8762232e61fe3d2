// What the core needs from the CUDA backend, in plain C++ types (no CUDA header here).
// Implemented in native/cuda/ when nvcc is found, else by cuda_absent.cc.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace np {

struct CudaDeviceInfo {
  int index = 0;
  std::string name;
  int major = 0, minor = 0;
  uint64_t total_memory = 0;
  int multiprocessors = 0;
};

struct CudaStatus {
  bool compiled = false;      // the addon was built with the CUDA backend
  bool usable = false;        // compiled, a driver answered and at least one device exists
  std::string reason;         // why not usable (empty when usable)
  int driver_version = 0;     // e.g. 13000; 0 when no driver
  int runtime_version = 0;    // the CUDA runtime linked in; 0 when not compiled
  std::vector<CudaDeviceInfo> devices;
};

// Never throws: a machine without a GPU or driver gets usable == false and a reason.
CudaStatus cuda_status();

}  // namespace np
