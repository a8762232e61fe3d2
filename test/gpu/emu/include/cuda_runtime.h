// CPU emulation of the subset of the CUDA runtime and device built-ins that native/cuda uses
// (test/gpu/emu: runs the real kernel sources on CPU fibers; see emu_runtime.cc). Not a CUDA
// implementation: enough to check index math, barriers and the host pipeline without a GPU.
#pragma once
#define NP_CUDA_EMULATOR 1  // native/cuda/warp_ops.cuh: use the emulator's warp collectives
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __align__(n)
#define __shared__ static  // one block runs at a time, so block-shared statics are safe

typedef int cudaError_t;
enum : int {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidDevice = 101,
  cudaErrorNoDevice = 100,
};
enum cudaMemcpyKind { cudaMemcpyHostToHost = 0, cudaMemcpyHostToDevice = 1, cudaMemcpyDeviceToHost = 2, cudaMemcpyDeviceToDevice = 3 };
struct CUstream_st;
struct CUevent_st;
typedef CUstream_st* cudaStream_t;
typedef CUevent_st* cudaEvent_t;
constexpr unsigned cudaStreamNonBlocking = 1;
constexpr unsigned cudaEventDefault = 0;
constexpr unsigned cudaEventDisableTiming = 2;
constexpr unsigned cudaHostAllocPortable = 1;

struct cudaDeviceProp {
  char name[256];
  int major, minor;
  size_t totalGlobalMem;
  int multiProcessorCount;
};

struct dim3 {
  unsigned x, y, z;
  dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct uint4 { unsigned x, y, z, w; };
struct uint2 { unsigned x, y; };
struct double2 { double x, y; };
struct float4 { float x, y, z, w; };
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return uint4{x, y, z, w}; }
inline double2 make_double2(double x, double y) { return double2{x, y}; }

const char* cudaGetErrorString(cudaError_t e);
cudaError_t cudaGetLastError();
cudaError_t cudaGetDeviceCount(int* n);
cudaError_t cudaSetDevice(int d);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int d);
cudaError_t cudaMalloc(void** p, size_t bytes);
cudaError_t cudaFree(void* p);
cudaError_t cudaHostAlloc(void** p, size_t bytes, unsigned flags);
cudaError_t cudaFreeHost(void* p);
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t s = nullptr);
cudaError_t cudaMemset(void* p, int v, size_t bytes);
cudaError_t cudaMemsetAsync(void* p, int v, size_t bytes, cudaStream_t s = nullptr);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t s);
cudaError_t cudaStreamSynchronize(cudaStream_t s);
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned flags);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned flags);
cudaError_t cudaEventDestroy(cudaEvent_t e);
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s = nullptr);
cudaError_t cudaEventSynchronize(cudaEvent_t e);
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t a, cudaEvent_t b);
cudaError_t cudaDeviceSynchronize();

namespace np_emu {
const dim3& thread_idx();
const dim3& block_idx();
const dim3& grid_dim();
const dim3& block_dim();
void syncthreads();
void syncwarp();                   // a barrier of the calling thread's warp
double shfl(double v, int src);    // the value `v` of lane `src` of the calling warp
void mma_f64_m8n8k4(double a, double b, double& c0, double& c1);
void* dynamic_shared();
// Runs fn once per thread of every block, blocks one after another, the threads of a block as
// fibers switched at barriers in a shuffled order (so a missing barrier shows up).
void run_grid(dim3 grid, dim3 block, size_t shared_bytes, void (*entry)(void*), void* ctx);
// Queues work on a stream (nullptr: the legacy default stream). Queued work runs only when
// something forces it (a synchronize, a wait on its event, cudaFree...), so work that is not
// ordered correctly against the host or other streams runs late and shows up as wrong data.
void enqueue(cudaStream_t s, std::function<void()> fn);
void set_fail_launches(bool fail);  // makes every launch fail (error-path tests)
bool launches_fail();
void set_last_error(cudaError_t e);  // what cudaGetLastError reports next, as after a bad launch

template <class K, class... A>
cudaError_t launch(K kernel, dim3 grid, dim3 block, size_t shared, cudaStream_t stream, A... args) {
  if (launches_fail()) {
    set_last_error(cudaErrorInvalidValue);
    return cudaErrorInvalidValue;
  }
  enqueue(stream, [=]() {
    auto bound = [&]() { kernel(args...); };
    using B = decltype(bound);
    run_grid(grid, block, shared, [](void* p) { (*static_cast<B*>(p))(); }, &bound);
  });
  return cudaSuccess;
}
}  // namespace np_emu

#define threadIdx (::np_emu::thread_idx())
#define blockIdx (::np_emu::block_idx())
#define gridDim (::np_emu::grid_dim())
#define blockDim (::np_emu::block_dim())
inline void __syncthreads() { np_emu::syncthreads(); }
inline void __syncwarp(unsigned) { np_emu::syncwarp(); }
inline double __shfl_sync(unsigned, double v, int src) { return np_emu::shfl(v, src); }
inline float __shfl_sync(unsigned, float v, int src) { return static_cast<float>(np_emu::shfl(v, src)); }
inline double __shfl_xor_sync(unsigned, double v, int mask) {
  return np_emu::shfl(v, static_cast<int>(np_emu::thread_idx().x & 31u) ^ mask);
}
template <class T>
inline T __ldg(const T* p) { return *p; }

template <class T>
inline T __ldcs(const T* p) { return *p; }
// One IEEE float32 multiply, round to nearest (the emulator is built with -ffp-contract=off).
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __uint_as_float(unsigned u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
