// What to scan, how, and what comes back. TypeScript (lib/scan/plan.ts) discovers the
// models, aligns their tensors and resolves fake-init schemes; the native side only streams
// bytes at given offsets and adds numbers up.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/dtype.h"
#include "core/gguf_quant.h"
#include "core/philox.h"

namespace np {

// A tensor stored in ggml blocks (GGUF), read whole rows at a time and dequantized to float32
// before the kernels see it; see core/scan_gguf.h.
struct GgufRows {
  const GgmlTypeInfo* type = nullptr;
  uint64_t row_elems = 0;  // elements per row (a whole number of blocks)
  uint64_t rows = 0;
  uint32_t perm_heads = 0;  // > 0: llama q/k rows interleaved per head by llama.cpp's converter
};

// A PEFT LoRA adapter's tensor, formed while scanning: base + scale * (B A), row by row, from
// the base model's member of the same group (already read) and the adapter's small A [rank,
// cols] and B [rows, rank]; see core/scan_lora.h.
struct LoraRows {
  uint32_t rank = 0;  // 0: not a LoRA member
  uint32_t base = 0;  // index of the base model's member in the group
  uint64_t cols = 0;  // elements per row of the weight (A's columns)
  double scale = 0;   // lora_alpha / r (or / sqrt(r) for rsLoRA)
  uint32_t a_file = 0, b_file = 0;
  uint64_t a_offset = 0, b_offset = 0;
  DType a_dtype = DType::F32, b_dtype = DType::F32;
};

// A GPTQ or AWQ Linear weight [out, in] packed into int32 words with per-group scales and
// zero points, unpacked while scanning; see core/scan_packed.h. The member's file and offset
// are its qweight's.
struct PackedRows {
  uint32_t bits = 0;          // 0: not a packed member; else 4 or 8
  bool awq = false;           // packed along out in AWQ's order; otherwise GPTQ (along in)
  uint32_t zero_offset = 0;   // added to every stored zero (1 for GPTQ's original format)
  uint64_t in = 0, out = 0;   // the weight's shape is [out, in]
  uint64_t groups = 0;        // rows of scales and qzeros
  uint64_t group_size = 0;    // group of input i is i / group_size when there is no g_idx
  uint32_t zeros_file = 0, scales_file = 0, gidx_file = 0;
  uint64_t zeros_offset = 0, scales_offset = 0, gidx_offset = 0;
  bool has_gidx = false;
  DType scales_dtype = DType::F16;
  uint32_t pack() const { return 32 / bits; }
  // int32 words per row of qweight (GPTQ: out; AWQ: ceil(out / pack)) and per row of qzeros.
  uint64_t zero_words() const { return (out + pack() - 1) / pack(); }
  uint64_t weight_words() const { return awq ? zero_words() : out; }
  uint64_t weight_rows() const { return awq ? in : in / pack(); }
};

struct ScanMember {
  uint32_t file;    // index into ScanPlan::files
  uint64_t offset;  // absolute byte offset of the tensor's first element in that file
  DType dtype;      // what the kernels read: F32 for GGUF, LoRA and packed members (formed first)
  GgufRows gguf;    // gguf.type set: read through dequantization
  LoraRows lora;    // lora.rank set: formed from the base member and the adapter's A and B
  PackedRows packed;  // packed.bits set: GPTQ/AWQ words unpacked with their scales and zeros
  bool dequantized() const { return gguf.type != nullptr; }
  bool is_lora() const { return lora.rank != 0; }
  bool is_packed() const { return packed.bits != 0; }
  // Read in place as stored (no dequantizing or forming): members reading the same bytes
  // can share one buffer.
  bool plain() const { return !dequantized() && !is_lora() && !is_packed(); }
  // Bytes of the file per element (fractional for block types; for work sizes and progress).
  double file_bytes_per_elem() const {
    if (is_lora()) return 0;  // its bytes are the base's, read once for the base member
    if (is_packed()) return static_cast<double>(packed.bits) / 8;  // qweight; scales and zeros are small
    return dequantized() ? static_cast<double>(gguf.type->block_bytes) / gguf.type->block_elems : dtype_size(dtype);
  }
};

// One aligned tensor: the first `count` elements (row-major) of each member are compared.
struct ScanGroup {
  std::string name;
  uint64_t count = 0;
  FakeInitParams fake{FakeInitKind::Constant, 0.0, 0.0, 0u, 0u};
  std::vector<ScanMember> members;
};

// The earlier member of g whose bytes member m reads too (a PEFT adapter's unchanged tensor
// is its base's: both plain, same file, offset and dtype), or SIZE_MAX. Every scan driver
// reads such bytes once and lets the members share them.
size_t same_bytes_as(const ScanGroup& g, size_t m);

// File bytes one element of g costs to read, over all members (shared bytes counted once);
// what progress and ScanOutput::bytes count. The drivers give an item of len elements
// round(len * this) bytes, so they agree on totals however they cut items.
double group_file_bytes_per_elem(const ScanGroup& g);

enum class ScanMode : int {
  Full = 0,     // moments, Gram and fake-init distance
  ReadSum = 1,  // the memory-bandwidth reference: read the same bytes, sum them (kSum only)
};

struct ScanPlan {
  std::vector<std::string> files;
  std::vector<ScanGroup> groups;
  int threads = 0;                   // 0: hardware concurrency
  size_t chunk_bytes = 2u << 20;     // bytes read per work item (all members together): small
                                     // enough to stay in cache between pread and compute
  Isa isa = Isa::Scalar;             // kernel set (callers pass best_isa() by default)
  ScanMode mode = ScanMode::Full;
};

// Output per group g with k members, at values[offsets[g]]:
//   k x kNumStats statistics (member-major), then the full symmetric k x k Gram matrix.
struct ScanOutput {
  std::vector<double> values;
  std::vector<uint64_t> offsets;
  Isa isa = Isa::Scalar;
  int threads = 1;
  uint64_t bytes = 0;  // model bytes read
};

inline uint64_t group_output_size(size_t k) { return static_cast<uint64_t>(k) * 5 + static_cast<uint64_t>(k) * k; }

// The checks every scan driver (CPU, CUDA) makes before it reads anything: each group has
// members, each member names a file of the plan, the chunk size is positive. E_INVALID_ARG.
void validate_scan_plan(const ScanPlan& plan);

// Lays out the output of `plan`: offsets per group (the format above) and zeroed values.
void init_scan_output(const ScanPlan& plan, ScanOutput& out);

// The drivers add up the upper triangle of each Gram matrix only (it is symmetric); this
// fills the lower triangle from it.
void mirror_gram(const ScanPlan& plan, ScanOutput& out);

struct ScanControl {
  // Called from worker threads after each work item, with the bytes done and the total.
  std::function<void(uint64_t done, uint64_t total)> progress;
  // Set to true to cancel; checked before and after each work item.
  const std::atomic<bool>* cancel = nullptr;
};

}  // namespace np
