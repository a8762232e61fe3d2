// AVX2 + FMA + F16C kernels, for x86-64 CPUs without AVX-512. Same structure as
// scan_kernels_avx512.cc; the fake init reproduces philox.h bit for bit.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "core/scan_kernels.h"

namespace np {
namespace {

// ---- vector traits and conversion to float64 ----------------------------------------------

struct Avx2V {
  static constexpr int kLanes = 4;
  static constexpr int kTile = 3;        // 9 accumulators + 6 inputs of the 16 ymm registers
  static constexpr int kMomentRows = 2;  // 10 accumulators
  static constexpr int kLoraRows = 4, kLoraVecs = 2;  // 8 accumulators, 2 A vectors, a broadcast
  using vd = __m256d;
  static vd zero() { return _mm256_setzero_pd(); }
  static vd set1(double x) { return _mm256_set1_pd(x); }
  static void store_f32(float* p, vd a) { _mm_storeu_ps(p, _mm256_cvtpd_ps(a)); }
  static vd load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, vd a) { _mm256_storeu_pd(p, a); }
  static vd add(vd a, vd b) { return _mm256_add_pd(a, b); }
  static vd sub(vd a, vd b) { return _mm256_sub_pd(a, b); }
  static vd mul(vd a, vd b) { return _mm256_mul_pd(a, b); }
  static vd fma(vd a, vd b, vd c) { return _mm256_fmadd_pd(a, b, c); }

  static void store_ps_as_pd(double* dst, __m256 f) {
    _mm256_storeu_pd(dst, _mm256_cvtps_pd(_mm256_castps256_ps128(f)));
    _mm256_storeu_pd(dst + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(f, 1)));
  }

  static vd load_f32(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }

  // 4 elements of dtype DT, each through float32 (as to_f64 below).
  template <DType DT>
  static vd load_as(const unsigned char* p) {
    if constexpr (DT == DType::BF16) {
      const __m128i h = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
      return _mm256_cvtps_pd(_mm_castsi128_ps(_mm_slli_epi32(_mm_cvtepu16_epi32(h), 16)));
    } else if constexpr (DT == DType::F16) {
      return _mm256_cvtps_pd(_mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
    } else if constexpr (DT == DType::F32) {
      return _mm256_cvtps_pd(_mm_loadu_ps(reinterpret_cast<const float*>(p)));
    } else {
      return _mm256_cvtps_pd(_mm256_cvtpd_ps(_mm256_loadu_pd(reinterpret_cast<const double*>(p))));
    }
  }

  // Every element becomes a float32 first (F64 included), as in the TypeScript reference.
  static void to_f64(DType type, const unsigned char* src, double* dst, size_t n) {
    size_t i = 0;
    switch (type) {
      case DType::F32:
        for (; i + 4 <= n; i += 4)
          _mm256_storeu_pd(dst + i, _mm256_cvtps_pd(_mm_loadu_ps(reinterpret_cast<const float*>(src) + i)));
        break;
      case DType::BF16:
        for (; i + 8 <= n; i += 8) {
          __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i * 2));
          store_ps_as_pd(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)));
        }
        break;
      case DType::F16:
        for (; i + 8 <= n; i += 8) {
          __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i * 2));
          store_ps_as_pd(dst + i, _mm256_cvtph_ps(h));
        }
        break;
      case DType::F64:
        for (; i + 4 <= n; i += 4) {
          __m256d d = _mm256_loadu_pd(reinterpret_cast<const double*>(src) + i);
          _mm256_storeu_pd(dst + i, _mm256_cvtps_pd(_mm256_cvtpd_ps(d)));
        }
        break;
    }
    const size_t size = dtype_size(type);
    for (; i < n; ++i) dst[i] = static_cast<double>(load_as_float(type, src + i * size));
  }
};

#include "core/scan_block_impl.h"
#include "core/scan_lora_impl.h"

// ---- Philox on 8 lanes --------------------------------------------------------------------

