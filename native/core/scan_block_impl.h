// The fused per-block scan, written once over a SIMD "vector traits" type V and included by
// each kernel-set file (scan_kernels_avx2.cc, _avx512.cc) INSIDE an anonymous namespace, so
// every instantiation is private to a file compiled with that ISA's flags (no ODR mixing of
// AVX-512 code into the AVX2 path).
//
// Per block: members are converted to float64 rows in sub-blocks of kSub positions (kept in
// L2); per-lane accumulators for the moments (4 rows at a time) and for register tiles of the
// Gram matrix (diagonal tiles compute only a < b: the diagonal is Σx², already a moment) live
// in scratch between sub-blocks; at the end, lanes are summed in a fixed order. So a block's
// sums depend only on its data and the kernel set.
//
// When every member of a group has the same dtype (the usual case), a full sub-block takes a
// fused first pass instead: each member's elements are loaded and converted in registers,
// stored once as float64 for the Gram tiles and fed straight into the moments, and the fake
// init is widened in registers too. The separate convert-store-reload pass it replaces took
// about a quarter of the block time (perf, AVX-512, 8 BF16 models). The sums are the same
// operations in the same order either way, so both paths give bitwise the same block sums.
//
// V must provide: vd, kLanes, kTile, kMomentRows, zero(), load(p), store(p, v), add, sub, mul,
// fma(a, b, c) = a*b + c, to_f64(DType, src, dst, n) (element -> float32 -> float64),
// load_f32(const float*) (kLanes floats widened) and load_as<DType>(src) (kLanes elements
// of that dtype, each through float32, widened).

constexpr size_t kSub = 512;
// Groups of up to this many members take the fused first pass (a small stack array of row
// pointers); larger groups are Gram-bound anyway and keep the separate conversion.
constexpr size_t kMaxFusedRows = 64;

template <class V>
size_t tile_count(size_t k) {
  const size_t t = (k + V::kTile - 1) / V::kTile;
  return t * (t + 1) / 2;
}

template <class V>
size_t block_scratch_doubles(size_t k) {
  // + 8: room to align the rows to a cache line (see scan_block).
  return 8 + k * kSub + kSub + k * kNumStats * V::kLanes + tile_count<V>(k) * V::kTile * V::kTile * V::kLanes;
}

// The moments step for one vector of R rows (x values) against the fake init rr.
template <class V, int R>
inline void moments_step(const typename V::vd* v, typename V::vd rr, typename V::vd (*acc)[kNumStats]) {
  for (int m = 0; m < R; ++m) {
    const typename V::vd v2 = V::mul(v[m], v[m]);
    const typename V::vd d = V::sub(v[m], rr);
    acc[m][kSum] = V::add(acc[m][kSum], v[m]);
    acc[m][kSumSq] = V::add(acc[m][kSumSq], v2);
    acc[m][kSumCube] = V::fma(v2, v[m], acc[m][kSumCube]);
    acc[m][kSumQuad] = V::fma(v2, v2, acc[m][kSumQuad]);
    acc[m][kFakeSq] = V::fma(d, d, acc[m][kFakeSq]);
  }
}

// The moments over n positions (a multiple of kLanes) of R rows, the accumulators held in
// registers: next(i, v, rr) supplies the rows' values v[R] and the fake init rr at position i.
template <class V, int R, class Next>
inline void moments_pass(size_t n, double* acc_mem, Next next) {
  typename V::vd acc[R][kNumStats];
  for (int m = 0; m < R; ++m)
    for (int s = 0; s < kNumStats; ++s) acc[m][s] = V::load(acc_mem + (m * kNumStats + s) * V::kLanes);
  for (size_t i = 0; i < n; i += V::kLanes) {
    typename V::vd v[R], rr;
    next(i, v, rr);
    moments_step<V, R>(v, rr, acc);
  }
  for (int m = 0; m < R; ++m)
    for (int s = 0; s < kNumStats; ++s) V::store(acc_mem + (m * kNumStats + s) * V::kLanes, acc[m][s]);
}

// Moments of R float64 rows already in x (the per-element conversion path).
template <class V, int R>
void moments_rows(const double* x, const double* r, size_t padded, double* acc_mem) {
  moments_pass<V, R>(padded, acc_mem, [&](size_t i, typename V::vd* v, typename V::vd& rr) {
    rr = V::load(r + i);
    for (int m = 0; m < R; ++m) v[m] = V::load(x + m * kSub + i);
  });
}

// Fused first pass over a full sub-block (kSub elements) of R rows that share dtype DT:
// converts, keeps the float64 rows in x for the Gram tiles, and accumulates the moments.
template <class V, int R, DType DT>
void moments_rows_fused(const unsigned char* const* src, const float* r, double* x, double* acc_mem) {
  constexpr size_t kSize = DT == DType::F64 ? 8 : DT == DType::F32 ? 4 : 2;
  moments_pass<V, R>(kSub, acc_mem, [&](size_t i, typename V::vd* v, typename V::vd& rr) {
    rr = V::load_f32(r + i);
    for (int m = 0; m < R; ++m) {
      v[m] = V::template load_as<DT>(src[m] + i * kSize);
      V::store(x + m * kSub + i, v[m]);
    }
  });
}

