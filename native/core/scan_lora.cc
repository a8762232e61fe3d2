#include "core/scan_lora.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace np {

void validate_lora_member(const ScanGroup& g, const ScanMember& m, size_t files) {
  if (!m.is_lora()) return;
  const LoraRows& l = m.lora;
  if (l.base >= g.members.size() || g.members[l.base].is_lora())
    throw Error(ErrorCode::InvalidArgument, "scan plan: LoRA member's base is not a plain member of the group", {}, g.name);
  if (l.a_file >= files || l.b_file >= files)
    throw Error(ErrorCode::InvalidArgument, "scan plan: LoRA member refers to a missing file index", {}, g.name);
  if (l.cols == 0 || g.count % l.cols != 0)
    throw Error(ErrorCode::InvalidArgument, "scan plan: LoRA rows of " + std::to_string(l.cols) + " elements do not divide the group", {}, g.name);
  if (l.rank > (1u << 16) || l.cols > (uint64_t{1} << 32) / l.rank)
    throw Error(ErrorCode::InvalidArgument, "scan plan: LoRA A of rank " + std::to_string(l.rank) + " is too large", {}, g.name);
}

namespace {

// Reads `n` elements of dtype `t` at `offset` of file `file` as float64 (through float32).
void read_doubles(FileCache& files, uint32_t file, uint64_t offset, DType t, uint64_t n, std::vector<unsigned char>& raw,
                  double* out) {
  const size_t es = dtype_size(t);
  if (raw.size() < n * es) raw.resize(n * es);
  files.get(file)->read_at(offset, raw.data(), n * es);
  for (uint64_t i = 0; i < n; ++i) out[i] = static_cast<double>(load_as_float(t, raw.data() + i * es));
}

// A of member `m`, packed in panels of `panel` columns (LoraRowsArgs), from the cache or read.
const double* packed_a(const LoraRows& l, size_t panel, uint32_t group, FileCache& files, LoraScratch& s) {
  if (s.group != group) {
    s.a.clear();
    s.group = group;
  }
  for (const LoraScratch::PackedA& p : s.a)
    if (p.file == l.a_file && p.offset == l.a_offset) return p.panels.data();
  const uint64_t rank = l.rank, cols = l.cols, panels = (cols + panel - 1) / panel;
  const size_t es = dtype_size(l.a_dtype);
  if (s.raw.size() < rank * cols * es) s.raw.resize(rank * cols * es);
  files.get(l.a_file)->read_at(l.a_offset, s.raw.data(), rank * cols * es);
  LoraScratch::PackedA p{l.a_file, l.a_offset, std::vector<double>(panels * rank * panel, 0.0)};
  for (uint64_t k = 0; k < rank; ++k)
    for (uint64_t c = 0; c < cols; ++c)
      p.panels[((c / panel) * rank + k) * panel + c % panel] =
          static_cast<double>(load_as_float(l.a_dtype, s.raw.data() + (k * cols + c) * es));
  s.a.push_back(std::move(p));
  return s.a.back().panels.data();
}

}  // namespace

void form_lora_range(const ScanKernels& kern, uint32_t group, const ScanMember& m, FileCache& files, const float* base,
                     uint64_t start, uint64_t len, float* dst, LoraScratch& s) {
  if (len == 0) return;
  const LoraRows& l = m.lora;
  const uint64_t rank = l.rank, cols = l.cols;
  const double* a = packed_a(l, kern.lora_panel, group, files, s);
  const uint64_t first_row = start / cols, last_row = (start + len - 1) / cols;
  s.b.resize((last_row - first_row + 1) * rank);
  read_doubles(files, l.b_file, l.b_offset + first_row * rank * dtype_size(l.b_dtype), l.b_dtype, s.b.size(), s.raw,
               s.b.data());
  // Rows [r0, r1) over columns [lo, hi): the item's first row may start and its last end
  // inside the row, the rows between are whole.
  auto rows = [&](uint64_t r0, uint64_t r1, uint64_t lo, uint64_t hi) {
    if (r1 <= r0 || hi <= lo) return;
    const uint64_t at = r0 * cols + lo - start;
    kern.lora_rows(LoraRowsArgs{a, s.b.data() + (r0 - first_row) * rank, base + at, dst + at, rank, cols, r1 - r0, lo, hi, l.scale});
  };
  const uint64_t from = start - first_row * cols, end = start + len - last_row * cols;
  if (first_row == last_row) return rows(first_row, first_row + 1, from, end);
  uint64_t r0 = first_row;
  if (from > 0) rows(r0++, first_row + 1, from, cols);
  const uint64_t r1 = end == cols ? last_row + 1 : last_row;
  rows(r0, r1, 0, cols);
  if (end < cols) rows(last_row, last_row + 1, 0, end);
}

}  // namespace np