struct Words8 {
  __m256i v[4];
};

inline void mulhilo8(__m256i a, __m256i m, __m256i* hi, __m256i* lo) {
  __m256i even = _mm256_mul_epu32(a, m);
  __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
  *lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  *hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}

// G groups of 8 counters, bases[g] + lane (each base a multiple of 16, or that plus 8, so the
// low word never carries), computed together: G independent round chains hide the
// multiplier latency that one chain alone waited on.
template <int G>
void philox8(const uint64_t* bases, uint32_t c2, uint32_t k0, uint32_t k1, Words8* out) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i m0 = _mm256_set1_epi32(static_cast<int>(kPhiloxM0));
  const __m256i m1 = _mm256_set1_epi32(static_cast<int>(kPhiloxM1));
  __m256i c0[G], c1[G], cc2[G], c3[G];
  for (int g = 0; g < G; ++g) {
    c0[g] = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(bases[g]))), lane);
    c1[g] = _mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(bases[g] >> 32)));
    cc2[g] = _mm256_set1_epi32(static_cast<int>(c2));
    c3[g] = _mm256_setzero_si256();
  }
  for (int round = 0; round < 10; ++round) {
    const __m256i key0 = _mm256_set1_epi32(static_cast<int>(k0));
    const __m256i key1 = _mm256_set1_epi32(static_cast<int>(k1));
    for (int g = 0; g < G; ++g) {
      __m256i hi0, lo0, hi1, lo1;
      mulhilo8(c0[g], m0, &hi0, &lo0);
      mulhilo8(cc2[g], m1, &hi1, &lo1);
      c0[g] = _mm256_xor_si256(_mm256_xor_si256(hi1, c1[g]), key0);
      c1[g] = lo1;
      cc2[g] = _mm256_xor_si256(_mm256_xor_si256(hi0, c3[g]), key1);
      c3[g] = lo0;
    }
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
  for (int g = 0; g < G; ++g) out[g] = Words8{{c0[g], c1[g], cc2[g], c3[g]}};
}

// ---- fake init (4 lanes of double per step) -----------------------------------------------

inline __m128 uniform4(__m128i bits, __m256d low, __m256d width) {
  __m256d top = _mm256_cvtepi32_pd(_mm_srli_epi32(bits, 8));
  __m256d u = _mm256_mul_pd(_mm256_add_pd(top, _mm256_set1_pd(0.5)), _mm256_set1_pd(kTwoPowMinus24));
  return _mm256_cvtpd_ps(_mm256_add_pd(low, _mm256_mul_pd(width, u)));
}

inline __m256d mask64(__m128i m32) { return _mm256_castsi256_pd(_mm256_cvtepi32_epi64(m32)); }

// As in the AVX-512 kernels, the Box-Muller pieces work on N independent groups of 4 lanes,
// each step applied to all N before the next, so the serial Horner chains overlap. Per lane
// the operations and their order are exactly philox.h's.

