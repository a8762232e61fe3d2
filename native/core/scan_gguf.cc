#include "core/scan_gguf.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "core/error.h"

namespace np {

void validate_gguf_member(const ScanMember& m, uint64_t count, const std::string& tensor) {
  const GgufRows& g = m.gguf;
  if (!g.type) return;
  if (!g.type->dequantizable)
    throw Error(ErrorCode::Dtype, std::string("cannot scan ggml type ") + g.type->name, {}, tensor);
  if (g.row_elems == 0 || g.row_elems % g.type->block_elems != 0 || g.rows == 0)
    throw Error(ErrorCode::InvalidArgument, "scan plan: GGUF rows of " + std::to_string(g.row_elems) +
                                                " elements are not whole " + g.type->name + " blocks",
                {}, tensor);
  if (g.rows > UINT64_MAX / g.row_elems || count > g.rows * g.row_elems)
    throw Error(ErrorCode::InvalidArgument, "scan plan: GGUF tensor has fewer elements than the group compares", {}, tensor);
  if (g.perm_heads && g.rows % (2ull * g.perm_heads) != 0)
    throw Error(ErrorCode::InvalidArgument, "scan plan: GGUF q/k rows do not split into " + std::to_string(g.perm_heads) +
                                                " heads of two halves",
                {}, tensor);
}

namespace {

uint64_t row_bytes(const GgufRows& g) { return g.row_elems / g.type->block_elems * g.type->block_bytes; }

// Reads `n` consecutive GGUF rows from `first` and dequantizes them into scratch.rows.
const float* dequantize_rows(const ScanMember& m, const FileReader& file, uint64_t first, uint64_t n,
                             GgufScratch& s) {
  const GgufRows& g = m.gguf;
  const uint64_t rb = row_bytes(g);
  if (s.raw.size() < n * rb) s.raw.resize(n * rb);
  if (s.rows.size() < n * g.row_elems) s.rows.resize(n * g.row_elems);
  file.read_at(m.offset + first * rb, s.raw.data(), n * rb);
  dequantize_blocks(*g.type, s.raw.data(), n * g.row_elems / g.type->block_elems, s.rows.data());
  return s.rows.data();
}

}  // namespace

void read_gguf_range(const ScanMember& m, const FileReader& file, uint64_t start, uint64_t len, unsigned char* dst,
                     GgufScratch& s) {
  if (len == 0) return;
  const GgufRows& g = m.gguf;
  const uint64_t first_row = start / g.row_elems, last_row = (start + len - 1) / g.row_elems;
  if (!g.perm_heads) {
    // One read of the covering rows; the partial rows at either end cost at most two rows.
    const float* rows = dequantize_rows(m, file, first_row, last_row - first_row + 1, s);
    std::memcpy(dst, rows + (start - first_row * g.row_elems), len * sizeof(float));
    return;
  }
  // Permuted rows are scattered within their head: one read per row.
  uint64_t done = 0;
  for (uint64_t r = first_row; r <= last_row; ++r) {
    const float* row = dequantize_rows(m, file, gguf_row_of_hf_row(r, g.rows, g.perm_heads), 1, s);
    const uint64_t from = r == first_row ? start - first_row * g.row_elems : 0;
    const uint64_t n = std::min<uint64_t>(g.row_elems - from, len - done);
    std::memcpy(dst + done * sizeof(float), row + from, n * sizeof(float));
    done += n;
  }
}

}  // namespace np
