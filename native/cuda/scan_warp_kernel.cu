// Layout. A pass has R <= 8G rows, cut into G tiles of 8 rows (G = 1, 2 or 4 by template).
// Every warp walks "units" of 64 consecutive elements (unit u goes to global warp u mod W,
// W = all warps of the grid: a fixed partition for a given grid). Lane (g, t) of a warp
// (lane = 4g + t) owns, in each tile h, row 8h + g and two 8-element vectors of it: elements
// 8t..8t+7 and 32+8t..32+8t+7 of the unit (16-byte loads; the 4 lanes of a row read 64
// contiguous bytes). For element j of a vector the lane holds X[8h + g][column 8t + j], so one
// FP64 mma step (warp_ops.cuh) with A = tile a's value and B = tile b's value adds the 8 x 8
// Gram block (a, b) of those 4 columns: 16 steps per unit and tile pair, straight from
// registers. The same values feed the lane's moments (the sum of squares is the Gram block's
// diagonal). The fake init r of a unit's 64 columns (one Philox group, the same for every
// row) is computed once per warp, two units at a time (every Philox word used), into a small
// warp-private shared array. The next unit's bytes are loaded while the current one is
// computed.
//
// At the end the lanes of a row add their moments (xor shuffles: every lane gets the same
// bits), and the warps add their moments and Gram blocks into shared memory one warp after
// the other; so the block partial, and the scan, are deterministic for a given grid.
#include "cuda/fake_init_device.cuh"
#include "cuda/scan_unpack.cuh"
#include "cuda/scan_warp_kernel.cuh"
#include "cuda/warp_ops.cuh"

