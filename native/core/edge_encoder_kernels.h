// The per-row arithmetic of the edge encoder's 3x3 conv stage, one implementation per
// instruction set (edge_encoder_kernels_scalar.cc, _avx2.cc, _avx512.cc), chosen at run
// time like the scan kernels. The 1x1 stage is cheap (2c multiply-adds per element) and
// stays in the portable driver.
#pragma once
#include <cstddef>

#include "core/cpu_features.h"

namespace np {

constexpr int kEdgeLatent = 32;  // the paper's latent size
constexpr int kEdgeTaps = 9;     // 3x3 kernel

struct EdgeConvArgs {
  // Stage-1 activations [c][rows + 2][stride]: matrix column j sits at index j + 1; the halo
  // rows and columns, and everything past column cols, are zero.
  const float* h;
  size_t c, rows, cols, stride;
  const float* w;     // [c][9][32]: w[(k * 9 + tap) * 32 + o], tap = 3 * di + dj
  const float* bias;  // [32]
  double* sums;       // [32]: += sum over the rows x cols outputs of ReLU(z)
};

struct EdgeKernels {
  Isa isa;
  // Columns the kernel computes per step; stride must be at least roundup(cols, step) + 2.
  size_t col_step;
  void (*conv)(const EdgeConvArgs& args);
};

const EdgeKernels& edge_kernels(Isa isa);
const EdgeKernels& edge_kernels_scalar();
const EdgeKernels& edge_kernels_avx2();
const EdgeKernels& edge_kernels_avx512();

}  // namespace np
