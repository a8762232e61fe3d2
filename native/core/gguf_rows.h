// Where a Hugging Face row of a llama q/k weight lives in its GGUF file: llama.cpp's converter
// interleaves the two rotary halves of each head, and the scan undoes it so a GGUF model lines
// up element by element with its safetensors parent. Shared by the CPU reader
// (core/scan_gguf.cc) and the CUDA Q8_0 expansion kernel (cuda/gguf_expand_kernel.cu).
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define NP_GGUF_HD __host__ __device__ __forceinline__
#else
#define NP_GGUF_HD inline
#endif

namespace np {

// Inside head h (2 * half rows), HF row h*2*half + s*half + i is GGUF row h*2*half + 2*i + s.
NP_GGUF_HD uint64_t gguf_row_of_hf_row(uint64_t r, uint64_t rows, uint32_t heads) {
  const uint64_t half = rows / heads / 2;
  const uint64_t h = r / (2 * half), q = r % (2 * half);
  return h * 2 * half + 2 * (q % half) + q / half;
}

}  // namespace np
