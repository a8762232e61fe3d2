// The fused scan kernel: one launch reads up to 64 member rows of one group over a run of
// elements and produces, per block, partial sums of the five moments of each row (Σx, Σx²,
// Σx³, Σx⁴, Σ(x − r)² with r the fake init generated in registers) and of the 8x8 Gram tiles
// it is given. Blocks write partials; scan_reduce_kernel adds them up in a fixed order.
//
// Numerics (docs/cuda.md): each element becomes float32 (exactly as on the CPU, F64 rounded
// once), then float64. Products of two float32 values are exact in float64, and every sum is
// a float64 sum, on the FP64 tensor cores (DMMA m8n8k4, sm_80+) or by FP64 FMA; so the result
// is the CPU's up to float64 rounding (~1e-15 relative), whatever the input dtype.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "core/philox.h"

namespace np {
namespace cuda_scan {

constexpr int kThreads = 256;           // 8 warps per block
constexpr int kWarps = kThreads / 32;
constexpr int kTileValues = 4096;       // padded rows x elements of one tile: 16 per thread
constexpr int kMaxRows = 64;            // rows per launch
constexpr int kMaxPairs = 36;           // 8x8 tile pairs (ta <= tb) of 64 rows
constexpr int kMaxUnitsPerWarp = 5;     // ceil(kMaxPairs / kWarps)
constexpr int kStats = 5;
// Blocks per launch, fixed rather than derived from the GPU's SM count, so that the partition
// of the work (and with it the last bits of every sum) is the same on every GPU. 528 = 4 x 132:
// two full waves at two blocks per SM on an H100/H200.
constexpr unsigned kGridBlocks = 528;

enum class GramPath : int { Mma = 0, Fma = 1 };

struct PassArgs {
  const unsigned char* base;                // staged bytes on the device
  unsigned long long row_offset[kMaxRows];  // byte offset of row r's element 0 (16-byte aligned,
                                            // readable up to a whole number of 8-element vectors)
  unsigned char dtype[kMaxRows];            // np::DType of each row
  unsigned char pair_a[kMaxPairs];          // Gram tile pairs, in units of 8 rows, ta <= tb
  unsigned char pair_b[kMaxPairs];
  int rows;                 // 1..64
  int rows_log2;            // padded rows: 0 (a single row) or 3..6
  int moment_rows;          // rows [0, moment_rows) get moments
  int pairs;                // 0..36
  unsigned long long n;     // elements per row
  unsigned long long start; // tensor index of element 0: a multiple of 64 (fake-init groups)
  FakeInitParams fake;
  double* partial;          // [blocks][stride]
  int stride;               // moment_rows * 5 + pairs * 64
};

// Dynamic shared memory of one block (at most 48 KiB, so no opt-in is needed).
size_t pass_shared_bytes(int rows_log2);
// Blocks for a launch over n elements: one per tile, at most kGridBlocks.
unsigned pass_blocks(int rows_log2, unsigned long long n);
// Whether the FP64 tensor-core path exists on a device of this compute capability.
inline bool mma_supported(int cc_major) { return cc_major >= 8; }

// Launches the pass on `stream`; `blocks` as from pass_blocks. Returns the launch's error.
cudaError_t launch_scan_pass(const PassArgs& args, unsigned blocks, GramPath path, cudaStream_t stream);

}  // namespace cuda_scan
}  // namespace np
