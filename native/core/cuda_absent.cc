// Built instead of native/cuda/*.cu when nvcc was not found: the addon stays complete on CPU.
#include "core/cuda_backend.h"

namespace np {

CudaStatus cuda_status() {
  CudaStatus s;
  s.compiled = false;
  s.usable = false;
  s.reason = "built without CUDA (nvcc was not found when the addon was compiled)";
  return s;
}

}  // namespace np
