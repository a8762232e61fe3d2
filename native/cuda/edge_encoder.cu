// CUDA forward of the edge encoder (the function of core/edge_encoder_cpu.h). The host reads
// each row chunk once (core helpers, as on CPU), uploads it, and one launch computes every
// pair of the chunk: a 16x16 block stages the 1x1 activations of its 18x18 neighbourhood in
// shared memory, each thread computes the 32 outputs of one position from __constant__
// weights, and the block's ReLU sums are reduced in a fixed order (warp shuffles, then warps
// in order) into one partial per block and channel. The host adds partials in block order
// and chunks in chunk order in float64, so results are deterministic.
#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "core/edge_encoder_cuda.h"
#include "core/error.h"
#include "cuda/edge_encoder.cuh"

namespace np {
namespace cuda_edge {
namespace {

__constant__ float c_w1[kMaxChannels * 2];
__constant__ float c_b1[kMaxChannels];
__constant__ float c_w2[kMaxChannels * 9 * kLatent];
__constant__ float c_b2[kLatent];

constexpr int kHalo = kTile + 2;
constexpr int kWarps = kTile * kTile / 32;

__global__ void chunk_kernel(ChunkArgs a) {
  extern __shared__ float shared[];
  float* h = shared;                                // [c][18][18]
  float* red = shared + a.channels * kHalo * kHalo; // [warps][32]
  const int p = blockIdx.z;
  const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * kTile + tx;
  const long long i0 = static_cast<long long>(blockIdx.y) * kTile, j0 = static_cast<long long>(blockIdx.x) * kTile;
  const size_t plane = static_cast<size_t>(a.rows + 2) * static_cast<size_t>(a.cols);
  const float* xa = a.x + static_cast<size_t>(a.slot_a[p]) * plane;
  const float* xb = a.x + static_cast<size_t>(a.slot_b[p]) * plane;
  const float s = a.inv_scale[p];

  for (int idx = tid; idx < kHalo * kHalo; idx += kTile * kTile) {
    const int r = idx / kHalo, q = idx % kHalo;
    const long long br = i0 + r, col = j0 + q - 1, mrow = a.row0 - 1 + br;
    // SAME padding: the activations are zero wherever the matrix is not.
    const bool valid = br < a.rows + 2 && col >= 0 && col < a.cols && mrow >= 0 && mrow < a.total_rows;
    float va = 0.0f, vb = 0.0f;
    if (valid) {
      va = xa[br * a.cols + col];
      vb = xb[br * a.cols + col];
    }
    for (int k = 0; k < a.channels; ++k) {
      const float wa = c_w1[k] * s, wb = c_w1[a.channels + k] * s;
      h[(k * kHalo + r) * kHalo + q] = valid ? fmaxf(0.0f, wa * va + wb * vb + c_b1[k]) : 0.0f;
    }
  }
  __syncthreads();

  float acc[kLatent];
#pragma unroll
  for (int o = 0; o < kLatent; ++o) acc[o] = c_b2[o];
  for (int k = 0; k < a.channels; ++k) {
#pragma unroll
    for (int tap = 0; tap < 9; ++tap) {
      const float hv = h[(k * kHalo + ty + tap / 3) * kHalo + tx + tap % 3];
      const float* w = c_w2 + (k * 9 + tap) * kLatent;
#pragma unroll
      for (int o = 0; o < kLatent; ++o) acc[o] = fmaf(w[o], hv, acc[o]);
    }
  }
  const bool inside = i0 + ty < a.rows && j0 + tx < a.cols;
  const int lane = tid & 31, warp = tid >> 5;
#pragma unroll
  for (int o = 0; o < kLatent; ++o) {
    float v = inside ? fmaxf(acc[o], 0.0f) : 0.0f;
    for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
    if (lane == 0) red[warp * kLatent + o] = v;
  }
  __syncthreads();
  if (tid < kLatent) {
    float sum = 0.0f;
    for (int w = 0; w < kWarps; ++w) sum += red[w * kLatent + tid];
    const size_t blocks = static_cast<size_t>(gridDim.x) * gridDim.y;
    const size_t block = static_cast<size_t>(blockIdx.y) * gridDim.x + blockIdx.x;
    a.partial[(static_cast<size_t>(p) * blocks + block) * kLatent + tid] = sum;
  }
}

}  // namespace

cudaError_t upload_weights(int channels, const float* w1, const float* b1, const float* w2, const float* b2) {
  cudaError_t e;
  if ((e = cudaMemcpyToSymbol(c_w1, w1, sizeof(float) * channels * 2)) != cudaSuccess) return e;
  if ((e = cudaMemcpyToSymbol(c_b1, b1, sizeof(float) * channels)) != cudaSuccess) return e;
  if ((e = cudaMemcpyToSymbol(c_w2, w2, sizeof(float) * channels * 9 * kLatent)) != cudaSuccess) return e;
  return cudaMemcpyToSymbol(c_b2, b2, sizeof(float) * kLatent);
}

cudaError_t launch_chunk(const ChunkArgs& args, cudaStream_t stream) {
  dim3 grid = chunk_grid(args.rows, args.cols);
  grid.z = static_cast<unsigned>(args.pairs);
  const size_t shared = sizeof(float) * (static_cast<size_t>(args.channels) * kHalo * kHalo + kWarps * kLatent);
  chunk_kernel<<<grid, dim3(kTile, kTile, 1), shared, stream>>>(args);
  return cudaGetLastError();
}

}  // namespace cuda_edge

namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    cudaGetLastError();
    throw Error(ErrorCode::Cuda, std::string("edge encoder (CUDA): ") + what + ": " + cudaGetErrorString(e));
  }
}

