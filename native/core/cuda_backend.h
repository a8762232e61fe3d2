// What the core needs from the CUDA backend, in plain C++ types (no CUDA header here).
// Implemented in native/cuda/ when nvcc is found. A build without it has only cuda_status()
// (cuda_absent.cc, answering "not compiled"): its addon registers none of the CUDA entry
// points, so nothing else here is called there.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/scan_plan.h"

namespace np {

struct CudaDeviceInfo {
  int index = 0;
  std::string name;
  int major = 0, minor = 0;
  uint64_t total_memory = 0;
  int multiprocessors = 0;
};

struct CudaStatus {
  bool compiled = false;      // the addon was built with the CUDA backend
  bool usable = false;        // compiled, a driver answered and at least one device exists
  std::string reason;         // why not usable (empty when usable)
  int driver_version = 0;     // e.g. 13000; 0 when no driver
  int runtime_version = 0;    // the CUDA runtime linked in; 0 when not compiled
  std::vector<CudaDeviceInfo> devices;
};

// Never throws: a machine without a GPU or driver gets usable == false and a reason.
CudaStatus cuda_status();

// ---- The CUDA scan (native/cuda/scan_cuda.cc) ----

enum class CudaGram : int {
  Auto = 0,  // FP64 tensor cores (DMMA) where the device has them (sm_80+), else FP64 FMA
  Mma = 1,   // FP64 tensor cores; an error on devices without them
  Fma = 2,   // FP64 FMA on the CUDA cores (the portable path; tests compare the two)
};

struct CudaScanOptions {
  int device = 0;
  // Model bytes (all members together) per work item, and the size of each staging buffer
  // (JS: cuda.stageBytes; the plan's own chunkBytes sizes the CPU scan's work items).
  size_t stage_bytes = size_t{32} << 20;
  int slots = 3;     // pinned host and device staging buffers (3: read, copy and compute overlap)
  int readers = 0;   // host threads reading files into pinned memory; 0: min(8, cores)
  // Read every tensor into GPU memory first, then compute over the resident weights `repeat`
  // times (timed with CUDA events: the benchmark's "weights already on the GPU").
  bool resident = false;
  int repeat = 1;
  CudaGram gram = CudaGram::Auto;
  // Benchmarks only (scripts/device-check.sh): every pass on the shared-memory tile kernel,
  // with its plan (cuda_scan::PassKernels::Tile), to compare the register kernels against on
  // the same data. Same results up to float64 rounding.
  bool tile_kernel = false;
  // Staged bytes per reader task (a run of one member of an item, stage_members.h); tests cut
  // it small so pieces split rows and blocks of formed members.
  size_t piece_bytes = size_t{4} << 20;
  // Streaming: GGUF Q8_0 members are copied as stored and dequantized on the device (JS:
  // cuda.deviceDequant, default true); false forms them on the host like the other types.
  bool device_dequant = true;
};

struct CudaScanResult {
  ScanOutput output;          // same layout and meaning as scan_cpu's
  std::string device_name;    // e.g. "NVIDIA H100 80GB HBM3"
  int cc_major = 0, cc_minor = 0;
  std::string gram;           // "dmma" or "fma"
  double setup_seconds = 0;     // context, buffers
  double pipeline_seconds = 0;  // streaming: first read to last result; resident: reading and copying
  double compute_seconds = 0;   // resident only: mean GPU time of one compute pass (CUDA events)
  double compute_seconds_min = 0;
};

// The scan of scan_cpu (same output up to float64 rounding) on CUDA device options.device.
CudaScanResult scan_cuda_ex(const ScanPlan& plan, const ScanControl& control, const CudaScanOptions& options);

// fake_init_value(p, start + i) for i < count, computed on the device by the scan's own code
// (tests hold it bitwise equal to the CPU's).
std::vector<float> fake_init_cuda(const FakeInitParams& p, uint64_t start, size_t count, int device);

// Copy bandwidths of a device in GB/s (1e9 bytes/s), measured with CUDA events over `bytes`.
struct CudaBandwidth {
  std::string device_name;
  double h2d_pinned = 0;    // host to device from cudaHostAlloc'd memory
  double h2d_pageable = 0;  // host to device from ordinary (malloc) memory
  double d2d = 0;           // device to device, counting bytes read plus bytes written
};
CudaBandwidth cuda_bandwidth(int device, size_t bytes);

}  // namespace np
