// Forming a PEFT LoRA adapter model's tensor in the scan: W' = W + scale * (B A), where W is
// the base model's tensor (its member of the same group, already read for this work item), A
// is [rank, cols] and B [rows, rank]. Only the rows of the work item are formed, from B's rows
// and all of A: the full delta is never materialised and the base is not read a second time.
// Arithmetic (shared bit for bit with lib/io/tensor-data.ts): A, B and W elements become
// float32 as any scanned element, then float64; per element acc = sum over k in order of
// B[r][k] * A[k][c], value = float32(W + scale * acc). The multiply-adds run as a small
// register-tiled GEMM per item in the kernel set of the scan (scan_lora_impl.h, which says why
// its fused multiply-adds give the same bits).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/file_cache.h"
#include "core/scan_kernels.h"
#include "core/scan_plan.h"

namespace np {

struct LoraScratch {
  std::vector<unsigned char> raw;
  // A of each LoRA member of group `group` seen so far, as float64 packed in the kernels'
  // panels: converted once per group and thread, not once per item (a group's items come in
  // order, so a thread meets a group's items one after another).
  struct PackedA {
    uint32_t file;
    uint64_t offset;
    std::vector<double> panels;
  };
  std::vector<PackedA> a;
  uint32_t group = UINT32_MAX;
  std::vector<double> b;  // the item's rows of B, [rows, rank]
};

// Checks a LoRA member against its group: base index in range and not itself LoRA, cols
// dividing the group's elements. E_INVALID_ARG naming the tensor.
void validate_lora_member(const ScanGroup& g, const ScanMember& m, size_t files);

// Writes elements [start, start + len) of LoRA member `m` of group `group` to dst; `base`
// holds the base member's elements [start, start + len), widened to float32.
void form_lora_range(const ScanKernels& kern, uint32_t group, const ScanMember& m, FileCache& files, const float* base,
                     uint64_t start, uint64_t len, float* dst, LoraScratch& scratch);

}  // namespace np
