// ggml tensor types as stored in GGUF files: the table of every type id the format defines
// (name, elements per block, bytes per block), and dequantization to float32 of the types
// the scan can read. The scan streams a tensor in chunks of whole blocks: for a chunk of
// n blocks starting at block b, read n * block_bytes bytes at offset + b * block_bytes and
// call dequantize_blocks, which writes n * block_elements floats.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace np {

struct GgmlTypeInfo {
  uint32_t id;
  const char* name;       // ggml's name, upper case ("Q4_K")
  uint32_t block_elems;   // elements per block (1 for plain types)
  uint32_t block_bytes;   // bytes per block
  bool dequantizable;     // dequantize_blocks supports it
};

// The type with this id, or nullptr for ids ggml does not define (or has removed).
const GgmlTypeInfo* ggml_type_info(uint32_t id);
// The type with this name, or nullptr.
const GgmlTypeInfo* ggml_type_by_name(const std::string& name);

// Throws E_DTYPE naming `path` and `tensor` unless `type` can be dequantized.
void require_dequantizable(const GgmlTypeInfo& type, const std::string& path, const std::string& tensor);

// Dequantizes `n_blocks` whole blocks at `src` (n_blocks * block_bytes bytes, no alignment
// needed) to `dst` (n_blocks * block_elems floats). Throws E_DTYPE for a type that is not
// dequantizable. Bit-exact with lib/io/gguf-quant-ref.ts: see the order of operations in
// gguf_quant.cc.
void dequantize_blocks(const GgmlTypeInfo& type, const uint8_t* src, uint64_t n_blocks, float* dst);

}  // namespace np
