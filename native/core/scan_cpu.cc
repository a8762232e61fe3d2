#include "core/scan_cpu.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "core/file_reader.h"
#include "core/scan_kernels.h"
#include "core/thread_pool.h"

namespace np {
namespace {

// A contiguous run of whole blocks of one group, read and computed by one thread.
struct WorkItem {
  uint32_t group;
  uint64_t start;  // first element (a multiple of kBlockElems)
  uint64_t len;    // elements
  uint64_t bytes;  // model bytes read for it
};

// Opens files on first use and keeps at most `capacity` open, so a scan over thousands of
// shards stays under the process's descriptor limit. Readers in use stay alive (shared_ptr).
class FileCache {
 public:
  FileCache(const std::vector<std::string>& paths, size_t capacity)
      : paths_(paths), slots_(paths.size()), last_use_(paths.size(), 0), capacity_(capacity) {}

  std::shared_ptr<FileReader> get(uint32_t index) {
    std::lock_guard<std::mutex> lock(mutex_);
    last_use_[index] = ++tick_;
    if (slots_[index]) return slots_[index];
    if (open_ >= capacity_) evict_one();
    slots_[index] = std::make_shared<FileReader>(paths_[index]);
    ++open_;
    return slots_[index];
  }

 private:
  void evict_one() {
    size_t victim = slots_.size();
    for (size_t i = 0; i < slots_.size(); ++i)
      if (slots_[i] && (victim == slots_.size() || last_use_[i] < last_use_[victim])) victim = i;
    if (victim < slots_.size()) {
      slots_[victim].reset();
      --open_;
    }
  }

  const std::vector<std::string>& paths_;
  std::vector<std::shared_ptr<FileReader>> slots_;
  std::vector<uint64_t> last_use_;
  size_t capacity_;
  size_t open_ = 0;
  uint64_t tick_ = 0;
  std::mutex mutex_;
};

// Adds each item's per-block sums into the group totals strictly in item order (and so in
// block order), whatever order the threads finish in. A thread may run at most `window`
// items ahead of the reduction, which bounds the memory held by finished, waiting items.
class OrderedReducer {
 public:
  OrderedReducer(size_t window, std::function<void(uint64_t, const std::vector<double>&)> apply)
      : window_(window), apply_(std::move(apply)) {}

  // Blocks until item `seq` may start; returns false if the scan was stopped meanwhile.
  bool wait_turn(uint64_t seq, const std::atomic<bool>& stop) {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return seq < next_ + window_ || stop.load(); });
    return !stop.load();
  }

  // Hands over an item's block sums; returns a spent buffer for the caller to reuse (so
  // steady state allocates nothing and touches no fresh pages).
  std::vector<double> submit(uint64_t seq, std::vector<double>&& partials) {
    std::unique_lock<std::mutex> lock(mutex_);
    pending_.emplace(seq, std::move(partials));
    while (!pending_.empty() && pending_.begin()->first == next_) {
      apply_(next_, pending_.begin()->second);
      spare_.push_back(std::move(pending_.begin()->second));
      pending_.erase(pending_.begin());
      ++next_;
    }
    cv_.notify_all();
    std::vector<double> reuse;
    if (!spare_.empty()) {
      reuse = std::move(spare_.back());
      spare_.pop_back();
    }
    return reuse;
  }

  void wake_all() {
    std::lock_guard<std::mutex> lock(mutex_);
    cv_.notify_all();
  }

 private:
  size_t window_;
  std::function<void(uint64_t, const std::vector<double>&)> apply_;
  std::mutex mutex_;
  std::condition_variable cv_;
  uint64_t next_ = 0;
  std::map<uint64_t, std::vector<double>> pending_;
  std::vector<std::vector<double>> spare_;
};

size_t block_stride(size_t k) { return static_cast<size_t>(group_output_size(k)); }

void validate_plan(const ScanPlan& plan) {
  for (const ScanGroup& g : plan.groups) {
    if (g.members.empty()) throw Error(ErrorCode::InvalidArgument, "scan plan: tensor '" + g.name + "' has no models");
    for (const ScanMember& m : g.members)
      if (m.file >= plan.files.size())
        throw Error(ErrorCode::InvalidArgument, "scan plan: tensor '" + g.name + "' refers to a missing file index");
  }
  if (plan.chunk_bytes == 0) throw Error(ErrorCode::InvalidArgument, "scan plan: chunk size must be positive");
}

