// CUDA forward of the edge encoder (the function of core/edge_encoder_cpu.h). The host reads
// each row chunk once (core helpers, as on CPU) into one of two pinned buffers and uploads it;
// one launch computes every pair of the chunk: a 16x16 block stages the 1x1 activations of its
// 18x18 neighbourhood in shared memory, each thread computes the 32 outputs of one position
// from __constant__ weights, and the block's ReLU sums are reduced in a fixed order (warp
// shuffles, then warps in order) into one partial per block and channel. A second kernel adds
// the block partials in block order in float64 into the pair's running totals on the device,
// chunk after chunk on one stream; nothing waits for the GPU until the end, so the host reads
// chunk k + 1 while the GPU computes chunk k. Deterministic for a given chunk size.
#include <cuda_runtime.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "core/edge_encoder_cuda.h"
#include "core/error.h"
#include "cuda/cuda_check.h"
#include "cuda/cuda_device.h"
#include "cuda/cuda_raii.h"
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

// Block partials of a chunk -> the pairs' float64 totals: one block per pair, warp w adds the
// partials b = w, w + 8, ... (lane o: channel o), then warp 0 adds the 8 warp sums in order.
__global__ void reduce_kernel(const float* __restrict__ partial, long long blocks, const int* __restrict__ out_index,
                              double* __restrict__ totals) {
  __shared__ double sums[8][kLatent];
  const int p = blockIdx.x, lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const float* base = partial + static_cast<size_t>(p) * static_cast<size_t>(blocks) * kLatent;
  double s = 0.0;
  for (long long b = warp; b < blocks; b += 8) s += static_cast<double>(base[b * kLatent + lane]);
  sums[warp][lane] = s;
  __syncthreads();
  if (warp == 0) {
    double t = 0.0;
    for (int w = 0; w < 8; ++w) t += sums[w][lane];
    totals[static_cast<size_t>(out_index[p]) * kLatent + lane] += t;
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

cudaError_t launch_reduce(const float* partial, long long blocks, int pairs, const int* out_index, double* totals,
                          cudaStream_t stream) {
  reduce_kernel<<<pairs, 256, 0, stream>>>(partial, blocks, out_index, totals);
  return cudaGetLastError();
}

}  // namespace cuda_edge

namespace {
using namespace cuda_edge;

// w2 from tfjs's [3][3][c][32] to the kernel's [c][9][32] (as the CPU driver does), then all
// four weight arrays into __constant__ memory.
void upload_folded_weights(const EdgeEncoderWeights& w) {
  const int c = w.channels;
  std::vector<float> w2(static_cast<size_t>(9) * c * kLatent);
  for (int tap = 0; tap < 9; ++tap)
    for (int k = 0; k < c; ++k)
      for (int o = 0; o < kLatent; ++o) w2[(k * 9 + tap) * kLatent + o] = w.w2[(tap * c + k) * kLatent + o];
  NP_CUDA_CHECK(upload_weights(c, w.w1.data(), w.b1.data(), w2.data(), w.b2.data()));
}

// Per tensor, its pairs' slots (positions among the tensor's read slots), input scales and
// output rows, concatenated tensor after tensor; first_pair[t] is where tensor t's start.
struct PairTables {
  std::vector<int> slot_a, slot_b, out_index;
  std::vector<float> inv_scale;
  std::vector<size_t> first_pair;
};

PairTables pair_tables(const EdgePlan& plan, const EdgeSchedule& schedule) {
  PairTables p;
  p.first_pair.assign(plan.tensors.size(), 0);
  for (size_t ti = 0; ti < plan.tensors.size(); ++ti) {
    p.first_pair[ti] = p.slot_a.size();
    const std::vector<uint32_t>& slots = schedule.slots[ti];
    for (uint32_t pi : schedule.pairs[ti]) {
      const EdgePair& pair = plan.pairs[pi];
      p.slot_a.push_back(static_cast<int>(std::lower_bound(slots.begin(), slots.end(), pair.a) - slots.begin()));
      p.slot_b.push_back(static_cast<int>(std::lower_bound(slots.begin(), slots.end(), pair.b) - slots.begin()));
      p.inv_scale.push_back(1.0f / pair.scale);
      p.out_index.push_back(static_cast<int>(pi));
    }
  }
  return p;
}

// The largest chunk's input floats and block partials: the sizes of the device buffers.
struct BufferSizes {
  size_t floats = 0, partials = 0;
};

BufferSizes buffer_sizes(const EdgePlan& gplan, const EdgeSchedule& schedule) {
  BufferSizes b;
  for (const EdgeChunk& ch : schedule.chunks) {
    b.floats = std::max(b.floats, edge_chunk_floats(gplan, schedule, ch));
    const dim3 grid = chunk_grid(static_cast<long long>(ch.rows), static_cast<long long>(gplan.tensors[ch.tensor].cols));
    b.partials = std::max(b.partials, schedule.pairs[ch.tensor].size() * static_cast<size_t>(grid.x) * grid.y * kLatent);
  }
  return b;
}

// The device copies of PairTables and the running totals (one spare so none is empty).
struct DeviceTables {
  cuda_util::DeviceMem a, b, out, scale, totals;
  DeviceTables(const PairTables& p, size_t totals_n)
      : a(p.slot_a.size() * sizeof(int)),
        b(p.slot_b.size() * sizeof(int)),
        out(p.out_index.size() * sizeof(int)),
        scale(p.inv_scale.size() * sizeof(float)),
        totals(totals_n * sizeof(double)) {}
};

void upload_tables(const PairTables& p, DeviceTables& d, size_t totals_n, cudaStream_t stream) {
  NP_CUDA_CHECK(cudaMemcpyAsync(d.a.get<int>(), p.slot_a.data(), p.slot_a.size() * sizeof(int), cudaMemcpyHostToDevice, stream));
  NP_CUDA_CHECK(cudaMemcpyAsync(d.b.get<int>(), p.slot_b.data(), p.slot_b.size() * sizeof(int), cudaMemcpyHostToDevice, stream));
  NP_CUDA_CHECK(cudaMemcpyAsync(d.out.get<int>(), p.out_index.data(), p.out_index.size() * sizeof(int), cudaMemcpyHostToDevice, stream));
  NP_CUDA_CHECK(cudaMemcpyAsync(d.scale.get<float>(), p.inv_scale.data(), p.inv_scale.size() * sizeof(float), cudaMemcpyHostToDevice, stream));
  NP_CUDA_CHECK(cudaMemsetAsync(d.totals.get<double>(), 0, totals_n * sizeof(double), stream));
}

// Every pair of one uploaded chunk: the conv kernel, then the reduction of its block partials
// into the pairs' totals. grid.z holds the pairs: at most 65535 per launch.
void compute_chunk(const EdgePlan& plan, const EdgeSchedule& schedule, const EdgeChunk& ch, size_t p0, const float* x,
                   DeviceTables& d, float* partial, cudaStream_t stream) {
  const EdgeTensor& t = plan.tensors[ch.tensor];
  const size_t npairs = schedule.pairs[ch.tensor].size();
  const dim3 grid = chunk_grid(static_cast<long long>(ch.rows), static_cast<long long>(t.cols));
  const long long blocks = static_cast<long long>(grid.x) * grid.y;
  for (size_t first = 0; first < npairs; first += 65535) {
    ChunkArgs args;
    args.x = x;
    args.slot_a = d.a.get<int>() + p0 + first;
    args.slot_b = d.b.get<int>() + p0 + first;
    args.inv_scale = d.scale.get<float>() + p0 + first;
    args.partial = partial + first * static_cast<size_t>(blocks) * kLatent;
    args.pairs = static_cast<int>(std::min<size_t>(65535, npairs - first));
    args.channels = plan.weights.channels;
    args.rows = static_cast<long long>(ch.rows);
    args.cols = static_cast<long long>(t.cols);
    args.row0 = static_cast<long long>(ch.row0);
    args.total_rows = static_cast<long long>(t.rows);
    NP_CUDA_CHECK(launch_chunk(args, stream));
    NP_CUDA_CHECK(launch_reduce(args.partial, blocks, args.pairs, d.out.get<int>() + p0 + first, d.totals.get<double>(), stream));
  }
}

// The totals are sums over the matrix: the encoder's output is their mean.
void divide_by_matrix_size(const EdgePlan& plan, std::vector<double>& values) {
  for (size_t p = 0; p < plan.pairs.size(); ++p) {
    const EdgeTensor& t = plan.tensors[plan.pairs[p].tensor];
    const double n = static_cast<double>(t.rows) * static_cast<double>(t.cols);
    for (int o = 0; o < kLatent; ++o) values[p * kLatent + o] /= n;
  }
}

}  // namespace

EdgeOutput edge_encode_cuda(const EdgePlan& plan, const ScanControl& control) {
  using cuda_util::DeviceMem;
  using cuda_util::Event;
  using cuda_util::PinnedSlots;
  using cuda_util::Stream;
  validate_edge_plan(plan);
  if (plan.weights.channels > kMaxChannels)
    throw Error(ErrorCode::InvalidArgument, "edge encoder (CUDA): at most " + std::to_string(kMaxChannels) + " channels");
  EdgeOutput out;
  out.backend = "cuda";
  out.device = use_cuda_device(plan.cuda_device).name;
  upload_folded_weights(plan.weights);

  out.values.assign(plan.pairs.size() * kLatent, 0.0);
  EdgePlan gplan = plan;  // the same work, cut into the CUDA driver's (larger) chunks
  gplan.chunk_elems = plan.cuda_chunk_elems;
  const EdgeSchedule schedule = schedule_edge_plan(gplan);
  const std::vector<std::unique_ptr<FileReader>> files = open_edge_files(gplan, schedule);
  const PairTables tables = pair_tables(plan, schedule);
  const BufferSizes sizes = buffer_sizes(gplan, schedule);

  const size_t nt = out.values.size() + 1;
  DeviceMem d_x0(sizes.floats * sizeof(float)), d_x1(sizes.floats * sizeof(float));
  DeviceTables d(tables, nt);
  DeviceMem d_partial(sizes.partials * sizeof(float));
  PinnedSlots pinned(std::max<size_t>(sizes.floats, 1) * sizeof(float), 2);
  float* h_x[2] = {reinterpret_cast<float*>(pinned.slot(0)), reinterpret_cast<float*>(pinned.slot(1))};
  Event copied[2];
  Stream stream;  // declared last: destroyed (after a synchronize) before the buffers it uses
  bool in_use[2] = {false, false};
  float* dx[2] = {d_x0.get<float>(), d_x1.get<float>()};
  upload_tables(tables, d, nt, stream.get());

  // Reading and converting on the host is the slow side: as many threads as cores (<= 16).
  const int readers = plan.threads > 0 ? plan.threads : static_cast<int>(std::min(16u, std::max(1u, std::thread::hardware_concurrency())));
  out.threads = readers;
  uint64_t done = 0;
  for (size_t k = 0; k < schedule.chunks.size(); ++k) {
    if (control.cancel && control.cancel->load()) throw Error(ErrorCode::Aborted, "edge encoding cancelled");
    const EdgeChunk& ch = schedule.chunks[k];
    const int buf = static_cast<int>(k & 1);
    // The pinned buffer is free once its previous upload has run.
    if (in_use[buf]) NP_CUDA_CHECK(cudaEventSynchronize(copied[buf].get()));
    read_edge_chunk_parallel(gplan, schedule, files, ch, h_x[buf], readers);
    const size_t floats = edge_chunk_floats(gplan, schedule, ch);
    NP_CUDA_CHECK(cudaMemcpyAsync(dx[buf], h_x[buf], floats * sizeof(float), cudaMemcpyHostToDevice, stream.get()));
    NP_CUDA_CHECK(cudaEventRecord(copied[buf].get(), stream.get()));
    in_use[buf] = true;
    compute_chunk(plan, schedule, ch, tables.first_pair[ch.tensor], dx[buf], d, d_partial.get<float>(), stream.get());
    done += ch.bytes;
    if (control.progress) control.progress(done, schedule.total_bytes);
  }
  NP_CUDA_CHECK(cudaMemcpyAsync(out.values.data(), d.totals.get<double>(), out.values.size() * sizeof(double),
                                cudaMemcpyDeviceToHost, stream.get()));
  NP_CUDA_CHECK(cudaStreamSynchronize(stream.get()));
  divide_by_matrix_size(plan, out.values);
  out.bytes = schedule.total_bytes;
  return out;
}

}  // namespace np
