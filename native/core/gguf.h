// Reads and validates the header of a GGUF file (llama.cpp's format, versions 2 and 3,
// little-endian):
//   "GGUF" u32 version, u64 tensor_count, u64 kv_count,
//   kv_count x (string key, u32 value_type, value),
//   tensor_count x (string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset),
//   padding to general.alignment (default 32), then the data section.
// Strings are u64 length + bytes. Every count and length is checked against the bytes left in
// the file before anything is allocated, so a small hostile file cannot make us allocate much.
// Large arrays (a tokenizer vocabulary) are skipped and reported as {type, count} only.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/gguf_quant.h"

namespace np {

enum class GgufValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7,
  String = 8, Array = 9, U64 = 10, I64 = 11, F64 = 12,
};
const char* gguf_value_type_name(GgufValueType t);

// Limits that bound work and memory on hostile files (a real model is far below each).
constexpr uint64_t kGgufMaxTensors = 1ull << 20;
constexpr uint64_t kGgufMaxKvs = 1ull << 20;
constexpr uint64_t kGgufMaxKeyBytes = 65535;        // the spec's key limit
constexpr uint64_t kGgufMaxNameBytes = 65535;       // tensor names (ggml itself stops at 63)
constexpr uint64_t kGgufMaxStringBytes = 256ull << 20;
constexpr uint32_t kGgufMaxArrayDepth = 4;          // arrays of arrays, nested at most this deep
constexpr uint64_t kGgufMaxArrayValues = 1024;      // larger arrays are reported by type and count
constexpr uint64_t kGgufMaxKeptValues = 1ull << 16;  // array elements kept as values, per file
constexpr uint32_t kGgufMaxDims = 4;                // GGML_MAX_DIMS
constexpr uint32_t kGgufDefaultAlignment = 32;

struct GgufValue {
  GgufValueType type = GgufValueType::U8;
  uint64_t u = 0;   // U8, U16, U32, U64, Bool
  int64_t i = 0;    // I8, I16, I32, I64
  double f = 0;     // F32 (exactly), F64
  std::string s;    // String
  // Array: element type and count; `items` filled only when `materialised`.
  GgufValueType elem_type = GgufValueType::U8;
  uint64_t count = 0;
  bool materialised = false;
  std::vector<GgufValue> items;
};

struct GgufKv {
  std::string key;
  GgufValue value;
};

struct GgufTensor {
  std::string name;
  const GgmlTypeInfo* type = nullptr;
  std::vector<uint64_t> ne;  // GGUF order: ne[0] varies fastest
  uint64_t offset = 0;       // absolute file offset of the first byte
  uint64_t bytes = 0;
  uint64_t elements = 0;
};

struct GgufHeader {
  std::string path;
  uint64_t file_size = 0;
  uint32_t version = 0;
  uint32_t alignment = kGgufDefaultAlignment;
  uint64_t data_offset = 0;  // aligned end of the header
  std::vector<GgufKv> kvs;          // in file order
  std::vector<GgufTensor> tensors;  // in file order
};

GgufHeader read_gguf_header(const std::string& path);

}  // namespace np
