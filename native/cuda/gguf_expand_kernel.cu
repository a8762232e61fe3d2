// One thread per output element, grid-stride: reads its block's f16 scale and its int8 quant
// with byte loads (blocks are 34 bytes, so nothing wider is aligned), writes one float.
// Memory-bound and small beside the scan passes (it writes each element once, they read it).
#include "cuda/gguf_expand_kernel.cuh"

#include <cuda_fp16.h>

#include "core/gguf_rows.h"

namespace np {
namespace cuda_scan {
namespace {

constexpr unsigned kExpandThreads = 256;
constexpr unsigned kExpandMaxBlocks = 4096;
constexpr uint64_t kQ8Block = 32, kQ8Bytes = 34;

__global__ void __launch_bounds__(kExpandThreads) expand_q8_0_kernel(ExpandQ8Args a) {
  const uint64_t row_bytes = a.row_elems / kQ8Block * kQ8Bytes;
  for (uint64_t i = blockIdx.x * static_cast<uint64_t>(blockDim.x) + threadIdx.x; i < a.len;
       i += static_cast<uint64_t>(gridDim.x) * blockDim.x) {
    const uint64_t e = a.start + i, r = e / a.row_elems, c = e % a.row_elems;
    const uint64_t gr = a.perm_heads ? gguf_row_of_hf_row(r, a.rows, a.perm_heads) : r;
    const unsigned char* b = a.raw + (gr - a.first_row) * row_bytes + (c / kQ8Block) * kQ8Bytes;
    const unsigned short bits = static_cast<unsigned short>(b[0] | (b[1] << 8));
    const float d = __half2float(__ushort_as_half(bits));  // exact, as f16_to_float
    const float q = static_cast<float>(static_cast<signed char>(b[2 + c % kQ8Block]));
    a.out[i] = __fmul_rn(q, d);  // one float32 rounding, as deq_q8_0
  }
}

}  // namespace

cudaError_t launch_expand_q8_0(const ExpandQ8Args& a, cudaStream_t stream) {
  if (a.len == 0) return cudaSuccess;
  const uint64_t want = (a.len + kExpandThreads - 1) / kExpandThreads;
  const unsigned blocks = static_cast<unsigned>(want < kExpandMaxBlocks ? want : kExpandMaxBlocks);
  expand_q8_0_kernel<<<blocks, kExpandThreads, 0, stream>>>(a);
  return cudaGetLastError();
}

}  // namespace cuda_scan
}  // namespace np