std::vector<WorkItem> make_items(const ScanPlan& plan) {
  std::vector<WorkItem> items;
  for (uint32_t g = 0; g < plan.groups.size(); ++g) {
    const ScanGroup& group = plan.groups[g];
    uint64_t bytes_per_elem = 0;
    for (const ScanMember& m : group.members) bytes_per_elem += dtype_size(m.dtype);
    uint64_t chunk = plan.chunk_bytes / bytes_per_elem / kBlockElems * kBlockElems;
    if (chunk == 0) chunk = kBlockElems;
    for (uint64_t s = 0; s < group.count; s += chunk) {
      uint64_t len = std::min<uint64_t>(chunk, group.count - s);
      items.push_back(WorkItem{g, s, len, len * bytes_per_elem});
    }
  }
  return items;
}

// Raw bytes read for one item. Not a std::vector: its resize would zero-fill every fresh
// page only for pread to overwrite it (a memset plus page faults that showed in profiles).
class RawBuffer {
 public:
  unsigned char* data() { return data_.get(); }
  void reserve(size_t n) {
    if (n <= size_) return;
    data_.reset(new unsigned char[n]);  // default-initialised: no fill
    size_ = n;
  }

 private:
  std::unique_ptr<unsigned char[]> data_;
  size_t size_ = 0;
};

// Per-thread scratch, allocated once per thread and grown to the largest item.
struct Scratch {
  RawBuffer raw;
  std::vector<float> r;
  std::vector<double> kernel;
  std::vector<const unsigned char*> src;
  std::vector<DType> dtypes;
};

void compute_item(const ScanPlan& plan, const ScanKernels& kern, const WorkItem& item, Scratch& s,
                  const std::vector<size_t>& member_offsets, std::vector<double>& partials) {
  const ScanGroup& g = plan.groups[item.group];
  const size_t k = g.members.size();
  const size_t stride = block_stride(k);
  if (plan.mode == ScanMode::ReadSum) {
    partials.assign(stride, 0.0);
    for (size_t m = 0; m < k; ++m)
      partials[m * kNumStats + kSum] = kern.sum(g.members[m].dtype, s.raw.data() + member_offsets[m], item.len);
    return;
  }
  const size_t nblocks = (item.len + kBlockElems - 1) / kBlockElems;
  // No zero fill: the block kernel writes every entry that apply() reads (the moments and
  // the Gram's upper triangle), and the reducer sizes its loop by partials.size().
  partials.resize(nblocks * stride);
  s.r.resize(kBlockElems);
  s.kernel.resize(kern.block_scratch(k));
  s.src.resize(k);
  s.dtypes.resize(k);
  for (size_t m = 0; m < k; ++m) s.dtypes[m] = g.members[m].dtype;
  for (size_t b = 0; b < nblocks; ++b) {
    const uint64_t first = b * kBlockElems;  // relative to the item
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kBlockElems, item.len - first));
    for (size_t m = 0; m < k; ++m) s.src[m] = s.raw.data() + member_offsets[m] + first * dtype_size(s.dtypes[m]);
    kern.fake_init(g.fake, item.start + first, s.r.data(), n);
    BlockArgs args{k, n, s.src.data(), s.dtypes.data(), s.r.data(), s.kernel.data()};
    kern.block(args, partials.data() + b * stride);
  }
}

}  // namespace

