// Adds the block partials of one scan pass into the scan's totals in a fixed order:
// total[dst[v]] += sum over blocks b of partial[b][v], for every v with dst[v] >= 0. Launched
// on the same stream as the passes, in item order, so every total is summed in the same order
// on every run: the CUDA scan is deterministic.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace np {
namespace cuda_scan {

cudaError_t launch_reduce_pass(const double* partial, unsigned blocks, int stride, const int32_t* dst, double* total,
                               cudaStream_t stream);

}  // namespace cuda_scan
}  // namespace np
