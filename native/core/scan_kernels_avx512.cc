// AVX-512 kernels (F, BW, DQ, VL). Compiled with AVX-512 flags, called only after the
// run-time check in cpu_features.cc. The fake init reproduces philox.h bit for bit: the same
// IEEE operations in the same order, exact integer and exponent manipulation, no FMA.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "core/scan_kernels.h"

namespace np {
namespace {

// ---- vector traits and conversion to float64 ----------------------------------------------

struct Avx512V {
  static constexpr int kLanes = 8;
  static constexpr int kTile = 4;        // 16 accumulators + 8 inputs of the 32 zmm registers
  static constexpr int kMomentRows = 4;  // 20 accumulators
  static constexpr int kLoraRows = 4, kLoraVecs = 4;  // 16 accumulators, 4 A vectors, a broadcast
  using vd = __m512d;
  static vd zero() { return _mm512_setzero_pd(); }
  static vd set1(double x) { return _mm512_set1_pd(x); }
  static void store_f32(float* p, vd a) { _mm256_storeu_ps(p, _mm512_cvtpd_ps(a)); }
  static vd load(const double* p) { return _mm512_loadu_pd(p); }
  static void store(double* p, vd a) { _mm512_storeu_pd(p, a); }
  static vd add(vd a, vd b) { return _mm512_add_pd(a, b); }
  static vd sub(vd a, vd b) { return _mm512_sub_pd(a, b); }
  static vd mul(vd a, vd b) { return _mm512_mul_pd(a, b); }
  static vd fma(vd a, vd b, vd c) { return _mm512_fmadd_pd(a, b, c); }

  static void store_ps_as_pd(double* dst, __m512 f) {
    _mm512_storeu_pd(dst, _mm512_cvtps_pd(_mm512_castps512_ps256(f)));
    _mm512_storeu_pd(dst + 8, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(f), 1))));
  }

  static vd load_f32(const float* p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }

  // 8 elements of dtype DT, each through float32 (as to_f64 below).
  template <DType DT>
  static vd load_as(const unsigned char* p) {
    if constexpr (DT == DType::BF16) {
      const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      return _mm512_cvtps_pd(_mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)));
    } else if constexpr (DT == DType::F16) {
      return _mm512_cvtps_pd(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
    } else if constexpr (DT == DType::F32) {
      return _mm512_cvtps_pd(_mm256_loadu_ps(reinterpret_cast<const float*>(p)));
    } else {
      return _mm512_cvtps_pd(_mm512_cvtpd_ps(_mm512_loadu_pd(reinterpret_cast<const double*>(p))));
    }
  }

  // Every element becomes a float32 first (F64 included), as in the TypeScript reference.
  static void to_f64(DType type, const unsigned char* src, double* dst, size_t n) {
    size_t i = 0;
    switch (type) {
      case DType::F32:
        for (; i + 8 <= n; i += 8)
          _mm512_storeu_pd(dst + i, _mm512_cvtps_pd(_mm256_loadu_ps(reinterpret_cast<const float*>(src) + i)));
        break;
      case DType::BF16:
        for (; i + 16 <= n; i += 16) {
          __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i * 2));
          store_ps_as_pd(dst + i, _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)));
        }
        break;
      case DType::F16:
        for (; i + 16 <= n; i += 16) {
          __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i * 2));
          store_ps_as_pd(dst + i, _mm512_cvtph_ps(h));
        }
        break;
      case DType::F64:
        for (; i + 8 <= n; i += 8) {
          __m512d d = _mm512_loadu_pd(reinterpret_cast<const double*>(src) + i);
          _mm512_storeu_pd(dst + i, _mm512_cvtps_pd(_mm512_cvtpd_ps(d)));
        }
        break;
    }
    const size_t size = dtype_size(type);
    for (; i < n; ++i) dst[i] = static_cast<double>(load_as_float(type, src + i * size));
  }
};

#include "core/scan_block_impl.h"
#include "core/scan_lora_impl.h"

// ---- Philox on 16 lanes -----------------------------------------------------------------

