// AVX2 + FMA kernel set: 8 lanes; a 4 x 2 tile keeps 8 accumulators, 2 activations and a
// broadcast in the 16 ymm registers.
#include <immintrin.h>

#include "core/edge_encoder_kernels.h"

namespace np {
namespace {

struct Avx2V {
  static constexpr size_t kLanes = 8;
  using vf = __m256;
  static vf zero() { return _mm256_setzero_ps(); }
  static vf set1(float x) { return _mm256_set1_ps(x); }
  static vf load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, vf v) { _mm256_storeu_ps(p, v); }
  static vf add(vf a, vf b) { return _mm256_add_ps(a, b); }
  static vf max(vf a, vf b) { return _mm256_max_ps(a, b); }
  static vf fma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
};

#include "core/edge_encoder_kernels_impl.h"

void conv(const EdgeConvArgs& args) { edge_conv_impl<Avx2V, 4, 2>(args); }

}  // namespace

const EdgeKernels& edge_kernels_avx2() {
  static const EdgeKernels k{Isa::Avx2, 16, conv};
  return k;
}

}  // namespace np
