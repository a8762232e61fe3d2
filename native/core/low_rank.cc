// Randomized range finder (Halko, Martinsson & Tropp 2011, algorithms 4.1/4.4): Y = A·Ω for a
// Gaussian Ω [cols, k], optional subspace iterations Y ← A·orth(Aᵀ·Y), Q = orth(Y), then the
// singular values of the small B = Qᵀ·A from the eigenvalues of B·Bᵀ [k, k] (cyclic Jacobi).
// A is never formed: each element is read as child − parent where it is used. Everything the
// sketch accumulates is double, so the result does not depend on the float32 input order.
#include "core/low_rank.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace np {
namespace {

// splitmix64: a small, well-mixed stream for the seeded test matrix.
struct SplitMix {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
  double normal() {  // Box-Muller; one of the pair is enough here
    return std::sqrt(-2.0 * std::log(uniform())) * std::cos(6.283185307179586 * uniform());
  }
};

// Orthonormalises the k columns of M [n, k] in place (modified Gram-Schmidt, twice: once is not
// enough when the columns are nearly dependent, which a low-rank A makes them). A column left
// with (relatively) nothing is zeroed: it adds no direction.
void orthonormalize(std::vector<double>& m, size_t n, size_t k) {
  std::vector<double> first(k, 0);
  for (size_t l = 0; l < k; ++l) {
    double s = 0;
    for (size_t i = 0; i < n; ++i) s += m[i * k + l] * m[i * k + l];
    first[l] = std::sqrt(s);
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t l = 0; l < k; ++l) {
      for (size_t p = 0; p < l; ++p) {
        double d = 0;
        for (size_t i = 0; i < n; ++i) d += m[i * k + p] * m[i * k + l];
        for (size_t i = 0; i < n; ++i) m[i * k + l] -= d * m[i * k + p];
      }
      double s = 0;
      for (size_t i = 0; i < n; ++i) s += m[i * k + l] * m[i * k + l];
      double norm = std::sqrt(s);
      bool empty = !(norm > 1e-12 * first[l]) || norm == 0;
      for (size_t i = 0; i < n; ++i) m[i * k + l] = empty ? 0 : m[i * k + l] / norm;
    }
  }
}

// Eigenvalues of the symmetric S [k, k] (cyclic Jacobi; k ≤ a few dozen).
std::vector<double> symmetric_eigenvalues(std::vector<double> s, size_t k) {
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0, diag = 0;
    for (size_t p = 0; p < k; ++p)
      for (size_t q = 0; q < k; ++q) (p == q ? diag : off) += s[p * k + q] * s[p * k + q];
    if (off <= 1e-30 * diag || off == 0) break;
    for (size_t p = 0; p < k; ++p) {
      for (size_t q = p + 1; q < k; ++q) {
        double apq = s[p * k + q];
        if (apq == 0) continue;
        double theta = (s[q * k + q] - s[p * k + p]) / (2 * apq);
        double t = (theta >= 0 ? 1 : -1) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
        double c = 1 / std::sqrt(t * t + 1), sn = t * c;
        for (size_t r = 0; r < k; ++r) {  // S ← S·J
          double a = s[r * k + p], b = s[r * k + q];
          s[r * k + p] = c * a - sn * b;
          s[r * k + q] = sn * a + c * b;
        }
        for (size_t r = 0; r < k; ++r) {  // S ← Jᵀ·S
          double a = s[p * k + r], b = s[q * k + r];
          s[p * k + r] = c * a - sn * b;
          s[q * k + r] = sn * a + c * b;
        }
      }
    }
  }
  std::vector<double> ev(k);
  for (size_t p = 0; p < k; ++p) ev[p] = s[p * k + p];
  return ev;
}

}  // namespace

LowRankSpectrum low_rank_spectrum(const float* child, const float* parent, size_t rows, size_t cols, const LowRankOptions& opts) {
  if (!child || rows == 0 || cols == 0) throw Error(ErrorCode::InvalidArgument, "lowRankSpectrum: empty matrix");
  if (opts.k < 1 || opts.power_iters < 0 || opts.power_iters > 8) throw Error(ErrorCode::InvalidArgument, "lowRankSpectrum: k must be ≥ 1 and powerIters in 0..8");
  const size_t k = std::min<size_t>({static_cast<size_t>(opts.k), rows, cols});
  auto at = [&](size_t i, size_t j) -> double {
    size_t o = i * cols + j;
    return parent ? static_cast<double>(child[o]) - static_cast<double>(parent[o]) : static_cast<double>(child[o]);
  };
  LowRankSpectrum out;
  // Y = A·Ω, and ‖A‖² on the way.
  SplitMix rng{opts.seed ^ 0x6C6F772D72616E6BULL};
  std::vector<double> omega(cols * k);
  for (double& v : omega) v = rng.normal();
  std::vector<double> y(rows * k, 0), z(cols * k, 0);
  auto times_right = [&](const std::vector<double>& right, bool count) {  // y = A·right
    std::fill(y.begin(), y.end(), 0.0);
    double e = 0;
    for (size_t i = 0; i < rows; ++i) {
      double* yi = &y[i * k];
      for (size_t j = 0; j < cols; ++j) {
        double a = at(i, j);
        e += a * a;
        const double* rj = &right[j * k];
        for (size_t l = 0; l < k; ++l) yi[l] += a * rj[l];
      }
    }
    if (count) out.energy = e;
  };
  auto times_left = [&]() {  // z = Aᵀ·y
    std::fill(z.begin(), z.end(), 0.0);
    for (size_t i = 0; i < rows; ++i) {
      const double* yi = &y[i * k];
      for (size_t j = 0; j < cols; ++j) {
        double a = at(i, j);
        double* zj = &z[j * k];
        for (size_t l = 0; l < k; ++l) zj[l] += a * yi[l];
      }
    }
  };
  times_right(omega, true);
  orthonormalize(y, rows, k);
  for (int q = 0; q < opts.power_iters; ++q) {
    times_left();
    orthonormalize(z, cols, k);
    times_right(z, false);
    orthonormalize(y, rows, k);
  }
  // Bᵀ = Aᵀ·Q is z; the eigenvalues of B·Bᵀ = zᵀ·z are the squared singular values.
  times_left();
  std::vector<double> g(k * k, 0);
  for (size_t j = 0; j < cols; ++j)
    for (size_t p = 0; p < k; ++p)
      for (size_t q = 0; q < k; ++q) g[p * k + q] += z[j * k + p] * z[j * k + q];
  std::vector<double> ev = symmetric_eigenvalues(g, k);
  std::sort(ev.begin(), ev.end(), [](double a, double b) { return a > b; });
  out.singular.resize(k);
  for (size_t l = 0; l < k; ++l) out.singular[l] = std::sqrt(std::max(0.0, ev[l]));
  return out;
}

}  // namespace np