// Philox4x32-10 on 16 counters, as two halves of 8 counters held in 64-bit lanes. A lane's
// low 32 bits carry the word; its high 32 bits may hold garbage, which vpmuludq ignores, so
// a round is 2 multiplies, 2 shifts and 2 three-way XORs per half, with no blends or packing
// (a third fewer instructions than 32-bit lanes with even/odd multiplies).
struct Words16 {
  __m512i half[2][4];  // [lanes 0-7 | lanes 8-15][word]
};

// GCC 12 reports its own _mm512_undefined_epi32() (a deliberate `__Y = __Y`) as used
// uninitialized once these intrinsics are inlined in a loop (GCC bug 105593); silence that.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
// G groups of 16 counters (bases[g] + 0..15) at once: 2G independent chains of 10 rounds,
// enough to cover the multiplier's latency (one group alone left it waiting).
template <int G>
void philox16(const uint64_t* bases, uint32_t c2, uint32_t k0, uint32_t k1, Words16* out) {
  const __m512i m0 = _mm512_set1_epi64(kPhiloxM0);
  const __m512i m1 = _mm512_set1_epi64(kPhiloxM1);
  constexpr int H = 2 * G;
  __m512i c[H][4];
  for (int h = 0; h < H; ++h) {
    // Each base is a multiple of 16, so its low word + lane never carries into the high one.
    const uint64_t base = bases[h / 2];
    const int l0 = 8 * (h % 2);
    const __m512i lane = _mm512_setr_epi64(l0 + 0, l0 + 1, l0 + 2, l0 + 3, l0 + 4, l0 + 5, l0 + 6, l0 + 7);
    c[h][0] = _mm512_add_epi64(_mm512_set1_epi64(static_cast<uint32_t>(base)), lane);
    c[h][1] = _mm512_set1_epi64(static_cast<uint32_t>(base >> 32));
    c[h][2] = _mm512_set1_epi64(c2);
    c[h][3] = _mm512_setzero_si512();
  }
  for (int round = 0; round < 10; ++round) {
    const __m512i key0 = _mm512_set1_epi64(k0);
    const __m512i key1 = _mm512_set1_epi64(k1);
    for (int h = 0; h < H; ++h) {
      const __m512i p0 = _mm512_mul_epu32(c[h][0], m0);
      const __m512i p1 = _mm512_mul_epu32(c[h][2], m1);
      // 0x96: a ^ b ^ c.
      c[h][0] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p1, 32), c[h][1], key0, 0x96);
      c[h][2] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p0, 32), c[h][3], key1, 0x96);
      c[h][1] = p1;
      c[h][3] = p0;
    }
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
  for (int h = 0; h < H; ++h)
    for (int i = 0; i < 4; ++i) out[h / 2].half[h % 2][i] = c[h][i];
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// A word's 8 lanes as 8 x u32 (drops the high halves).
inline __m256i words8(__m512i w) { return _mm512_cvtepi64_epi32(w); }

// ---- fake init ----------------------------------------------------------------------------

// 8 lanes of fake_uniform_from_bits (bits: a word in 64-bit lanes, see philox16).
inline __m256 uniform8(__m512i bits, __m512d low, __m512d width) {
  // (bits << 32) >> 40: the low word's top 24 bits, with the lane's high half cleared.
  __m512d top = _mm512_cvtepi64_pd(_mm512_srli_epi64(_mm512_slli_epi64(bits, 32), 40));
  __m512d u = _mm512_mul_pd(_mm512_add_pd(top, _mm512_set1_pd(0.5)), _mm512_set1_pd(kTwoPowMinus24));
  return _mm512_cvtpd_ps(_mm512_add_pd(low, _mm512_mul_pd(width, u)));
}

// The Box-Muller pieces below work on N independent groups of 8 lanes at once, each step
// applied to all N before the next: the polynomials are serial Horner chains, and one group
// alone left the FP pipes waiting on latency (interleaving 4 made the normal fake init ~1.5x
// faster). Per lane the operations and their order are exactly philox.h's.

