// AVX-512 kernel set: 16 lanes; an 8 x 2 tile (16 accumulators of the 32 zmm registers).
#include <immintrin.h>

#include "core/edge_encoder_kernels.h"

namespace np {
namespace {

struct Avx512V {
  static constexpr size_t kLanes = 16;
  using vf = __m512;
  static vf zero() { return _mm512_setzero_ps(); }
  static vf set1(float x) { return _mm512_set1_ps(x); }
  static vf load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, vf v) { _mm512_storeu_ps(p, v); }
  static vf add(vf a, vf b) { return _mm512_add_ps(a, b); }
  static vf max(vf a, vf b) { return _mm512_max_ps(a, b); }
  static vf fma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
};

#include "core/edge_encoder_kernels_impl.h"

void conv(const EdgeConvArgs& args) { edge_conv_impl<Avx512V, 8, 2>(args); }

}  // namespace

const EdgeKernels& edge_kernels_avx512() {
  static const EdgeKernels k{Isa::Avx512, 32, conv};
  return k;
}

}  // namespace np
