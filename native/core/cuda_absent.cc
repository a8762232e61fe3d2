// Built instead of native/cuda/*.cu when nvcc was not found: the addon stays complete on CPU.
#include "core/cuda_backend.h"
#include "core/error.h"

namespace np {

CudaStatus cuda_status() {
  CudaStatus s;
  s.compiled = false;
  s.usable = false;
  s.reason = "built without CUDA (nvcc was not found when the addon was compiled)";
  return s;
}

namespace {
[[noreturn]] void no_cuda(const char* what) {
  throw Error(ErrorCode::NoCuda, std::string(what) + ": CUDA asked for, but the addon was built without CUDA");
}
}  // namespace

ScanOutput scan_cuda(const ScanPlan&, const ScanControl&, int) { no_cuda("scan"); }
CudaScanResult scan_cuda_ex(const ScanPlan&, const ScanControl&, const CudaScanOptions&) { no_cuda("scan"); }
std::vector<float> fake_init_cuda(const FakeInitParams&, uint64_t, size_t, int) { no_cuda("fake init"); }
CudaBandwidth cuda_bandwidth(int, size_t) { no_cuda("bandwidth"); }

}  // namespace np
