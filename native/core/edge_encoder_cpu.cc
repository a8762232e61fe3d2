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
