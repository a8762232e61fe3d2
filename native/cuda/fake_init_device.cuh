// The fake initialization on the device, generated in registers: bitwise the CPU's values,
// because every step is philox.h's own NP_HD code (its floating-point steps are __dadd_rn /
// __dmul_rn / __ddiv_rn / __dsqrt_rn on the device, which nvcc never contracts or reorders).
//
// Work unit: one "task" = (64-element group q, lane l in 0..15, half h in 0..1). By philox.h's
// mapping, elements i0 = 64q + 32h + l and i1 = i0 + 16 share one Philox counter, and
//   uniform: they use words 2h and 2h + 1;
//   normal:  they are the cosine and sine branches of one Box-Muller pair (words 2h, 2h + 1),
// so one Philox call and one log/sqrt/sincos give both, which halves the cost of the normal
// case against calling fake_init_value twice. The result equals fake_init_value(p, i0) and
// fake_init_value(p, i1) exactly; tests hold fakeInitCuda bitwise equal to the CPU's fakeInit.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "core/philox.h"

namespace np {
namespace cuda_scan {

struct FakePair {
  float first;   // element 64q + 32h + l
  float second;  // element 64q + 32h + l + 16
};

__device__ __forceinline__ FakePair fake_init_task(const FakeInitParams& p, uint64_t q, int lane, int half) {
  const uint64_t i0 = q * 64u + static_cast<uint64_t>(32 * half + lane);
  const uint64_t i1 = i0 + 16u;
  switch (p.kind) {
    case FakeInitKind::Constant: {
      const float v = static_cast<float>(p.a);
      return FakePair{v, v};
    }
    case FakeInitKind::Uniform: {
      const uint64_t c = fake_counter(i0);  // == fake_counter(i1)
      const Philox4 w = philox4x32_10(static_cast<uint32_t>(c), static_cast<uint32_t>(c >> 32), 0u, 0u, p.key0, p.key1);
      return FakePair{fake_uniform_from_bits(p.a, p.b, w.v[fake_uniform_word(i0)]),
                      fake_uniform_from_bits(p.a, p.b, w.v[fake_uniform_word(i1)])};
    }
    case FakeInitKind::Normal: {
      const uint64_t c = fake_counter(i0);
      const Philox4 w = philox4x32_10(static_cast<uint32_t>(c), static_cast<uint32_t>(c >> 32), 1u, 0u, p.key0, p.key1);
      const int j = fake_normal_pair(i0) * 2;  // == fake_normal_pair(i1) * 2
      // fake_normal_from_bits(mean, std, w[j], w[j + 1], sine), evaluated once for both
      // branches: i0 is the cosine (fake_normal_is_sine(i0) is false), i1 the sine.
      const uint32_t m1 = (w.v[j] >> 8) + 1u;
      const uint32_t m2 = w.v[j + 1] >> 8;
      const double radius = NP_SQRT(NP_MUL(-2.0, det_log_u24(m1)));
      const SinCos sc = det_sincos2pi_u24(m2);
      const double zc = NP_MUL(radius, sc.c);
      const double zs = NP_MUL(radius, sc.s);
      return FakePair{static_cast<float>(NP_ADD(p.a, NP_MUL(p.b, zc))), static_cast<float>(NP_ADD(p.a, NP_MUL(p.b, zs)))};
    }
  }
  return FakePair{0.0f, 0.0f};
}

// All four values of one Philox call: elements 64q + l + 16m, m = 0..3 (lane l in 0..15).
// uniform: word m is element l + 16m's; normal: words (0, 1) give elements l (cosine) and
// l + 16 (sine), words (2, 3) elements l + 32 and l + 48. Equal to fake_init_task's values,
// for a quarter of the Philox work per value where all four are wanted.
struct FakeQuad {
  float v[4];
};

__device__ __forceinline__ FakeQuad fake_init_quad(const FakeInitParams& p, uint64_t q, int lane) {
  FakeQuad r;
  const uint64_t i0 = q * 64u + static_cast<uint64_t>(lane);
  switch (p.kind) {
    case FakeInitKind::Constant:
      r.v[0] = r.v[1] = r.v[2] = r.v[3] = static_cast<float>(p.a);
      return r;
    case FakeInitKind::Uniform: {
      const uint64_t c = fake_counter(i0);
      const Philox4 w = philox4x32_10(static_cast<uint32_t>(c), static_cast<uint32_t>(c >> 32), 0u, 0u, p.key0, p.key1);
#pragma unroll
      for (int m = 0; m < 4; ++m) r.v[m] = fake_uniform_from_bits(p.a, p.b, w.v[m]);
      return r;
    }
    case FakeInitKind::Normal: {
      const uint64_t c = fake_counter(i0);
      const Philox4 w = philox4x32_10(static_cast<uint32_t>(c), static_cast<uint32_t>(c >> 32), 1u, 0u, p.key0, p.key1);
#pragma unroll
      for (int pair = 0; pair < 2; ++pair) {
        const uint32_t m1 = (w.v[2 * pair] >> 8) + 1u;
        const uint32_t m2 = w.v[2 * pair + 1] >> 8;
        const double radius = NP_SQRT(NP_MUL(-2.0, det_log_u24(m1)));
        const SinCos sc = det_sincos2pi_u24(m2);
        r.v[2 * pair] = static_cast<float>(NP_ADD(p.a, NP_MUL(p.b, NP_MUL(radius, sc.c))));
        r.v[2 * pair + 1] = static_cast<float>(NP_ADD(p.a, NP_MUL(p.b, NP_MUL(radius, sc.s))));
      }
      return r;
    }
  }
  r.v[0] = r.v[1] = r.v[2] = r.v[3] = 0.0f;
  return r;
}

}  // namespace cuda_scan
}  // namespace np
