// Built instead of native/cuda/edge_encoder.cu when nvcc was not found.
#include "core/edge_encoder_cuda.h"
#include "core/error.h"

namespace np {

EdgeOutput edge_encode_cuda(const EdgePlan&, const ScanControl&) {
  throw Error(ErrorCode::NoCuda, "edge encoder: device 'cuda' asked for, but the addon was built without CUDA");
}

}  // namespace np
