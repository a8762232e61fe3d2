// CPU emulation of the WMMA m8n8k4 double API with its documented semantics: load_matrix_sync
// reads A (row-major: A[i][k] = p[i * ldm + k]) or B (column-major: B[k][j] = p[j * ldm + k]),
// mma_sync computes D = A B + C, store_matrix_sync writes D row-major. Every emulated lane holds
// the whole matrix (the real fragments are spread over the warp; the result is the same).
#pragma once
#include <cmath>

namespace nvcuda {
namespace wmma {

struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };

template <class Use, int M, int N, int K, class T, class Layout = void>
struct fragment;

template <>
struct fragment<matrix_a, 8, 8, 4, double, row_major> {
  double m[8][4];
};
template <>
struct fragment<matrix_b, 8, 8, 4, double, col_major> {
  double m[4][8];
};
template <>
struct fragment<accumulator, 8, 8, 4, double, void> {
  double m[8][8];
};

inline void fill_fragment(fragment<accumulator, 8, 8, 4, double, void>& f, double v) {
  for (auto& r : f.m)
    for (double& x : r) x = v;
}
inline void load_matrix_sync(fragment<matrix_a, 8, 8, 4, double, row_major>& f, const double* p, unsigned ldm) {
  for (int i = 0; i < 8; ++i)
    for (int k = 0; k < 4; ++k) f.m[i][k] = p[i * ldm + k];
}
inline void load_matrix_sync(fragment<matrix_b, 8, 8, 4, double, col_major>& f, const double* p, unsigned ldm) {
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < 8; ++j) f.m[k][j] = p[j * ldm + k];
}
inline void mma_sync(fragment<accumulator, 8, 8, 4, double, void>& d, const fragment<matrix_a, 8, 8, 4, double, row_major>& a,
                     const fragment<matrix_b, 8, 8, 4, double, col_major>& b,
                     const fragment<accumulator, 8, 8, 4, double, void>& c) {
  fragment<accumulator, 8, 8, 4, double, void> r;
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j) {
      double s = c.m[i][j];
      for (int k = 0; k < 4; ++k) s = std::fma(a.m[i][k], b.m[k][j], s);
      r.m[i][j] = s;
    }
  d = r;
}
inline void store_matrix_sync(double* p, const fragment<accumulator, 8, 8, 4, double, void>& f, unsigned ldm, layout_t l) {
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j) {
      if (l == mem_row_major)
        p[i * ldm + j] = f.m[i][j];
      else
        p[j * ldm + i] = f.m[i][j];
    }
}

}  // namespace wmma
}  // namespace nvcuda
