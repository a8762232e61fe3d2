// Device side of the edge encoder: one launch per row chunk computes, for every pair of the
// chunk, per-block partial sums of ReLU(3x3 conv(ReLU(1x1 conv([W_a, W_b] / scale)))).
#pragma once
#include <cuda_runtime.h>

#include <cstddef>

namespace np {
namespace cuda_edge {

constexpr int kTile = 16;          // output tile: kTile x kTile positions, one per thread
constexpr int kMaxChannels = 32;   // shared memory holds c x 18 x 18 activations
constexpr int kLatent = 32;

// Weights into __constant__ memory: w1 [2][c], b1 [c], w2 [c][9][32], b2 [32].
cudaError_t upload_weights(int channels, const float* w1, const float* b1, const float* w2, const float* b2);

struct ChunkArgs {
  const float* x;             // [slots][rows + 2][cols]: buffer row r is matrix row row0 - 1 + r
  const int* slot_a;          // [pairs]
  const int* slot_b;          // [pairs]
  const float* inv_scale;     // [pairs]
  float* partial;             // [pairs][blocks][32], blocks = grid.x * grid.y
  int pairs, channels;
  long long rows, cols;       // output rows of the chunk, matrix columns
  long long row0, total_rows; // first output row, matrix rows (for the padding)
};

// Blocks of the launch for a chunk (the size of `partial` per pair).
inline dim3 chunk_grid(long long rows, long long cols) {
  return dim3(static_cast<unsigned>((cols + kTile - 1) / kTile), static_cast<unsigned>((rows + kTile - 1) / kTile), 1);
}

cudaError_t launch_chunk(const ChunkArgs& args, cudaStream_t stream);

// Adds each pair's `blocks` partials ([pairs][blocks][32], as launch_chunk wrote them) in
// block order, in float64, into totals[out_index[p]][32].
cudaError_t launch_reduce(const float* partial, long long blocks, int pairs, const int* out_index, double* totals,
                          cudaStream_t stream);

}  // namespace cuda_edge
}  // namespace np