// det_log_u24 on N x 4 lanes; m: 4 x i32 in [1, 2^24].
template <int N>
inline void log4(const __m128i* m, __m256d* out) {
  const __m256d one = _mm256_set1_pd(1.0);
  __m256d e[N], s[N], s2[N], p[N];
  for (int k = 0; k < N; ++k) {
    __m128i fb = _mm_castps_si128(_mm_cvtepi32_ps(m[k]));  // exact: m <= 2^24
    e[k] = _mm256_cvtepi32_pd(_mm_sub_epi32(_mm_srli_epi32(fb, 23), _mm_set1_epi32(127)));
    __m128i mant = _mm_or_si128(_mm_and_si128(fb, _mm_set1_epi32(0x7fffff)), _mm_set1_epi32(0x3f800000));
    __m256d f = _mm256_cvtps_pd(_mm_castsi128_ps(mant));
    __m256d big = _mm256_cmp_pd(f, _mm256_set1_pd(kSqrt2), _CMP_GT_OQ);
    f = _mm256_blendv_pd(f, _mm256_mul_pd(f, _mm256_set1_pd(0.5)), big);
    e[k] = _mm256_blendv_pd(e[k], _mm256_add_pd(e[k], one), big);
    s[k] = _mm256_div_pd(_mm256_sub_pd(f, one), _mm256_add_pd(f, one));
    s2[k] = _mm256_mul_pd(s[k], s[k]);
    p[k] = _mm256_set1_pd(1.0 / 19.0);
  }
  const double coef[] = {1.0 / 17.0, 1.0 / 15.0, 1.0 / 13.0, 1.0 / 11.0, 1.0 / 9.0, 1.0 / 7.0, 1.0 / 5.0, 1.0 / 3.0, 1.0};
  for (double c : coef) {
    const __m256d cv = _mm256_set1_pd(c);
    for (int k = 0; k < N; ++k) p[k] = _mm256_add_pd(cv, _mm256_mul_pd(s2[k], p[k]));
  }
  for (int k = 0; k < N; ++k) {
    __m256d lnf = _mm256_mul_pd(_mm256_mul_pd(_mm256_set1_pd(2.0), s[k]), p[k]);
    out[k] = _mm256_add_pd(_mm256_mul_pd(_mm256_sub_pd(e[k], _mm256_set1_pd(24.0)), _mm256_set1_pd(kLn2)), lnf);
  }
}

// det_sincos2pi_u24 on N x 4 lanes; m: 4 x i32 in [0, 2^24).
template <int N>
inline void sincos2pi4(const __m128i* m, __m256d* cos_out, __m256d* sin_out) {
  __m128i q[N], swap[N];
  __m256d y[N], y2[N], c[N], s[N];
  for (int k = 0; k < N; ++k) {
    q[k] = _mm_srli_epi32(m[k], 22);
    __m128i rest = _mm_and_si128(m[k], _mm_set1_epi32(0x3fffff));
    swap[k] = _mm_cmpgt_epi32(rest, _mm_set1_epi32(0x200000));
    __m128i r = _mm_blendv_epi8(rest, _mm_sub_epi32(_mm_set1_epi32(0x400000), rest), swap[k]);
    y[k] = _mm256_mul_pd(_mm256_mul_pd(_mm256_cvtepi32_pd(r), _mm256_set1_pd(1.0 / 4194304.0)), _mm256_set1_pd(kHalfPi));
    y2[k] = _mm256_mul_pd(y[k], y[k]);
    c[k] = _mm256_set1_pd(1.0 / 6402373705728000.0);
    s[k] = _mm256_set1_pd(1.0 / 355687428096000.0);
  }
  const double cc[] = {1.0 / 20922789888000.0, 1.0 / 87178291200.0, 1.0 / 479001600.0, 1.0 / 3628800.0,
                       1.0 / 40320.0, 1.0 / 720.0, 1.0 / 24.0, 0.5, 1.0};
  const double sc[] = {1.0 / 1307674368000.0, 1.0 / 6227020800.0, 1.0 / 39916800.0, 1.0 / 362880.0,
                       1.0 / 5040.0, 1.0 / 120.0, 1.0 / 6.0, 1.0};
  for (int t = 0; t < 9; ++t) {
    const __m256d cv = _mm256_set1_pd(cc[t]);
    for (int k = 0; k < N; ++k) c[k] = _mm256_sub_pd(cv, _mm256_mul_pd(y2[k], c[k]));
    if (t < 8) {
      const __m256d sv = _mm256_set1_pd(sc[t]);
      for (int k = 0; k < N; ++k) s[k] = _mm256_sub_pd(sv, _mm256_mul_pd(y2[k], s[k]));
    }
  }
  const __m128i one = _mm_set1_epi32(1), two = _mm_set1_epi32(2);
  const __m256d sign = _mm256_set1_pd(-0.0);
  for (int k = 0; k < N; ++k) {
    s[k] = _mm256_mul_pd(y[k], s[k]);
    __m256d swap64 = mask64(swap[k]);
    __m256d cosv = _mm256_blendv_pd(c[k], s[k], swap64);
    __m256d sinv = _mm256_blendv_pd(s[k], c[k], swap64);
    // Quadrant q: cos = (cosv, -sinv, -cosv, sinv), sin = (sinv, cosv, -sinv, -cosv).
    __m256d odd = mask64(_mm_cmpeq_epi32(_mm_and_si128(q[k], one), one));
    __m256d neg_c = mask64(_mm_cmpeq_epi32(_mm_and_si128(_mm_add_epi32(q[k], one), two), two));
    __m256d neg_s = mask64(_mm_cmpeq_epi32(_mm_and_si128(q[k], two), two));
    __m256d cb = _mm256_blendv_pd(cosv, sinv, odd);
    __m256d sb = _mm256_blendv_pd(sinv, cosv, odd);
    cos_out[k] = _mm256_xor_pd(cb, _mm256_and_pd(neg_c, sign));
    sin_out[k] = _mm256_xor_pd(sb, _mm256_and_pd(neg_s, sign));
  }
}

