// Portable kernel set: one lane, the same tile loop (the compiler may vectorise it for the
// baseline ISA).
#include <algorithm>

#include "core/edge_encoder_kernels.h"

namespace np {
namespace {

struct ScalarV {
  static constexpr size_t kLanes = 1;
  using vf = float;
  static vf zero() { return 0.0f; }
  static vf set1(float x) { return x; }
  static vf load(const float* p) { return *p; }
  static void store(float* p, vf v) { *p = v; }
  static vf add(vf a, vf b) { return a + b; }
  static vf max(vf a, vf b) { return std::max(a, b); }
  static vf fma(vf a, vf b, vf c) { return a * b + c; }
};

#include "core/edge_encoder_kernels_impl.h"

void conv(const EdgeConvArgs& args) { edge_conv_impl<ScalarV, 8, 4>(args); }

}  // namespace

const EdgeKernels& edge_kernels_scalar() {
  static const EdgeKernels k{Isa::Scalar, 4, conv};
  return k;
}

const EdgeKernels& edge_kernels(Isa isa) {
#if defined(NP_X86_KERNELS)
  if (isa == Isa::Avx512 && isa_supported(Isa::Avx512)) return edge_kernels_avx512();
  if ((isa == Isa::Avx512 || isa == Isa::Avx2) && isa_supported(Isa::Avx2)) return edge_kernels_avx2();
#endif
  return edge_kernels_scalar();
}

}  // namespace np
