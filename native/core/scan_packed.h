// Reading a GPTQ or AWQ member of a scan: a Linear weight [out, in] stored as integers packed
// into int32 words (4 or 8 bits each) with per-group scales and zero points, turned into the
// float32 values of the torch Linear weight in row-major [out, in] order, so it lines up
// element by element with an unquantized parent's `<prefix>.weight`.
//
//   GPTQ: qweight [in/pack, out], input i of column o in word qweight[i/pack][o] at bit
//         bits*(i%pack); qzeros [groups, ceil(out/pack)] packed the same way along out;
//         scales [groups, out]; group of input i = g_idx[i] (act order) or i / group_size.
//         Checkpoints in the original ("v1") format store zero - 1: zero_offset 1.
//   AWQ:  qweight [in, ceil(out/8)], packed along out in AWQ's order: output o sits in nibble
//         kAwqSlot[o % 8] of its word; qzeros [groups, ceil(out/8)] the same; scales
//         [groups, out]; group of input i = i / group_size. 4 bits only.
//   value = scale * (float(q) - float(zero + zero_offset)), in float32 (q - zero is a small
//   integer, exact in float32, so this is also scale * float(q - zero)); shared bit for bit
//   with lib/io/packed-quant-ref.ts.
//
// The scan works on runs of whole and partial rows of W (output features), which are columns
// of GPTQ's qweight: for each work item the columns it needs are read row by row (or in one
// read of the whole span when that wastes little) and unpacked into place.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/file_cache.h"
#include "core/scan_plan.h"

namespace np {

// The order AutoAWQ packs eight outputs into a word: output o % 8 = j sits in nibble kAwqSlot[j].
inline constexpr uint32_t kAwqSlot[8] = {0, 4, 1, 5, 2, 6, 3, 7};

// Per-thread buffers, grown to the largest request and reused.
struct PackedScratch {
  std::vector<unsigned char> span;  // a span read in one go before its columns are picked
  std::vector<uint32_t> words;      // the item's qweight words
  std::vector<uint32_t> zwords;     // the item's qzeros words
  std::vector<unsigned char> sraw;  // the item's scales as stored
  std::vector<float> scale, zero;   // per output row of the item, per group: [row][group]
  std::vector<float> row;           // one formed row
  std::vector<int32_t> gidx;        // group of each input (read or computed once per tensor)
  bool gidx_sequential = false;     // gidx[i] == i / group_size for every i (no act order)
  uint32_t gidx_file = UINT32_MAX;  // which tensor `gidx` belongs to
  uint64_t gidx_offset = 0, gidx_in = 0, gidx_group_size = 0;
};

// Checks a member's layout (bits, sizes, group count, the group's element count) before
// anything is read; E_INVALID_ARG naming the tensor.
void validate_packed_member(const ScanMember& m, uint64_t count, size_t files, const std::string& tensor);

// Writes elements [start, start + len) of member `m` (row-major [out, in]) to dst as float32
// (dst need not be aligned). A g_idx value outside 0..groups-1 is E_FORMAT naming the tensor.
void read_packed_range(const ScanMember& m, FileCache& files, uint64_t start, uint64_t len, unsigned char* dst,
                       PackedScratch& scratch, const std::string& tensor);

}  // namespace np
