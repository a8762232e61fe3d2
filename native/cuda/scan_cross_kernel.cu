// Layout (as scan_warp_kernel.cu, whose layout comment explains the FP64 mma fragments). A
// cross pass has 4 + GB tiles of 8 rows: tiles 0..3 are panel A (pass rows 0..31), tiles
// 4..4+GB-1 panel B (pass rows 32..). Every warp walks "units" of 16 consecutive elements
// (unit u goes to global warp u mod W, W = all warps of the grid: a fixed partition for a
// given grid). Lane (g, t) (lane = 4g + t) owns, in each tile h, row 8h + g and one 4-element
// quad of it: elements 4t..4t+3 of the unit (8-byte loads for 2-byte rows, 16 for F32). For
// element j of its quad the lane holds X[8h + g][4t + j], so one mma step with A = tile a's
// value and B = tile 4 + b's value adds the 8 x 8 cross block (a, b) of 4 columns: 4 steps
// per unit and pair, straight from registers. No moments (the triangle passes compute them),
// so no fake init either.
//
// Why quads (the triangle kernel takes two 8-element vectors per lane): with up to 8 tiles
// live and the next unit's bytes loaded while the current one is computed, 8-element vectors
// cost 128 registers of raw bytes for F32 rows and spilled (ptxas -v, sm_90); quads keep the
// raw bytes at 2 x 32 registers and the 16 pair accumulators at 64.
//
// At the end the warps add their Gram blocks into shared memory one warp after the other, so
// the block partial, and the scan, are deterministic for a given grid.
#include "cuda/scan_cross_kernel.cuh"
#include "cuda/scan_unpack.cuh"
#include "cuda/warp_ops.cuh"

namespace np {
namespace cuda_scan {
namespace {

constexpr int kTilesA = kCrossRowsA / 8;

// Launch bounds: the widest variant (8 tiles: 32 accumulators and 2 x 64 raw registers per
// lane) needs the whole register file of one block per multiprocessor.
__host__ __device__ constexpr int cross_min_blocks(int GB) { return GB <= 2 ? 2 : 1; }

// Raw bytes of one lane for one unit, per tile: 2-byte rows use x and y, F32 rows all four
// words, F64 rows are read when converted.
template <int T>
struct CrossRaw {
  uint4 q[T];
};

template <int GB, bool kMma>
__global__ void __launch_bounds__(kThreads, cross_min_blocks(GB)) scan_cross_kernel(const PassArgs a) {
  constexpr int T = kTilesA + GB;
  constexpr int P = kTilesA * GB;
  __shared__ double red[P * 64];

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, g = lane >> 2, t = lane & 3;

  const unsigned char* rp[T];
  int dt[T];
  bool live[T];
#pragma unroll
  for (int h = 0; h < T; ++h) {
    const int row = 8 * h + g;
    live[h] = row < a.rows;
    dt[h] = live[h] ? static_cast<int>(a.dtype[row]) : kDtBf16;
    rp[h] = a.base + (live[h] ? a.row_offset[row] : 0ull);
  }
  // Byte address of the lane's quad of unit u in tile h.
  auto quad_ptr = [&](int h, unsigned long long u) {
    return rp[h] + (u * kCrossUnit + 4ull * t) * static_cast<unsigned long long>(dtype_bytes(dt[h]));
  };
  auto load_unit = [&](unsigned long long u, CrossRaw<T>& r) {
    const bool in = u * kCrossUnit + 4ull * t < a.n;
#pragma unroll
    for (int h = 0; h < T; ++h) {
      const unsigned char* p = quad_ptr(h, u);
      uint4 w = make_uint4(0u, 0u, 0u, 0u);
      if (live[h] && in && dt[h] == kDtF32) {
        w = load16(p);
      } else if (live[h] && in && dt[h] != kDtF64) {
        const uint2 h2 = load8(p);
        w.x = h2.x;
        w.y = h2.y;
      }
      r.q[h] = w;
    }
  };

  double acc[P][2];
#pragma unroll
  for (int p = 0; p < P; ++p) acc[p][0] = acc[p][1] = 0.0;

  const unsigned long long units = (a.n + kCrossUnit - 1) / kCrossUnit;
  const unsigned long long step = static_cast<unsigned long long>(gridDim.x) * kWarps;
  unsigned long long u = static_cast<unsigned long long>(blockIdx.x) * kWarps + warp;
  CrossRaw<T> raw;
  if (u < units) load_unit(u, raw);

  for (; u < units; u += step) {
    const CrossRaw<T> cur = raw;
    if (u + step < units) load_unit(u + step, raw);
    const unsigned long long e = u * kCrossUnit + 4ull * t;  // the lane's first element
    const int valid = e >= a.n ? 0 : (a.n - e >= 4 ? 4 : static_cast<int>(a.n - e));
    float xf[T][4];
#pragma unroll
    for (int h = 0; h < T; ++h) {
      if (live[h] && valid > 0)
        unpack4(dt[h], cur.q[h], quad_ptr(h, u), xf[h]);
      else
#pragma unroll
        for (int j = 0; j < 4; ++j) xf[h][j] = 0.0f;
    }
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const bool ok = j < valid;
      double x[T];
#pragma unroll
      for (int h = 0; h < T; ++h) x[h] = ok && live[h] ? static_cast<double>(xf[h][j]) : 0.0;
#pragma unroll
      for (int ta = 0; ta < kTilesA; ++ta)
#pragma unroll
        for (int tb = 0; tb < GB; ++tb) {
          double* c = acc[ta * GB + tb];
          if (kMma)
            mma_f64_tc(x[ta], x[kTilesA + tb], c[0], c[1]);
          else
            mma_f64_fma(x[ta], x[kTilesA + tb], c[0], c[1]);
        }
    }
  }

