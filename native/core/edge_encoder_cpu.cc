#include "core/edge_encoder_cpu.h"
#include "core/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "core/error.h"

namespace np {
namespace {

// Chunk sums are added strictly in chunk order, whatever order the threads finish in, and a
// thread runs at most `window` chunks ahead, which bounds the memory of waiting results.
class OrderedSums {
 public:
  OrderedSums(size_t window, std::vector<double>* totals, const EdgeSchedule* schedule)
      : window_(window), totals_(totals), schedule_(schedule) {}

  void wait_turn(size_t item, const std::atomic<bool>* cancel) {
    std::unique_lock<std::mutex> lock(mutex_);
    // Cancellation sets a flag without notifying, so the wait polls it.
    while (!(item < next_ + window_ || failed_ || (cancel && cancel->load())))
      cv_.wait_for(lock, std::chrono::milliseconds(20));
  }

  void put(size_t item, std::vector<double> sums) {
    std::lock_guard<std::mutex> lock(mutex_);
    waiting_.emplace(item, std::move(sums));
    while (!waiting_.empty() && waiting_.begin()->first == next_) {
      const std::vector<uint32_t>& pairs = schedule_->pairs[schedule_->chunks[next_].tensor];
      const std::vector<double>& s = waiting_.begin()->second;
      for (size_t p = 0; p < pairs.size(); ++p)
        for (int o = 0; o < kEdgeLatent; ++o) (*totals_)[pairs[p] * kEdgeLatent + o] += s[p * kEdgeLatent + o];
      waiting_.erase(waiting_.begin());
      ++next_;
    }
    cv_.notify_all();
  }

  void fail() {
    std::lock_guard<std::mutex> lock(mutex_);
    failed_ = true;
    cv_.notify_all();
  }

 private:
  size_t window_;
  std::vector<double>* totals_;
  const EdgeSchedule* schedule_;
  std::map<size_t, std::vector<double>> waiting_;
  size_t next_ = 0;
  bool failed_ = false;
  std::mutex mutex_;
  std::condition_variable cv_;
};

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

// The 1x1 stage into h for one pair: zero wherever the matrix is not (halo rows and columns).
void stage_one(const EdgeEncoderWeights& wt, const float* xa, const float* xb, size_t rows_in, size_t cols,
               bool top_pad, bool bottom_pad, float inv_scale, size_t stride, float* h) {
  const size_t c = static_cast<size_t>(wt.channels);
  const size_t plane = rows_in * stride;
  std::fill(h, h + c * plane, 0.0f);
  for (size_t k = 0; k < c; ++k) {
    const float wa = wt.w1[k] * inv_scale, wb = wt.w1[c + k] * inv_scale, b = wt.b1[k];
    for (size_t r = 0; r < rows_in; ++r) {
      if ((r == 0 && top_pad) || (r + 1 == rows_in && bottom_pad)) continue;
      const float* pa = xa + r * cols;
      const float* pb = xb + r * cols;
      float* out = h + k * plane + r * stride + 1;
      for (size_t j = 0; j < cols; ++j) out[j] = std::max(0.0f, wa * pa[j] + wb * pb[j] + b);
    }
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

EdgeOutput edge_encode_cpu(const EdgePlan& plan, const ScanControl& control) {
  validate_edge_plan(plan);
  const EdgeKernels& kern = edge_kernels(plan.isa);
  EdgeOutput out;
  out.isa = kern.isa;
  out.values.assign(plan.pairs.size() * kEdgeLatent, 0.0);
  const EdgeSchedule schedule = schedule_edge_plan(plan);
  const std::vector<std::unique_ptr<FileReader>> files = open_edge_files(plan, schedule);

  int threads = plan.threads > 0 ? plan.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = static_cast<int>(std::min<size_t>(static_cast<size_t>(threads), std::max<size_t>(1, schedule.chunks.size())));
  out.threads = threads;
  const size_t c = static_cast<size_t>(plan.weights.channels);
  // w2 from [3][3][c][32] to [c][9][32], the order the kernels read.
  std::vector<float> w2(9 * c * kEdgeLatent);
  for (size_t tap = 0; tap < 9; ++tap)
    for (size_t k = 0; k < c; ++k)
      for (int o = 0; o < kEdgeLatent; ++o) w2[(k * 9 + tap) * kEdgeLatent + o] = plan.weights.w2[(tap * c + k) * kEdgeLatent + o];

  OrderedSums reducer(static_cast<size_t>(threads) * 2, &out.values, &schedule);
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> done_bytes{0};
  std::mutex error_mutex;
  std::exception_ptr error;
  auto failed = [&] {
    std::lock_guard<std::mutex> lock(error_mutex);
    return static_cast<bool>(error);
  };

  auto worker = [&]() {
    std::vector<unsigned char> raw;
    std::vector<float> x, h;
    try {
      for (;;) {
        if (control.cancel && control.cancel->load()) return;
        const size_t idx = next.fetch_add(1);
        if (idx >= schedule.chunks.size()) return;
        reducer.wait_turn(idx, control.cancel);
        if (failed() || (control.cancel && control.cancel->load())) return;
        const EdgeChunk& ch = schedule.chunks[idx];
        const EdgeTensor& t = plan.tensors[ch.tensor];
        const std::vector<uint32_t>& slots = schedule.slots[ch.tensor];
        const std::vector<uint32_t>& pairs = schedule.pairs[ch.tensor];
        read_edge_chunk(plan, schedule, files, ch, raw, x);
        const size_t rows_in = static_cast<size_t>(ch.rows + 2), cols = static_cast<size_t>(t.cols);
        const bool top_pad = ch.row0 == 0, bottom_pad = ch.row0 + ch.rows == t.rows;
        const size_t stride = (cols + kern.col_step - 1) / kern.col_step * kern.col_step + 2;
        h.resize(c * rows_in * stride);
        std::vector<double> sums(pairs.size() * kEdgeLatent, 0.0);
        for (size_t pi = 0; pi < pairs.size(); ++pi) {
          const EdgePair& p = plan.pairs[pairs[pi]];
          const size_t sa = std::lower_bound(slots.begin(), slots.end(), p.a) - slots.begin();
          const size_t sb = std::lower_bound(slots.begin(), slots.end(), p.b) - slots.begin();
          stage_one(plan.weights, x.data() + sa * rows_in * cols, x.data() + sb * rows_in * cols, rows_in, cols, top_pad,
                    bottom_pad, 1.0f / p.scale, stride, h.data());
          EdgeConvArgs args{h.data(), c, static_cast<size_t>(ch.rows), cols, stride, w2.data(), plan.weights.b2.data(),
                            sums.data() + pi * kEdgeLatent};
          kern.conv(args);
        }
        reducer.put(idx, std::move(sums));
        const uint64_t d = done_bytes.fetch_add(ch.bytes) + ch.bytes;
        if (control.progress) control.progress(d, schedule.total_bytes);
      }
    } catch (...) {
      {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
      }
      reducer.fail();
    }
  };

  run_on_threads(threads, worker, [&] { reducer.fail(); });
  if (error) std::rethrow_exception(error);
  if (control.cancel && control.cancel->load()) throw Error(ErrorCode::Aborted, "edge encoding cancelled");
  for (size_t p = 0; p < plan.pairs.size(); ++p) {
    const EdgeTensor& t = plan.tensors[plan.pairs[p].tensor];
    const double n = static_cast<double>(t.rows) * static_cast<double>(t.cols);
    for (int o = 0; o < kEdgeLatent; ++o) out.values[p * kEdgeLatent + o] /= n;
  }
  out.bytes = schedule.total_bytes;
  return out;
}

}  // namespace np
