// The edge encoder's plan (what lib/learned/native-encoder.ts sends: files, tensors as
// matrices with one source per model slot, pairs, folded weights), its output, and the code
// both drivers (CPU: edge_encoder_cpu.cc, CUDA: native/cuda/edge_encoder.cu) use to check it,
// cut it into row chunks and read those chunks as float.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/dtype.h"
#include "core/edge_encoder_kernels.h"
#include "core/file_reader.h"
#include "core/scan_plan.h"

namespace np {

struct EdgeEncoderWeights {
  int channels = 0;         // c
  std::vector<float> w1;    // [2][c] (tfjs HWIO order): input channel 0 is W_a, 1 is W_b
  std::vector<float> b1;    // [c]
  std::vector<float> w2;    // [3][3][c][32] (tfjs HWIO order)
  std::vector<float> b2;    // [32]
};

struct EdgeSource {
  uint32_t file = 0;
  uint64_t offset = 0;  // absolute byte offset of the tensor's first element
  DType dtype = DType::F32;
};

struct EdgeTensor {
  std::string name;
  uint64_t rows = 0, cols = 0;
  std::vector<EdgeSource> sources;  // one per model slot; pairs index into it
};

struct EdgePair {
  uint32_t tensor = 0;
  uint32_t a = 0, b = 0;  // slots in EdgeTensor::sources
  float scale = 1.0f;     // the inputs are divided by it (lib/learned chooses it from the scan)
};

struct EdgePlan {
  std::vector<std::string> files;
  std::vector<EdgeTensor> tensors;
  std::vector<EdgePair> pairs;
  EdgeEncoderWeights weights;
  int threads = 0;                  // 0: all cores
  uint64_t chunk_elems = 1u << 18;  // elements per model per work item (whole rows, at least one)
  // The CUDA driver's chunks: larger, so that a launch fills the GPU and the per-chunk costs
  // (a launch, a reduction) stay small next to the arithmetic.
  uint64_t cuda_chunk_elems = 1u << 22;
  int cuda_device = 0;  // which GPU (use_cuda_device, as the scan picks it)
  Isa isa = Isa::Scalar;
};

struct EdgeOutput {
  std::vector<double> values;  // [pairs][32]
  Isa isa = Isa::Scalar;
  int threads = 1;
  uint64_t bytes = 0;          // model bytes read (halo rows included)
  std::string backend = "cpu";  // "cpu" or "cuda"
  std::string device = "cpu";   // the device's name: "cpu", or the GPU's (e.g. "NVIDIA H100 80GB HBM3")
};

// Checks shapes, slots and weights; throws E_INVALID_ARG naming the tensor.
void validate_edge_plan(const EdgePlan& plan);

// The work of a plan, shared by the CPU and CUDA drivers: runs of whole rows of one tensor
// (each read once for every pair that shares the tensor), in the order their sums are added.
struct EdgeChunk {
  uint32_t tensor;
  uint64_t row0, rows;
  uint64_t bytes;  // bytes read for it, all models together (halo rows included)
};

struct EdgeSchedule {
  std::vector<EdgeChunk> chunks;
  std::vector<std::vector<uint32_t>> pairs;  // per tensor: indices into plan.pairs
  std::vector<std::vector<uint32_t>> slots;  // per tensor: source slots some pair uses, ascending
  uint64_t total_bytes = 0;
};

EdgeSchedule schedule_edge_plan(const EdgePlan& plan);

// Opens every file a pair needs (null for the others) and checks each tensor fits its file.
std::vector<std::unique_ptr<FileReader>> open_edge_files(const EdgePlan& plan, const EdgeSchedule& schedule);

// Reads a chunk's rows (with the halo) of every used slot as float into
// x[slots][chunk.rows + 2][cols]; buffer row r is matrix row row0 - 1 + r, zero outside.
void read_edge_chunk(const EdgePlan& plan, const EdgeSchedule& schedule, const std::vector<std::unique_ptr<FileReader>>& files,
                     const EdgeChunk& chunk, std::vector<unsigned char>& raw, std::vector<float>& x);
// The same into caller memory (e.g. pinned for a GPU copy) of edge_chunk_floats(...) floats.
size_t edge_chunk_floats(const EdgePlan& plan, const EdgeSchedule& schedule, const EdgeChunk& chunk);
void read_edge_chunk_to(const EdgePlan& plan, const EdgeSchedule& schedule, const std::vector<std::unique_ptr<FileReader>>& files,
                        const EdgeChunk& chunk, std::vector<unsigned char>& raw, float* x);
// read_edge_chunk_to on `threads` threads (pieces of about 2^20 elements of one slot): for a
// GPU, whose chunks are large and which computes faster than one thread reads and converts.
void read_edge_chunk_parallel(const EdgePlan& plan, const EdgeSchedule& schedule,
                              const std::vector<std::unique_ptr<FileReader>>& files, const EdgeChunk& chunk, float* x,
                              int threads);

}  // namespace np
