// Owners of CUDA resources, so that every exit path (an error, a cancellation) releases them.
// Destructors never throw and ignore errors: they run while another error is propagating.
// Declare streams after the buffers they use: members are destroyed in reverse order, and a
// stream's destructor waits for its work before the buffers go.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

#include "cuda/cuda_check.h"

namespace np {
namespace cuda_util {

class DeviceMem {
 public:
  DeviceMem() = default;
  explicit DeviceMem(size_t bytes) {
    if (bytes) NP_CUDA_CHECK(cudaMalloc(&ptr_, bytes));
  }
  ~DeviceMem() {
    if (ptr_) cudaFree(ptr_);
  }
  DeviceMem(DeviceMem&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)) {}
  DeviceMem& operator=(DeviceMem&& o) noexcept {
    std::swap(ptr_, o.ptr_);
    return *this;
  }
  template <class T = void>
  T* get() const {
    return static_cast<T*>(ptr_);
  }

 private:
  void* ptr_ = nullptr;
};

class Stream {
 public:
  Stream() { NP_CUDA_CHECK(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking)); }
  ~Stream() {
    cudaStreamSynchronize(s_);
    cudaStreamDestroy(s_);
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return s_; }

 private:
  cudaStream_t s_ = nullptr;
};

class Event {
 public:
  explicit Event(bool timing = false) {
    NP_CUDA_CHECK(cudaEventCreateWithFlags(&e_, timing ? cudaEventDefault : cudaEventDisableTiming));
  }
  ~Event() { cudaEventDestroy(e_); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const { return e_; }

 private:
  cudaEvent_t e_ = nullptr;
};

// Pinned (page-locked) staging buffers, kept for the next scan: cudaHostAlloc of a few hundred
// MB takes tens of milliseconds, a real share of a short scan. One set (the one released
// last) is cached per process;
// it is never freed at exit on purpose (the CUDA runtime may already be gone then; the OS
// reclaims it).
class PinnedSlots {
 public:
  PinnedSlots(size_t bytes, size_t count) : bytes_(bytes) {
    {
      std::lock_guard<std::mutex> lock(cache().mutex);
      Cache& c = cache();
      if (c.bytes >= bytes && c.bufs.size() >= count) {
        bufs_ = std::move(c.bufs);
        bytes_ = c.bytes;
        c.bufs.clear();
        c.bytes = 0;
      }
    }
    try {
      while (bufs_.size() < count) {
        void* p = nullptr;
        NP_CUDA_CHECK(cudaHostAlloc(&p, bytes_, cudaHostAllocPortable));
        bufs_.push_back(p);
      }
    } catch (...) {
      for (void* p : bufs_) cudaFreeHost(p);
      throw;
    }
  }
  ~PinnedSlots() {
    std::lock_guard<std::mutex> lock(cache().mutex);
    Cache& c = cache();
    // Keep the set released last (the next scan most likely has the same shape), free the other.
    std::swap(c.bufs, bufs_);
    std::swap(c.bytes, bytes_);
    for (void* p : bufs_) cudaFreeHost(p);
  }
  PinnedSlots(const PinnedSlots&) = delete;
  PinnedSlots& operator=(const PinnedSlots&) = delete;
  unsigned char* slot(size_t i) const { return static_cast<unsigned char*>(bufs_[i]); }

 private:
  struct Cache {
    std::mutex mutex;
    std::vector<void*> bufs;
    size_t bytes = 0;
  };
  static Cache& cache() {
    static Cache* c = new Cache;  // never destroyed (see above)
    return *c;
  }
  std::vector<void*> bufs_;
  size_t bytes_;
};

}  // namespace cuda_util
}  // namespace np