ScanOutput scan_cpu(const ScanPlan& plan, const ScanControl& control) {
  validate_plan(plan);
  const ScanKernels& kern = scan_kernels(plan.isa);
  ScanOutput out;
  out.isa = kern.isa;
  out.offsets.reserve(plan.groups.size());
  uint64_t total_values = 0;
  for (const ScanGroup& g : plan.groups) {
    out.offsets.push_back(total_values);
    total_values += group_output_size(g.members.size());
  }
  out.values.assign(total_values, 0.0);

  const std::vector<WorkItem> items = make_items(plan);
  uint64_t total_bytes = 0;
  for (const WorkItem& it : items) total_bytes += it.bytes;

  int threads = plan.threads > 0 ? plan.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = static_cast<int>(std::min<size_t>(static_cast<size_t>(threads), std::max<size_t>(1, items.size())));
  out.threads = threads;

  FileCache files(plan.files, 256);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> next_item{0};
  std::atomic<uint64_t> bytes_done{0};
  std::mutex error_mutex;
  std::exception_ptr first_error;

  // Adds one finished item's block sums into its group's totals, block by block.
  auto apply = [&](uint64_t seq, const std::vector<double>& partials) {
    const WorkItem& item = items[seq];
    const size_t k = plan.groups[item.group].members.size();
    const size_t stride = block_stride(k);
    double* total = out.values.data() + out.offsets[item.group];
    for (size_t base = 0; base + stride <= partials.size(); base += stride) {
      const double* p = partials.data() + base;
      for (size_t i = 0; i < k * kNumStats; ++i) total[i] += p[i];
      const double* pg = p + k * kNumStats;
      double* tg = total + k * kNumStats;
      for (size_t a = 0; a < k; ++a)
        for (size_t b = a; b < k; ++b) tg[a * k + b] += pg[a * k + b];
    }
  };
  OrderedReducer reducer(static_cast<size_t>(threads) * 2, apply);

  auto cancelled = [&] { return control.cancel && control.cancel->load(); };
  auto cancel_error = [&] {
    return Error(ErrorCode::Aborted, "scan cancelled after " + std::to_string(bytes_done.load()) + " of " +
                                         std::to_string(total_bytes) + " bytes");
  };

  auto worker = [&]() {
    Scratch scratch;
    std::vector<double> partials;
    std::vector<size_t> member_offsets;
    try {
      for (;;) {
        const uint64_t seq = next_item.fetch_add(1);
        if (seq >= items.size()) break;
        if (!reducer.wait_turn(seq, stop)) break;
        if (cancelled()) throw cancel_error();
        const WorkItem& item = items[seq];
        const ScanGroup& g = plan.groups[item.group];
        member_offsets.resize(g.members.size());
        size_t need = 0;
        for (size_t m = 0; m < g.members.size(); ++m) {
          member_offsets[m] = need;
          need += static_cast<size_t>(item.len * dtype_size(g.members[m].dtype));
        }
        scratch.raw.reserve(need);
        for (size_t m = 0; m < g.members.size(); ++m) {
          const ScanMember& mem = g.members[m];
          const size_t esize = dtype_size(mem.dtype);
          std::shared_ptr<FileReader> reader = files.get(mem.file);
          reader->read_at(mem.offset + item.start * esize, scratch.raw.data() + member_offsets[m], item.len * esize);
        }
        compute_item(plan, kern, item, scratch, member_offsets, partials);
        if (cancelled()) throw cancel_error();
        partials = reducer.submit(seq, std::move(partials));
        const uint64_t done = bytes_done.fetch_add(item.bytes) + item.bytes;
        if (control.progress) control.progress(done, total_bytes);
      }
    } catch (const std::bad_alloc&) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!first_error) first_error = std::make_exception_ptr(Error(ErrorCode::OutOfMemory, "scan: out of memory"));
      stop.store(true);
      reducer.wake_all();
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!first_error) first_error = std::current_exception();
      stop.store(true);
      reducer.wake_all();
    }
  };

  run_on_threads(threads, worker, [&] {
    stop.store(true);
    reducer.wake_all();
  });
  if (first_error) std::rethrow_exception(first_error);
  if (cancelled()) throw cancel_error();

  // Mirror the upper triangle of each Gram matrix.
  for (size_t gi = 0; gi < plan.groups.size(); ++gi) {
    const size_t k = plan.groups[gi].members.size();
    double* gram = out.values.data() + out.offsets[gi] + k * kNumStats;
    for (size_t a = 0; a < k; ++a)
      for (size_t b = 0; b < a; ++b) gram[a * k + b] = gram[b * k + a];
  }
  out.bytes = total_bytes;
  return out;
}

}  // namespace np
