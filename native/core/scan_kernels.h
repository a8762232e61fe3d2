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

// Rows of a PEFT LoRA member, out = float32(w + scale * (B A)) (see scan_lora.h): `nrows`
// consecutive rows of a row-major [rows, cols] tensor, columns [lo, hi) of each. w (the base,
// widened to float32) and out point at element (row 0, column lo); rows are `cols` apart.
// A comes packed in panels of `lora_panel` columns, zero-padded: panel p holds A[k][p * panel
// + j] at a[(p * rank + k) * panel + j], so a panel's whole k loop reads one contiguous run.
struct LoraRowsArgs {
  const double* a;
  const double* b;  // [nrows, rank], float32 values held as float64
  const float* w;
  float* out;
  uint64_t rank, cols, nrows, lo, hi;
  double scale;
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
  // LoRA rows (LoraRowsArgs above) and the width of A's panels they expect.
  void (*lora_rows)(const LoraRowsArgs& args);
  size_t lora_panel;
  // dst[i] = float(src element i) for i < n (a group with LoRA members is widened to float32
  // as it is read, so every member has one dtype and the block takes its fused pass).
  void (*to_f32)(DType type, const unsigned char* src, float* dst, size_t n);
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
