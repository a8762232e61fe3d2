// A block handles 32 consecutive values (lanes: coalesced reads of a partial row); its 8 warps
// split the block partials (warp w takes b = w, w + 8, ...), then warp 0 adds the 8 warp sums
// in warp order.
#include "cuda/scan_reduce_kernel.cuh"

namespace np {
namespace cuda_scan {
namespace {

constexpr int kReduceWarps = 8;

__global__ void __launch_bounds__(kReduceWarps * 32) reduce_pass_kernel(const double* __restrict__ partial, unsigned blocks,
                                                                        int stride, const int32_t* __restrict__ dst,
                                                                        double* __restrict__ total) {
  __shared__ double sums[kReduceWarps][32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int v = blockIdx.x * 32 + lane;
  double s = 0.0;
  if (v < stride)
    for (unsigned b = warp; b < blocks; b += kReduceWarps) s += partial[static_cast<size_t>(b) * stride + v];
  sums[warp][lane] = s;
  __syncthreads();
  if (warp == 0 && v < stride) {
    double t = 0.0;
    for (int w = 0; w < kReduceWarps; ++w) t += sums[w][lane];
    const int32_t d = dst[v];
    if (d >= 0) total[d] += t;
  }
}

}  // namespace

cudaError_t launch_reduce_pass(const double* partial, unsigned blocks, int stride, const int32_t* dst, double* total,
                               cudaStream_t stream) {
  if (stride <= 0) return cudaSuccess;
  const unsigned grid = static_cast<unsigned>((stride + 31) / 32);
  reduce_pass_kernel<<<grid, kReduceWarps * 32, 0, stream>>>(partial, blocks, stride, dst, total);
  return cudaGetLastError();
}

}  // namespace cuda_scan
}  // namespace np
