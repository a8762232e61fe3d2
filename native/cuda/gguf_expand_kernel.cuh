// Q8_0 GGUF members dequantized on the device: the scan stages a Q8_0 member's raw GGUF rows
// (1.0625 bytes per element instead of 4 once formed on the host), and this kernel expands
// them into float32 in the batch's device buffer before the scan passes read them. Each value
// is exactly core/gguf_quant.cc's (float(q) * d in float32, d the f16 scale), so the passes
// see bit for bit what the host path would have staged.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace np {
namespace cuda_scan {

struct ExpandQ8Args {
  const unsigned char* raw;  // GGUF rows first_row.. of the member, as stored
  uint64_t first_row;        // the GGUF row raw starts at
  uint64_t row_elems;        // elements per row (whole 32-element blocks)
  uint64_t rows;             // rows of the whole tensor
  uint32_t perm_heads;       // > 0: llama q/k rows to put back in Hugging Face order
  uint64_t start, len;       // HF elements [start, start + len) of the tensor
  float* out;                // len floats
};

cudaError_t launch_expand_q8_0(const ExpandQ8Args& a, cudaStream_t stream);

}  // namespace cuda_scan
}  // namespace np