namespace np {
namespace cuda_scan {
namespace {

__host__ __device__ constexpr int tile_pairs(int g) { return g * (g + 1) / 2; }
// Index of tile pair (a, b), a <= b < G, in the order a-major (plan_passes' order).
__host__ __device__ constexpr int pair_index(int G, int a, int b) { return a * G - a * (a - 1) / 2 + (b - a); }
// Launch bounds: more tiles hold more registers (accumulators, raw bytes) per lane.
__host__ __device__ constexpr int min_blocks(int G) { return G == 1 ? 3 : G == 2 ? 2 : 1; }

// Raw bytes of one lane for one unit: [tile][vector][half]; 2-byte rows use half 0, F32 rows
// both, F64 rows are read when converted (64 bytes per vector would cost too many registers).
template <int G>
struct Raw {
  uint4 q[G][2][2];
};

template <int G, bool kMma>
__global__ void __launch_bounds__(kThreads, min_blocks(G)) scan_warp_kernel(const PassArgs a) {
  constexpr int P = tile_pairs(G);
  constexpr int kRed = G * 8 * kStats + P * 64;
  // The fake init of the warp's current and next unit, float32 values widened once.
  __shared__ double rs_all[kWarps][2][kWarpUnit];
  __shared__ double red[kRed];

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, g = lane >> 2, t = lane & 3;
  const bool gram = a.pairs > 0;

  const unsigned char* rp[G];
  int dt[G];
  bool live[G];
#pragma unroll
  for (int h = 0; h < G; ++h) {
    const int row = 8 * h + g;
    live[h] = row < a.rows;
    dt[h] = live[h] ? static_cast<int>(a.dtype[row]) : kDtBf16;
    rp[h] = a.base + (live[h] ? a.row_offset[row] : 0ull);
  }
  auto esize = [](int d) { return d == kDtF64 ? 8 : d == kDtF32 ? 4 : 2; };
  // Byte address of the lane's vector v of unit u in tile h.
  auto vec_ptr = [&](int h, unsigned long long u, int v) {
    return rp[h] + (u * kWarpUnit + 32ull * v + 8ull * t) * static_cast<unsigned long long>(esize(dt[h]));
  };
  auto vec_live = [&](unsigned long long u, int v) { return u * kWarpUnit + 32ull * v + 8ull * t < a.n; };
  auto load_unit = [&](unsigned long long u, Raw<G>& r) {
#pragma unroll
    for (int h = 0; h < G; ++h)
#pragma unroll
      for (int v = 0; v < 2; ++v) {
        const uint4 z = make_uint4(0u, 0u, 0u, 0u);
        const bool ok = live[h] && vec_live(u, v) && dt[h] != kDtF64;
        const unsigned char* p = vec_ptr(h, u, v);
        r.q[h][v][0] = ok ? load16(p) : z;
        r.q[h][v][1] = ok && dt[h] == kDtF32 ? load16(p + 16) : z;
      }
  };

  double mom[G][kStats];
#pragma unroll
  for (int h = 0; h < G; ++h)
#pragma unroll
    for (int s = 0; s < kStats; ++s) mom[h][s] = 0.0;
  // One tile pair: two accumulator sets (even and odd steps) halve its dependent mma chain;
  // with more pairs the chains of different pairs already overlap.
  constexpr int C = G == 1 ? 2 : 1;
  double acc[C][P][2];
#pragma unroll
  for (int c = 0; c < C; ++c)
#pragma unroll
    for (int p = 0; p < P; ++p) acc[c][p][0] = acc[c][p][1] = 0.0;

  const unsigned long long units = (a.n + kWarpUnit - 1) / kWarpUnit;
  const unsigned long long step = static_cast<unsigned long long>(gridDim.x) * kWarps;
  unsigned long long u = static_cast<unsigned long long>(blockIdx.x) * kWarps + warp;
  Raw<G> raw;
  if (u < units) load_unit(u, raw);

  for (int it = 0; u < units; u += step, ++it) {
    // Every other unit: the 64 fake-init values of this unit (lanes 0..15) and of the next
    // one (lanes 16..31), one Philox call per lane, all four of its words used.
    if ((it & 1) == 0) {
      const int ln = lane & 15, which = lane >> 4;
      const FakeQuad fq = fake_init_quad(a.fake, (a.start >> 6) + u + (which ? step : 0), ln);
      warp_sync();  // every lane is done reading the previous two units' values
#pragma unroll
      for (int m = 0; m < 4; ++m) rs_all[warp][which][ln + 16 * m] = static_cast<double>(fq.v[m]);
      warp_sync();
    }
    const double* rs = rs_all[warp][it & 1];
    const Raw<G> cur = raw;
    if (u + step < units) load_unit(u + step, raw);

#pragma unroll
    for (int v = 0; v < 2; ++v) {
      const unsigned long long e = u * kWarpUnit + 32ull * v + 8ull * t;  // the vector's first element
      const int valid = e >= a.n ? 0 : (a.n - e >= 8 ? 8 : static_cast<int>(a.n - e));
      const double* rv = rs + 32 * v + 8 * t;
      float xf[G][8];
#pragma unroll
      for (int h = 0; h < G; ++h) {
        if (live[h] && valid > 0)
          unpack8(dt[h], cur.q[h][v][0], cur.q[h][v][1], vec_ptr(h, u, v), xf[h]);
        else
#pragma unroll
          for (int j = 0; j < 8; ++j) xf[h][j] = 0.0f;
      }
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        const bool ok = j < valid;
        const double r = rv[j];
        double x[G];
#pragma unroll
        for (int h = 0; h < G; ++h) {
          const bool use = ok && live[h];
          x[h] = use ? static_cast<double>(xf[h][j]) : 0.0;
          const double x2 = x[h] * x[h];
          const double d = use ? x[h] - r : 0.0;
          mom[h][0] += x[h];  // mom[h][1], the sum of squares, is the Gram diagonal (below)
          mom[h][2] = fma(x2, x[h], mom[h][2]);
          mom[h][3] = fma(x2, x2, mom[h][3]);
          mom[h][4] = fma(d, d, mom[h][4]);
        }
        if (gram) {
#pragma unroll
          for (int ta = 0; ta < G; ++ta)
#pragma unroll
            for (int tb = ta; tb < G; ++tb) {
              double* c = acc[j % C][pair_index(G, ta, tb)];
              if (kMma)
                mma_f64_tc(x[ta], x[tb], c[0], c[1]);
              else
                mma_f64_fma(x[ta], x[tb], c[0], c[1]);
            }
        }
      }
    }
  }

