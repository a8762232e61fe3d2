#include "core/edge_plan.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <mutex>

#include "core/error.h"
#include "core/thread_pool.h"

namespace np {
namespace {

void to_float(DType type, const unsigned char* src, float* dst, size_t n) {
  switch (type) {
    case DType::F32: std::memcpy(dst, src, n * 4); return;
    case DType::F16: for (size_t i = 0; i < n; ++i) dst[i] = f16_to_float(load_u16(src + 2 * i)); return;
    case DType::BF16: for (size_t i = 0; i < n; ++i) dst[i] = bf16_to_float(load_u16(src + 2 * i)); return;
    case DType::F64:
      for (size_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, src + 8 * i, 8);
        dst[i] = static_cast<float>(d);
      }
      return;
  }
}

}  // namespace

void validate_edge_plan(const EdgePlan& plan) {
  const EdgeEncoderWeights& w = plan.weights;
  if (w.channels < 1 || w.channels > 256) throw Error(ErrorCode::InvalidArgument, "edge encoder: channels must be in 1..256");
  const size_t c = static_cast<size_t>(w.channels);
  if (w.w1.size() != c * 2 || w.b1.size() != c || w.w2.size() != 9 * c * kEdgeLatent || w.b2.size() != kEdgeLatent)
    throw Error(ErrorCode::InvalidArgument, "edge encoder: weight sizes do not match channels");
  for (const EdgeTensor& t : plan.tensors) {
    if (t.rows == 0 || t.cols == 0) throw Error(ErrorCode::InvalidArgument, "edge encoder: empty tensor", {}, t.name);
    if (t.cols > (1ull << 28)) throw Error(ErrorCode::InvalidArgument, "edge encoder: row too long", {}, t.name);
    for (const EdgeSource& s : t.sources)
      if (s.file >= plan.files.size()) throw Error(ErrorCode::InvalidArgument, "edge encoder: file index out of range", {}, t.name);
  }
  for (const EdgePair& p : plan.pairs) {
    if (p.tensor >= plan.tensors.size()) throw Error(ErrorCode::InvalidArgument, "edge encoder: pair names a missing tensor");
    const EdgeTensor& t = plan.tensors[p.tensor];
    if (p.a >= t.sources.size() || p.b >= t.sources.size())
      throw Error(ErrorCode::InvalidArgument, "edge encoder: pair slot out of range", {}, t.name);
    if (!(p.scale > 0.0f) || !std::isfinite(p.scale))
      throw Error(ErrorCode::InvalidArgument, "edge encoder: scale must be positive and finite", {}, t.name);
  }
}

EdgeSchedule schedule_edge_plan(const EdgePlan& plan) {
  EdgeSchedule s;
  s.pairs.resize(plan.tensors.size());
  s.slots.resize(plan.tensors.size());
  for (uint32_t p = 0; p < plan.pairs.size(); ++p) {
    const uint32_t t = plan.pairs[p].tensor;
    s.pairs[t].push_back(p);
    s.slots[t].push_back(plan.pairs[p].a);
    s.slots[t].push_back(plan.pairs[p].b);
  }
  for (uint32_t ti = 0; ti < plan.tensors.size(); ++ti) {
    std::vector<uint32_t>& slots = s.slots[ti];
    if (s.pairs[ti].empty()) continue;
    std::sort(slots.begin(), slots.end());
    slots.erase(std::unique(slots.begin(), slots.end()), slots.end());
    const EdgeTensor& t = plan.tensors[ti];
    const uint64_t rows_per = std::max<uint64_t>(1, plan.chunk_elems / t.cols);
    for (uint64_t r0 = 0; r0 < t.rows; r0 += rows_per) {
      const uint64_t n = std::min(rows_per, t.rows - r0);
      const uint64_t lo = r0 > 0 ? r0 - 1 : 0, hi = std::min(t.rows, r0 + n + 1);
      uint64_t bytes = 0;
      for (uint32_t slot : slots) bytes += (hi - lo) * t.cols * dtype_size(t.sources[slot].dtype);
      s.chunks.push_back({ti, r0, n, bytes});
      s.total_bytes += bytes;
    }
  }
  return s;
}

std::vector<std::unique_ptr<FileReader>> open_edge_files(const EdgePlan& plan, const EdgeSchedule& schedule) {
  // Every file is opened once, up front: a candidate set touches few files, and a missing
  // one should fail before any work.
  std::vector<bool> used(plan.files.size(), false);
  for (uint32_t ti = 0; ti < plan.tensors.size(); ++ti)
    for (uint32_t s : schedule.slots[ti]) used[plan.tensors[ti].sources[s].file] = true;
  std::vector<std::unique_ptr<FileReader>> files;
  for (size_t f = 0; f < plan.files.size(); ++f) files.emplace_back(used[f] ? new FileReader(plan.files[f]) : nullptr);
  for (uint32_t ti = 0; ti < plan.tensors.size(); ++ti) {
    const EdgeTensor& t = plan.tensors[ti];
    for (uint32_t s : schedule.slots[ti]) {
      const EdgeSource& src = t.sources[s];
      const uint64_t end = src.offset + t.rows * t.cols * dtype_size(src.dtype);
      if (end > files[src.file]->size())
        throw Error(ErrorCode::InvalidArgument, "edge encoder: tensor runs past the end of its file", plan.files[src.file], t.name);
    }
  }
  return files;
}