// Device buffers that grow to the largest chunk and are freed on every exit path.
struct DeviceBuffer {
  void* ptr = nullptr;
  size_t bytes = 0;
  ~DeviceBuffer() {
    if (ptr) cudaFree(ptr);
  }
  template <class T>
  T* get(size_t count) {
    const size_t need = count * sizeof(T);
    if (need > bytes) {
      if (ptr) cudaFree(ptr);
      ptr = nullptr;
      bytes = 0;
      check(cudaMalloc(&ptr, need), "cudaMalloc");
      bytes = need;
    }
    return static_cast<T*>(ptr);
  }
};

struct Stream {
  cudaStream_t s = nullptr;
  Stream() { check(cudaStreamCreate(&s), "cudaStreamCreate"); }
  ~Stream() {
    if (s) cudaStreamDestroy(s);
  }
};

}  // namespace

EdgeOutput edge_encode_cuda(const EdgePlan& plan, const ScanControl& control) {
  using namespace cuda_edge;
  validate_edge_plan(plan);
  const int c = plan.weights.channels;
  if (c > kMaxChannels)
    throw Error(ErrorCode::InvalidArgument, "edge encoder (CUDA): at most " + std::to_string(kMaxChannels) + " channels");
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    cudaGetLastError();
    throw Error(ErrorCode::NoCuda, "edge encoder: device 'cuda' asked for, but no CUDA device is usable");
  }
  check(cudaSetDevice(0), "cudaSetDevice");
  // w2 from [3][3][c][32] to [c][9][32], as in the CPU driver.
  std::vector<float> w2(static_cast<size_t>(9) * c * kLatent);
  for (int tap = 0; tap < 9; ++tap)
    for (int k = 0; k < c; ++k)
      for (int o = 0; o < kLatent; ++o) w2[(k * 9 + tap) * kLatent + o] = plan.weights.w2[(tap * c + k) * kLatent + o];
  check(upload_weights(c, plan.weights.w1.data(), plan.weights.b1.data(), w2.data(), plan.weights.b2.data()), "upload weights");

  EdgeOutput out;
  out.device = "cuda";
  out.threads = 1;
  out.values.assign(plan.pairs.size() * kLatent, 0.0);
  const EdgeSchedule schedule = schedule_edge_plan(plan);
  const std::vector<std::unique_ptr<FileReader>> files = open_edge_files(plan, schedule);
  Stream stream;
  DeviceBuffer d_x, d_a, d_b, d_s, d_partial;
  std::vector<unsigned char> raw;
  std::vector<float> x, partial;
  std::vector<int> slot_a, slot_b;
  std::vector<float> inv_scale;
  uint64_t done = 0;
  for (const EdgeChunk& ch : schedule.chunks) {
    if (control.cancel && control.cancel->load()) throw Error(ErrorCode::Aborted, "edge encoding cancelled");
    const EdgeTensor& t = plan.tensors[ch.tensor];
    const std::vector<uint32_t>& slots = schedule.slots[ch.tensor];
    const std::vector<uint32_t>& pairs = schedule.pairs[ch.tensor];
    read_edge_chunk(plan, schedule, files, ch, raw, x);
    slot_a.clear();
    slot_b.clear();
    inv_scale.clear();
    for (uint32_t pi : pairs) {
      const EdgePair& p = plan.pairs[pi];
      slot_a.push_back(static_cast<int>(std::lower_bound(slots.begin(), slots.end(), p.a) - slots.begin()));
      slot_b.push_back(static_cast<int>(std::lower_bound(slots.begin(), slots.end(), p.b) - slots.begin()));
      inv_scale.push_back(1.0f / p.scale);
    }
    const dim3 grid = chunk_grid(static_cast<long long>(ch.rows), static_cast<long long>(t.cols));
    const size_t blocks = static_cast<size_t>(grid.x) * grid.y;
    float* dx = d_x.get<float>(x.size());
    int* da = d_a.get<int>(slot_a.size());
    int* db = d_b.get<int>(slot_b.size());
    float* ds = d_s.get<float>(inv_scale.size());
    float* dp = d_partial.get<float>(pairs.size() * blocks * kLatent);
    check(cudaMemcpyAsync(dx, x.data(), x.size() * sizeof(float), cudaMemcpyHostToDevice, stream.s), "copy chunk");
    check(cudaMemcpyAsync(da, slot_a.data(), slot_a.size() * sizeof(int), cudaMemcpyHostToDevice, stream.s), "copy pairs");
    check(cudaMemcpyAsync(db, slot_b.data(), slot_b.size() * sizeof(int), cudaMemcpyHostToDevice, stream.s), "copy pairs");
    check(cudaMemcpyAsync(ds, inv_scale.data(), inv_scale.size() * sizeof(float), cudaMemcpyHostToDevice, stream.s), "copy scales");
    // grid.z holds the pairs: at most 65535 per launch.
    for (size_t first = 0; first < pairs.size(); first += 65535) {
      ChunkArgs args;
      args.x = dx;
      args.slot_a = da + first;
      args.slot_b = db + first;
      args.inv_scale = ds + first;
      args.partial = dp + first * blocks * kLatent;
      args.pairs = static_cast<int>(std::min<size_t>(65535, pairs.size() - first));
      args.channels = c;
      args.rows = static_cast<long long>(ch.rows);
      args.cols = static_cast<long long>(t.cols);
      args.row0 = static_cast<long long>(ch.row0);
      args.total_rows = static_cast<long long>(t.rows);
      check(launch_chunk(args, stream.s), "launch");
    }
    partial.resize(pairs.size() * blocks * kLatent);
    check(cudaMemcpyAsync(partial.data(), dp, partial.size() * sizeof(float), cudaMemcpyDeviceToHost, stream.s), "copy sums");
    check(cudaStreamSynchronize(stream.s), "synchronize");
    for (size_t pi = 0; pi < pairs.size(); ++pi)
      for (int o = 0; o < kLatent; ++o) {
        double s = 0.0;
        for (size_t b = 0; b < blocks; ++b) s += partial[(pi * blocks + b) * kLatent + o];
        out.values[pairs[pi] * kLatent + o] += s;
      }
    done += ch.bytes;
    if (control.progress) control.progress(done, schedule.total_bytes);
  }
  for (size_t p = 0; p < plan.pairs.size(); ++p) {
    const EdgeTensor& t = plan.tensors[plan.pairs[p].tensor];
    const double n = static_cast<double>(t.rows) * static_cast<double>(t.cols);
    for (int o = 0; o < kLatent; ++o) out.values[p * kLatent + o] /= n;
  }
  out.bytes = schedule.total_bytes;
  return out;
}

}  // namespace np
