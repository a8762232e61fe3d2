// Dequantization of ggml block formats, written from ggml's block layouts and its
// dequantization formulas (checked bit for bit against the reference Python gguf package's
// dequantizers on random blocks of every type while this was written).
//
// Float semantics, shared bit for bit with lib/io/gguf-quant-ref.ts: every value is float32
// and every operation rounds to float32 (the build has -ffp-contract=off, so no fused
// multiply-add). Scales are f16 (or bf16/f32) converted exactly to float32; quants are
// small integers converted exactly. The order is ggml's, left to right:
//   Q8_0, Q4_0, Q5_0:       y = q * d
//   Q4_1, Q5_1:             y = (q * d) + m
//   Q2_K, Q4_K, Q5_K:       y = ((d * sc) * q) - (dmin * m)    (the two products first)
//   Q3_K:                   y = (d * (sc - 32)) * q            (q already includes the high bit)
//   Q6_K:                   y = (d * sc) * q
// This is scalar code, one block at a time with no allocation (block and output are __restrict:
// bytes read through uint8_t* could otherwise alias the floats written, which stops the compiler
// from vectorizing the inner loops); a SIMD version would go in the
// per-type loops (the 32-element sub-blocks map to two AVX2 registers) and must keep this order.
#include "core/gguf_quant.h"

#include <cstring>

#include "core/dtype.h"
#include "core/error.h"

