// Block layout. A block has 256 threads and walks tiles of E elements (grid-stride). The
// padded row count R = 2^rows_log2 (1, or 8..64) splits the threads into R rows of L = 256 / R
// threads; E = 4096 / R, so every thread owns 16 elements of one row per tile (two vectors of
// 8 consecutive elements, 16..64 bytes: coalesced, 16-byte loads) whatever the row count.
//
// Per tile:
//   1. the fake-init values r of the tile's E elements, from Philox in registers, into shared
//      memory (E / 2 tasks of two values: fake_init_device.cuh);
//   2. each thread converts its 16 elements to float64, adds its row's moments in registers,
//      and writes them to a shared float64 tile xs[R][E] (only when there is a Gram);
//   3. warps take Gram "units" (a tile pair, or a k-slice of one when there are fewer pairs
//      than warps) and accumulate xs · xsᵀ over the tile: FP64 mma.sync m8n8k4 (DMMA) through
//      the WMMA API on sm_80+, or FP64 FMA.
// The next tile's raw bytes are loaded into registers before step 3, so the global loads are
// in flight while the tensor cores work. Two barriers per tile: after 1 (r ready; the previous
// tile's Gram reads are done) and after 2 (xs ready).
//
// Element order inside a tile does not matter to any sum as long as every row uses the same
// one, so xs and r are stored in a permuted order sigma(8u + j) = j * 2L + u (u: the thread's
// vector, j: the element in it): consecutive lanes then touch consecutive shared words.
//
// At the end each block reduces its threads' moments (per row, in thread order) and its
// units' Gram tiles (per pair, in slice order) through shared memory: fixed orders, so the
// block partials, and the scan, are deterministic.
#include <cuda_fp16.h>
#include <mma.h>

#include <algorithm>

#include "core/dtype.h"
#include "cuda/fake_init_device.cuh"
#include "cuda/scan_pass_kernel.cuh"

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
#define NP_DMMA 0
#else
#define NP_DMMA 1
#endif

