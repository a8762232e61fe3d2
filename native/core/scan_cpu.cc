#include "core/scan_cpu.h"

#include <algorithm>
#include <cstdint>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "core/file_cache.h"
#include "core/scan_gguf.h"
#include "core/scan_lora.h"
#include "core/scan_packed.h"
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

// A group with LoRA members is widened to float32 as it is read: the LoRA rows are formed
// from float32 base values, and with one dtype for every member the block kernel takes its
// fused pass (a BF16 base beside float32 adapters would take the slower separate conversion).
// Exact: every element is converted through float32 anyway.
bool widened(const ScanGroup& g) {
  for (const ScanMember& m : g.members)
    if (m.is_lora()) return true;
  return false;
}

std::vector<WorkItem> make_items(const ScanPlan& plan) {
  std::vector<WorkItem> items;
  for (uint32_t g = 0; g < plan.groups.size(); ++g) {
    const ScanGroup& group = plan.groups[g];
    // Items are sized by the bytes held in memory (a GGUF member's floats after dequantizing);
    // progress counts the bytes read from the files.
    uint64_t bytes_per_elem = 0;
    const bool wide = widened(group);
    for (const ScanMember& m : group.members) bytes_per_elem += wide ? 4 : dtype_size(m.dtype);
    // Bytes an earlier member already reads (an adapter's unchanged tensor) are read once.
    const double file_bytes_per_elem = group_file_bytes_per_elem(group);
    uint64_t chunk = plan.chunk_bytes / bytes_per_elem / kBlockElems * kBlockElems;
    if (chunk == 0) chunk = kBlockElems;
    for (uint64_t s = 0; s < group.count; s += chunk) {
      uint64_t len = std::min<uint64_t>(chunk, group.count - s);
      items.push_back(WorkItem{g, s, len, static_cast<uint64_t>(static_cast<double>(len) * file_bytes_per_elem + 0.5)});
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
  std::vector<DType> dtypes;  // per member: the dtype of its bytes in `raw` (read_item)
  RawBuffer stage;            // a member's bytes before widening (groups with LoRA members)
  GgufScratch gguf;
  LoraScratch lora;
  PackedScratch packed;
  std::vector<size_t> same;  // per member: the earlier member with the same bytes, or SIZE_MAX
};

void compute_item(const ScanPlan& plan, const ScanKernels& kern, const WorkItem& item, Scratch& s,
                  const std::vector<size_t>& member_offsets, std::vector<double>& partials) {
  const ScanGroup& g = plan.groups[item.group];
  const size_t k = g.members.size();
  const size_t stride = block_stride(k);
  if (plan.mode == ScanMode::ReadSum) {
    partials.assign(stride, 0.0);
    for (size_t m = 0; m < k; ++m)
      partials[m * kNumStats + kSum] = kern.sum(s.dtypes[m], s.raw.data() + member_offsets[m], item.len);
    return;
  }
  const size_t nblocks = (item.len + kBlockElems - 1) / kBlockElems;
  // No zero fill: the block kernel writes every entry that apply() reads (the moments and
  // the Gram's upper triangle), and the reducer sizes its loop by partials.size().
  partials.resize(nblocks * stride);
  s.r.resize(kBlockElems);
  s.kernel.resize(kern.block_scratch(k));
  s.src.resize(k);
  for (size_t b = 0; b < nblocks; ++b) {
    const uint64_t first = b * kBlockElems;  // relative to the item
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kBlockElems, item.len - first));
    for (size_t m = 0; m < k; ++m) s.src[m] = s.raw.data() + member_offsets[m] + first * dtype_size(s.dtypes[m]);
    kern.fake_init(g.fake, item.start + first, s.r.data(), n);
    BlockArgs args{k, n, s.src.data(), s.dtypes.data(), s.r.data(), s.kernel.data()};
    kern.block(args, partials.data() + b * stride);
  }
}

// One CPU scan, in phases: lay out the output and cut the work into items (constructor),
// read and compute items on worker threads, add each item's sums in item order, and finally
// mirror the Gram matrices.
class CpuScan {
 public:
  CpuScan(const ScanPlan& plan, const ScanControl& control)
      : plan_(plan), control_(control), kern_(scan_kernels(plan.isa)), files_(plan.files) {
    out_.isa = kern_.isa;
    init_scan_output(plan_, out_);
    items_ = make_items(plan_);
    for (const WorkItem& it : items_) total_bytes_ += it.bytes;
    out_.threads = thread_count();
  }

  ScanOutput run() {
    OrderedReducer reducer(static_cast<size_t>(out_.threads) * 2,
                           [this](uint64_t seq, const std::vector<double>& partials) { add_item_sums(seq, partials); });
    run_on_threads(out_.threads, [&] { work(reducer); }, [&] {
      stop_.store(true);
      reducer.wake_all();
    });
    if (first_error_) std::rethrow_exception(first_error_);
    if (cancelled()) throw cancel_error();
    mirror_gram(plan_, out_);
    out_.bytes = total_bytes_;
    return std::move(out_);
  }

 private:
  // All cores by default, never more threads than items.
  int thread_count() const {
    int threads = plan_.threads > 0 ? plan_.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    return static_cast<int>(std::min<size_t>(static_cast<size_t>(threads), std::max<size_t>(1, items_.size())));
  }

  bool cancelled() const { return control_.cancel && control_.cancel->load(); }
  Error cancel_error() const {
    return Error(ErrorCode::Aborted, "scan cancelled after " + std::to_string(bytes_done_.load()) + " of " +
                                         std::to_string(total_bytes_) + " bytes");
  }

