// The register-resident cross kernel: the Gram blocks between two panels of one group's
// members, for groups of more than 32 members. plan_passes cuts such a group into panels of
// 32 (the last one may be smaller); each panel gets a triangle pass (scan_warp_kernel: its
// moments and its own Gram triangle) and each panel pair i < j a cross pass, which this
// kernel computes: rows 0..31 are panel i (tiles 0..3), rows 32.. panel j (tiles 4..4+GB-1),
// no moments, and the 4 x GB tile pairs (a, 4 + b). Same PassArgs in, same block partials out
// (reduced by scan_reduce_kernel) as scan_pass_kernel, which computed these passes before.
//
// Why: scan_pass_kernel (a float64 tile in shared memory, two block barriers per tile) ran
// at 201 GB/s for 64 models on an H200 against 876 GB/s for the register kernel at 32
// (bench/results/). A cross pass re-reads both panels (a group of k members is read about
// ceil(k / 32) times in all), a cost in memory bandwidth the GPU has to spare.
#pragma once
#include <cuda_runtime.h>

#include "cuda/scan_pass_kernel.cuh"

namespace np {
namespace cuda_scan {

constexpr int kCrossRowsA = 32;  // panel i: exactly 4 tiles
constexpr int kCrossUnit = 16;   // columns per warp step: one 4-element quad per lane

// Whether the cross kernel computes this pass: 33..64 rows, no moments, and the pairs are
// exactly the tiles (a, 4 + b), a < 4, b < ceil((rows - 32) / 8), each once.
bool cross_kernel_fits(const PassArgs& a);

// Blocks per multiprocessor the variant for `rows` rows is compiled for (__launch_bounds__).
int cross_blocks_per_sm(int rows);

// Blocks for a launch over n elements on a GPU with `multiprocessors` SMs: one wave at most.
unsigned cross_blocks(int rows, unsigned long long n, int multiprocessors);

// Launches the pass on `stream`. Returns the launch's error.
cudaError_t launch_scan_cross(const PassArgs& a, unsigned blocks, GramPath path, cudaStream_t stream);

}  // namespace cuda_scan
}  // namespace np
