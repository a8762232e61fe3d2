// Loading and converting one lane's 8-element vector of a member row, shared by the
// register-resident scan kernels (scan_warp_kernel.cu: triangle passes with moments;
// scan_cross_kernel.cu: cross Gram blocks between two panels): both must convert every
// element exactly as the CPU scan does, so they use this one copy.
#pragma once
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "core/dtype.h"

namespace np {
namespace cuda_scan {

constexpr int kDtF32 = static_cast<int>(DType::F32);
constexpr int kDtF16 = static_cast<int>(DType::F16);
constexpr int kDtBf16 = static_cast<int>(DType::BF16);
constexpr int kDtF64 = static_cast<int>(DType::F64);

__host__ __device__ constexpr int dtype_bytes(int d) { return d == kDtF64 ? 8 : d == kDtF32 ? 4 : 2; }

__device__ __forceinline__ uint2 load8(const unsigned char* p) { return __ldcs(reinterpret_cast<const uint2*>(p)); }
// Streaming load: every byte is read once per pass, so it should not push out the L2.
__device__ __forceinline__ uint4 load16(const unsigned char* p) { return __ldcs(reinterpret_cast<const uint4*>(p)); }

// The 8 elements of a lane's vector as float32, exactly as the CPU converts them (F64 rows
// are read here, rounded once). One dtype branch per vector, not per element.
__device__ __forceinline__ void unpack8(int dt, const uint4& lo, const uint4& hi, const unsigned char* vec, float* x) {
  const unsigned w[4] = {lo.x, lo.y, lo.z, lo.w};
  if (dt == kDtBf16) {
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      x[2 * i] = __uint_as_float(w[i] << 16);  // bf16 is the top half of a float32: exact
      x[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u);
    }
  } else if (dt == kDtF32) {
    const unsigned w2[4] = {hi.x, hi.y, hi.z, hi.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      x[i] = __uint_as_float(w[i]);
      x[4 + i] = __uint_as_float(w2[i]);
    }
  } else if (dt == kDtF16) {
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      x[2 * i] = __half2float(__ushort_as_half(static_cast<unsigned short>(w[i] & 0xffffu)));  // exact
      x[2 * i + 1] = __half2float(__ushort_as_half(static_cast<unsigned short>(w[i] >> 16)));
    }
  } else {
#pragma unroll
    for (int i = 0; i < 8; ++i) x[i] = static_cast<float>(__ldg(reinterpret_cast<const double*>(vec) + i));
  }
}

// The 4 elements of a lane's quad (scan_cross_kernel.cu) as float32, converted as unpack8
// does: `w` holds 8 bytes (2-byte rows: w.x, w.y) or 16 (F32 rows); F64 rows are read here.
__device__ __forceinline__ void unpack4(int dt, const uint4& w, const unsigned char* quad, float* x) {
  if (dt == kDtBf16) {
    x[0] = __uint_as_float(w.x << 16);
    x[1] = __uint_as_float(w.x & 0xffff0000u);
    x[2] = __uint_as_float(w.y << 16);
    x[3] = __uint_as_float(w.y & 0xffff0000u);
  } else if (dt == kDtF32) {
    x[0] = __uint_as_float(w.x);
    x[1] = __uint_as_float(w.y);
    x[2] = __uint_as_float(w.z);
    x[3] = __uint_as_float(w.w);
  } else if (dt == kDtF16) {
    x[0] = __half2float(__ushort_as_half(static_cast<unsigned short>(w.x & 0xffffu)));
    x[1] = __half2float(__ushort_as_half(static_cast<unsigned short>(w.x >> 16)));
    x[2] = __half2float(__ushort_as_half(static_cast<unsigned short>(w.y & 0xffffu)));
    x[3] = __half2float(__ushort_as_half(static_cast<unsigned short>(w.y >> 16)));
  } else {
#pragma unroll
    for (int i = 0; i < 4; ++i) x[i] = static_cast<float>(__ldg(reinterpret_cast<const double*>(quad) + i));
  }
}

}  // namespace cuda_scan
}  // namespace np