// det_log_u24 on N x 8 lanes; m: 8 x i32 in [1, 2^24].
template <int N>
inline void log8(const __m256i* m, __m512d* out) {
  const __m512d one = _mm512_set1_pd(1.0);
  __m512d e[N], s[N], s2[N], p[N];
  for (int k = 0; k < N; ++k) {
    // float(m) is exact; its exponent is floor(log2 m) and its mantissa is m / 2^e.
    __m256i fb = _mm256_castps_si256(_mm256_cvtepi32_ps(m[k]));
    e[k] = _mm512_cvtepi32_pd(_mm256_sub_epi32(_mm256_srli_epi32(fb, 23), _mm256_set1_epi32(127)));
    __m256i mant = _mm256_or_si256(_mm256_and_si256(fb, _mm256_set1_epi32(0x7fffff)), _mm256_set1_epi32(0x3f800000));
    __m512d f = _mm512_cvtps_pd(_mm256_castsi256_ps(mant));
    __mmask8 big = _mm512_cmp_pd_mask(f, _mm512_set1_pd(kSqrt2), _CMP_GT_OQ);
    f = _mm512_mask_mul_pd(f, big, f, _mm512_set1_pd(0.5));
    e[k] = _mm512_mask_add_pd(e[k], big, e[k], one);
    s[k] = _mm512_div_pd(_mm512_sub_pd(f, one), _mm512_add_pd(f, one));
    s2[k] = _mm512_mul_pd(s[k], s[k]);
    p[k] = _mm512_set1_pd(1.0 / 19.0);
  }
  const double coef[] = {1.0 / 17.0, 1.0 / 15.0, 1.0 / 13.0, 1.0 / 11.0, 1.0 / 9.0, 1.0 / 7.0, 1.0 / 5.0, 1.0 / 3.0, 1.0};
  for (double c : coef) {
    const __m512d cv = _mm512_set1_pd(c);
    for (int k = 0; k < N; ++k) p[k] = _mm512_add_pd(cv, _mm512_mul_pd(s2[k], p[k]));
  }
  for (int k = 0; k < N; ++k) {
    __m512d lnf = _mm512_mul_pd(_mm512_mul_pd(_mm512_set1_pd(2.0), s[k]), p[k]);
    out[k] = _mm512_add_pd(_mm512_mul_pd(_mm512_sub_pd(e[k], _mm512_set1_pd(24.0)), _mm512_set1_pd(kLn2)), lnf);
  }
}

