#include "cuda/scan_cuda_plan.h"

#include <algorithm>
#include <string>

#include "core/error.h"
#include "core/scan_gguf.h"
#include "core/scan_kernels.h"

namespace np {
namespace cuda_scan {
namespace {

int ceil_log2(size_t v) {
  int l = 0;
  while ((size_t{1} << l) < v) ++l;
  return l;
}

// Padded row count of a pass: one row needs no Gram tile; otherwise whole 8x8 tiles.
int rows_log2_for(size_t rows) { return rows <= 1 ? 0 : std::max(3, ceil_log2(rows)); }

void finish_pass(PassPlan& p, size_t k) {
  const size_t pairs = p.pair_a.size();
  p.rows_log2 = rows_log2_for(p.rows.size());
  p.stride = p.moment_rows * kNumStats + static_cast<int>(pairs) * 64;
  p.dst.assign(static_cast<size_t>(p.stride), -1);
  for (int r = 0; r < p.moment_rows; ++r)
    for (int s = 0; s < kNumStats; ++s) p.dst[static_cast<size_t>(r * kNumStats + s)] = static_cast<int32_t>(p.rows[r] * kNumStats + s);
  const size_t base = static_cast<size_t>(p.moment_rows) * kNumStats;
  for (size_t q = 0; q < pairs; ++q) {
    for (size_t e = 0; e < 64; ++e) {
      const size_t ra = size_t{p.pair_a[q]} * 8 + e / 8, rb = size_t{p.pair_b[q]} * 8 + e % 8;
      if (ra >= p.rows.size() || rb >= p.rows.size()) continue;
      const size_t a = p.rows[ra], b = p.rows[rb];
      // The diagonal comes from sumSq and the lower triangle is mirrored, as on the CPU.
      if (a < b) p.dst[base + q * 64 + e] = static_cast<int32_t>(k * kNumStats + a * k + b);
    }
  }
}

// Upper-triangle tile pairs among the first `rows` rows (tiles of 8).
void add_triangle(PassPlan& p, size_t rows) {
  if (rows <= 1) return;
  const size_t t = (rows + 7) / 8;
  for (size_t a = 0; a < t; ++a)
    for (size_t b = a; b < t; ++b) {
      p.pair_a.push_back(static_cast<uint8_t>(a));
      p.pair_b.push_back(static_cast<uint8_t>(b));
    }
}

}  // namespace

std::vector<PassPlan> plan_passes(size_t k, PassKernels kernels) {
  if (k == 0) throw Error(ErrorCode::InvalidArgument, "cuda scan: a group has no members");
  if (k > 40000) throw Error(ErrorCode::InvalidArgument, "cuda scan: more than 40000 models in one tensor group");
  std::vector<PassPlan> passes;
  if (k <= (kernels == PassKernels::Tile ? kPassRows : kPanelRows)) {
    PassPlan p;
    for (size_t m = 0; m < k; ++m) p.rows.push_back(static_cast<uint32_t>(m));
    p.moment_rows = static_cast<int>(k);
    add_triangle(p, k);
    finish_pass(p, k);
    passes.push_back(std::move(p));
    return passes;
  }
  const size_t panels = (k + kPanelRows - 1) / kPanelRows;
  auto panel_size = [&](size_t i) { return std::min(kPanelRows, k - i * kPanelRows); };
  for (size_t i = 0; i < panels; ++i) {
    for (size_t j = i; j < panels; ++j) {
      PassPlan p;
      for (size_t m = 0; m < panel_size(i); ++m) p.rows.push_back(static_cast<uint32_t>(i * kPanelRows + m));
      if (i == j) {
        p.moment_rows = static_cast<int>(panel_size(i));
        add_triangle(p, panel_size(i));
      } else {
        // Panel i (never the last, so exactly 32 rows = tiles 0..3) against panel j.
        for (size_t m = 0; m < panel_size(j); ++m) p.rows.push_back(static_cast<uint32_t>(j * kPanelRows + m));
        const size_t tj = (panel_size(j) + 7) / 8;
        for (size_t a = 0; a < kPanelRows / 8; ++a)
          for (size_t b = 0; b < tj; ++b) {
            p.pair_a.push_back(static_cast<uint8_t>(a));
            p.pair_b.push_back(static_cast<uint8_t>(kPanelRows / 8 + b));
          }
      }
      finish_pass(p, k);
      passes.push_back(std::move(p));
    }
  }
  return passes;
}

uint64_t region_bytes(uint64_t len, DType t) {
  const uint64_t vec = (len + 7) / 8 * 8;
  return (vec * dtype_size(t) + kRegionAlign - 1) / kRegionAlign * kRegionAlign;
}

bool expands_on_device(const ScanGroup& g, size_t m) {
  const ScanMember& mem = g.members[m];
  if (!mem.dequantized() || std::string(mem.gguf.type->name) != "Q8_0") return false;
  for (const ScanMember& o : g.members)
    if (o.is_lora() && o.lora.base == m) return false;
  return true;
}

WorkPlan plan_work(const ScanPlan& plan, uint64_t stage_bytes, bool device_q8) {
  WorkPlan w;
  for (uint32_t g = 0; g < plan.groups.size(); ++g) {
    const ScanGroup& group = plan.groups[g];
    // Items are sized by every member's staged bytes, shared or not: so a plan and the same
    // plan with shared bytes written out twice (or formed members written out as float32)
    // cut the same items and sum in the same order.
    uint64_t bytes_per_elem = 0;
    for (const ScanMember& m : group.members) bytes_per_elem += dtype_size(m.dtype);
    const double file_bytes_per_elem = group_file_bytes_per_elem(group);
    uint64_t chunk = stage_bytes / bytes_per_elem / kItemAlign * kItemAlign;
    if (chunk == 0) chunk = kItemAlign;
    for (uint64_t s = 0; s < group.count; s += chunk) {
      Item it;
      it.group = g;
      it.start = s;
      it.len = std::min<uint64_t>(chunk, group.count - s);
      it.model_bytes = static_cast<uint64_t>(static_cast<double>(it.len) * file_bytes_per_elem + 0.5);
      w.total_bytes += it.model_bytes;
      w.items.push_back(std::move(it));
    }
  }
  // Per group, the members expanded on the device.
  std::vector<std::vector<bool>> expanded(plan.groups.size());
  for (size_t g = 0; g < plan.groups.size(); ++g)
    for (size_t m = 0; m < plan.groups[g].members.size(); ++m)
      expanded[g].push_back(device_q8 && expands_on_device(plan.groups[g], m));
  // Raw GGUF rows an item needs of an expanded member.
  auto raw_rows = [&](const Item& it, size_t m, uint64_t* first_row) {
    const GgufRows& r = plan.groups[it.group].members[m].gguf;
    uint64_t lo, hi;
    gguf_row_span(r, it.start, it.len, &lo, &hi);
    *first_row = lo;
    return (hi - lo + 1) * gguf_row_bytes(r);
  };
  auto round_up = [](uint64_t b) { return (b + kRegionAlign - 1) / kRegionAlign * kRegionAlign; };
  auto stage_of = [&](const Item& it) {
    const ScanGroup& group = plan.groups[it.group];
    uint64_t b = 0, first_row;
    for (size_t m = 0; m < group.members.size(); ++m) {
      if (same_bytes_as(group, m) != SIZE_MAX) continue;
      b += region_bytes(it.len, group.members[m].dtype);
      if (expanded[it.group][m]) b += round_up(raw_rows(it, m, &first_row));
    }
    return b;
  };
  w.slot_bytes = stage_bytes;
  for (const Item& it : w.items) w.slot_bytes = std::max(w.slot_bytes, stage_of(it));
  for (size_t i = 0; i < w.items.size(); ++i) {
    const uint64_t need = stage_of(w.items[i]);
    if (w.batches.empty() || w.batches.back().stage_bytes + need > w.slot_bytes) {
      Batch b;
      b.first = b.end = i;
      w.batches.push_back(b);
    }
    Batch& b = w.batches.back();
    b.stage_bytes += need;
    b.model_bytes += w.items[i].model_bytes;
    b.end = i + 1;
  }
  // Each batch: the regions the host fills, item after item (copy_bytes of them), then the
  // float32 regions of device-expanded members, which are never copied.
  for (Batch& b : w.batches) {
    uint64_t off = 0;
    for (size_t i = b.first; i < b.end; ++i) {
      Item& it = w.items[i];
      const ScanGroup& group = plan.groups[it.group];
      it.stage_offset = off;
      it.member_offset.assign(group.members.size(), 0);
      for (size_t m = 0; m < group.members.size(); ++m) {
        const size_t same = same_bytes_as(group, m);
        if (same != SIZE_MAX) {
          it.member_offset[m] = it.member_offset[same];
        } else if (expanded[it.group][m]) {
          Item::Expand e;
          e.member = static_cast<uint32_t>(m);
          e.raw_offset = off;
          e.raw_bytes = raw_rows(it, m, &e.first_row);
          off += round_up(e.raw_bytes);
          it.expand.push_back(e);
        } else {
          it.member_offset[m] = off;
          off += region_bytes(it.len, group.members[m].dtype);
        }
      }
    }
    b.copy_bytes = off;
    for (size_t i = b.first; i < b.end; ++i) {
      Item& it = w.items[i];
      for (const Item::Expand& e : it.expand) {
        it.member_offset[e.member] = off;
        off += region_bytes(it.len, DType::F32);
      }
    }
    b.stage_bytes = off;
  }
  return w;
}

uint64_t plan_resident(const ScanPlan& plan, std::vector<std::vector<uint64_t>>* offsets) {
  uint64_t total = 0;
  offsets->assign(plan.groups.size(), {});
  for (size_t g = 0; g < plan.groups.size(); ++g) {
    const ScanGroup& group = plan.groups[g];
    for (size_t m = 0; m < group.members.size(); ++m) {
      const size_t same = same_bytes_as(group, m);
      if (same != SIZE_MAX) {
        (*offsets)[g].push_back((*offsets)[g][same]);
        continue;
      }
      (*offsets)[g].push_back(total);
      total += region_bytes(group.count, group.members[m].dtype);
    }
  }
  return total;
}

}  // namespace cuda_scan
}  // namespace np
