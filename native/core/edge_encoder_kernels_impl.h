// The 3x3 conv + bias + ReLU + sum of the edge encoder, written once over a vector traits
// type V and included by each kernel-set file inside an anonymous namespace (as
// scan_block_impl.h is), so each instantiation is compiled with its own ISA flags.
//
// Register tile: OB output channels x JB column vectors. Per tap, JB loads of activations
// and OB weight broadcasts feed OB*JB multiply-adds, so the loop is arithmetic-bound rather
// than load-bound. Each row's sums are kept per lane in float (at most cols / lanes adds)
// and added to the float64 totals once per row.
//
// V must provide: vf, kLanes, zero(), set1(x), load(p), store(p, v), add, max, fma(a, b, c).

template <class V, int OB, int JB>
void edge_conv_impl(const EdgeConvArgs& g) {
  constexpr size_t L = V::kLanes;
  constexpr size_t step = L * JB;
  const size_t full = g.cols / step * step;
  const size_t plane = (g.rows + 2) * g.stride;
  alignas(64) float tail[OB][JB * L];
  for (size_t i = 0; i < g.rows; ++i) {
    for (int ob = 0; ob < kEdgeLatent; ob += OB) {
      typename V::vf rowsum[OB];
      for (int o = 0; o < OB; ++o) rowsum[o] = V::zero();
      double tail_sum[OB] = {};
      for (size_t j0 = 0; j0 < g.cols; j0 += step) {
        typename V::vf acc[OB][JB];
        for (int o = 0; o < OB; ++o) {
          const typename V::vf b = V::set1(g.bias[ob + o]);
          for (int jb = 0; jb < JB; ++jb) acc[o][jb] = b;
        }
        for (size_t k = 0; k < g.c; ++k) {
          const float* hk = g.h + k * plane + i * g.stride + j0;
          const float* wk = g.w + k * kEdgeTaps * kEdgeLatent + ob;
          for (int tap = 0; tap < kEdgeTaps; ++tap) {
            const float* hp = hk + (tap / 3) * g.stride + (tap % 3);
            typename V::vf hv[JB];
            for (int jb = 0; jb < JB; ++jb) hv[jb] = V::load(hp + jb * L);
            const float* wt = wk + tap * kEdgeLatent;
            for (int o = 0; o < OB; ++o) {
              const typename V::vf wv = V::set1(wt[o]);
              for (int jb = 0; jb < JB; ++jb) acc[o][jb] = V::fma(wv, hv[jb], acc[o][jb]);
            }
          }
        }
        const typename V::vf zero = V::zero();
        if (j0 < full) {
          for (int o = 0; o < OB; ++o)
            for (int jb = 0; jb < JB; ++jb) rowsum[o] = V::add(rowsum[o], V::max(acc[o][jb], zero));
        } else {
          // Past the last column the activations are zero but the bias is not: count only
          // real columns.
          for (int o = 0; o < OB; ++o)
            for (int jb = 0; jb < JB; ++jb) V::store(tail[o] + jb * L, V::max(acc[o][jb], zero));
          for (int o = 0; o < OB; ++o)
            for (size_t j = 0; j < g.cols - j0; ++j) tail_sum[o] += tail[o][j];
        }
      }
      for (int o = 0; o < OB; ++o) {
        alignas(64) float lanes[L];
        V::store(lanes, rowsum[o]);
        double s = tail_sum[o];
        for (size_t l = 0; l < L; ++l) s += lanes[l];
        g.sums[ob + o] += s;
      }
    }
  }
}