  for (int w = 0; w < kWarps; ++w) {
    if (warp == w) {
#pragma unroll
      for (int p = 0; p < P; ++p)
#pragma unroll
        for (int i = 0; i < 2; ++i) {
          double& dst = red[p * 64 + 8 * g + 2 * t + i];
          dst = w == 0 ? acc[p][i] : dst + acc[p][i];
        }
    }
    __syncthreads();
  }

  double* out = a.partial + static_cast<size_t>(blockIdx.x) * static_cast<size_t>(a.stride);
  for (int v = tid; v < a.stride; v += kThreads) {
    const int q = v >> 6, e = v & 63;
    out[v] = red[(a.pair_a[q] * GB + (a.pair_b[q] - kTilesA)) * 64 + e];
  }
}

template <int GB>
cudaError_t launch_gb(const PassArgs& a, unsigned blocks, GramPath path, cudaStream_t stream) {
  if (path == GramPath::Mma) {
    auto k = scan_cross_kernel<GB, true>;
    k<<<blocks, kThreads, 0, stream>>>(a);
  } else {
    auto k = scan_cross_kernel<GB, false>;
    k<<<blocks, kThreads, 0, stream>>>(a);
  }
  return cudaGetLastError();
}

// Tiles of panel B.
int tiles_b(int rows) { return (rows - kCrossRowsA + 7) / 8; }

}  // namespace

bool cross_kernel_fits(const PassArgs& a) {
  if (a.rows <= kCrossRowsA || a.rows > 2 * kCrossRowsA || a.moment_rows != 0) return false;
  const int gb = tiles_b(a.rows);
  if (a.pairs != kTilesA * gb) return false;
  bool seen[kTilesA][4] = {};
  for (int q = 0; q < a.pairs; ++q) {
    const int ta = a.pair_a[q], tb = a.pair_b[q] - kTilesA;
    if (ta < 0 || ta >= kTilesA || tb < 0 || tb >= gb || seen[ta][tb]) return false;
    seen[ta][tb] = true;
  }
  return true;
}

int cross_blocks_per_sm(int rows) { return cross_min_blocks(tiles_b(rows)); }

unsigned cross_blocks(int rows, unsigned long long n, int multiprocessors) {
  const unsigned long long units = (n + kCrossUnit - 1) / kCrossUnit;
  const unsigned long long need = (units + kWarps - 1) / kWarps;
  const unsigned long long wave = static_cast<unsigned long long>(multiprocessors > 0 ? multiprocessors : 1) *
                                  static_cast<unsigned long long>(cross_blocks_per_sm(rows));
  return static_cast<unsigned>(need < 1 ? 1 : need < wave ? need : wave);
}

cudaError_t launch_scan_cross(const PassArgs& a, unsigned blocks, GramPath path, cudaStream_t stream) {
  switch (tiles_b(a.rows)) {
    case 1: return launch_gb<1>(a, blocks, path, stream);
    case 2: return launch_gb<2>(a, blocks, path, stream);
    case 3: return launch_gb<3>(a, blocks, path, stream);
    default: return launch_gb<4>(a, blocks, path, stream);
  }
}

}  // namespace cuda_scan
}  // namespace np
