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

// acc[c] += bk * a[c]: one k step for a row (k outer keeps each element's sum in k order;
// __restrict lets the compiler vectorize across c). This loop is the cost of forming LoRA rows
// (rank multiply-adds per element), so GCC builds it for AVX-512 and AVX2 too and picks one at
// load time; -ffp-contract=off still keeps the multiply and the add apart, so every clone
// computes the same bits.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void add_scaled_row(double* __restrict acc, const double* __restrict a, double bk, uint64_t n) {
  for (uint64_t c = 0; c < n; ++c) acc[c] += bk * a[c];
}

}  // namespace

void form_lora_range(const ScanMember& m, FileCache& files, const unsigned char* base, DType base_dtype, uint64_t start,
                     uint64_t len, unsigned char* dst, LoraScratch& s) {
  if (len == 0) return;
  const LoraRows& l = m.lora;
  const uint64_t rank = l.rank, cols = l.cols;
  if (s.a_file != l.a_file || s.a_offset != l.a_offset || s.a.size() != rank * cols) {
    s.a.resize(rank * cols);
    read_doubles(files, l.a_file, l.a_offset, l.a_dtype, rank * cols, s.raw, s.a.data());
    s.a_file = l.a_file;
    s.a_offset = l.a_offset;
  }
  const uint64_t first_row = start / cols, last_row = (start + len - 1) / cols;
  const uint64_t nrows = last_row - first_row + 1;
  s.b.resize(nrows * rank);
  read_doubles(files, l.b_file, l.b_offset + first_row * rank * dtype_size(l.b_dtype), l.b_dtype, nrows * rank, s.raw,
               s.b.data());
  s.acc.resize(cols);
  s.out.resize(cols);
  const size_t base_size = dtype_size(base_dtype);
  uint64_t done = 0;
  for (uint64_t r = first_row; r <= last_row; ++r) {
    const uint64_t from = r == first_row ? start - first_row * cols : 0;
    const uint64_t n = std::min<uint64_t>(cols - from, len - done);
    double* __restrict acc = s.acc.data();
    const double* brow = s.b.data() + (r - first_row) * rank;
    std::fill(acc, acc + n, 0.0);
    for (uint64_t k = 0; k < rank; ++k) add_scaled_row(acc, s.a.data() + k * cols + from, brow[k], n);
    float* __restrict out = s.out.data();
    for (uint64_t c = 0; c < n; ++c) out[c] = load_as_float(base_dtype, base + (done + c) * base_size);
    for (uint64_t c = 0; c < n; ++c) out[c] = static_cast<float>(static_cast<double>(out[c]) + l.scale * acc[c]);
    std::memcpy(dst + done * sizeof(float), out, n * sizeof(float));
    done += n;
  }
}

}  // namespace np
