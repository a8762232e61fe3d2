// The per-block arithmetic of the scan, one implementation per instruction set
// (scan_kernels_scalar.cc, _avx2.cc, _avx512.cc), chosen at run time.
//
// A block is kBlockElems consecutive elements of one tensor, starting at a multiple of
// kBlockElems. Each kernel returns fresh sums over one block (it never accumulates across
// calls), and the scan adds block sums in block order: so the result depends on neither the
// thread count nor the chunk size. Within a block, the summation order is fixed per kernel
// set; the float64 accumulation keeps the kernel sets within ~1e-15 of each other.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/cpu_features.h"
#include "core/dtype.h"
#include "core/philox.h"

namespace np {

constexpr size_t kBlockElems = 2048;  // a multiple of 64 (the fake-init SIMD group)
constexpr size_t kPadElems = 16;      // kernels read x and r rounded up to this; callers zero the pad

inline size_t round_up_pad(size_t n) { return (n + kPadElems - 1) / kPadElems * kPadElems; }

// Statistics per model, in this order, per block and in the scan's output.
enum Stat : int { kSum = 0, kSumSq = 1, kSumCube = 2, kSumQuad = 3, kFakeSq = 4, kNumStats = 5 };

struct ScanKernels {
  Isa isa;
  // dst[i] = float(src element i) for i < n.
  void (*convert)(DType type, const unsigned char* src, float* dst, size_t n);
  // r[i] = fake_init_value(p, start + i) for i < n; start is a multiple of 64.
  void (*fake_init)(const FakeInitParams& p, uint64_t start, float* r, size_t n);
  // out = sums over i < round_up_pad(n) of x, x^2, x^3, x^4, (x - r)^2 (x, r zero-padded).
  void (*moments)(const float* x, const float* r, size_t n, double out[kNumStats]);
  // For rows a <= b of the k x round_up_pad(n) matrix x (row stride `stride` floats):
  // gram[a * k + b] = sum_i x[a][i] * x[b][i]. Entries with a > b are left untouched.
  void (*gram)(const float* x, size_t stride, size_t k, size_t n, double* gram);
  // The plain read-and-sum reference: sum of float(src element i) for i < n.
  double (*sum)(DType type, const unsigned char* src, size_t n);
};

const ScanKernels& scan_kernels(Isa isa);

// Per-ISA tables (defined only where built; see scan_kernels.cc).
const ScanKernels& scan_kernels_scalar();
const ScanKernels& scan_kernels_avx2();
const ScanKernels& scan_kernels_avx512();

// Portable helpers shared by the kernel sets for tails and fallbacks.
void convert_scalar(DType type, const unsigned char* src, float* dst, size_t n);
void fake_init_scalar(const FakeInitParams& p, uint64_t start, float* r, size_t n);
// Fake init for any start (the kernels need a multiple of 64): scalar up to the next one.
void fake_init_range(const ScanKernels& kern, const FakeInitParams& p, uint64_t start, float* r, size_t n);

}  // namespace np