  // The sum of squares of row 8h + g is the diagonal entry (g, g) of Gram block (h, h), held
  // by lane 4g + g / 2 (entries (g, 2t) and (g, 2t + 1)): one float64 sum, not two.
#pragma unroll
  for (int p = 0; p < P; ++p)
#pragma unroll
    for (int c = 1; c < C; ++c) {
      acc[0][p][0] += acc[c][p][0];
      acc[0][p][1] += acc[c][p][1];
    }
#pragma unroll
  for (int h = 0; h < G; ++h) {
    const double* d = acc[0][pair_index(G, h, h)];
    const double c0 = shfl_double(d[0], 4 * g + (g >> 1)), c1 = shfl_double(d[1], 4 * g + (g >> 1));
    mom[h][1] = (g & 1) ? c1 : c0;
  }
  // Row totals over the 4 lanes of each row; then warps add into `red` one after the other.
#pragma unroll
  for (int h = 0; h < G; ++h)
#pragma unroll
    for (int s = 0; s < kStats; ++s) {
      if (s == 1) continue;  // already the row's total
      double m = mom[h][s];
      m += shfl_xor_double(m, 1);
      m += shfl_xor_double(m, 2);
      mom[h][s] = m;
    }
  for (int w = 0; w < kWarps; ++w) {
    if (warp == w) {
      if (t == 0) {
#pragma unroll
        for (int h = 0; h < G; ++h)
#pragma unroll
          for (int s = 0; s < kStats; ++s) {
            double& dst = red[(8 * h + g) * kStats + s];
            dst = w == 0 ? mom[h][s] : dst + mom[h][s];
          }
      }
#pragma unroll
      for (int p = 0; p < P; ++p)
#pragma unroll
        for (int i = 0; i < 2; ++i) {
          double& dst = red[G * 8 * kStats + p * 64 + 8 * g + 2 * t + i];
          dst = w == 0 ? acc[0][p][i] : dst + acc[0][p][i];
        }
    }
    __syncthreads();
  }

  double* out = a.partial + static_cast<size_t>(blockIdx.x) * static_cast<size_t>(a.stride);
  const int mvals = a.moment_rows * kStats;
  for (int v = tid; v < a.stride; v += kThreads) {
    if (v < mvals) {
      out[v] = red[v];
    } else {
      const int q = (v - mvals) >> 6, e = (v - mvals) & 63;
      out[v] = red[G * 8 * kStats + pair_index(G, a.pair_a[q], a.pair_b[q]) * 64 + e];
    }
  }
}

template <int G>
cudaError_t launch_g(const PassArgs& a, unsigned blocks, GramPath path, cudaStream_t stream) {
  if (path == GramPath::Mma) {
    auto k = scan_warp_kernel<G, true>;
    k<<<blocks, kThreads, 0, stream>>>(a);
  } else {
    auto k = scan_warp_kernel<G, false>;
    k<<<blocks, kThreads, 0, stream>>>(a);
  }
  return cudaGetLastError();
}

int tiles_of(int rows) { return (rows + 7) / 8; }
int template_tiles(int rows) { return tiles_of(rows) == 1 ? 1 : tiles_of(rows) == 2 ? 2 : 4; }

}  // namespace

bool warp_kernel_fits(const PassArgs& a) {
  if (a.rows < 2 || a.rows > kWarpKernelMaxRows || a.moment_rows != a.rows) return false;
  const int tiles = tiles_of(a.rows);
  if (a.pairs != tile_pairs(tiles)) return false;
  bool seen[4][4] = {};
  for (int q = 0; q < a.pairs; ++q) {
    const int ta = a.pair_a[q], tb = a.pair_b[q];
    if (ta > tb || tb >= tiles || seen[ta][tb]) return false;
    seen[ta][tb] = true;
  }
  return true;
}

int warp_blocks_per_sm(int rows) { return min_blocks(template_tiles(rows)); }

unsigned warp_blocks(int rows, unsigned long long n, int multiprocessors) {
  const unsigned long long units = (n + kWarpUnit - 1) / kWarpUnit;
  const unsigned long long need = (units + kWarps - 1) / kWarps;
  const unsigned long long wave = static_cast<unsigned long long>(multiprocessors > 0 ? multiprocessors : 1) *
                                  static_cast<unsigned long long>(warp_blocks_per_sm(rows));
  return static_cast<unsigned>(need < 1 ? 1 : need < wave ? need : wave);
}

cudaError_t launch_scan_warp(const PassArgs& a, unsigned blocks, GramPath path, cudaStream_t stream) {
  switch (template_tiles(a.rows)) {
    case 1: return launch_g<1>(a, blocks, path, stream);
    case 2: return launch_g<2>(a, blocks, path, stream);
    default: return launch_g<4>(a, blocks, path, stream);
  }
}

}  // namespace cuda_scan
}  // namespace np
