// What the CUDA scan's reader threads put into a staging buffer, and how. The kernels read
// four dense dtypes (F32, F16, BF16, F64), so members stored any other way are made dense on
// the host, into the staging buffer as float32, with the CPU scan's own code (so the values
// are bit for bit the CPU scan's):
//   GGUF block types   read_gguf_range (core/scan_gguf.h: dequantized, llama q/k rows restored)
//   GPTQ/AWQ packed    read_packed_range (core/scan_packed.h: unpacked with scales and zeros)
//   PEFT LoRA          form_lora_range (core/scan_lora.h): base + scale * (B A), from the
//                      base member's values staged in the same piece, so the base is read once
// Plain members are pread as stored, and so are the raw rows of Q8_0 members the device
// expands (WorkPlan, Item::expand). A piece is one reader task: a run of one member's
// elements of one item (plus, for a LoRA base, the same run of each adapter formed from it).
// No CUDA here: the buffers are plain pointers.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/file_cache.h"
#include "core/scan_gguf.h"
#include "core/scan_kernels.h"
#include "core/scan_lora.h"
#include "core/scan_packed.h"
#include "core/scan_plan.h"
#include "cuda/scan_cuda_plan.h"

namespace np {
namespace cuda_scan {

struct StagePiece {
  size_t batch = 0;
  size_t item = 0;       // index into WorkPlan::items
  uint32_t member = 0;   // member of the item's group whose region this fills
  uint64_t first = 0;    // elements [first, first + len) of the item
  uint64_t len = 0;
  int32_t expand = -1;   // >= 0: Item::expand[expand]'s raw GGUF rows, read as stored
};

// The pieces of every batch, in batch order: each member region an item owns (members sharing
// bytes own none, LoRA members are formed with their base's pieces) cut into runs of about
// `piece_bytes` staged bytes (several threads share a large member; multiples of 64 elements).
std::vector<StagePiece> stage_pieces(const ScanPlan& plan, const WorkPlan& work, uint64_t piece_bytes);

class MemberStager {
 public:
  // Per reader thread, grown to the largest piece and reused.
  struct Scratch {
    GgufScratch gguf;
    PackedScratch packed;
    LoraScratch lora;
    std::vector<float> base;  // a LoRA base's values widened to float32
  };

  // `kern` forms LoRA rows and widens bases (any kernel set gives the same bits).
  MemberStager(const ScanPlan& plan, const WorkPlan& work, const ScanKernels& kern);

  // Fills piece p into `stage`, the staging buffer of its batch. Errors as the CPU scan's
  // (E_IO naming the file, E_FORMAT for a bad g_idx).
  void stage(const StagePiece& p, unsigned char* stage, FileCache& files, Scratch& s) const;

 private:
  const ScanPlan& plan_;
  const WorkPlan& work_;
  const ScanKernels& kern_;
  // Per group, per member: the LoRA members formed from it (keyed by the member that owns the
  // base's bytes).
  std::vector<std::vector<std::vector<uint32_t>>> adapters_;
};

}  // namespace cuda_scan
}  // namespace np
