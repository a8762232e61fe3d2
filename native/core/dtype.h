// Element types the scan reads, and their conversion to float. Every element is first
// converted to float32 (exact for F16/BF16/F32; rounded for F64), then all arithmetic is in
// float64, so the TypeScript reference can reproduce the same numbers.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace np {

enum class DType : int { F32 = 0, F16 = 1, BF16 = 2, F64 = 3 };

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F16: return 2;
    case DType::BF16: return 2;
    case DType::F64: return 8;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::F64: return "F64";
  }
  return "?";
}

// Returns false for dtypes the scan cannot read (integers, FP8, ...).
inline bool parse_scan_dtype(const std::string& s, DType* out) {
  if (s == "F32") { *out = DType::F32; return true; }
  if (s == "F16") { *out = DType::F16; return true; }
  if (s == "BF16") { *out = DType::BF16; return true; }
  if (s == "F64") { *out = DType::F64; return true; }
  return false;
}

inline float bf16_to_float(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// IEEE half to float, exact for every input including subnormals, infinities and NaN.
inline float f16_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do { man <<= 1; ++e; } while ((man & 0x400u) == 0);
      bits = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (man << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Little-endian loads (safetensors is little-endian; unaligned-safe).
inline uint16_t load_u16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

inline float load_as_float(DType t, const unsigned char* p) {
  switch (t) {
    case DType::F32: { float f; std::memcpy(&f, p, 4); return f; }
    case DType::F16: return f16_to_float(load_u16(p));
    case DType::BF16: return bf16_to_float(load_u16(p));
    case DType::F64: { double d; std::memcpy(&d, p, 8); return static_cast<float>(d); }
  }
  return 0.0f;
}

}  // namespace np
