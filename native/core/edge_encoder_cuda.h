// The edge encoder's forward on a CUDA device, in plain C++ types (no CUDA header here).
// Implemented in native/cuda/edge_encoder.cu, built only when nvcc is found (edge_napi.cc
// calls it only in such builds).
#pragma once
#include "core/edge_plan.h"

namespace np {

// Same plan, same output as edge_encode_cpu (within float rounding); the file reads and the
// conversion to float stay on the host, the 1x1 and 3x3 stages and the pooling run on
// plan.cuda_device, chosen as the scan chooses its device (use_cuda_device).
EdgeOutput edge_encode_cuda(const EdgePlan& plan, const ScanControl& control);

}  // namespace np
