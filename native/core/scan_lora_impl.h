// Forming PEFT LoRA rows (LoraRowsArgs in scan_kernels.h), written once over the vector traits
// V of scan_block_impl.h and included by each kernel-set file inside its anonymous namespace,
// like that file. V must also provide set1(double), store_f32(float*, vd) (kLanes values
// narrowed to float32), kLoraRows and kLoraVecs (the register tile: kLoraRows rows by
// kLoraVecs vectors of columns, which is also the panel width of A).
//
// Why the result is bit for bit the per-element definition (acc = 0, then acc += B[r][k] *
// A[k][c] for k in order, value = float32(W + scale * acc), lib/io/tensor-data.ts formLora):
// A and B hold float32 values, so every product B[r][k] * A[k][c] is exact in float64 (24 + 24
// significand bits < 53). A fused multiply-add of an exact product rounds once, exactly where
// the separate multiply and add round, so fma(b, a, acc) == acc + b * a bit for bit; each
// lane still adds its own column's products in k order. That halves the work of the
// multiply-adds, which are the whole cost (rank per element and adapter).
//
// Loop order: panels outer, rows inner, so a panel of A (rank x panel doubles: 4 KiB at rank
// 16 on AVX-512) stays in L1 while the item's rows stream past it; per k the tile loads
// kLoraVecs vectors of A and broadcasts kLoraRows values of B for kLoraRows * kLoraVecs FMAs.

template <class V, int R>
inline void lora_tile(const LoraRowsArgs& g, const double* ap, size_t row, size_t c0, size_t from, size_t to,
                      double* tmp) {
  constexpr int C = V::kLoraVecs, L = V::kLanes, T = C * L;
  typename V::vd acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < C; ++j) acc[r][j] = V::zero();
  const uint64_t rank = g.rank;
  const double* b = g.b + row * rank;
  for (uint64_t k = 0; k < rank; ++k) {
    typename V::vd av[C];
    for (int j = 0; j < C; ++j) av[j] = V::load(ap + k * T + j * L);
    for (int r = 0; r < R; ++r) {
      const typename V::vd bk = V::set1(b[r * rank + k]);
      for (int j = 0; j < C; ++j) acc[r][j] = V::fma(bk, av[j], acc[r][j]);
    }
  }
  // Element (row + r, c) of w and out sits at (row + r) * cols + c - lo. (Locals: the stores
  // to out would otherwise make the compiler reload g's fields after each one.)
  const size_t cols = g.cols, lo = g.lo;
  const float* w = g.w;
  float* out = g.out;
  if (from == c0 && to == c0 + T) {
    const typename V::vd scale = V::set1(g.scale);
    for (int r = 0; r < R; ++r) {
      const size_t at = (row + r) * cols + c0 - lo;
      for (int j = 0; j < C; ++j) V::store_f32(out + at + j * L, V::add(V::load_f32(w + at + j * L), V::mul(scale, acc[r][j])));
    }
    return;
  }
  // A panel the range cuts (the first or last row of an item, or the zero-padded last panel):
  // the same two operations per element, on the columns in range only.
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < C; ++j) V::store(tmp + r * T + j * L, acc[r][j]);
  for (int r = 0; r < R; ++r)
    for (size_t c = from; c < to; ++c) {
      const size_t at = (row + r) * cols + c - lo;
      out[at] = static_cast<float>(static_cast<double>(w[at]) + g.scale * tmp[r * T + (c - c0)]);
    }
}

template <class V>
void lora_rows(const LoraRowsArgs& g) {
  constexpr int R = V::kLoraRows, T = V::kLoraVecs * V::kLanes;
  alignas(64) double tmp[R * T];
  for (size_t p = g.lo / T; p * T < g.hi; ++p) {
    const double* ap = g.a + p * g.rank * T;
    const size_t c0 = p * T, from = std::max<size_t>(g.lo, c0), to = std::min<size_t>(g.hi, c0 + T);
    size_t row = 0;
    for (; row + R <= g.nrows; row += R) lora_tile<V, R>(g, ap, row, c0, from, to, tmp);
    for (; row < g.nrows; ++row) lora_tile<V, 1>(g, ap, row, c0, from, to, tmp);
  }
}

template <class V>
constexpr size_t lora_panel_width() {
  return static_cast<size_t>(V::kLoraVecs) * V::kLanes;
}

// Through float64 and back: exact for every dtype (each element is a float32 value first).
template <class V>
void widen_to_f32(DType type, const unsigned char* src, float* dst, size_t n) {
  constexpr size_t L = V::kLanes;
  size_t i = 0;
  switch (type) {
    case DType::BF16:
      for (; i + L <= n; i += L) V::store_f32(dst + i, V::template load_as<DType::BF16>(src + i * 2));
      break;
    case DType::F16:
      for (; i + L <= n; i += L) V::store_f32(dst + i, V::template load_as<DType::F16>(src + i * 2));
      break;
    case DType::F32:
      std::memcpy(dst, src, n * 4);
      return;
    case DType::F64:
      for (; i + L <= n; i += L) V::store_f32(dst + i, V::template load_as<DType::F64>(src + i * 8));
      break;
  }
  const size_t size = dtype_size(type);
  for (; i < n; ++i) dst[i] = load_as_float(type, src + i * size);
}
