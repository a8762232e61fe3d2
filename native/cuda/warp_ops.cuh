// Warp-level primitives of the register-resident scan kernel (scan_warp_kernel.cu), in one
// place so that the CPU emulator (test/gpu/emu, which defines NP_CUDA_EMULATOR) can stand in
// for each of them: a shuffle, and the FP64 tensor-core step D = A·B + C of shape m8n8k4.
//
// Fragment layout of mma.m8n8k4.f64 (PTX ISA, "Matrix fragments for mma.m8n8k4 with .f64"):
// lane = 4·g + t (g = groupID 0..7, t = threadID_in_group 0..3) holds A[g][t], B[t][g] and
// C[g][2t], C[g][2t + 1]. So when lane (g, t) holds X[g][k_t] (row g of an 8-row block, the
// t-th of 4 columns), passing that one value as both A and B gives C += X·Xᵀ: the Gram of the
// 8 rows over 4 columns without any shared memory.
#pragma once
#include <cuda_runtime.h>

namespace np {
namespace cuda_scan {

__device__ __forceinline__ double shfl_double(double v, int src) { return __shfl_sync(0xffffffffu, v, src); }
__device__ __forceinline__ float shfl_float(float v, int src) { return __shfl_sync(0xffffffffu, v, src); }
__device__ __forceinline__ double shfl_xor_double(double v, int mask) { return __shfl_xor_sync(0xffffffffu, v, mask); }
__device__ __forceinline__ void warp_sync() { __syncwarp(0xffffffffu); }

// c0, c1 += (A·B)[g][2t], (A·B)[g][2t + 1] on the FP64 tensor cores (sm_80+).
__device__ __forceinline__ void mma_f64_tc(double a, double b, double& c0, double& c1) {
#if defined(NP_CUDA_EMULATOR)
  np_emu::mma_f64_m8n8k4(a, b, c0, c1);
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("mma.sync.aligned.m8n8k4.row.col.f64.f64.f64.f64 {%0, %1}, {%2}, {%3}, {%0, %1};\n"
               : "+d"(c0), "+d"(c1)
               : "d"(a), "d"(b));
#else
  __trap();  // never launched: the host picks the FMA path below sm_80
#endif
}

// The same product by FP64 FMA on the CUDA cores (any GPU; and the `gram: 'fma'` option):
// lane (g, t) gathers row g of A and columns 2t, 2t + 1 of B by shuffles.
__device__ __forceinline__ void mma_f64_fma(double a, double b, double& c0, double& c1) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int k = 0; k < 4; ++k) {
    const double ak = shfl_double(a, 4 * g + k);            // A[g][k]
    const double b0 = shfl_double(b, 4 * (2 * t) + k);      // B[k][2t] = lane (2t, k)'s b
    const double b1 = shfl_double(b, 4 * (2 * t + 1) + k);  // B[k][2t + 1]
    c0 = fma(ak, b0, c0);
    c1 = fma(ak, b1, c1);
  }
}

}  // namespace cuda_scan
}  // namespace np
