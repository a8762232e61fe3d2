// Fake-init values of elements [start, start + count) of one tensor into device memory, with
// the same device code the scan kernel uses (fake_init_device.cuh). It exists so that tests
// can hold the device's fake init bitwise equal to the CPU's (binding fakeInitCuda).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "core/philox.h"

namespace np {
namespace cuda_scan {

// out[i] = fake_init_value(p, start + i) for i < count; asynchronous on `stream`.
cudaError_t launch_fake_init(const FakeInitParams& p, uint64_t start, uint64_t count, float* out, cudaStream_t stream);

}  // namespace cuda_scan
}  // namespace np
