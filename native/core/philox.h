// Philox4x32-10 (Salmon et al., SC'11) and the fake initialization drawn from it.
// Shared by the CPU scan, the CUDA kernels and mirrored in lib/scan/philox.ts: the same
// (key, element index, scheme) gives bitwise the same float on every path. To keep that
// promise, every floating-point step is a single IEEE operation (no FMA contraction: CPU
// code is built with -ffp-contract=off, device code uses the _rn intrinsics below) and the
// transcendental functions are our own polynomials built from + - * / and sqrt only.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define NP_HD __host__ __device__ __forceinline__
#else
#define NP_HD inline
#endif

#if defined(__CUDA_ARCH__)
#define NP_ADD(a, b) __dadd_rn((a), (b))
#define NP_SUB(a, b) __dsub_rn((a), (b))
#define NP_MUL(a, b) __dmul_rn((a), (b))
#define NP_DIV(a, b) __ddiv_rn((a), (b))
#define NP_SQRT(a) __dsqrt_rn(a)
#else
#include <cmath>
#define NP_ADD(a, b) ((a) + (b))
#define NP_SUB(a, b) ((a) - (b))
#define NP_MUL(a, b) ((a) * (b))
#define NP_DIV(a, b) ((a) / (b))
#define NP_SQRT(a) std::sqrt(a)
#endif

namespace np {

constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;
constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;

struct Philox4 {
  uint32_t v[4];
};

NP_HD void philox_mulhilo(uint32_t a, uint32_t b, uint32_t* hi, uint32_t* lo) {
  uint64_t p = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  *hi = static_cast<uint32_t>(p >> 32);
  *lo = static_cast<uint32_t>(p);
}

NP_HD Philox4 philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    philox_mulhilo(kPhiloxM0, c0, &hi0, &lo0);
    philox_mulhilo(kPhiloxM1, c2, &hi1, &lo1);
    uint32_t n0 = hi1 ^ c1 ^ k0;
    uint32_t n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
  return Philox4{{c0, c1, c2, c3}};
}

// Scheme kinds, as passed from TypeScript (lib/scan/fake-init.ts resolves names, kaiming
// gains and fan-in into these three).
enum class FakeInitKind : int { Constant = 0, Uniform = 1, Normal = 2 };

struct FakeInitParams {
  FakeInitKind kind;
  double a;  // constant: value; uniform: low; normal: mean
  double b;  // uniform: high; normal: standard deviation
  uint32_t key0, key1;  // Philox key derived from (seed, tensor name)
};

constexpr double kTwoPowMinus24 = 1.0 / 16777216.0;
constexpr double kLn2 = 0.6931471805599453;      // nearest double to ln 2
constexpr double kSqrt2 = 1.4142135623730951;    // nearest double to sqrt 2
constexpr double kHalfPi = 1.5707963267948966;   // nearest double to pi/2

NP_HD int floor_log2_u32(uint32_t m) {
#if defined(__CUDA_ARCH__)
  return 31 - __clz(static_cast<int>(m));
#else
  return 31 - __builtin_clz(m);
#endif
}

// Exact 2^e for |e| < 1000, built from the exponent bits (no libm, same everywhere).
NP_HD double pow2_exact(int e) {
  uint64_t bits = static_cast<uint64_t>(e + 1023) << 52;
  double d;
#if defined(__CUDA_ARCH__)
  d = __longlong_as_double(static_cast<long long>(bits));
#else
  __builtin_memcpy(&d, &bits, 8);
#endif
  return d;
}

