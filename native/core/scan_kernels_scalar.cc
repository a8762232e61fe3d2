// Portable kernel set: the fused block over a plain-C++ "vector" of 4 doubles, which
// compilers vectorize for whatever baseline the addon is built for.
#include <algorithm>
#include <cstring>

#include "core/scan_kernels.h"

namespace np {
namespace {

struct ScalarV {
  static constexpr int kLanes = 4;
  static constexpr int kTile = 2;
  static constexpr int kMomentRows = 1;
  static constexpr int kLoraRows = 2, kLoraVecs = 2;
  struct vd {
    double v[kLanes];
  };
  static vd zero() { return vd{}; }
  static vd set1(double x) {
    vd r;
    for (int l = 0; l < kLanes; ++l) r.v[l] = x;
    return r;
  }
  static void store_f32(float* p, const vd& a) {
    for (int l = 0; l < kLanes; ++l) p[l] = static_cast<float>(a.v[l]);
  }
  static vd load(const double* p) {
    vd r;
    for (int l = 0; l < kLanes; ++l) r.v[l] = p[l];
    return r;
  }
  static void store(double* p, const vd& a) {
    for (int l = 0; l < kLanes; ++l) p[l] = a.v[l];
  }
  static vd add(const vd& a, const vd& b) {
    vd r;
    for (int l = 0; l < kLanes; ++l) r.v[l] = a.v[l] + b.v[l];
    return r;
  }
  static vd sub(const vd& a, const vd& b) {
    vd r;
    for (int l = 0; l < kLanes; ++l) r.v[l] = a.v[l] - b.v[l];
    return r;
  }
  static vd mul(const vd& a, const vd& b) {
    vd r;
    for (int l = 0; l < kLanes; ++l) r.v[l] = a.v[l] * b.v[l];
    return r;
  }
  static vd fma(const vd& a, const vd& b, const vd& c) { return add(mul(a, b), c); }
  static vd load_f32(const float* p) {
    vd r;
    for (int l = 0; l < kLanes; ++l) r.v[l] = static_cast<double>(p[l]);
    return r;
  }
  template <DType DT>
  static vd load_as(const unsigned char* p) {
    vd r;
    for (int l = 0; l < kLanes; ++l) r.v[l] = static_cast<double>(load_as_float(DT, p + l * dtype_size(DT)));
    return r;
  }
  static void to_f64(DType type, const unsigned char* src, double* dst, size_t n) {
    const size_t size = dtype_size(type);
    for (size_t i = 0; i < n; ++i) dst[i] = static_cast<double>(load_as_float(type, src + i * size));
  }
};

#include "core/scan_block_impl.h"
#include "core/scan_lora_impl.h"

void block_scalar(const BlockArgs& args, double* out) { scan_block<ScalarV>(args, out); }
size_t scratch_scalar(size_t k) { return block_scratch_doubles<ScalarV>(k); }

double sum_scalar(DType type, const unsigned char* src, size_t n) {
  const size_t size = dtype_size(type);
  double acc[8] = {};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) acc[l] += load_as_float(type, src + (i + l) * size);
  for (; i < n; ++i) acc[i % 8] += load_as_float(type, src + i * size);
  double s = 0.0;
  for (double a : acc) s += a;
  return s;
}

}  // namespace

const ScanKernels& scan_kernels_scalar() {
  static const ScanKernels table{Isa::Scalar,     fake_init_scalar,   block_scalar, scratch_scalar,
                                 sum_scalar,      lora_rows<ScalarV>, lora_panel_width<ScalarV>(),
                                 widen_to_f32<ScalarV>};
  return table;
}

}  // namespace np