template <class V, DType DT>
void fused_first_pass(size_t k, const unsigned char* const* src, const float* r, double* x, double* macc) {
  size_t m0 = 0;
  for (; m0 + V::kMomentRows <= k; m0 += V::kMomentRows)
    moments_rows_fused<V, V::kMomentRows, DT>(src + m0, r, x + m0 * kSub, macc + m0 * kNumStats * V::kLanes);
  for (; m0 < k; ++m0) moments_rows_fused<V, 1, DT>(src + m0, r, x + m0 * kSub, macc + m0 * kNumStats * V::kLanes);
}

// Accumulators of off-diagonal tile (a0, b0), b0 > a0, for rows a0 + a, b0 + b at
// acc_mem[(a * kTile + b) * kLanes]. Diagonal tiles: gram_tile_diag below.
template <class V, int RA, int RB>
void gram_tile(const double* xa, const double* xb, size_t padded, double* acc_mem) {
  typename V::vd acc[RA][RB];
  for (int a = 0; a < RA; ++a)
    for (int b = 0; b < RB; ++b) acc[a][b] = V::load(acc_mem + (a * V::kTile + b) * V::kLanes);
  for (size_t i = 0; i < padded; i += V::kLanes) {
    typename V::vd va[RA], vb[RB];
    for (int a = 0; a < RA; ++a) va[a] = V::load(xa + a * kSub + i);
    for (int b = 0; b < RB; ++b) vb[b] = V::load(xb + b * kSub + i);
    for (int a = 0; a < RA; ++a)
      for (int b = 0; b < RB; ++b) acc[a][b] = V::fma(va[a], vb[b], acc[a][b]);
  }
  for (int a = 0; a < RA; ++a)
    for (int b = 0; b < RB; ++b) V::store(acc_mem + (a * V::kTile + b) * V::kLanes, acc[a][b]);
}

// A diagonal tile has only RA(RA-1)/2 accumulators (6 for RA = 4), too few to hide the FMA
// latency; this version keeps two sets, for even and odd vectors, and adds them at the end
// (about a third faster on Zen 5 for the diagonal tiles). Same order on every call, so
// still deterministic.
template <class V, int R>
void gram_tile_diag(const double* x, size_t padded, double* acc_mem) {
  typename V::vd acc[R][R], acc2[R][R];
  for (int a = 0; a < R; ++a)
    for (int b = a + 1; b < R; ++b) {
      acc[a][b] = V::load(acc_mem + (a * V::kTile + b) * V::kLanes);
      acc2[a][b] = V::zero();
    }
  size_t i = 0;
  for (; i + 2 * V::kLanes <= padded; i += 2 * V::kLanes) {
    typename V::vd va[R], vb[R];
    for (int a = 0; a < R; ++a) {
      va[a] = V::load(x + a * kSub + i);
      vb[a] = V::load(x + a * kSub + i + V::kLanes);
    }
    for (int a = 0; a < R; ++a)
      for (int b = a + 1; b < R; ++b) {
        acc[a][b] = V::fma(va[a], va[b], acc[a][b]);
        acc2[a][b] = V::fma(vb[a], vb[b], acc2[a][b]);
      }
  }
  if (i < padded) {
    typename V::vd va[R];
    for (int a = 0; a < R; ++a) va[a] = V::load(x + a * kSub + i);
    for (int a = 0; a < R; ++a)
      for (int b = a + 1; b < R; ++b) acc[a][b] = V::fma(va[a], va[b], acc[a][b]);
  }
  for (int a = 0; a < R; ++a)
    for (int b = a + 1; b < R; ++b) V::store(acc_mem + (a * V::kTile + b) * V::kLanes, V::add(acc[a][b], acc2[a][b]));
}

template <class V, int RA>
void gram_tile_off(int rb, const double* xa, const double* xb, size_t padded, double* acc) {
  switch (rb) {
    case 1: gram_tile<V, RA, 1>(xa, xb, padded, acc); break;
    case 2: gram_tile<V, RA, 2>(xa, xb, padded, acc); break;
    case 3: gram_tile<V, RA, 3>(xa, xb, padded, acc); break;
    default:
      if constexpr (V::kTile >= 4) gram_tile<V, RA, 4>(xa, xb, padded, acc);
      break;
  }
}

template <class V>
void gram_tile_any(int ra, int rb, bool diag, const double* xa, const double* xb, size_t padded, double* acc) {
  if (diag) {
    switch (ra) {
      case 1: break;  // a single row has no pair off the diagonal
      case 2: gram_tile_diag<V, 2>(xa, padded, acc); break;
      case 3: gram_tile_diag<V, 3>(xa, padded, acc); break;
      default:
        if constexpr (V::kTile >= 4) gram_tile_diag<V, 4>(xa, padded, acc);
        break;
    }
    return;
  }
  switch (ra) {
    case 1: gram_tile_off<V, 1>(rb, xa, xb, padded, acc); break;
    case 2: gram_tile_off<V, 2>(rb, xa, xb, padded, acc); break;
    case 3: gram_tile_off<V, 3>(rb, xa, xb, padded, acc); break;
    default:
      if constexpr (V::kTile >= 4) gram_tile_off<V, 4>(rb, xa, xb, padded, acc);
      break;
  }
}