// ln(m * 2^-24) for an integer m in [1, 2^24]: ln f via the atanh series on f in
// [sqrt(1/2), sqrt(2)), |s| < 0.172, 10 terms: error below 1e-16 relative.
NP_HD double det_log_u24(uint32_t m) {
  int e = floor_log2_u32(m);
  double f = NP_MUL(static_cast<double>(m), pow2_exact(-e));  // exact, in [1, 2)
  if (f > kSqrt2) {
    f = NP_MUL(f, 0.5);
    e = e + 1;
  }
  double s = NP_DIV(NP_SUB(f, 1.0), NP_ADD(f, 1.0));
  double s2 = NP_MUL(s, s);
  double p = 1.0 / 19.0;
  p = NP_ADD(1.0 / 17.0, NP_MUL(s2, p));
  p = NP_ADD(1.0 / 15.0, NP_MUL(s2, p));
  p = NP_ADD(1.0 / 13.0, NP_MUL(s2, p));
  p = NP_ADD(1.0 / 11.0, NP_MUL(s2, p));
  p = NP_ADD(1.0 / 9.0, NP_MUL(s2, p));
  p = NP_ADD(1.0 / 7.0, NP_MUL(s2, p));
  p = NP_ADD(1.0 / 5.0, NP_MUL(s2, p));
  p = NP_ADD(1.0 / 3.0, NP_MUL(s2, p));
  p = NP_ADD(1.0, NP_MUL(s2, p));
  double lnf = NP_MUL(NP_MUL(2.0, s), p);
  return NP_ADD(NP_MUL(static_cast<double>(e - 24), kLn2), lnf);
}

struct SinCos {
  double c, s;
};

// cos and sin of 2*pi*u for u = m * 2^-24, m an integer in [0, 2^24): the quadrant from the
// top bits, then Taylor series on [0, pi/4] (terms to y^18 / y^17: error below 1e-17).
NP_HD SinCos det_sincos2pi_u24(uint32_t m) {
  uint32_t q = m >> 22;                                       // quadrant 0..3
  uint32_t rest = m & 0x3fffffu;                              // position inside it, 22 bits
  bool swap = rest > 0x200000u;                               // past pi/4: use the cofunction
  uint32_t r = swap ? 0x400000u - rest : rest;
  double y = NP_MUL(NP_MUL(static_cast<double>(r), 1.0 / 4194304.0), kHalfPi);  // in [0, pi/4]
  double y2 = NP_MUL(y, y);
  // cos y = 1 - y^2/2! + y^4/4! - ... ; sin y = y (1 - y^2/3! + ...)
  double c = 1.0 / 6402373705728000.0;           // 1/18!
  c = NP_SUB(1.0 / 20922789888000.0, NP_MUL(y2, c));  // 1/16!
  c = NP_SUB(1.0 / 87178291200.0, NP_MUL(y2, c));     // 1/14!
  c = NP_SUB(1.0 / 479001600.0, NP_MUL(y2, c));       // 1/12!
  c = NP_SUB(1.0 / 3628800.0, NP_MUL(y2, c));         // 1/10!
  c = NP_SUB(1.0 / 40320.0, NP_MUL(y2, c));           // 1/8!
  c = NP_SUB(1.0 / 720.0, NP_MUL(y2, c));             // 1/6!
  c = NP_SUB(1.0 / 24.0, NP_MUL(y2, c));              // 1/4!
  c = NP_SUB(0.5, NP_MUL(y2, c));                     // 1/2!
  c = NP_SUB(1.0, NP_MUL(y2, c));
  double s = 1.0 / 355687428096000.0;            // 1/17!
  s = NP_SUB(1.0 / 1307674368000.0, NP_MUL(y2, s));   // 1/15!
  s = NP_SUB(1.0 / 6227020800.0, NP_MUL(y2, s));      // 1/13!
  s = NP_SUB(1.0 / 39916800.0, NP_MUL(y2, s));        // 1/11!
  s = NP_SUB(1.0 / 362880.0, NP_MUL(y2, s));          // 1/9!
  s = NP_SUB(1.0 / 5040.0, NP_MUL(y2, s));            // 1/7!
  s = NP_SUB(1.0 / 120.0, NP_MUL(y2, s));             // 1/5!
  s = NP_SUB(1.0 / 6.0, NP_MUL(y2, s));               // 1/3!
  s = NP_SUB(1.0, NP_MUL(y2, s));
  s = NP_MUL(y, s);
  double cosv = swap ? s : c;  // cos and sin of the angle inside the quadrant
  double sinv = swap ? c : s;
  switch (q) {
    case 0: return SinCos{cosv, sinv};
    case 1: return SinCos{-sinv, cosv};
    case 2: return SinCos{-cosv, -sinv};
    default: return SinCos{sinv, -cosv};
  }
}

