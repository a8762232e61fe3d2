#include "core/scan_kernels.h"

namespace np {

const ScanKernels& scan_kernels(Isa isa) {
#if defined(NP_X86_KERNELS)
  if (isa == Isa::Avx512 && isa_supported(Isa::Avx512)) return scan_kernels_avx512();
  if ((isa == Isa::Avx512 || isa == Isa::Avx2) && isa_supported(Isa::Avx2)) return scan_kernels_avx2();
#endif
  return scan_kernels_scalar();
}

void fake_init_scalar(const FakeInitParams& p, uint64_t start, float* r, size_t n) {
  for (size_t i = 0; i < n; ++i) r[i] = fake_init_value(p, start + i);
}

void fake_init_range(const ScanKernels& kern, const FakeInitParams& p, uint64_t start, float* r, size_t n) {
  size_t head = static_cast<size_t>((64 - start % 64) % 64);
  if (head > n) head = n;
  fake_init_scalar(p, start, r, head);
  if (n > head) kern.fake_init(p, start + head, r + head, n - head);
}

}  // namespace np