namespace np {
namespace cuda_scan {
namespace {

constexpr int kPerThread = 16;
constexpr int kDtF32 = static_cast<int>(DType::F32);
constexpr int kDtF16 = static_cast<int>(DType::F16);
constexpr int kDtBf16 = static_cast<int>(DType::BF16);
constexpr int kDtF64 = static_cast<int>(DType::F64);

__host__ __device__ constexpr int tile_elems(int rows_log2) { return kTileValues >> rows_log2; }
// Row stride of xs in doubles: 4 doubles of padding make the DMMA fragment loads (8 rows x 4
// consecutive doubles) conflict-free; a single row needs none (and no Gram).
__host__ __device__ constexpr int xs_stride(int rows_log2) {
  return rows_log2 == 0 ? tile_elems(0) : tile_elems(rows_log2) + 4;
}

__device__ __forceinline__ int dtype_bytes(int dt) { return dt == kDtF64 ? 8 : dt == kDtF32 ? 4 : 2; }

// The raw bytes of a thread's two vectors for dtypes of at most 4 bytes (F64 rows are read
// when converted instead: 128 bytes would cost too many registers).
struct Raw {
  uint4 q[4];
};

__device__ __forceinline__ uint4 load16(const unsigned char* p) {
  // Streaming load: model bytes are read once, keep them from evicting the partials.
  return __ldcs(reinterpret_cast<const uint4*>(p));
}

__device__ __forceinline__ void load_raw(int dt, const unsigned char* p0, const unsigned char* p1, bool v0, bool v1,
                                         Raw& r) {
  const uint4 z = make_uint4(0u, 0u, 0u, 0u);
  if (dt == kDtBf16 || dt == kDtF16) {
    r.q[0] = v0 ? load16(p0) : z;
    r.q[1] = v1 ? load16(p1) : z;
  } else if (dt == kDtF32) {
    r.q[0] = v0 ? load16(p0) : z;
    r.q[1] = v0 ? load16(p0 + 16) : z;
    r.q[2] = v1 ? load16(p1) : z;
    r.q[3] = v1 ? load16(p1 + 16) : z;
  }
}

__device__ __forceinline__ void unpack_half_words(int dt, uint4 q, float* x) {
  const unsigned w[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    if (dt == kDtBf16) {
      x[2 * i] = __uint_as_float(w[i] << 16);  // bf16 is the top half of a float32: exact
      x[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u);
    } else {
      x[2 * i] = __half2float(__ushort_as_half(static_cast<unsigned short>(w[i] & 0xffffu)));  // exact
      x[2 * i + 1] = __half2float(__ushort_as_half(static_cast<unsigned short>(w[i] >> 16)));
    }
  }
}

__device__ __forceinline__ void unpack_f32(uint4 a, uint4 b, float* x) {
  x[0] = __uint_as_float(a.x); x[1] = __uint_as_float(a.y); x[2] = __uint_as_float(a.z); x[3] = __uint_as_float(a.w);
  x[4] = __uint_as_float(b.x); x[5] = __uint_as_float(b.y); x[6] = __uint_as_float(b.z); x[7] = __uint_as_float(b.w);
}

__device__ __forceinline__ void load_f64_as_f32(const unsigned char* p, bool valid, float* x) {
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    double2 d = valid ? __ldcs(reinterpret_cast<const double2*>(p) + i) : make_double2(0.0, 0.0);
    x[2 * i] = static_cast<float>(d.x);  // round to nearest even, as static_cast on the CPU
    x[2 * i + 1] = static_cast<float>(d.y);
  }
}

// The thread's 16 elements as float32.
__device__ __forceinline__ void unpack(int dt, const Raw& r, const unsigned char* p0, const unsigned char* p1, bool v0,
                                       bool v1, float* x) {
  if (dt == kDtBf16 || dt == kDtF16) {
    unpack_half_words(dt, r.q[0], x);
    unpack_half_words(dt, r.q[1], x + 8);
  } else if (dt == kDtF32) {
    unpack_f32(r.q[0], r.q[1], x);
    unpack_f32(r.q[2], r.q[3], x + 8);
  } else {
    load_f64_as_f32(p0, v0, x);
    load_f64_as_f32(p1, v1, x + 8);
  }
}

template <bool kMma>
__global__ void __launch_bounds__(kThreads, 2) scan_pass_kernel(const PassArgs a) {
  extern __shared__ __align__(128) double smem[];
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int rl = a.rows_log2;
  const int E = tile_elems(rl);
  const int S = xs_stride(rl);
  const int lshift = 8 - rl;           // log2 of L, the threads per row
  const int L = 1 << lshift;
  double* xs = smem;                                            // [R][S]
  float* rs = reinterpret_cast<float*>(smem + (S << rl));       // [E], permuted order

  const int row = tid >> lshift;
  const int l = tid & (L - 1);
  const bool row_live = row < a.rows;
  const bool moment_row = row < a.moment_rows;
  const int dt = row_live ? static_cast<int>(a.dtype[row]) : kDtBf16;
  const int esize = dtype_bytes(dt);
  const unsigned char* rbase = a.base + (row_live ? a.row_offset[row] : 0ull);
  const bool need_r = a.moment_rows > 0;
  const bool gram = a.pairs > 0;
  const unsigned long long ntiles = (a.n + E - 1) / E;

  // Gram units of this warp: unit u = warp + 8j covers pair u / Q and k-steps s = u % Q (mod Q).
  const int Q = a.pairs >= kWarps ? 1 : kWarps / (a.pairs > 0 ? a.pairs : 1);
  const int units = a.pairs * Q;
  const int my_units = units > warp ? (units - warp + kWarps - 1) / kWarps : 0;
  const int slice = Q > 1 ? warp % Q : 0;
  int off_a[kMaxUnitsPerWarp], off_b[kMaxUnitsPerWarp];
#pragma unroll
  for (int j = 0; j < kMaxUnitsPerWarp; ++j) {
    const int p = j < my_units ? (warp + kWarps * j) / Q : 0;
    off_a[j] = 8 * static_cast<int>(a.pair_a[p]) * S;
    off_b[j] = 8 * static_cast<int>(a.pair_b[p]) * S;
  }
#if NP_DMMA
  nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 8, 8, 4, double> acc[kMaxUnitsPerWarp];
  if (kMma) {
#pragma unroll
    for (int j = 0; j < kMaxUnitsPerWarp; ++j) nvcuda::wmma::fill_fragment(acc[j], 0.0);
  }
#endif
  double facc[kMaxUnitsPerWarp][2];
#pragma unroll
  for (int j = 0; j < kMaxUnitsPerWarp; ++j) facc[j][0] = facc[j][1] = 0.0;

  double s1 = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0, sf = 0.0;

  // A thread's vectors in tile t start at elements t*E + 8u, u = l and l + L.
  auto vec_ptr = [&](unsigned long long tile, int v) {
    return rbase + (tile * E + 8ull * static_cast<unsigned long long>(l + v * L)) * esize;
  };
  auto vec_live = [&](unsigned long long tile, int v) {
    return row_live && tile * E + 8ull * static_cast<unsigned long long>(l + v * L) < a.n;
  };

  Raw raw{};  // q[2..3] stay unused for 2-byte rows
  unsigned long long tile = blockIdx.x;
  if (tile < ntiles) load_raw(dt, vec_ptr(tile, 0), vec_ptr(tile, 1), vec_live(tile, 0), vec_live(tile, 1), raw);

  for (; tile < ntiles; tile += gridDim.x) {
    const unsigned long long e0 = tile * E;
    // 1. Fake init of the tile, into rs[sigma(i)].
    if (need_r) {
      const unsigned long long group0 = (a.start + e0) / 64u;
      for (int t = tid; t < E / 2; t += kThreads) {
        const int qg = t >> 5, half = (t >> 4) & 1, ln = t & 15;
        const FakePair v = fake_init_task(a.fake, group0 + static_cast<unsigned long long>(qg), ln, half);
        const int i0 = qg * 64 + 32 * half + ln, i1 = i0 + 16;
        rs[(i0 & 7) * 2 * L + (i0 >> 3)] = v.first;
        rs[(i1 & 7) * 2 * L + (i1 >> 3)] = v.second;
      }
    }
    __syncthreads();

    // 2. Convert, moments, xs.
    {
      float x[kPerThread];
      const bool v0 = vec_live(tile, 0), v1 = vec_live(tile, 1);
      unpack(dt, raw, vec_ptr(tile, 0), vec_ptr(tile, 1), v0, v1, x);
#pragma unroll
      for (int v = 0; v < 2; ++v) {
        const int u = l + v * L;
#pragma unroll
        for (int j = 0; j < 8; ++j) {
          const bool valid = row_live && e0 + 8ull * static_cast<unsigned long long>(u) + j < a.n;
          const double xd = valid ? static_cast<double>(x[8 * v + j]) : 0.0;
          const int col = j * 2 * L + u;
          if (moment_row) {
            const double x2 = xd * xd;
            const double d = valid ? xd - static_cast<double>(rs[col]) : 0.0;
            s1 += xd;
            s2 += x2;
            s3 = fma(x2, xd, s3);
            s4 = fma(x2, x2, s4);
            sf = fma(d, d, sf);
          }
          if (gram) xs[row * S + col] = xd;
        }
      }
    }
    // Prefetch the next tile's bytes while the Gram runs.
    {
      const unsigned long long next = tile + gridDim.x;
      if (next < ntiles) load_raw(dt, vec_ptr(next, 0), vec_ptr(next, 1), vec_live(next, 0), vec_live(next, 1), raw);
    }
    __syncthreads();

    // 3. Gram tiles over the tile's E / 4 k-steps of 4 elements.
    if (my_units > 0) {
      const int ksteps = E / 4;
#if NP_DMMA
      if (kMma) {
        for (int s = slice; s < ksteps; s += Q) {
#pragma unroll
          for (int j = 0; j < kMaxUnitsPerWarp; ++j) {
            if (j < my_units) {
              // A = rows 8ta.. x 4 elements (row-major); B = (rows 8tb..)ᵀ, i.e. column-major
              // with the same stride: B[k][n] = xs[(8tb + n) * S + 4s + k].
              nvcuda::wmma::fragment<nvcuda::wmma::matrix_a, 8, 8, 4, double, nvcuda::wmma::row_major> fa;
              nvcuda::wmma::fragment<nvcuda::wmma::matrix_b, 8, 8, 4, double, nvcuda::wmma::col_major> fb;
              nvcuda::wmma::load_matrix_sync(fa, xs + off_a[j] + 4 * s, S);
              nvcuda::wmma::load_matrix_sync(fb, xs + off_b[j] + 4 * s, S);
              nvcuda::wmma::mma_sync(acc[j], fa, fb, acc[j]);
            }
          }
        }
      }
#endif
      if (!kMma || !NP_DMMA) {
        // Lane (g, t) owns entries (g, 2t) and (g, 2t + 1) of each 8x8 tile.
        const int g = lane >> 2, t4 = lane & 3;
        for (int s = slice; s < ksteps; s += Q) {
#pragma unroll
          for (int j = 0; j < kMaxUnitsPerWarp; ++j) {
            if (j < my_units) {
              const double* pa = xs + off_a[j] + g * S + 4 * s;
              const double* pb = xs + off_b[j] + 2 * t4 * S + 4 * s;
#pragma unroll
              for (int kk = 0; kk < 4; ++kk) {
                const double av = pa[kk];
                facc[j][0] = fma(av, pb[kk], facc[j][0]);
                facc[j][1] = fma(av, pb[S + kk], facc[j][1]);
              }
            }
          }
        }
      }
    }
  }

  // Block reduction through shared memory (xs is free once every warp is past its Gram).
  __syncthreads();
  double* red = smem;                           // [256][5] moments per thread
  double* gred = smem + kThreads * kStats;      // [8 warps][5 units][64] Gram tiles
  if (moment_row) {
    red[tid * kStats + 0] = s1;
    red[tid * kStats + 1] = s2;
    red[tid * kStats + 2] = s3;
    red[tid * kStats + 3] = s4;
    red[tid * kStats + 4] = sf;
  }
#pragma unroll
  for (int j = 0; j < kMaxUnitsPerWarp; ++j) {
    if (j < my_units) {
      double* dstp = gred + (warp * kMaxUnitsPerWarp + j) * 64;
#if NP_DMMA
      if (kMma) nvcuda::wmma::store_matrix_sync(dstp, acc[j], 8, nvcuda::wmma::mem_row_major);
#endif
      if (!kMma || !NP_DMMA) {
        const int g = lane >> 2, t4 = lane & 3;
        dstp[g * 8 + 2 * t4] = facc[j][0];
        dstp[g * 8 + 2 * t4 + 1] = facc[j][1];
      }
    }
  }
  __syncthreads();
  double* out = a.partial + static_cast<size_t>(blockIdx.x) * static_cast<size_t>(a.stride);
  const int mvals = a.moment_rows * kStats;
  for (int v = tid; v < a.stride; v += kThreads) {
    double sum = 0.0;
    if (v < mvals) {
      const int r = v / kStats, st = v % kStats;
      for (int i = 0; i < L; ++i) sum += red[((r << lshift) + i) * kStats + st];
    } else {
      const int w = v - mvals, p = w >> 6, e = w & 63;
      for (int q = 0; q < Q; ++q) {
        const int u = p * Q + q;
        sum += gred[((u % kWarps) * kMaxUnitsPerWarp + u / kWarps) * 64 + e];
      }
    }
    out[v] = sum;
  }
}

}  // namespace

size_t pass_shared_bytes(int rows_log2) {
  const size_t xs = static_cast<size_t>(xs_stride(rows_log2)) << rows_log2;
  return xs * sizeof(double) + static_cast<size_t>(tile_elems(rows_log2)) * sizeof(float);
}

unsigned pass_blocks(int rows_log2, unsigned long long n) {
  const unsigned long long tiles = (n + tile_elems(rows_log2) - 1) / tile_elems(rows_log2);
  return static_cast<unsigned>(std::max<unsigned long long>(1, std::min<unsigned long long>(tiles, kGridBlocks)));
}

cudaError_t launch_scan_pass(const PassArgs& args, unsigned blocks, GramPath path, cudaStream_t stream) {
  // The block reduction reuses xs: it must hold 256 x 5 moments and 8 x 5 Gram tiles.
  static_assert(kThreads * kStats + kWarps * kMaxUnitsPerWarp * 64 <= (tile_elems(3) + 4) * 8, "scratch");
  static_assert(kThreads * kStats + kWarps * kMaxUnitsPerWarp * 64 <= tile_elems(0), "scratch");
  const size_t shared = pass_shared_bytes(args.rows_log2);
  if (path == GramPath::Mma)
    scan_pass_kernel<true><<<blocks, kThreads, shared, stream>>>(args);
  else
    scan_pass_kernel<false><<<blocks, kThreads, shared, stream>>>(args);
  return cudaGetLastError();
}

}  // namespace cuda_scan
}  // namespace np
