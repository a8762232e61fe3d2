// Fingerprint reads: a fixed sample of rows of each tensor, read with one positional read per
// run of nearby sampled rows instead of the whole file. Each row contributes the values of its
// kept columns (one list shared by every row, or a list per row), the exact moments of every
// element read, and Σ(x − r)² over the kept values against the tensor's fake initialization.
// lib/hub decides which rows and columns (the same for every model with that tensor name and
// shape); this file only reads and sums, so the TypeScript reference (lib/hub/reference.ts)
// can hold it to the same numbers.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/philox.h"

namespace np {

// How a tensor's rows lie in its file. Every format the scan reads today stores a tensor as
// dense row-major elements from one offset (safetensors, PyTorch zip checkpoints), so one
// reader serves them; a block-quantized layout (GGUF) adds a kind and a reader in
// fingerprint.cc that dequantizes whole rows.
enum class RowLayout : int { Dense = 0 };

struct FingerprintTensor {
  int file = 0;               // index into FingerprintPlan::files
  uint64_t offset = 0;        // absolute byte offset of element 0
  DType dtype = DType::F32;
  RowLayout layout = RowLayout::Dense;
  uint64_t total_rows = 0;    // rows the tensor has (for validation)
  uint64_t row_len = 0;       // elements per row
  std::vector<uint64_t> rows; // strictly ascending, < total_rows
  // The kept columns, each list strictly ascending and < row_len: one list for every row
  // (cols_per_row false), or rows.size() lists of equal length, row-major (cols_per_row true).
  std::vector<uint64_t> cols;
  bool cols_per_row = false;
  // The fake initialization r of Σ(x − r)² (element index r·row_len + c); without it the sum is 0.
  bool has_fake = false;
  FakeInitParams fake{};
};

struct FingerprintPlan {
  std::vector<std::string> files;
  std::vector<FingerprintTensor> tensors;
  // Sampled rows closer than this many bytes are read in one call (the gap is read and dropped).
  uint64_t coalesce_bytes = 64 * 1024;
  // Tensors read at once (0: a default). Reads of different tensors overlap, which is what a
  // cold file needs (many small random reads in flight), and their arithmetic shares the cores.
  int threads = 0;
};

struct FingerprintOutput {
  // Per tensor, rows.size() × (columns per row) kept values (row-major), tensors concatenated.
  std::vector<float> values;
  // Per tensor: sum, Σx², Σx³, Σx⁴ over every element of the sampled rows, float64 over the
  // float32-converted elements in a fixed order (row_moments in fingerprint.cc), the same
  // whatever the threads or the instruction set.
  std::vector<double> moments;
  // Per tensor: Σ(x − r)² over its kept values in output order (float64; 0 without has_fake).
  std::vector<double> fake_sq;
  // Per tensor: Σ(x − r)² over every element, in row order (float64), when every row of the
  // tensor is sampled and has_fake: its rows are then in hand whole, so the tensor's value is
  // exact at the cost of the fake init of the elements read. NaN otherwise.
  std::vector<double> fake_whole_sq;
  uint64_t bytes_read = 0;
  uint64_t reads = 0;
  int threads = 1;
  double seconds = 0;
};

// Σx, Σx², Σx³, Σx⁴ of n float32 values, in the order every reader of fingerprints uses:
// element e is added to lane e mod 8 (float64 lanes, each in element order), and the lanes are
// combined as ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)). Exported for tests.
void row_moments(const float* x, uint64_t n, double out[4]);

// Validates the whole plan against the files' sizes before allocating anything, then reads.
FingerprintOutput read_fingerprint(const FingerprintPlan& plan);

}  // namespace np
