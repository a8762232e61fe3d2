// How the CUDA scan cuts a ScanPlan into work: passes (which member rows and which 8x8 Gram
// tiles one kernel launch computes), items (a run of elements of one group, like the CPU's
// work items) and batches (consecutive items staged together in one pinned buffer and copied
// with one cudaMemcpyAsync). Plain C++: no CUDA types, so it is easy to read and to check.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/scan_plan.h"

namespace np {
namespace cuda_scan {

constexpr size_t kPassRows = 64;   // rows one launch handles (scan_pass_kernel.cuh: kMaxRows)
constexpr size_t kPanelRows = 32;  // larger groups are cut into panels of 32 members
constexpr uint64_t kItemAlign = 4096;  // items start at multiples of this many elements (tile size)
constexpr uint64_t kRegionAlign = 256;  // bytes: each member's staged data starts aligned

// One kernel launch's share of a group with k members.
struct PassPlan {
  std::vector<uint32_t> rows;         // member index of each pass row (at most 64)
  int moment_rows = 0;                // rows [0, moment_rows) also get the five moments
  std::vector<uint8_t> pair_a, pair_b;  // 8x8 Gram tiles (in units of 8 pass rows), ta <= tb
  int rows_log2 = 0;                  // padded rows: 1 (log2 0) for one row, else 8..64
  int stride = 0;                     // values per block partial: moment_rows * 5 + pairs * 64
  // Per partial value: where it adds into the group's output block (k x 5 stats, then k x k
  // Gram), or -1 for values the output takes from elsewhere (diagonal, lower triangle).
  std::vector<int32_t> dst;
};

// Which kernels the passes are shaped for.
enum class PassKernels {
  // The register-resident kernels: one triangle pass for k <= 32 (scan_warp_kernel); else
  // panels of 32 members, a triangle pass per panel and a cross pass per panel pair i < j
  // (scan_cross_kernel). A one-member panel's pass runs on the tile kernel.
  Register,
  // The shared-memory tile kernel alone (scan_pass_kernel): one pass for k <= 64, else the
  // panels above. What the scan ran before the register kernels; the benchmarks' baseline.
  Tile,
};

// The passes that cover every moment and every Gram entry a < b of a k-member group exactly
// once: one pass for small groups (k <= 32, or 64 for the tile kernel); else panels of 32
// members, one pass per panel pair (i <= j).
std::vector<PassPlan> plan_passes(size_t k, PassKernels kernels = PassKernels::Register);

// A run of `len` elements of one group from element `start`.
struct Item {
  uint32_t group = 0;
  uint64_t start = 0, len = 0;
  uint64_t model_bytes = 0;             // bytes read from the files (as the CPU scan counts them)
  uint64_t stage_offset = 0;            // byte offset of the item in its batch's staging buffer
  // Byte offset of each member's data in the staging buffer, in the member's dtype (float32
  // for GGUF, GPTQ/AWQ and LoRA members: formed on the host, see stage_members.h). A member
  // reading the same bytes as an earlier one (same_bytes_as) shares that member's region.
  std::vector<uint64_t> member_offset;
  // Q8_0 members expanded on the device (expands_on_device): their raw GGUF rows are staged
  // and copied at raw_offset; member_offset is then a float32 region in the batch's tail that
  // only the device writes (gguf_expand_kernel).
  struct Expand {
    uint32_t member = 0;
    uint64_t raw_offset = 0, first_row = 0, raw_bytes = 0;
  };
  std::vector<Expand> expand;
};

struct Batch {
  size_t first = 0, end = 0;  // items [first, end)
  uint64_t copy_bytes = 0;    // the prefix read on the host and copied to the device
  uint64_t stage_bytes = 0;   // copy_bytes plus the float32 tail of device-expanded members
  uint64_t model_bytes = 0;
};

struct WorkPlan {
  std::vector<Item> items;
  std::vector<Batch> batches;
  uint64_t slot_bytes = 0;    // the largest batch: the size of each staging buffer
  uint64_t total_bytes = 0;   // model bytes of all items
};

// Bytes one member's `len` elements take in a staging area: whole 8-element vectors (the
// kernel reads 8 at a time), rounded up to kRegionAlign.
uint64_t region_bytes(uint64_t len, DType t);

// Whether member m of g is dequantized on the device when the scan allows it: a GGUF Q8_0
// member that no LoRA adapter of g is formed from (those need its values on the host).
bool expands_on_device(const ScanGroup& g, size_t m);

// Items of about `stage_bytes` (all members together, counted in their staged dtypes whether
// or not they share bytes; at least kItemAlign elements), packed in order into batches of at
// most max(stage_bytes, largest item) staged bytes (device-expanded members count their raw
// rows and their float32 region). `device_q8`: expand Q8_0 members on the device.
WorkPlan plan_work(const ScanPlan& plan, uint64_t stage_bytes, bool device_q8 = false);

// Device-resident layout: for each group, for each member, where its whole tensor lives in
// one device buffer (members sharing bytes share the place); returns the buffer's size.
uint64_t plan_resident(const ScanPlan& plan, std::vector<std::vector<uint64_t>>* offsets);

}  // namespace cuda_scan
}  // namespace np
