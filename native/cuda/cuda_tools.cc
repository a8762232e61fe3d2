// Small CUDA entry points beside the scan (core/cuda_backend.h): the device's fake init for
// tests, and the copy bandwidths the benchmark compares the scan with.
#include <chrono>
#include <cstring>
#include <vector>

#include "core/cuda_backend.h"
#include "core/error.h"
#include "cuda/cuda_check.h"
#include "cuda/cuda_device.h"
#include "cuda/cuda_raii.h"
#include "cuda/fake_init_kernel.cuh"

namespace np {

namespace {

using cuda_util::DeviceMem;
using cuda_util::Event;
using cuda_util::Stream;

std::string set_device(int device) { return use_cuda_device(device).name; }

// GB/s of `reps` copies of `bytes` (after one warm-up copy), timed with events.
double time_copies(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t s, int reps,
                   double bytes_per_copy) {
  NP_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, s));
  Event start(true), stop(true);
  NP_CUDA_CHECK(cudaEventRecord(start.get(), s));
  for (int i = 0; i < reps; ++i) NP_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, s));
  NP_CUDA_CHECK(cudaEventRecord(stop.get(), s));
  NP_CUDA_CHECK(cudaEventSynchronize(stop.get()));
  float ms = 0;
  NP_CUDA_CHECK(cudaEventElapsedTime(&ms, start.get(), stop.get()));
  return bytes_per_copy * reps / (ms / 1000.0) / 1e9;
}

}  // namespace

std::vector<float> fake_init_cuda(const FakeInitParams& p, uint64_t start, size_t count, int device) {
  set_device(device);
  std::vector<float> out(count);
  if (count == 0) return out;
  DeviceMem buf(count * sizeof(float));
  Stream s;
  NP_CUDA_CHECK(cuda_scan::launch_fake_init(p, start, count, buf.get<float>(), s.get()));
  NP_CUDA_CHECK(cudaMemcpyAsync(out.data(), buf.get(), count * sizeof(float), cudaMemcpyDeviceToHost, s.get()));
  NP_CUDA_CHECK(cudaStreamSynchronize(s.get()));
  return out;
}

CudaBandwidth cuda_bandwidth(int device, size_t bytes) {
  if (bytes < (size_t{1} << 20)) throw Error(ErrorCode::InvalidArgument, "cuda bandwidth: at least 1 MiB");
  CudaBandwidth bw;
  bw.device_name = set_device(device);
  DeviceMem a(bytes), b(bytes);
  cuda_util::PinnedSlots pinned(bytes, 1);
  std::vector<unsigned char> pageable(bytes);
  std::memset(pageable.data(), 1, bytes);  // touch every page before timing
  std::memset(pinned.slot(0), 1, bytes);
  Stream s;
  bw.h2d_pinned = time_copies(a.get(), pinned.slot(0), bytes, cudaMemcpyHostToDevice, s.get(), 8, double(bytes));
  bw.h2d_pageable = time_copies(a.get(), pageable.data(), bytes, cudaMemcpyHostToDevice, s.get(), 4, double(bytes));
  bw.d2d = time_copies(b.get(), a.get(), bytes, cudaMemcpyDeviceToDevice, s.get(), 20, 2.0 * double(bytes));
  return bw;
}

}  // namespace np
