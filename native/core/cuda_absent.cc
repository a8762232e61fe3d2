// Built instead of native/cuda/ when nvcc was not found. Such an addon registers no CUDA entry
// point (startScanCuda, fakeInitCuda, cudaBandwidth) and the edge encoder refuses 'cuda' from
// this status, so cuda_status() is all that must exist: it says why CUDA is not there.
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