// det_sincos2pi_u24 on N x 8 lanes; m: 8 x i32 in [0, 2^24).
template <int N>
inline void sincos2pi8(const __m256i* m, __m512d* cos_out, __m512d* sin_out) {
  __m256i q[N];
  __mmask8 swap[N];
  __m512d y[N], y2[N], c[N], s[N];
  for (int k = 0; k < N; ++k) {
    q[k] = _mm256_srli_epi32(m[k], 22);
    __m256i rest = _mm256_and_si256(m[k], _mm256_set1_epi32(0x3fffff));
    swap[k] = _mm256_cmpgt_epi32_mask(rest, _mm256_set1_epi32(0x200000));
    __m256i r = _mm256_mask_sub_epi32(rest, swap[k], _mm256_set1_epi32(0x400000), rest);
    y[k] = _mm512_mul_pd(_mm512_mul_pd(_mm512_cvtepi32_pd(r), _mm512_set1_pd(1.0 / 4194304.0)), _mm512_set1_pd(kHalfPi));
    y2[k] = _mm512_mul_pd(y[k], y[k]);
    c[k] = _mm512_set1_pd(1.0 / 6402373705728000.0);
    s[k] = _mm512_set1_pd(1.0 / 355687428096000.0);
  }
  const double cc[] = {1.0 / 20922789888000.0, 1.0 / 87178291200.0, 1.0 / 479001600.0, 1.0 / 3628800.0,
                       1.0 / 40320.0, 1.0 / 720.0, 1.0 / 24.0, 0.5, 1.0};
  const double sc[] = {1.0 / 1307674368000.0, 1.0 / 6227020800.0, 1.0 / 39916800.0, 1.0 / 362880.0,
                       1.0 / 5040.0, 1.0 / 120.0, 1.0 / 6.0, 1.0};
  for (int t = 0; t < 9; ++t) {
    const __m512d cv = _mm512_set1_pd(cc[t]);
    for (int k = 0; k < N; ++k) c[k] = _mm512_sub_pd(cv, _mm512_mul_pd(y2[k], c[k]));
    if (t < 8) {
      const __m512d sv = _mm512_set1_pd(sc[t]);
      for (int k = 0; k < N; ++k) s[k] = _mm512_sub_pd(sv, _mm512_mul_pd(y2[k], s[k]));
    }
  }
  const __m512d sign = _mm512_set1_pd(-0.0);
  for (int k = 0; k < N; ++k) {
    s[k] = _mm512_mul_pd(y[k], s[k]);
    __m512d cosv = _mm512_mask_blend_pd(swap[k], c[k], s[k]);
    __m512d sinv = _mm512_mask_blend_pd(swap[k], s[k], c[k]);
    // Quadrant q: cos = (cosv, -sinv, -cosv, sinv), sin = (sinv, cosv, -sinv, -cosv).
    __mmask8 odd = _mm256_test_epi32_mask(q[k], _mm256_set1_epi32(1));
    __mmask8 neg_c = _mm256_test_epi32_mask(_mm256_add_epi32(q[k], _mm256_set1_epi32(1)), _mm256_set1_epi32(2));
    __mmask8 neg_s = _mm256_test_epi32_mask(q[k], _mm256_set1_epi32(2));
    __m512d cb = _mm512_mask_blend_pd(odd, cosv, sinv);
    __m512d sb = _mm512_mask_blend_pd(odd, sinv, cosv);
    cos_out[k] = _mm512_mask_xor_pd(cb, neg_c, cb, sign);
    sin_out[k] = _mm512_mask_xor_pd(sb, neg_s, sb, sign);
  }
}

// Both Box-Muller outputs of N x 8 word pairs.
template <int N>
inline void normal_pairs8(const __m256i* bits1, const __m256i* bits2, __m512d mean, __m512d std, __m256* zc, __m256* zs) {
  __m256i m1[N], m2[N];
  for (int k = 0; k < N; ++k) {
    m1[k] = _mm256_add_epi32(_mm256_srli_epi32(bits1[k], 8), _mm256_set1_epi32(1));
    m2[k] = _mm256_srli_epi32(bits2[k], 8);
  }
  __m512d lg[N], c[N], s[N];
  log8<N>(m1, lg);
  sincos2pi8<N>(m2, c, s);
  for (int k = 0; k < N; ++k) {
    const __m512d radius = _mm512_sqrt_pd(_mm512_mul_pd(_mm512_set1_pd(-2.0), lg[k]));
    zc[k] = _mm512_cvtpd_ps(_mm512_add_pd(mean, _mm512_mul_pd(std, _mm512_mul_pd(radius, c[k]))));
    zs[k] = _mm512_cvtpd_ps(_mm512_add_pd(mean, _mm512_mul_pd(std, _mm512_mul_pd(radius, s[k]))));
  }
}

