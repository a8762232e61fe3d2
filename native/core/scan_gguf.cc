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

void gguf_row_span(const GgufRows& g, uint64_t start, uint64_t len, uint64_t* lo, uint64_t* hi) {
  const uint64_t first_row = start / g.row_elems, last_row = (start + len - 1) / g.row_elems;
  *lo = first_row;
  *hi = last_row;
  if (!g.perm_heads) return;
  *lo = UINT64_MAX;
  *hi = 0;
  for (uint64_t r = first_row; r <= last_row; ++r) {
    const uint64_t gr = gguf_row_of_hf_row(r, g.rows, g.perm_heads);
    *lo = std::min(*lo, gr);
    *hi = std::max(*hi, gr);
  }
}

namespace {

uint64_t row_bytes(const GgufRows& g) { return gguf_row_bytes(g); }

// Reads GGUF rows [first, first + n) into scratch.raw; returns the bytes.
const unsigned char* read_rows(const ScanMember& m, const FileReader& file, uint64_t first, uint64_t n, GgufScratch& s) {
  const uint64_t rb = row_bytes(m.gguf);
  if (s.raw.size() < n * rb) s.raw.resize(n * rb);
  file.read_at(m.offset + first * rb, s.raw.data(), n * rb);
  return s.raw.data();
}

// Writes elements [from, from + n) of one row (its blocks at `src`) to dst. A whole row goes
// straight into dst when dst is float-aligned; a partial one through scratch.rows.
void put_row(const GgufRows& g, const unsigned char* src, uint64_t from, uint64_t n, unsigned char* dst, GgufScratch& s) {
  const uint64_t blocks = g.row_elems / g.type->block_elems;
  if (from == 0 && n == g.row_elems && reinterpret_cast<uintptr_t>(dst) % alignof(float) == 0) {
    dequantize_blocks(*g.type, src, blocks, reinterpret_cast<float*>(dst));
    return;
  }
  if (s.rows.size() < g.row_elems) s.rows.resize(g.row_elems);
  dequantize_blocks(*g.type, src, blocks, s.rows.data());
  std::memcpy(dst, s.rows.data() + from, n * sizeof(float));
}

}  // namespace

void read_gguf_range(const ScanMember& m, const FileReader& file, uint64_t start, uint64_t len, unsigned char* dst,
                     GgufScratch& s) {
  if (len == 0) return;
  const GgufRows& g = m.gguf;
  const uint64_t first_row = start / g.row_elems, last_row = (start + len - 1) / g.row_elems;
  // One read covers every GGUF row the range needs.
  uint64_t lo, hi;
  gguf_row_span(g, start, len, &lo, &hi);
  const unsigned char* raw = read_rows(m, file, lo, hi - lo + 1, s);
  const uint64_t rb = row_bytes(g);
  uint64_t done = 0;
  for (uint64_t r = first_row; r <= last_row; ++r) {
    const uint64_t gr = g.perm_heads ? gguf_row_of_hf_row(r, g.rows, g.perm_heads) : r;
    const uint64_t from = r == first_row ? start - first_row * g.row_elems : 0;
    const uint64_t n = std::min<uint64_t>(g.row_elems - from, len - done);
    put_row(g, raw + (gr - lo) * rb, from, n, dst + done * sizeof(float), s);
    done += n;
  }
}

}  // namespace np