namespace np {

namespace {

// Ids 4 and 5 (Q4_2, Q4_3), 31-33 and 36-38 (repacked variants) were removed from ggml.
const GgmlTypeInfo kTypes[] = {
    {0, "F32", 1, 4, true},        {1, "F16", 1, 2, true},        {2, "Q4_0", 32, 18, true},
    {3, "Q4_1", 32, 20, true},     {6, "Q5_0", 32, 22, true},     {7, "Q5_1", 32, 24, true},
    {8, "Q8_0", 32, 34, true},     {9, "Q8_1", 32, 36, false},    {10, "Q2_K", 256, 84, true},
    {11, "Q3_K", 256, 110, true},  {12, "Q4_K", 256, 144, true},  {13, "Q5_K", 256, 176, true},
    {14, "Q6_K", 256, 210, true},  {15, "Q8_K", 256, 292, false}, {16, "IQ2_XXS", 256, 66, false},
    {17, "IQ2_XS", 256, 74, false}, {18, "IQ3_XXS", 256, 98, false}, {19, "IQ1_S", 256, 50, false},
    {20, "IQ4_NL", 32, 18, false}, {21, "IQ3_S", 256, 110, false}, {22, "IQ2_S", 256, 82, false},
    {23, "IQ4_XS", 256, 136, false}, {24, "I8", 1, 1, false},     {25, "I16", 1, 2, false},
    {26, "I32", 1, 4, false},      {27, "I64", 1, 8, false},      {28, "F64", 1, 8, false},
    {29, "IQ1_M", 256, 56, false}, {30, "BF16", 1, 2, true},      {34, "TQ1_0", 256, 54, false},
    {35, "TQ2_0", 256, 66, false}, {39, "MXFP4", 32, 17, false},
};

inline float f16_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return f16_to_float(h);
}

// Q4_K / Q5_K: 8 six-bit scales and 8 six-bit mins packed into 12 bytes.
inline void scale_min_k4(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

void deq_q4_0(const uint8_t* __restrict b, float* __restrict y) {  // d f16, qs[16]
  const float d = f16_at(b);
  const uint8_t* qs = b + 2;
  for (int j = 0; j < 16; ++j) {
    y[j] = static_cast<float>((qs[j] & 0xF) - 8) * d;
    y[j + 16] = static_cast<float>((qs[j] >> 4) - 8) * d;
  }
}

void deq_q4_1(const uint8_t* __restrict b, float* __restrict y) {  // d f16, m f16, qs[16]
  const float d = f16_at(b), m = f16_at(b + 2);
  const uint8_t* qs = b + 4;
  for (int j = 0; j < 16; ++j) {
    y[j] = static_cast<float>(qs[j] & 0xF) * d + m;
    y[j + 16] = static_cast<float>(qs[j] >> 4) * d + m;
  }
}

void deq_q5_0(const uint8_t* __restrict b, float* __restrict y) {  // d f16, qh[4] (32 high bits), qs[16]
  const float d = f16_at(b);
  uint32_t qh;
  std::memcpy(&qh, b + 2, 4);
  const uint8_t* qs = b + 6;
  for (int j = 0; j < 16; ++j) {
    const int h0 = static_cast<int>((qh >> j) << 4) & 0x10;
    const int h1 = static_cast<int>(qh >> (j + 12)) & 0x10;
    y[j] = static_cast<float>(((qs[j] & 0xF) | h0) - 16) * d;
    y[j + 16] = static_cast<float>(((qs[j] >> 4) | h1) - 16) * d;
  }
}

void deq_q5_1(const uint8_t* __restrict b, float* __restrict y) {  // d f16, m f16, qh[4], qs[16]
  const float d = f16_at(b), m = f16_at(b + 2);
  uint32_t qh;
  std::memcpy(&qh, b + 4, 4);
  const uint8_t* qs = b + 8;
  for (int j = 0; j < 16; ++j) {
    const int h0 = static_cast<int>((qh >> j) << 4) & 0x10;
    const int h1 = static_cast<int>(qh >> (j + 12)) & 0x10;
    y[j] = static_cast<float>((qs[j] & 0xF) | h0) * d + m;
    y[j + 16] = static_cast<float>((qs[j] >> 4) | h1) * d + m;
  }
}

void deq_q8_0(const uint8_t* __restrict b, float* __restrict y) {  // d f16, qs[32] int8
  const float d = f16_at(b);
  for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(static_cast<int8_t>(b[2 + j])) * d;
}

void deq_q2_k(const uint8_t* __restrict b, float* __restrict y) {  // scales[16], qs[64], d f16, dmin f16
  const uint8_t* scales = b;
  const uint8_t* q = b + 16;
  const float d = f16_at(b + 80), dmin = f16_at(b + 82);
  int is = 0;
  for (int n = 0; n < 256; n += 128) {
    for (int shift = 0; shift < 8; shift += 2) {
      for (int half = 0; half < 2; ++half) {
        const uint8_t sc = scales[is++];
        const float dl = d * static_cast<float>(sc & 0xF), ml = dmin * static_cast<float>(sc >> 4);
        const uint8_t* qq = q + 16 * half;
        for (int l = 0; l < 16; ++l) *y++ = dl * static_cast<float>((qq[l] >> shift) & 3) - ml;
      }
    }
    q += 32;
  }
}

void deq_q3_k(const uint8_t* __restrict b, float* __restrict y) {  // hmask[32], qs[64], scales[12], d f16
  const uint8_t* hm = b;
  const uint8_t* q = b + 32;
  const uint8_t* s = b + 96;
  const float d_all = f16_at(b + 108);
  // 16 six-bit scales: low 4 bits from s[0..7] (two per byte), high 2 bits from s[8..11].
  int8_t scales[16];
  for (int i = 0; i < 16; ++i) {
    const int low = (i < 8) ? (s[i] & 0xF) : (s[i - 8] >> 4);
    const int high = (s[8 + (i & 3)] >> (2 * (i >> 2))) & 3;
    scales[i] = static_cast<int8_t>(low | (high << 4));
  }
  int is = 0;
  uint8_t m = 1;
  for (int n = 0; n < 256; n += 128) {
    for (int shift = 0; shift < 8; shift += 2) {
      for (int half = 0; half < 2; ++half) {
        const float dl = d_all * static_cast<float>(scales[is++] - 32);
        const uint8_t* qq = q + 16 * half;
        const uint8_t* hh = hm + 16 * half;
        for (int l = 0; l < 16; ++l)
          *y++ = dl * static_cast<float>(((qq[l] >> shift) & 3) - ((hh[l] & m) ? 0 : 4));
      }
      m = static_cast<uint8_t>(m << 1);
    }
    q += 32;
  }
}

void deq_q4_k(const uint8_t* __restrict b, float* __restrict y) {  // d f16, dmin f16, scales[12], qs[128]
  const float d = f16_at(b), dmin = f16_at(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* q = b + 16;
  for (int is = 0; is < 8; is += 2) {
    uint8_t sc, mn;
    scale_min_k4(is, scales, &sc, &mn);
    const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(mn);
    scale_min_k4(is + 1, scales, &sc, &mn);
    const float d2 = d * static_cast<float>(sc), m2 = dmin * static_cast<float>(mn);
    for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
    q += 32;
  }
}

void deq_q5_k(const uint8_t* __restrict b, float* __restrict y) {  // d f16, dmin f16, scales[12], qh[32], qs[128]
  const float d = f16_at(b), dmin = f16_at(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* qh = b + 16;
  const uint8_t* ql = b + 48;
  uint8_t u1 = 1, u2 = 2;
  for (int is = 0; is < 8; is += 2) {
    uint8_t sc, mn;
    scale_min_k4(is, scales, &sc, &mn);
    const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(mn);
    scale_min_k4(is + 1, scales, &sc, &mn);
    const float d2 = d * static_cast<float>(sc), m2 = dmin * static_cast<float>(mn);
    for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>((ql[l] & 0xF) + ((qh[l] & u1) ? 16 : 0)) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
    ql += 32;
    u1 = static_cast<uint8_t>(u1 << 2);
    u2 = static_cast<uint8_t>(u2 << 2);
  }
}

void deq_q6_k(const uint8_t* __restrict b, float* __restrict y) {  // ql[128], qh[64], scales[16] int8, d f16
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
  const float d = f16_at(b + 208);
  for (int n = 0; n < 256; n += 128) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
      y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
      y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
      y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
    }
    y += 128;
    ql += 64;
    qh += 32;
    sc += 8;
  }
}

using BlockFn = void (*)(const uint8_t*, float*);

BlockFn block_fn(uint32_t id) {
  switch (id) {
    case 2: return deq_q4_0;
    case 3: return deq_q4_1;
    case 6: return deq_q5_0;
    case 7: return deq_q5_1;
    case 8: return deq_q8_0;
    case 10: return deq_q2_k;
    case 11: return deq_q3_k;
    case 12: return deq_q4_k;
    case 13: return deq_q5_k;
    case 14: return deq_q6_k;
    default: return nullptr;
  }
}

}  // namespace

const GgmlTypeInfo* ggml_type_info(uint32_t id) {
  for (const auto& t : kTypes)
    if (t.id == id) return &t;
  return nullptr;
}

const GgmlTypeInfo* ggml_type_by_name(const std::string& name) {
  for (const auto& t : kTypes)
    if (name == t.name) return &t;
  return nullptr;
}

void require_dequantizable(const GgmlTypeInfo& type, const std::string& path, const std::string& tensor) {
  if (type.dequantizable) return;
  std::string where = path.empty() ? std::string() : path + ": ";
  if (!tensor.empty()) where += "tensor '" + tensor + "': ";
  throw Error(ErrorCode::Dtype,
              where + "GGUF type " + type.name +
                  " cannot be dequantized (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, "
                  "Q4_K, Q5_K, Q6_K)",
              path, tensor);
}

void dequantize_blocks(const GgmlTypeInfo& type, const uint8_t* src, uint64_t n_blocks, float* dst) {
  require_dequantizable(type, {}, {});
  switch (type.id) {
    case 0:  // F32: copied as bits (NaN payloads kept)
      std::memcpy(dst, src, n_blocks * 4);
      return;
    case 1:  // F16
    case 30: {  // BF16
      float (*convert)(uint16_t) = type.id == 1 ? f16_to_float : bf16_to_float;
      for (uint64_t i = 0; i < n_blocks; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = convert(h);
      }
      return;
    }
    default: {
      BlockFn fn = block_fn(type.id);
      if (!fn) throw Error(ErrorCode::Internal, std::string("no dequantizer for ") + type.name);
      for (uint64_t i = 0; i < n_blocks; ++i) fn(src + i * type.block_bytes, dst + i * type.block_elems);
    }
  }
}

}  // namespace np
