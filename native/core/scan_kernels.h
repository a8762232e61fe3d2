// The per-block arithmetic of the scan, one implementation per instruction set
// (scan_kernels_scalar.cc, _avx2.cc, _avx512.cc), chosen at run time.
//
// A block is kBlockElems consecutive elements of one tensor, starting at a multiple of
// kBlockElems. The block kernel returns fresh sums over one block (it never accumulates
// across calls), and the scan adds block sums in block order: so the result depends on
// neither the thread count nor the chunk size. Within a block, the summation order is fixed
// per kernel set; float64 accumulation keeps the kernel sets within ~1e-15 of each other.
// The kernels themselves live in scan_block_impl.h, instantiated per instruction set.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/cpu_features.h"
#include "core/dtype.h"
#include "core/philox.h"

namespace np {

constexpr size_t kBlockElems = 2048;  // a multiple of 64 (the fake-init SIMD group)
// Statistics per model, in this order, per block and in the scan's output.
enum Stat : int { kSum = 0, kSumSq = 1, kSumCube = 2, kSumQuad = 3, kFakeSq = 4, kNumStats = 5 };

// One block of one tensor group: k members' raw bytes (each pointing at the block's first
// element), their dtypes, the block's fake init, and kernel-owned scratch.
struct BlockArgs {
  size_t k;
  size_t n;  // elements in this block, <= kBlockElems
  const unsigned char* const* src;
  const DType* dtypes;
  const float* r;
  double* scratch;  // block_scratch(k) doubles
};

struct ScanKernels {
  Isa isa;
  // r[i] = fake_init_value(p, start + i) for i < n; start is a multiple of 64.
  void (*fake_init)(const FakeInitParams& p, uint64_t start, float* r, size_t n);
  // out[m * kNumStats + s]: sums over the block of x, x^2, x^3, x^4, (x - r)^2 per member m;
  // out[k * kNumStats + a * k + b] for a <= b: the Gram entry sum x_a x_b (diagonal = x^2).
  void (*block)(const BlockArgs& args, double* out);
  size_t (*block_scratch)(size_t k);
  // The plain read-and-sum reference: sum of float(src element i) for i < n.
  double (*sum)(DType type, const unsigned char* src, size_t n);
};

const ScanKernels& scan_kernels(Isa isa);

// Per-ISA tables (defined only where built; see scan_kernels.cc).
const ScanKernels& scan_kernels_scalar();
const ScanKernels& scan_kernels_avx2();
const ScanKernels& scan_kernels_avx512();

// Portable helpers shared by the kernel sets for tails and fallbacks.
void fake_init_scalar(const FakeInitParams& p, uint64_t start, float* r, size_t n);
// Fake init for any start (the kernels need a multiple of 64): scalar up to the next one.
void fake_init_range(const ScanKernels& kern, const FakeInitParams& p, uint64_t start, float* r, size_t n);

}  // namespace np
