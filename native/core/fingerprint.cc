// See fingerprint.h. Reads are positional (pread through FileReader). Tensors are read on a
// few threads at once: a warm fingerprint is arithmetic on ~34M elements (a 7B model), a cold
// one thousands of small random reads, and both go faster with several in flight. Each tensor
// is read and summed by one thread in a fixed order, so the output does not depend on the
// thread count.
#include "core/fingerprint.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>

#include "core/cpu_features.h"
#include "core/error.h"
#include "core/file_reader.h"
#include "core/scan_kernels.h"
#include "core/thread_pool.h"

namespace np {

void row_moments(const float* x, uint64_t n, double out[4]) {
  // Eight independent float64 lanes: the compiler vectorises the lane loop with the baseline
  // instruction set, and no build contracts to FMA (-ffp-contract=off), so every machine sums
  // alike; a single accumulator per moment was latency-bound at ~4 cycles an element.
  double a1[8] = {0}, a2[8] = {0}, a3[8] = {0}, a4[8] = {0};
  uint64_t e = 0;
  for (; e + 8 <= n; e += 8) {
    for (int l = 0; l < 8; ++l) {
      const double v = x[e + l];
      const double v2 = v * v;
      a1[l] += v;
      a2[l] += v2;
      a3[l] += v2 * v;
      a4[l] += v2 * v2;
    }
  }
  for (int l = 0; e < n; ++e, ++l) {
    const double v = x[e];
    const double v2 = v * v;
    a1[l] += v;
    a2[l] += v2;
    a3[l] += v2 * v;
    a4[l] += v2 * v2;
  }
  const double* a[4] = {a1, a2, a3, a4};
  for (int k = 0; k < 4; ++k) {
    const double* s = a[k];
    out[k] = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  }
}

namespace {

void check_ascending(const uint64_t* v, size_t n, uint64_t limit, const char* what, const std::string& file) {
  for (size_t i = 0; i < n; ++i) {
    if (v[i] >= limit || (i > 0 && v[i] <= v[i - 1]))
      throw Error(ErrorCode::InvalidArgument,
                  file + ": fingerprint plan: " + what + " must be strictly ascending and in range", file);
  }
}

// Kept columns per row (validated: cols.size() is a multiple of rows.size() when per row).
uint64_t cols_per_row(const FingerprintTensor& t) {
  if (!t.cols_per_row) return t.cols.size();
  return t.rows.empty() ? 0 : t.cols.size() / t.rows.size();
}

struct TensorResult {
  double moments[4] = {0, 0, 0, 0};
  double fake_sq = 0;
  double fake_whole_sq = std::numeric_limits<double>::quiet_NaN();
  uint64_t bytes = 0;
  uint64_t reads = 0;
};

// Dense row-major layout: row r is row_len elements at offset + r·row_len·size. `buf`, `row`
// and `r` are the calling thread's scratch.
void read_dense(const ScanKernels& kern, const FileReader& f, const FingerprintTensor& t, uint64_t coalesce, float* kept,
                TensorResult* res, std::vector<uint8_t>& buf, std::vector<float>& row, std::vector<float>& r) {
  const uint64_t esz = dtype_size(t.dtype);
  const uint64_t row_bytes = t.row_len * esz;
  const uint64_t nc = cols_per_row(t);
  const bool whole_rows = !t.cols_per_row && nc == t.row_len;
  // Every row sampled: the whole tensor passes through here, so Σ(x − r)² over all of it is
  // exact for the price of the fake init of elements already read (only tensors a model
  // reads whole pay it; the sampled tensors of a big model do not).
  const bool all_rows = t.rows.size() == t.total_rows;
  row.resize(t.row_len);
  if (t.has_fake && (whole_rows || all_rows)) r.resize(t.row_len);
  double s1 = 0, s2 = 0, s3 = 0, s4 = 0, fake = 0, fake_all = 0;
  size_t i = 0;
  while (i < t.rows.size()) {
    // One read covers rows[i..j) while the gap to the next sampled row stays small.
    size_t j = i + 1;
    while (j < t.rows.size() && (t.rows[j] - t.rows[j - 1] - 1) * row_bytes <= coalesce &&
           (t.rows[j] - t.rows[i] + 1) * row_bytes <= (64ull << 20))
      ++j;
    const uint64_t first = t.rows[i];
    const uint64_t span = (t.rows[j - 1] - first + 1) * row_bytes;
    buf.resize(span);
    f.read_at(t.offset + first * row_bytes, buf.data(), span);
    res->bytes += span;
    res->reads += 1;
    for (size_t k = i; k < j; ++k) {
      kern.to_f32(t.dtype, buf.data() + (t.rows[k] - first) * row_bytes, row.data(), t.row_len);
      double m[4];
      row_moments(row.data(), t.row_len, m);
      s1 += m[0];
      s2 += m[1];
      s3 += m[2];
      s4 += m[3];
      float* out = kept + k * nc;
      const uint64_t* cols = t.cols.data() + (t.cols_per_row ? k * nc : 0);
      for (size_t c = 0; c < nc; ++c) out[c] = row[cols[c]];
      if (!t.has_fake) continue;
      const uint64_t base = t.rows[k] * t.row_len;
      if (whole_rows) {
        // Every column: the scan's vectorised fake init for the row.
        fake_init_range(kern, t.fake, base, r.data(), t.row_len);
        for (uint64_t c = 0; c < t.row_len; ++c) {
          const double d = static_cast<double>(out[c]) - static_cast<double>(r[c]);
          fake += d * d;
        }
      } else {
        for (size_t c = 0; c < nc; ++c) {
          const double d = static_cast<double>(out[c]) - static_cast<double>(fake_init_value(t.fake, base + cols[c]));
          fake += d * d;
        }
        if (all_rows) {
          fake_init_range(kern, t.fake, base, r.data(), t.row_len);
          for (uint64_t c = 0; c < t.row_len; ++c) {
            const double d = static_cast<double>(row[c]) - static_cast<double>(r[c]);
            fake_all += d * d;
          }
        }
      }
    }
    i = j;
  }
  res->moments[0] = s1;
  res->moments[1] = s2;
  res->moments[2] = s3;
  res->moments[3] = s4;
  res->fake_sq = fake;
  if (t.has_fake && all_rows) res->fake_whole_sq = whole_rows ? fake : fake_all;
}

}  // namespace

FingerprintOutput read_fingerprint(const FingerprintPlan& plan) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<FileReader>> files;
  files.reserve(plan.files.size());
  for (const auto& p : plan.files) files.push_back(std::make_unique<FileReader>(p));
  // Validate everything first: a plan from a header that lies about sizes must fail before
  // any allocation sized by it.
  std::vector<uint64_t> at(plan.tensors.size() + 1, 0);
  for (size_t ti = 0; ti < plan.tensors.size(); ++ti) {
    const auto& t = plan.tensors[ti];
    if (t.file < 0 || static_cast<size_t>(t.file) >= files.size())
      throw Error(ErrorCode::InvalidArgument, "fingerprint plan: file index out of range");
    const FileReader& f = *files[t.file];
    const uint64_t esz = dtype_size(t.dtype);
    if (t.layout != RowLayout::Dense)
      throw Error(ErrorCode::InvalidArgument, f.path() + ": fingerprint plan: unknown row layout", f.path());
    if (t.row_len == 0 || t.total_rows == 0 || t.row_len > f.size() || t.total_rows > f.size())
      throw Error(ErrorCode::Format, f.path() + ": a tensor is empty or larger than the file", f.path());
    const uint64_t bytes = t.total_rows * t.row_len * esz;
    if (bytes / esz / t.row_len != t.total_rows || t.offset > f.size() || bytes > f.size() - t.offset)
      throw Error(ErrorCode::Format, f.path() + ": tensor data runs past the end of the file", f.path());
    check_ascending(t.rows.data(), t.rows.size(), t.total_rows, "rows", f.path());
    if (t.cols_per_row) {
      if (t.rows.empty() ? !t.cols.empty() : t.cols.size() % t.rows.size() != 0)
        throw Error(ErrorCode::InvalidArgument, f.path() + ": fingerprint plan: per-row cols must hold the same count for every row", f.path());
      const uint64_t nc = cols_per_row(t);
      for (size_t k = 0; k < t.rows.size(); ++k) check_ascending(t.cols.data() + k * nc, nc, t.row_len, "cols", f.path());
    } else {
      check_ascending(t.cols.data(), t.cols.size(), t.row_len, "cols", f.path());
    }
    at[ti + 1] = at[ti] + t.rows.size() * cols_per_row(t);
  }
  FingerprintOutput out;
  out.values.resize(at.back());
  out.moments.assign(plan.tensors.size() * 4, 0.0);
  out.fake_sq.assign(plan.tensors.size(), 0.0);
  out.fake_whole_sq.assign(plan.tensors.size(), std::numeric_limits<double>::quiet_NaN());
  std::vector<TensorResult> results(plan.tensors.size());
  const ScanKernels& kern = scan_kernels(best_isa());
  // Tensors are handed out largest first, so one big tensor does not start last.
  std::vector<size_t> order(plan.tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return plan.tensors[a].rows.size() * plan.tensors[a].row_len > plan.tensors[b].rows.size() * plan.tensors[b].row_len;
  });
  // Default: four readers per core, at most eight (a cold read waits on the disk, not a core).
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int threads = plan.threads > 0 ? plan.threads : std::min(8, 4 * hw);
  threads = static_cast<int>(std::min<size_t>(static_cast<size_t>(std::max(1, threads)), std::max<size_t>(1, order.size())));
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex error_mutex;
  size_t error_at = SIZE_MAX;  // the failing tensor of lowest index wins: the same error every run
  std::exception_ptr error;
  run_on_threads(threads, [&] {
    std::vector<uint8_t> buf;
    std::vector<float> row, r;
    while (!stop.load()) {
      const size_t n = next.fetch_add(1);
      if (n >= order.size()) break;
      const size_t ti = order[n];
      const auto& t = plan.tensors[ti];
      try {
        switch (t.layout) {
          case RowLayout::Dense:
            read_dense(kern, *files[t.file], t, plan.coalesce_bytes, out.values.data() + at[ti], &results[ti], buf, row, r);
            break;
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (ti < error_at) {
          error_at = ti;
          error = std::current_exception();
        }
        stop.store(true);
      }
    }
  }, [&] { stop.store(true); });
  if (error) std::rethrow_exception(error);
  for (size_t ti = 0; ti < results.size(); ++ti) {
    for (int k = 0; k < 4; ++k) out.moments[4 * ti + k] = results[ti].moments[k];
    out.fake_sq[ti] = results[ti].fake_sq;
    out.fake_whole_sq[ti] = results[ti].fake_whole_sq;
    out.bytes_read += results[ti].bytes;
    out.reads += results[ti].reads;
  }
  out.threads = threads;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return out;
}

}  // namespace np
