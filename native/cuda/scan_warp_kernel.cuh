// The register-resident scan kernel, for passes of 2..32 rows (model sets of up to 32 members
// that share a tensor: the common case). It computes exactly what scan_pass_kernel computes
// (the same PassArgs in, the same block partials out, reduced by scan_reduce_kernel) but keeps
// everything in registers: no float64 tile in shared memory, no block barrier per tile.
//
// Why: scan_pass_kernel converts every element to float64 into shared memory and reads it back
// for the DMMA fragments, with two block barriers per 4096-value tile. Measured on an H200 it
// ran at 371 GB/s for 8 models held on the GPU (bench/results/2026-11-26-h200-run1.txt),
// far from the 4.8 TB/s the memory can deliver; its shared-memory traffic and the barriers,
// not the arithmetic, set that pace.
#pragma once
#include <cuda_runtime.h>

#include "cuda/scan_pass_kernel.cuh"

namespace np {
namespace cuda_scan {

constexpr int kWarpKernelMaxRows = 32;
constexpr int kWarpUnit = 64;  // columns per warp step: two 8-element vectors per lane, one fake-init group

// Whether the warp kernel computes this pass: 2..32 rows, moments for every row, and every
// 8-row tile pair ta <= tb of the pass's tiles exactly once (plan_passes' triangle passes).
bool warp_kernel_fits(const PassArgs& a);

// Blocks per multiprocessor the kernel variant for `rows` rows is compiled for (its
// __launch_bounds__); a grid of SMs x this many blocks runs in one wave.
int warp_blocks_per_sm(int rows);

// Blocks for a launch over n elements on a GPU with `multiprocessors` SMs.
unsigned warp_blocks(int rows, unsigned long long n, int multiprocessors);

// Launches the pass on `stream`. Returns the launch's error.
cudaError_t launch_scan_warp(const PassArgs& a, unsigned blocks, GramPath path, cudaStream_t stream);

}  // namespace cuda_scan
}  // namespace np
