// Fingerprint reads: a fixed sample of rows of each tensor, read with one positional read per
// run of nearby sampled rows instead of the whole file. Each row contributes the values of its
// kept columns (one list shared by every row, or a list per row), and the exact moments of
// every element read. lib/hub decides
// which rows and columns (the same for every model with that tensor name and shape); this
// file only reads and converts, so the TypeScript reference (lib/hub/reference.ts) can hold
// it to the same numbers.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"

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
};

struct FingerprintPlan {
  std::vector<std::string> files;
  std::vector<FingerprintTensor> tensors;
  // Sampled rows closer than this many bytes are read in one call (the gap is read and dropped).
  uint64_t coalesce_bytes = 64 * 1024;
};

struct FingerprintOutput {
  // Per tensor, rows.size() × (columns per row) kept values (row-major), tensors concatenated.
  std::vector<float> values;
  // Per tensor: sum, Σx², Σx³, Σx⁴ over every element of the sampled rows (float64 over the
  // float32-converted elements, in element order).
  std::vector<double> moments;
  uint64_t bytes_read = 0;
  uint64_t reads = 0;
  double seconds = 0;
};

// Validates the whole plan against the files' sizes before allocating anything, then reads.
FingerprintOutput read_fingerprint(const FingerprintPlan& plan);

}  // namespace np