void fake_init_avx512(const FakeInitParams& p, uint64_t start, float* r, size_t n) {
  if (p.kind == FakeInitKind::Constant) {
    const float value = static_cast<float>(p.a);
    for (size_t i = 0; i < n; ++i) r[i] = value;
    return;
  }
  size_t i = 0;
  if (p.kind == FakeInitKind::Uniform) {
    const __m512d low = _mm512_set1_pd(p.a);
    const __m512d width = _mm512_set1_pd(p.b - p.a);
    // 128 elements (two 16-counter groups) per step, then 64 for an odd group at the end.
    auto emit = [&](const Words16& w, float* out) {
      for (int word = 0; word < 4; ++word) {
        _mm256_storeu_ps(out + word * 16, uniform8(w.half[0][word], low, width));
        _mm256_storeu_ps(out + word * 16 + 8, uniform8(w.half[1][word], low, width));
      }
    };
    for (; i + 128 <= n; i += 128) {
      const uint64_t bases[2] = {fake_counter(start + i), fake_counter(start + i + 64)};
      Words16 w[2];
      philox16<2>(bases, 0u, p.key0, p.key1, w);
      emit(w[0], r + i);
      emit(w[1], r + i + 64);
    }
    for (; i + 64 <= n; i += 64) {
      const uint64_t base = fake_counter(start + i);
      Words16 w;
      philox16<1>(&base, 0u, p.key0, p.key1, &w);
      emit(w, r + i);
    }
  } else {
    const __m512d mean = _mm512_set1_pd(p.a);
    const __m512d std = _mm512_set1_pd(p.b);
    for (; i + 64 <= n; i += 64) {
      const uint64_t base = fake_counter(start + i);
      Words16 w;
      philox16<1>(&base, 1u, p.key0, p.key1, &w);
      // Group k = 2 * pair + half: word pair (2 pair, 2 pair + 1) of lanes 8 half .. 8 half + 7.
      __m256i b1[4], b2[4];
      for (int pair = 0; pair < 2; ++pair)
        for (int half = 0; half < 2; ++half) {
          b1[2 * pair + half] = words8(w.half[half][2 * pair]);
          b2[2 * pair + half] = words8(w.half[half][2 * pair + 1]);
        }
      __m256 zc[4], zs[4];
      normal_pairs8<4>(b1, b2, mean, std, zc, zs);
      for (int pair = 0; pair < 2; ++pair) {
        float* out = r + i + pair * 32;  // 16 cosines, then 16 sines
        _mm256_storeu_ps(out, zc[2 * pair]);
        _mm256_storeu_ps(out + 8, zc[2 * pair + 1]);
        _mm256_storeu_ps(out + 16, zs[2 * pair]);
        _mm256_storeu_ps(out + 24, zs[2 * pair + 1]);
      }
    }
  }
  if (i < n) fake_init_scalar(p, start + i, r + i, n - i);
}

// ---- read-and-sum reference ---------------------------------------------------------------

double sum_avx512(DType type, const unsigned char* src, size_t n) {
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  size_t i = 0;
  switch (type) {
    case DType::F32:
      for (; i + 64 <= n; i += 64)
        for (int u = 0; u < 4; ++u)
          acc[u] = _mm512_add_ps(acc[u], _mm512_loadu_ps(reinterpret_cast<const float*>(src) + i + 16 * u));
      break;
    case DType::BF16:
      for (; i + 64 <= n; i += 64)
        for (int u = 0; u < 4; ++u) {
          __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + (i + 16 * u) * 2));
          acc[u] = _mm512_add_ps(acc[u], _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)));
        }
      break;
    case DType::F16:
      for (; i + 64 <= n; i += 64)
        for (int u = 0; u < 4; ++u) {
          __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + (i + 16 * u) * 2));
          acc[u] = _mm512_add_ps(acc[u], _mm512_cvtph_ps(h));
        }
      break;
    case DType::F64: {
      __m512d accd[4] = {_mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd()};
      for (; i + 32 <= n; i += 32)
        for (int u = 0; u < 4; ++u) {
          __m512d d = _mm512_loadu_pd(reinterpret_cast<const double*>(src) + i + 8 * u);
          accd[u] = _mm512_add_pd(accd[u], _mm512_cvtps_pd(_mm512_cvtpd_ps(d)));
        }
      double total = 0.0;
      for (int u = 0; u < 4; ++u) total += _mm512_reduce_add_pd(accd[u]);
      for (; i < n; ++i) total += load_as_float(type, src + i * 8);
      return total;
    }
  }
  double total = 0.0;
  for (int u = 0; u < 4; ++u) total += _mm512_reduce_add_ps(acc[u]);
  for (; i < n; ++i) total += load_as_float(type, src + i * dtype_size(type));
  return total;
}

}  // namespace

const ScanKernels& scan_kernels_avx512() {
  static const ScanKernels table{Isa::Avx512,          fake_init_avx512,           scan_block<Avx512V>,
                                 block_scratch_doubles<Avx512V>, sum_avx512,   lora_rows<Avx512V>,
                                 lora_panel_width<Avx512V>(),    widen_to_f32<Avx512V>};
  return table;
}

}  // namespace np
