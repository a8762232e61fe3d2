// See fingerprint.h. Reads are positional (pread through FileReader) and single-threaded: a
// fingerprint is a few MB of rows, so the cost is the number of reads, which coalescing bounds.
#include "core/fingerprint.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "core/error.h"
#include "core/file_reader.h"

namespace np {
namespace {

// Converts n elements of `dtype` at `src` to float32 (exact for F32/F16/BF16; F64 rounded,
// as the scan does).
void convert_row(const uint8_t* src, DType dtype, uint64_t n, float* dst) {
  switch (dtype) {
    case DType::F32:
      std::memcpy(dst, src, n * 4);
      return;
    case DType::F16:
      for (uint64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = f16_to_float(h);
      }
      return;
    case DType::BF16:
      for (uint64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = bf16_to_float(h);
      }
      return;
    case DType::F64:
      for (uint64_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, src + 8 * i, 8);
        dst[i] = static_cast<float>(d);
      }
      return;
  }
}

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

// Dense row-major layout: row r is row_len elements at offset + r·row_len·size.
void read_dense(const FileReader& f, const FingerprintTensor& t, uint64_t coalesce, float* kept, double* mom,
                uint64_t* bytes, uint64_t* reads) {
  const uint64_t esz = dtype_size(t.dtype);
  const uint64_t row_bytes = t.row_len * esz;
  const uint64_t nc = cols_per_row(t);
  std::vector<uint8_t> buf;
  std::vector<float> row(t.row_len);
  double s1 = 0, s2 = 0, s3 = 0, s4 = 0;
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
    *bytes += span;
    *reads += 1;
    for (size_t k = i; k < j; ++k) {
      convert_row(buf.data() + (t.rows[k] - first) * row_bytes, t.dtype, t.row_len, row.data());
      for (uint64_t e = 0; e < t.row_len; ++e) {
        const double v = row[e];
        const double v2 = v * v;
        s1 += v;
        s2 += v2;
        s3 += v2 * v;
        s4 += v2 * v2;
      }
      float* out = kept + k * nc;
      const uint64_t* cols = t.cols.data() + (t.cols_per_row ? k * nc : 0);
      for (size_t c = 0; c < nc; ++c) out[c] = row[cols[c]];
    }
    i = j;
  }
  mom[0] = s1;
  mom[1] = s2;
  mom[2] = s3;
  mom[3] = s4;
}

}  // namespace

FingerprintOutput read_fingerprint(const FingerprintPlan& plan) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<FileReader>> files;
  files.reserve(plan.files.size());
  for (const auto& p : plan.files) files.push_back(std::make_unique<FileReader>(p));
  // Validate everything first: a plan from a header that lies about sizes must fail before
  // any allocation sized by it.
  uint64_t total_kept = 0;
  for (const auto& t : plan.tensors) {
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
    total_kept += t.rows.size() * cols_per_row(t);
  }
  FingerprintOutput out;
  out.values.resize(total_kept);
  out.moments.assign(plan.tensors.size() * 4, 0.0);
  uint64_t at = 0;
  for (size_t ti = 0; ti < plan.tensors.size(); ++ti) {
    const auto& t = plan.tensors[ti];
    switch (t.layout) {
      case RowLayout::Dense:
        read_dense(*files[t.file], t, plan.coalesce_bytes, out.values.data() + at, out.moments.data() + 4 * ti,
                   &out.bytes_read, &out.reads);
        break;
    }
    at += t.rows.size() * cols_per_row(t);
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return out;
}

}  // namespace np