// Both Box-Muller outputs of N x 4 word pairs.
template <int N>
inline void normal_pairs4(const __m128i* bits1, const __m128i* bits2, __m256d mean, __m256d std, __m128* zc, __m128* zs) {
  __m128i m1[N], m2[N];
  for (int k = 0; k < N; ++k) {
    m1[k] = _mm_add_epi32(_mm_srli_epi32(bits1[k], 8), _mm_set1_epi32(1));
    m2[k] = _mm_srli_epi32(bits2[k], 8);
  }
  __m256d lg[N], c[N], s[N];
  log4<N>(m1, lg);
  sincos2pi4<N>(m2, c, s);
  for (int k = 0; k < N; ++k) {
    const __m256d radius = _mm256_sqrt_pd(_mm256_mul_pd(_mm256_set1_pd(-2.0), lg[k]));
    zc[k] = _mm256_cvtpd_ps(_mm256_add_pd(mean, _mm256_mul_pd(std, _mm256_mul_pd(radius, c[k]))));
    zs[k] = _mm256_cvtpd_ps(_mm256_add_pd(mean, _mm256_mul_pd(std, _mm256_mul_pd(radius, s[k]))));
  }
}

inline __m128i lo4(__m256i v) { return _mm256_castsi256_si128(v); }
inline __m128i hi4(__m256i v) { return _mm256_extracti128_si256(v, 1); }