NP_HD double det_cos2pi_u24(uint32_t m) { return det_sincos2pi_u24(m).c; }

// Which Philox call and words give element `index` of a tensor. Elements come in groups of
// 64 whose counters are 16 consecutive numbers, so that 16 SIMD lanes (one counter each)
// produce 16 consecutive elements per output: no transposes.
//   counter (i / 64) * 16 + i % 16 (c2 = 0 uniform, 1 normal)
//   uniform: word (i / 16) % 4
//   normal:  Box-Muller on words 2p, 2p + 1 with p = (i / 32) % 2; the cosine branch for
//            (i / 16) % 2 == 0, the sine branch otherwise (both outputs used: half the cost)
NP_HD uint64_t fake_counter(uint64_t index) { return (index >> 6) * 16 + (index & 15); }
NP_HD int fake_uniform_word(uint64_t index) { return static_cast<int>((index >> 4) & 3); }
NP_HD int fake_normal_pair(uint64_t index) { return static_cast<int>((index >> 5) & 1); }
NP_HD bool fake_normal_is_sine(uint64_t index) { return ((index >> 4) & 1) != 0; }

// u in (0, 1) from the top 24 bits of a word, exactly.
NP_HD double fake_unit_open(uint32_t bits) { return NP_MUL(NP_ADD(static_cast<double>(bits >> 8), 0.5), kTwoPowMinus24); }

NP_HD float fake_uniform_from_bits(double low, double high, uint32_t bits) {
  return static_cast<float>(NP_ADD(low, NP_MUL(NP_SUB(high, low), fake_unit_open(bits))));
}

// Box-Muller: radius sqrt(-2 ln u1) with u1 in (0, 1], angle 2 pi u2 with u2 in [0, 1).
NP_HD float fake_normal_from_bits(double mean, double std, uint32_t bits1, uint32_t bits2, bool sine) {
  uint32_t m1 = (bits1 >> 8) + 1u;
  uint32_t m2 = bits2 >> 8;
  double radius = NP_SQRT(NP_MUL(-2.0, det_log_u24(m1)));
  SinCos sc = det_sincos2pi_u24(m2);
  double z = NP_MUL(radius, sine ? sc.s : sc.c);
  return static_cast<float>(NP_ADD(mean, NP_MUL(std, z)));
}

// The fake-initialization value of element `index` (row-major index into the whole tensor).
NP_HD float fake_init_value(const FakeInitParams& p, uint64_t index) {
  switch (p.kind) {
    case FakeInitKind::Constant:
      return static_cast<float>(p.a);
    case FakeInitKind::Uniform: {
      uint64_t q = fake_counter(index);
      Philox4 w = philox4x32_10(static_cast<uint32_t>(q), static_cast<uint32_t>(q >> 32), 0u, 0u, p.key0, p.key1);
      return fake_uniform_from_bits(p.a, p.b, w.v[fake_uniform_word(index)]);
    }
    case FakeInitKind::Normal: {
      uint64_t q = fake_counter(index);
      Philox4 w = philox4x32_10(static_cast<uint32_t>(q), static_cast<uint32_t>(q >> 32), 1u, 0u, p.key0, p.key1);
      int j = fake_normal_pair(index) * 2;
      return fake_normal_from_bits(p.a, p.b, w.v[j], w.v[j + 1], fake_normal_is_sine(index));
    }
  }
  return 0.0f;
}

}  // namespace np
