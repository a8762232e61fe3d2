// Forming a PEFT LoRA adapter model's tensor in the scan: W' = W + scale * (B A), where W is
// the base model's tensor (its member of the same group, already read for this work item), A
// is [rank, cols] and B [rows, rank]. Only the rows of the work item are formed, from B's rows
// and all of A: the full delta is never materialised and the base is not read a second time.
// Arithmetic (shared bit for bit with lib/io/tensor-data.ts): A, B and W elements become
// float32 as any scanned element, then float64; per element acc = sum over k in order of
// B[r][k] * A[k][c] (no fused multiply-add), value = float32(W + scale * acc).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/file_cache.h"
#include "core/scan_plan.h"

namespace np {

struct LoraScratch {
  std::vector<unsigned char> raw;
  std::vector<double> a;   // A as float64, [rank, cols]
  std::vector<double> b;   // the item's rows of B, [rows, rank]
  std::vector<double> acc;  // one row's products
  std::vector<float> out;   // one row's formed values
  uint32_t a_file = UINT32_MAX;  // which A is in `a` (reused across items of a group)
  uint64_t a_offset = 0;
};

// Checks a LoRA member against its group: base index in range and not itself LoRA, cols
// dividing the group's elements. E_INVALID_ARG naming the tensor.
void validate_lora_member(const ScanGroup& g, const ScanMember& m, size_t files);

// Writes elements [start, start + len) of LoRA member `m` to dst as float32; `base` points at
// the base member's elements [start, start + len) in dtype `base_dtype`.
void form_lora_range(const ScanMember& m, FileCache& files, const unsigned char* base, DType base_dtype, uint64_t start,
                     uint64_t len, unsigned char* dst, LoraScratch& scratch);

}  // namespace np
