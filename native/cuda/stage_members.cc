#include "cuda/stage_members.h"

#include <algorithm>

namespace np {
namespace cuda_scan {
namespace {

// Per member of g: the LoRA members formed from it. An adapter's base is keyed by the member
// that owns the base's bytes (the base itself, or an earlier member reading the same bytes),
// since only owners get pieces.
std::vector<std::vector<uint32_t>> adapters_of(const ScanGroup& g) {
  std::vector<std::vector<uint32_t>> by_base(g.members.size());
  for (size_t m = 0; m < g.members.size(); ++m) {
    const ScanMember& mem = g.members[m];
    if (!mem.is_lora()) continue;
    const size_t same = same_bytes_as(g, mem.lora.base);
    by_base[same == SIZE_MAX ? mem.lora.base : same].push_back(static_cast<uint32_t>(m));
  }
  return by_base;
}

}  // namespace

std::vector<StagePiece> stage_pieces(const ScanPlan& plan, const WorkPlan& work, uint64_t piece_bytes) {
  std::vector<std::vector<std::vector<uint32_t>>> adapters;
  for (const ScanGroup& g : plan.groups) adapters.push_back(adapters_of(g));
  std::vector<StagePiece> pieces;
  for (size_t b = 0; b < work.batches.size(); ++b) {
    for (size_t i = work.batches[b].first; i < work.batches[b].end; ++i) {
      const Item& it = work.items[i];
      const ScanGroup& g = plan.groups[it.group];
      for (size_t e = 0; e < it.expand.size(); ++e) {
        StagePiece p;
        p.batch = b;
        p.item = i;
        p.member = it.expand[e].member;
        p.len = it.len;
        p.expand = static_cast<int32_t>(e);
        pieces.push_back(p);
      }
      for (size_t m = 0; m < g.members.size(); ++m) {
        if (g.members[m].is_lora() || same_bytes_as(g, m) != SIZE_MAX) continue;
        bool expanded = false;
        for (const Item::Expand& e : it.expand) expanded = expanded || e.member == m;
        if (expanded) continue;
        // Staged bytes per element of this piece: the member's own and its adapters' floats.
        const uint64_t per_elem = dtype_size(g.members[m].dtype) + 4 * adapters[it.group][m].size();
        const uint64_t run = std::max<uint64_t>(64, piece_bytes / per_elem / 64 * 64);
        for (uint64_t first = 0; first < it.len; first += run) {
          StagePiece p;
          p.batch = b;
          p.item = i;
          p.member = static_cast<uint32_t>(m);
          p.first = first;
          p.len = std::min(run, it.len - first);
          pieces.push_back(p);
        }
      }
    }
  }
  return pieces;
}

MemberStager::MemberStager(const ScanPlan& plan, const WorkPlan& work, const ScanKernels& kern)
    : plan_(plan), work_(work), kern_(kern) {
  for (const ScanGroup& g : plan.groups) adapters_.push_back(adapters_of(g));
}

void MemberStager::stage(const StagePiece& p, unsigned char* stage, FileCache& files, Scratch& s) const {
  const Item& it = work_.items[p.item];
  const ScanGroup& g = plan_.groups[it.group];
  const ScanMember& m = g.members[p.member];
  if (p.expand >= 0) {
    const Item::Expand& e = it.expand[static_cast<size_t>(p.expand)];
    files.get(m.file)->read_at(m.offset + e.first_row * gguf_row_bytes(m.gguf), stage + e.raw_offset,
                               static_cast<size_t>(e.raw_bytes));
    return;
  }
  const uint64_t start = it.start + p.first;
  const size_t es = dtype_size(m.dtype);  // float32 for dequantized and unpacked members
  unsigned char* dst = stage + it.member_offset[p.member] + p.first * es;
  if (m.dequantized()) {
    read_gguf_range(m, *files.get(m.file), start, p.len, dst, s.gguf);
  } else if (m.is_packed()) {
    read_packed_range(m, files, start, p.len, dst, s.packed, g.name);
  } else {
    files.get(m.file)->read_at(m.offset + start * es, dst, static_cast<size_t>(p.len * es));
  }
  const std::vector<uint32_t>& adapters = adapters_[it.group][p.member];
  if (adapters.empty()) return;
  // The adapters are formed from the base's float32 values, as on the CPU (which widens the
  // whole group): the staged values themselves when they are float32, else widened here.
  const float* base = reinterpret_cast<const float*>(dst);
  if (m.dtype != DType::F32) {
    s.base.resize(p.len);
    kern_.to_f32(m.dtype, dst, s.base.data(), p.len);
    base = s.base.data();
  }
  for (uint32_t a : adapters) {
    float* out = reinterpret_cast<float*>(stage + it.member_offset[a] + p.first * sizeof(float));
    form_lora_range(kern_, it.group, g.members[a], files, base, start, p.len, out, s.lora);
  }
}

}  // namespace cuda_scan
}  // namespace np
