// Reading a GGUF member of a scan: the elements [start, start + len) of a tensor stored as
// rows of ggml blocks, as float32 in Hugging Face element order. A row is a whole number of
// blocks, so the rows covering the range are read in one go and dequantized into place.
// For llama q/k weights (perm_heads > 0) HF row r lives at GGUF row gguf_row_of_hf_row(r):
// llama.cpp's converter interleaves the two rotary halves of each head, and the scan undoes it
// so a GGUF model lines up element by element with its safetensors parent.
#pragma once
#include <cstdint>
#include <vector>

#include "core/file_reader.h"
#include "core/gguf_rows.h"
#include "core/scan_plan.h"

namespace np {

// The GGUF rows [*lo, *hi] that HF elements [start, start + len) of a tensor laid out as g come from (the
// rows themselves, or for permuted q/k the span of their images, which stay inside the heads
// the range touches); len > 0.
void gguf_row_span(const GgufRows& g, uint64_t start, uint64_t len, uint64_t* lo, uint64_t* hi);

// Bytes of one GGUF row of m.
inline uint64_t gguf_row_bytes(const GgufRows& g) { return g.row_elems / g.type->block_elems * g.type->block_bytes; }

// Per-thread buffers, grown to the largest request and reused.
struct GgufScratch {
  std::vector<unsigned char> raw;
  std::vector<float> rows;
};

// Checks a member's layout (type dequantizable, rows x row_elems whole blocks, heads split
// the rows) against the group's element count; E_INVALID_ARG / E_DTYPE naming the tensor.
void validate_gguf_member(const ScanMember& m, uint64_t count, const std::string& tensor);

// Writes elements [start, start + len) of member `m` to dst as float32 (dst need not be aligned).
void read_gguf_range(const ScanMember& m, const FileReader& file, uint64_t start, uint64_t len, unsigned char* dst,
                     GgufScratch& scratch);

}  // namespace np
