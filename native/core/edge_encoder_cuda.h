// The edge encoder's forward on a CUDA device, in plain C++ types (no CUDA header here).
// Implemented in native/cuda/edge_encoder.cu when nvcc is found, else by
// edge_encoder_cuda_absent.cc, which throws E_NO_CUDA.
#pragma once
#include "core/edge_encoder_cpu.h"

namespace np {

// Same plan, same output as edge_encode_cpu (within float rounding); the file reads and the
// conversion to float stay on the host, the 1x1 and 3x3 stages and the pooling run on device 0.
EdgeOutput edge_encode_cuda(const EdgePlan& plan, const ScanControl& control);

}  // namespace np