size_t edge_chunk_floats(const EdgePlan& plan, const EdgeSchedule& schedule, const EdgeChunk& chunk) {
  return schedule.slots[chunk.tensor].size() * static_cast<size_t>(chunk.rows + 2) * static_cast<size_t>(plan.tensors[chunk.tensor].cols);
}

void read_edge_chunk(const EdgePlan& plan, const EdgeSchedule& schedule, const std::vector<std::unique_ptr<FileReader>>& files,
                     const EdgeChunk& chunk, std::vector<unsigned char>& raw, std::vector<float>& x) {
  x.resize(edge_chunk_floats(plan, schedule, chunk));
  read_edge_chunk_to(plan, schedule, files, chunk, raw, x.data());
}

void read_edge_chunk_to(const EdgePlan& plan, const EdgeSchedule& schedule, const std::vector<std::unique_ptr<FileReader>>& files,
                        const EdgeChunk& chunk, std::vector<unsigned char>& raw, float* x) {
  const EdgeTensor& t = plan.tensors[chunk.tensor];
  const std::vector<uint32_t>& slots = schedule.slots[chunk.tensor];
  const uint64_t lo = chunk.row0 > 0 ? chunk.row0 - 1 : 0, hi = std::min(t.rows, chunk.row0 + chunk.rows + 1);
  const size_t rows_in = static_cast<size_t>(chunk.rows + 2), cols = static_cast<size_t>(t.cols);
  std::fill(x, x + edge_chunk_floats(plan, schedule, chunk), 0.0f);
  for (size_t si = 0; si < slots.size(); ++si) {
    const EdgeSource& src = t.sources[slots[si]];
    const size_t es = dtype_size(src.dtype);
    const size_t n = static_cast<size_t>((hi - lo) * t.cols);
    raw.resize(n * es);
    files[src.file]->read_at(src.offset + lo * t.cols * es, raw.data(), n * es);
    // At the top of the matrix there is no halo row to read: row `lo` goes to buffer row 1.
    float* dst = x + si * rows_in * cols + (chunk.row0 == 0 ? cols : 0);
    to_float(src.dtype, raw.data(), dst, n);
  }
}

void read_edge_chunk_parallel(const EdgePlan& plan, const EdgeSchedule& schedule,
                              const std::vector<std::unique_ptr<FileReader>>& files, const EdgeChunk& chunk, float* x,
                              int threads) {
  const EdgeTensor& t = plan.tensors[chunk.tensor];
  const std::vector<uint32_t>& slots = schedule.slots[chunk.tensor];
  const uint64_t lo = chunk.row0 > 0 ? chunk.row0 - 1 : 0, hi = std::min(t.rows, chunk.row0 + chunk.rows + 1);
  const size_t rows_in = static_cast<size_t>(chunk.rows + 2), cols = static_cast<size_t>(t.cols);
  const size_t top = chunk.row0 == 0 ? 1 : 0;  // buffer row of matrix row `lo`
  const size_t read_rows = static_cast<size_t>(hi - lo);
  struct Piece {
    size_t slot;
    uint64_t r0, r1;  // matrix rows
  };
  std::vector<Piece> pieces;
  const uint64_t step = std::max<uint64_t>(1, (uint64_t{1} << 20) / std::max<uint64_t>(1, t.cols));
  for (size_t si = 0; si < slots.size(); ++si) {
    float* plane = x + si * rows_in * cols;
    // Buffer rows no read covers are the zero padding above and below the matrix.
    std::fill(plane, plane + top * cols, 0.0f);
    std::fill(plane + (top + read_rows) * cols, plane + rows_in * cols, 0.0f);
    for (uint64_t r = lo; r < hi; r += step) pieces.push_back(Piece{si, r, std::min(hi, r + step)});
  }
  std::atomic<size_t> next{0};
  std::mutex error_mutex;
  std::exception_ptr error;
  const int n = static_cast<int>(std::min<size_t>(static_cast<size_t>(std::max(1, threads)), std::max<size_t>(1, pieces.size())));
  run_on_threads(
      n,
      [&] {
        std::vector<unsigned char> raw;
        for (size_t i = next++; i < pieces.size(); i = next++) {
          try {
            const Piece& pc = pieces[i];
            const EdgeSource& src = t.sources[slots[pc.slot]];
            const size_t es = dtype_size(src.dtype);
            const size_t count = static_cast<size_t>((pc.r1 - pc.r0) * t.cols);
            raw.resize(count * es);
            files[src.file]->read_at(src.offset + pc.r0 * t.cols * es, raw.data(), count * es);
            to_float(src.dtype, raw.data(), x + pc.slot * rows_in * cols + (top + static_cast<size_t>(pc.r0 - lo)) * cols, count);
          } catch (...) {
            std::lock_guard<std::mutex> lock(error_mutex);
            if (!error) error = std::current_exception();
            next = pieces.size();
          }
        }
      },
      [&] { next = pieces.size(); });
  if (error) std::rethrow_exception(error);
}

}  // namespace np
