// Spectrum of a matrix difference (child − parent) by a randomized range finder: the top k
// singular values of A = C − P in bounded work, O(rows·cols·k·(2 + 2·power_iters)) flops and
// O((rows + cols)·k) extra memory, never an SVD of A itself. lib/detect/typing/low-rank.ts turns
// the spectrum into a numerical rank; lib/detect/typing/low-rank-ref.ts is the float64 reference.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace np {

struct LowRankOptions {
  int k = 24;            // sketch width: the largest rank it can see (+ oversampling)
  int power_iters = 1;   // subspace iterations: sharpen the captured spectrum
  uint64_t seed = 0;     // the Gaussian test matrix is drawn from this seed
};

struct LowRankSpectrum {
  // The k' = min(k, rows, cols) singular values of Qᵀ·A, descending (each ≤ the true one).
  std::vector<double> singular;
  // ‖A‖_F², summed exactly in double.
  double energy = 0;
};

// `parent` may be null (then A = C). Row-major [rows, cols].
LowRankSpectrum low_rank_spectrum(const float* child, const float* parent, size_t rows, size_t cols, const LowRankOptions& opts);

}  // namespace np
