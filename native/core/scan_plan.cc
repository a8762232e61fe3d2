#include "core/scan_plan.h"

#include "core/error.h"
#include "core/scan_gguf.h"
#include "core/scan_lora.h"
#include "core/scan_packed.h"
#include "core/scan_kernels.h"

namespace np {

void validate_scan_plan(const ScanPlan& plan) {
  for (const ScanGroup& g : plan.groups) {
    if (g.members.empty()) throw Error(ErrorCode::InvalidArgument, "scan plan: tensor '" + g.name + "' has no models");
    for (const ScanMember& m : g.members) {
      if (m.file >= plan.files.size())
        throw Error(ErrorCode::InvalidArgument, "scan plan: tensor '" + g.name + "' refers to a missing file index");
      validate_gguf_member(m, g.count, g.name);
      validate_lora_member(g, m, plan.files.size());
      validate_packed_member(m, g.count, plan.files.size(), g.name);
    }
  }
  if (plan.chunk_bytes == 0) throw Error(ErrorCode::InvalidArgument, "scan plan: chunk size must be positive");
}

size_t same_bytes_as(const ScanGroup& g, size_t m) {
  const ScanMember& mem = g.members[m];
  if (!mem.plain()) return SIZE_MAX;
  for (size_t j = 0; j < m; ++j) {
    const ScanMember& o = g.members[j];
    if (o.plain() && o.file == mem.file && o.offset == mem.offset && o.dtype == mem.dtype) return j;
  }
  return SIZE_MAX;
}

double group_file_bytes_per_elem(const ScanGroup& g) {
  double bytes = 0;
  for (size_t m = 0; m < g.members.size(); ++m)
    if (same_bytes_as(g, m) == SIZE_MAX) bytes += g.members[m].file_bytes_per_elem();
  return bytes;
}

void init_scan_output(const ScanPlan& plan, ScanOutput& out) {
  out.offsets.clear();
  out.offsets.reserve(plan.groups.size());
  uint64_t total_values = 0;
  for (const ScanGroup& g : plan.groups) {
    out.offsets.push_back(total_values);
    total_values += group_output_size(g.members.size());
  }
  out.values.assign(total_values, 0.0);
}

void mirror_gram(const ScanPlan& plan, ScanOutput& out) {
  for (size_t gi = 0; gi < plan.groups.size(); ++gi) {
    const size_t k = plan.groups[gi].members.size();
    double* gram = out.values.data() + out.offsets[gi] + k * kNumStats;
    for (size_t a = 0; a < k; ++a)
      for (size_t b = 0; b < a; ++b) gram[a * k + b] = gram[b * k + a];
  }
}

}  // namespace np