void fake_init_avx2(const FakeInitParams& p, uint64_t start, float* r, size_t n) {
  if (p.kind == FakeInitKind::Constant) {
    const float value = static_cast<float>(p.a);
    for (size_t i = 0; i < n; ++i) r[i] = value;
    return;
  }
  size_t i = 0;
  if (p.kind == FakeInitKind::Uniform) {
    const __m256d low = _mm256_set1_pd(p.a);
    const __m256d width = _mm256_set1_pd(p.b - p.a);
    for (; i + 64 <= n; i += 64) {
      const uint64_t base = fake_counter(start + i);
      const uint64_t bases[2] = {base, base + 8};  // counters base + 0..7, then base + 8..15
      Words8 ws[2];
      philox8<2>(bases, 0u, p.key0, p.key1, ws);
      for (int half = 0; half < 2; ++half) {
        const Words8& w = ws[half];
        for (int word = 0; word < 4; ++word) {
          float* out = r + i + word * 16 + half * 8;
          _mm_storeu_ps(out, uniform4(lo4(w.v[word]), low, width));
          _mm_storeu_ps(out + 4, uniform4(hi4(w.v[word]), low, width));
        }
      }
    }
  } else {
    const __m256d mean = _mm256_set1_pd(p.a);
    const __m256d std = _mm256_set1_pd(p.b);
    for (; i + 64 <= n; i += 64) {
      const uint64_t base = fake_counter(start + i);
      for (int half = 0; half < 2; ++half) {
        const uint64_t b = base + 8 * half;
        Words8 w;
        philox8<1>(&b, 1u, p.key0, p.key1, &w);
        // Group 2 * pair + h: word pair (2 pair, 2 pair + 1) of lanes 4 h .. 4 h + 3.
        const __m128i b1[4] = {lo4(w.v[0]), hi4(w.v[0]), lo4(w.v[2]), hi4(w.v[2])};
        const __m128i b2[4] = {lo4(w.v[1]), hi4(w.v[1]), lo4(w.v[3]), hi4(w.v[3])};
        __m128 zc[4], zs[4];
        normal_pairs4<4>(b1, b2, mean, std, zc, zs);
        for (int pair = 0; pair < 2; ++pair) {
          float* out = r + i + pair * 32 + half * 8;  // cosines at +0..15, sines at +16..31
          _mm_storeu_ps(out, zc[2 * pair]);
          _mm_storeu_ps(out + 4, zc[2 * pair + 1]);
          _mm_storeu_ps(out + 16, zs[2 * pair]);
          _mm_storeu_ps(out + 20, zs[2 * pair + 1]);
        }
      }
    }
  }
  if (i < n) fake_init_scalar(p, start + i, r + i, n - i);
}

inline double hsum4(__m256d v) {
  alignas(32) double t[4];
  _mm256_store_pd(t, v);
  return (t[0] + t[1]) + (t[2] + t[3]);
}

// ---- read-and-sum reference ---------------------------------------------------------------

inline double hsum8f(__m256 v) {
  alignas(32) float t[8];
  _mm256_store_ps(t, v);
  double s = 0.0;
  for (float f : t) s += f;
  return s;
}

double sum_avx2(DType type, const unsigned char* src, size_t n) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  size_t i = 0;
  double total = 0.0;
  switch (type) {
    case DType::F32:
      for (; i + 32 <= n; i += 32)
        for (int u = 0; u < 4; ++u)
          acc[u] = _mm256_add_ps(acc[u], _mm256_loadu_ps(reinterpret_cast<const float*>(src) + i + 8 * u));
      break;
    case DType::BF16:
      for (; i + 32 <= n; i += 32)
        for (int u = 0; u < 4; ++u) {
          __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + (i + 8 * u) * 2));
          acc[u] = _mm256_add_ps(acc[u], _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)));
        }
      break;
    case DType::F16:
      for (; i + 32 <= n; i += 32)
        for (int u = 0; u < 4; ++u) {
          __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + (i + 8 * u) * 2));
          acc[u] = _mm256_add_ps(acc[u], _mm256_cvtph_ps(h));
        }
      break;
    case DType::F64: {
      __m256d accd[4] = {_mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd()};
      for (; i + 16 <= n; i += 16)
        for (int u = 0; u < 4; ++u) {
          __m256d d = _mm256_loadu_pd(reinterpret_cast<const double*>(src) + i + 4 * u);
          accd[u] = _mm256_add_pd(accd[u], _mm256_cvtps_pd(_mm256_cvtpd_ps(d)));
        }
      for (int u = 0; u < 4; ++u) total += hsum4(accd[u]);
      break;
    }
  }
  for (int u = 0; u < 4; ++u) total += hsum8f(acc[u]);
  for (; i < n; ++i) total += load_as_float(type, src + i * dtype_size(type));
  return total;
}

}  // namespace

const ScanKernels& scan_kernels_avx2() {
  static const ScanKernels table{Isa::Avx2,          fake_init_avx2,           scan_block<Avx2V>,
                                 block_scratch_doubles<Avx2V>, sum_avx2,   lora_rows<Avx2V>,
                                 lora_panel_width<Avx2V>(),    widen_to_f32<Avx2V>};
  return table;
}

}  // namespace np
