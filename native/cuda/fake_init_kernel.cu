#include "cuda/fake_init_kernel.cuh"

#include <algorithm>

#include "cuda/fake_init_device.cuh"

namespace np {
namespace cuda_scan {
namespace {

// One thread per task (64-group, lane, half); the tasks of the groups that overlap the range
// are enumerated from the group of `start`, and only in-range elements are written.
__global__ void fake_init_kernel(FakeInitParams p, uint64_t start, uint64_t count, uint64_t first_group, uint64_t tasks,
                                 float* out) {
  const uint64_t stride = static_cast<uint64_t>(gridDim.x) * blockDim.x;
  for (uint64_t t = static_cast<uint64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < tasks; t += stride) {
    const uint64_t q = first_group + t / 32u;
    const int rem = static_cast<int>(t % 32u);
    const int half = rem >> 4, lane = rem & 15;
    const FakePair v = fake_init_task(p, q, lane, half);
    const uint64_t i0 = q * 64u + static_cast<uint64_t>(32 * half + lane);
    if (i0 >= start && i0 - start < count) out[i0 - start] = v.first;
    if (i0 + 16u >= start && i0 + 16u - start < count) out[i0 + 16u - start] = v.second;
  }
}

}  // namespace

cudaError_t launch_fake_init(const FakeInitParams& p, uint64_t start, uint64_t count, float* out, cudaStream_t stream) {
  if (count == 0) return cudaSuccess;
  const uint64_t first_group = start / 64u;
  const uint64_t last_group = (start + count - 1) / 64u;
  const uint64_t tasks = (last_group - first_group + 1) * 32u;
  const int threads = 256;
  const uint64_t want = (tasks + threads - 1) / threads;
  const unsigned blocks = static_cast<unsigned>(std::min<uint64_t>(want, 65535u));
  fake_init_kernel<<<blocks, threads, 0, stream>>>(p, start, count, first_group, tasks, out);
  return cudaGetLastError();
}

}  // namespace cuda_scan
}  // namespace np