template <class V>
double reduce_lanes(const double* lanes) {
  double s = 0.0;
  for (int l = 0; l < V::kLanes; ++l) s += lanes[l];
  return s;
}

template <class V>
void scan_block(const BlockArgs& args, double* out) {
  const size_t k = args.k;
  // Rows start on a 64-byte line: the scratch comes from malloc (16-byte aligned), and a
  // 64-byte vector load that straddles two lines costs two (this alone made the AVX-512 Gram
  // tiles about twice as slow).
  double* x = reinterpret_cast<double*>((reinterpret_cast<uintptr_t>(args.scratch) + 63) & ~uintptr_t{63});
  double* r = x + k * kSub;
  double* macc = r + kSub;
  double* gacc = macc + k * kNumStats * V::kLanes;
  const size_t tiles = tile_count<V>(k);
  const size_t tile_doubles = static_cast<size_t>(V::kTile) * V::kTile * V::kLanes;
  std::fill(macc, gacc + tiles * tile_doubles, 0.0);

  bool same_dtype = true;
  for (size_t m = 1; m < k; ++m) same_dtype = same_dtype && args.dtypes[m] == args.dtypes[0];
  const unsigned char* src_at[kMaxFusedRows];
  for (size_t s = 0; s < args.n; s += kSub) {
    const size_t ns = std::min(kSub, args.n - s);
    const size_t padded = (ns + V::kLanes - 1) / V::kLanes * V::kLanes;
    if (same_dtype && ns == kSub && k <= kMaxFusedRows) {
      const DType dt = args.dtypes[0];
      for (size_t m = 0; m < k; ++m) src_at[m] = args.src[m] + s * dtype_size(dt);
      switch (dt) {
        case DType::BF16: fused_first_pass<V, DType::BF16>(k, src_at, args.r + s, x, macc); break;
        case DType::F16: fused_first_pass<V, DType::F16>(k, src_at, args.r + s, x, macc); break;
        case DType::F32: fused_first_pass<V, DType::F32>(k, src_at, args.r + s, x, macc); break;
        case DType::F64: fused_first_pass<V, DType::F64>(k, src_at, args.r + s, x, macc); break;
      }
    } else {
      for (size_t m = 0; m < k; ++m) {
        double* xm = x + m * kSub;
        V::to_f64(args.dtypes[m], args.src[m] + s * dtype_size(args.dtypes[m]), xm, ns);
        std::fill(xm + ns, xm + padded, 0.0);
      }
      for (size_t i = 0; i < ns; ++i) r[i] = static_cast<double>(args.r[s + i]);
      std::fill(r + ns, r + padded, 0.0);

      size_t m0 = 0;
      for (; m0 + V::kMomentRows <= k; m0 += V::kMomentRows)
        moments_rows<V, V::kMomentRows>(x + m0 * kSub, r, padded, macc + m0 * kNumStats * V::kLanes);
      for (; m0 < k; ++m0) moments_rows<V, 1>(x + m0 * kSub, r, padded, macc + m0 * kNumStats * V::kLanes);
    }

    size_t t = 0;
    for (size_t a0 = 0; a0 < k; a0 += V::kTile) {
      const int ra = static_cast<int>(std::min<size_t>(V::kTile, k - a0));
      for (size_t b0 = a0; b0 < k; b0 += V::kTile, ++t) {
        const int rb = static_cast<int>(std::min<size_t>(V::kTile, k - b0));
        gram_tile_any<V>(ra, rb, a0 == b0, x + a0 * kSub, x + b0 * kSub, padded, gacc + t * tile_doubles);
      }
    }
  }

  for (size_t m = 0; m < k; ++m)
    for (int st = 0; st < kNumStats; ++st) out[m * kNumStats + st] = reduce_lanes<V>(macc + (m * kNumStats + st) * V::kLanes);
  double* gram = out + k * kNumStats;
  size_t t = 0;
  for (size_t a0 = 0; a0 < k; a0 += V::kTile) {
    for (size_t b0 = a0; b0 < k; b0 += V::kTile, ++t) {
      const double* acc = gacc + t * tile_doubles;
      for (size_t a = a0; a < std::min<size_t>(a0 + V::kTile, k); ++a)
        for (size_t b = std::max(b0, a + 1); b < std::min<size_t>(b0 + V::kTile, k); ++b)
          gram[a * k + b] = reduce_lanes<V>(acc + ((a - a0) * V::kTile + (b - b0)) * V::kLanes);
    }
  }
  for (size_t a = 0; a < k; ++a) gram[a * k + a] = out[a * kNumStats + kSumSq];
}
