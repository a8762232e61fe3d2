// Portable kernels: the reference order for the SIMD sets (8 lanes, element i in lane i % 8,
// lanes summed 0..7), written so compilers can vectorize them for any target.
#include "core/scan_kernels.h"

namespace np {
namespace {

constexpr int kLanes = 8;

double reduce_lanes(const double* lane) {
  double s = 0.0;
  for (int l = 0; l < kLanes; ++l) s += lane[l];
  return s;
}

void moments_scalar(const float* x, const float* r, size_t n, double out[kNumStats]) {
  double acc[kNumStats][kLanes] = {};
  const size_t padded = round_up_pad(n);
  for (size_t i = 0; i < padded; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      double v = x[i + l];
      double v2 = v * v;
      double d = v - static_cast<double>(r[i + l]);
      acc[kSum][l] += v;
      acc[kSumSq][l] += v2;
      acc[kSumCube][l] += v2 * v;
      acc[kSumQuad][l] += v2 * v2;
      acc[kFakeSq][l] += d * d;
    }
  }
  for (int s = 0; s < kNumStats; ++s) out[s] = reduce_lanes(acc[s]);
}

void gram_scalar(const float* x, size_t stride, size_t k, size_t n, double* gram) {
  const size_t padded = round_up_pad(n);
  for (size_t a = 0; a < k; ++a) {
    const float* xa = x + a * stride;
    for (size_t b = a; b < k; ++b) {
      const float* xb = x + b * stride;
      double acc[kLanes] = {};
      for (size_t i = 0; i < padded; i += kLanes)
        for (int l = 0; l < kLanes; ++l) acc[l] += static_cast<double>(xa[i + l]) * static_cast<double>(xb[i + l]);
      gram[a * k + b] = reduce_lanes(acc);
    }
  }
}

double sum_scalar(DType type, const unsigned char* src, size_t n) {
  const size_t size = dtype_size(type);
  double acc[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += load_as_float(type, src + (i + l) * size);
  for (; i < n; ++i) acc[i % kLanes] += load_as_float(type, src + i * size);
  return reduce_lanes(acc);
}

}  // namespace

const ScanKernels& scan_kernels_scalar() {
  static const ScanKernels table{Isa::Scalar, convert_scalar, fake_init_scalar, moments_scalar, gram_scalar, sum_scalar};
  return table;
}

}  // namespace np