  // Adds one finished item's block sums into its group's totals, block by block (the reducer
  // calls it in item order, so the sums do not depend on the threads).
  void add_item_sums(uint64_t seq, const std::vector<double>& partials) {
    const WorkItem& item = items_[seq];
    const size_t k = plan_.groups[item.group].members.size();
    const size_t stride = block_stride(k);
    double* total = out_.values.data() + out_.offsets[item.group];
    for (size_t base = 0; base + stride <= partials.size(); base += stride) {
      const double* p = partials.data() + base;
      for (size_t i = 0; i < k * kNumStats; ++i) total[i] += p[i];
      const double* pg = p + k * kNumStats;
      double* tg = total + k * kNumStats;
      for (size_t a = 0; a < k; ++a)
        for (size_t b = a; b < k; ++b) tg[a * k + b] += pg[a * k + b];
    }
  }

  // Reads every member's bytes of an item into the scratch buffer, member after member; a
  // member reading the same bytes as an earlier one (a PEFT adapter's unchanged tensor is its
  // base's) shares its buffer; LoRA members are formed last, from their base member's values
  // (the group widened to float32, see widened()).
  void read_item(const WorkItem& item, Scratch& scratch, std::vector<size_t>& member_offsets) {
    const ScanGroup& g = plan_.groups[item.group];
    const bool wide = widened(g);
    member_offsets.resize(g.members.size());
    scratch.same.assign(g.members.size(), SIZE_MAX);
    scratch.dtypes.resize(g.members.size());
    for (size_t m = 0; m < g.members.size(); ++m) scratch.dtypes[m] = wide ? DType::F32 : g.members[m].dtype;
    size_t need = 0;
    for (size_t m = 0; m < g.members.size(); ++m) {
      scratch.same[m] = same_bytes_as(g, m);
      if (scratch.same[m] != SIZE_MAX) {
        member_offsets[m] = member_offsets[scratch.same[m]];
        continue;
      }
      member_offsets[m] = need;
      need += static_cast<size_t>(item.len * dtype_size(scratch.dtypes[m]));
    }
    scratch.raw.reserve(need);
    for (size_t m = 0; m < g.members.size(); ++m) {
      const ScanMember& mem = g.members[m];
      if (mem.is_lora() || scratch.same[m] != SIZE_MAX) continue;
      const size_t esize = dtype_size(mem.dtype);
      std::shared_ptr<FileReader> reader = files_.get(mem.file);
      unsigned char* dst = scratch.raw.data() + member_offsets[m];
      if (mem.dequantized()) {
        read_gguf_range(mem, *reader, item.start, item.len, dst, scratch.gguf);
      } else if (mem.is_packed()) {
        read_packed_range(mem, files_, item.start, item.len, dst, scratch.packed, g.name);
      } else if (scratch.dtypes[m] != mem.dtype) {
        scratch.stage.reserve(item.len * esize);
        reader->read_at(mem.offset + item.start * esize, scratch.stage.data(), item.len * esize);
        kern_.to_f32(mem.dtype, scratch.stage.data(), reinterpret_cast<float*>(dst), item.len);
      } else {
        reader->read_at(mem.offset + item.start * esize, dst, item.len * esize);
      }
    }
    for (size_t m = 0; m < g.members.size(); ++m) {
      const ScanMember& mem = g.members[m];
      if (!mem.is_lora()) continue;
      form_lora_range(kern_, item.group, mem, files_,
                      reinterpret_cast<const float*>(scratch.raw.data() + member_offsets[mem.lora.base]), item.start,
                      item.len, reinterpret_cast<float*>(scratch.raw.data() + member_offsets[m]), scratch.lora);
    }
  }

  // A worker thread: takes items in order, reads and computes each, hands its sums to the
  // reducer. The first error stops every thread and is rethrown by run().
  void work(OrderedReducer& reducer) {
    Scratch scratch;
    std::vector<double> partials;
    std::vector<size_t> member_offsets;
    try {
      for (;;) {
        const uint64_t seq = next_item_.fetch_add(1);
        if (seq >= items_.size()) break;
        if (!reducer.wait_turn(seq, stop_)) break;
        if (cancelled()) throw cancel_error();
        const WorkItem& item = items_[seq];
        read_item(item, scratch, member_offsets);
        compute_item(plan_, kern_, item, scratch, member_offsets, partials);
        if (cancelled()) throw cancel_error();
        partials = reducer.submit(seq, std::move(partials));
        const uint64_t done = bytes_done_.fetch_add(item.bytes) + item.bytes;
        if (control_.progress) control_.progress(done, total_bytes_);
      }
    } catch (const std::bad_alloc&) {
      fail(std::make_exception_ptr(Error(ErrorCode::OutOfMemory, "scan: out of memory")), reducer);
    } catch (...) {
      fail(std::current_exception(), reducer);
    }
  }

  void fail(std::exception_ptr error, OrderedReducer& reducer) {
    {
      std::lock_guard<std::mutex> lock(error_mutex_);
      if (!first_error_) first_error_ = error;
    }
    stop_.store(true);
    reducer.wake_all();
  }

  const ScanPlan& plan_;
  const ScanControl& control_;
  const ScanKernels& kern_;
  FileCache files_;
  ScanOutput out_;
  std::vector<WorkItem> items_;
  uint64_t total_bytes_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> next_item_{0};
  std::atomic<uint64_t> bytes_done_{0};
  std::mutex error_mutex_;
  std::exception_ptr first_error_;
};

}  // namespace

ScanOutput scan_cpu(const ScanPlan& plan, const ScanControl& control) {
  validate_scan_plan(plan);
  return CpuScan(plan, control).run();
}

}  // namespace np
