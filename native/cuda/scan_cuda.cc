// The CUDA scan's host side (core/cuda_backend.h): the same plan, the same output as scan_cpu.
//
// Streaming (the default): reader threads pread each batch of items into one of `slots`
// pinned buffers; the driver (this thread) copies a read batch to its device buffer with one
// cudaMemcpyAsync on the copy stream, and the compute stream waits for that copy, then runs
// each item's passes (scan_warp_kernel, scan_cross_kernel, scan_pass_kernel) and adds their block partials into the totals
// (scan_reduce_kernel). Reading batch b + 1, copying batch b and computing batch b - 1 overlap,
// so the slowest of the three sets the pace; the kernels are meant to be far from it.
//
// Members stored as GGUF blocks, GPTQ/AWQ words or PEFT LoRA factors are made dense float32
// on the host by the reader threads with the CPU scan's code (stage_members.h), so the device
// sees ordinary dense members and the formed values are bit for bit the CPU scan's. GGUF
// Q8_0 members (when streaming) are staged raw instead and expanded on the device
// (gguf_expand_kernel) before the batch's passes, to the same bits.
//
// Resident: every tensor is read and copied once into one device buffer, then the passes run
// over whole tensors `repeat` times, timed with CUDA events (the "weights already on the GPU"
// figure of the benchmark).
//
// Determinism: all kernels run on one stream in item order; per item the block partials are
// added in block order; so a scan gives bitwise the same numbers every time on a given GPU.
#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include "core/cuda_backend.h"
#include "core/error.h"
#include "core/scan_kernels.h"
#include "cuda/cuda_check.h"
#include "cuda/cuda_device.h"
#include "cuda/cuda_raii.h"
#include "cuda/gguf_expand_kernel.cuh"
#include "cuda/scan_cross_kernel.cuh"
#include "cuda/scan_cuda_plan.h"
#include "cuda/scan_pass_kernel.cuh"
#include "cuda/scan_reduce_kernel.cuh"
#include "cuda/scan_warp_kernel.cuh"
#include "cuda/stage_readers.h"

namespace np {
namespace {

using cuda_scan::GramPath;
using cuda_util::DeviceMem;
using cuda_util::Event;
using cuda_util::PinnedSlots;
using cuda_util::Stream;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The plan checks of every scan, then the CUDA-only ones.
void validate(const ScanPlan& plan, const CudaScanOptions& o) {
  if (plan.mode != ScanMode::Full)
    throw Error(ErrorCode::InvalidArgument, "cuda scan: the read-and-sum mode is a CPU benchmark only");
  validate_scan_plan(plan);
  if (o.stage_bytes < (size_t{1} << 16)) throw Error(ErrorCode::InvalidArgument, "cuda scan: stageBytes must be at least 64 KiB");
  if (o.slots < 2 || o.slots > 16) throw Error(ErrorCode::InvalidArgument, "cuda scan: slots must be 2..16");
  if (o.repeat < 1) throw Error(ErrorCode::InvalidArgument, "cuda scan: repeat must be at least 1");
  if (o.piece_bytes < 1) throw Error(ErrorCode::InvalidArgument, "cuda scan: piece_bytes must be positive");
}

// The passes of every distinct group size, with their destination maps on the device.
class PassTable {
 public:
  PassTable(const ScanPlan& plan, int multiprocessors, bool tile_kernel)
      : multiprocessors_(multiprocessors), tile_kernel_(tile_kernel) {
    const cuda_scan::PassKernels kernels = tile_kernel ? cuda_scan::PassKernels::Tile : cuda_scan::PassKernels::Register;
    std::vector<int32_t> all;
    for (const ScanGroup& g : plan.groups) {
      const size_t k = g.members.size();
      if (by_k_.count(k)) continue;
      std::vector<Entry>& list = by_k_[k];
      for (cuda_scan::PassPlan& p : cuda_scan::plan_passes(k, kernels)) {
        list.push_back(Entry{std::move(p), all.size()});
        const cuda_scan::PassPlan& pp = list.back().plan;
        all.insert(all.end(), pp.dst.begin(), pp.dst.end());
        max_stride_ = std::max(max_stride_, pp.stride);
      }
    }
    dst_ = DeviceMem(all.size() * sizeof(int32_t));
    if (!all.empty()) NP_CUDA_CHECK(cudaMemcpy(dst_.get(), all.data(), all.size() * sizeof(int32_t), cudaMemcpyHostToDevice));
  }

  int max_stride() const { return max_stride_; }
  // The most blocks any launch uses (the partial buffer holds one row per block).
  unsigned max_blocks() const {
    // The register kernels launch one wave: 8-row triangle passes have the most blocks per SM.
    const int per_sm = std::max(cuda_scan::warp_blocks_per_sm(8), cuda_scan::cross_blocks_per_sm(33));
    return std::max<unsigned>(cuda_scan::kGridBlocks, static_cast<unsigned>(multiprocessors_) * static_cast<unsigned>(per_sm));
  }

  // Runs every pass of group g over elements [start, start + n) whose member m lies at
  // base + member_offset[m]; adds into total_group (the group's output block).
  void launch(const ScanGroup& g, const unsigned char* base, const std::vector<uint64_t>& member_offset, uint64_t start,
              uint64_t n, double* partial, double* total_group, GramPath path, cudaStream_t stream) const {
    if (n == 0) return;
    for (const Entry& e : by_k_.at(g.members.size())) {
      const cuda_scan::PassPlan& p = e.plan;
      cuda_scan::PassArgs a{};
      a.base = base;
      for (size_t r = 0; r < p.rows.size(); ++r) {
        a.row_offset[r] = member_offset[p.rows[r]];
        a.dtype[r] = static_cast<unsigned char>(g.members[p.rows[r]].dtype);
      }
      for (size_t q = 0; q < p.pair_a.size(); ++q) {
        a.pair_a[q] = p.pair_a[q];
        a.pair_b[q] = p.pair_b[q];
      }
      a.rows = static_cast<int>(p.rows.size());
      a.rows_log2 = p.rows_log2;
      a.moment_rows = p.moment_rows;
      a.pairs = static_cast<int>(p.pair_a.size());
      a.n = n;
      a.start = start;
      a.fake = g.fake;
      a.partial = partial;
      a.stride = p.stride;
      // Triangle passes of 2..32 rows run the register-resident kernel, cross passes between
      // two panels its cross variant; one-row passes (and every pass with tile_kernel) the
      // shared-memory tile kernel.
      unsigned blocks;
      if (!tile_kernel_ && cuda_scan::warp_kernel_fits(a)) {
        blocks = cuda_scan::warp_blocks(a.rows, n, multiprocessors_);
        NP_CUDA_CHECK(cuda_scan::launch_scan_warp(a, blocks, path, stream));
      } else if (!tile_kernel_ && cuda_scan::cross_kernel_fits(a)) {
        blocks = cuda_scan::cross_blocks(a.rows, n, multiprocessors_);
        NP_CUDA_CHECK(cuda_scan::launch_scan_cross(a, blocks, path, stream));
      } else {
        blocks = cuda_scan::pass_blocks(p.rows_log2, n);
        NP_CUDA_CHECK(cuda_scan::launch_scan_pass(a, blocks, path, stream));
      }
      NP_CUDA_CHECK(cuda_scan::launch_reduce_pass(partial, blocks, p.stride, dst_.get<int32_t>() + e.dst_offset,
                                                  total_group, stream));
    }
  }

 private:
  struct Entry {
    cuda_scan::PassPlan plan;
    size_t dst_offset;
  };
  std::map<size_t, std::vector<Entry>> by_k_;
  int multiprocessors_ = 1;
  bool tile_kernel_ = false;
  int max_stride_ = 0;
  DeviceMem dst_;
};

// The Gram diagonal is Σx² (the moment: the device computes it once), then the lower
// triangle mirrors the upper as on the CPU.
void finish_output(const ScanPlan& plan, ScanOutput& out) {
  for (size_t gi = 0; gi < plan.groups.size(); ++gi) {
    const size_t k = plan.groups[gi].members.size();
    double* base = out.values.data() + out.offsets[gi];
    double* gram = base + k * kNumStats;
    for (size_t a = 0; a < k; ++a) gram[a * k + a] = base[a * kNumStats + kSumSq];
  }
  mirror_gram(plan, out);
}

class CudaScan {
 public:
  CudaScan(const ScanPlan& plan, const ScanControl& control, const CudaScanOptions& o)
      : plan_(plan), control_(control), o_(o) {}

  CudaScanResult run() {
    const auto t0 = std::chrono::steady_clock::now();
    validate(plan_, o_);
    const CudaDeviceChoice dev = use_cuda_device(o_.device);
    CudaScanResult res;
    res.device_name = dev.name;
    res.cc_major = dev.major;
    res.cc_minor = dev.minor;
    const bool mma_ok = cuda_scan::mma_supported(dev.major);
    if (o_.gram == CudaGram::Mma && !mma_ok)
      throw Error(ErrorCode::InvalidArgument, "cuda scan: FP64 tensor cores need compute capability 8.0 or newer, " +
                                                  dev.name + " has " + std::to_string(dev.major) + "." + std::to_string(dev.minor));
    path_ = (o_.gram == CudaGram::Fma || !mma_ok) ? GramPath::Fma : GramPath::Mma;
    res.gram = path_ == GramPath::Mma ? "dmma" : "fma";

    ScanOutput& out = res.output;
    init_scan_output(plan_, out);
    const size_t total_values = out.values.size();
    offsets_ = out.offsets;
    offsets_.push_back(total_values);
    out.isa = Isa::Scalar;  // not a CPU kernel set; the napi layer reports the device instead

    // Q8_0 members are expanded on the device when streaming; the resident mode copies formed
    // members from the host (it is the benchmarks' on-GPU figure, not the reading path).
    work_ = cuda_scan::plan_work(plan_, o_.stage_bytes, o_.device_dequant && !o_.resident);
    total_bytes_ = work_.total_bytes;
    readers_n_ = o_.readers > 0 ? o_.readers : static_cast<int>(std::min(8u, std::max(1u, std::thread::hardware_concurrency())));
    out.threads = readers_n_;
    out.bytes = total_bytes_;

    PassTable passes(plan_, dev.multiprocessors, o_.tile_kernel);
    DeviceMem partial(static_cast<size_t>(passes.max_blocks()) * static_cast<size_t>(std::max(1, passes.max_stride())) *
                      sizeof(double));
    DeviceMem totals(std::max<size_t>(1, total_values) * sizeof(double));
    NP_CUDA_CHECK(cudaMemset(totals.get(), 0, std::max<size_t>(1, total_values) * sizeof(double)));
    // The setup copies and the memset ran on the legacy default stream, which the pipeline's
    // non-blocking streams do not wait for: finish them before any kernel reads them.
    NP_CUDA_CHECK(cudaDeviceSynchronize());
    res.setup_seconds = seconds_since(t0);

    const auto t1 = std::chrono::steady_clock::now();
    if (o_.resident)
      run_resident(passes, partial.get<double>(), totals.get<double>(), res);
    else
      run_streaming(passes, partial.get<double>(), totals.get<double>());
    if (total_values)
      NP_CUDA_CHECK(cudaMemcpy(out.values.data(), totals.get(), total_values * sizeof(double), cudaMemcpyDeviceToHost));
    if (!o_.resident) res.pipeline_seconds = seconds_since(t1);
    finish_output(plan_, out);
    if (control_.progress) control_.progress(total_bytes_, total_bytes_);
    return res;
  }

 private:
  bool cancelled() const { return control_.cancel && control_.cancel->load(); }
  [[noreturn]] void throw_cancelled() const {
    throw Error(ErrorCode::Aborted, "scan cancelled after " + std::to_string(bytes_done_) + " of " +
                                        std::to_string(total_bytes_) + " bytes");
  }
  void progress(uint64_t bytes) {
    bytes_done_ += bytes;
    if (control_.progress) control_.progress(bytes_done_, total_bytes_);
  }

  void run_streaming(const PassTable& passes, double* partial, double* totals) {
    const size_t nb = work_.batches.size();
    if (nb == 0) return;
    const size_t slots = std::min<size_t>(static_cast<size_t>(o_.slots), nb);
    PinnedSlots pinned(work_.slot_bytes, slots);
    std::vector<DeviceMem> dev;
    for (size_t s = 0; s < slots; ++s) dev.emplace_back(work_.slot_bytes);
    Stream copy, compute;
    std::vector<std::unique_ptr<Event>> copied, computed;
    for (size_t s = 0; s < slots; ++s) {
      copied.push_back(std::make_unique<Event>());
      computed.push_back(std::make_unique<Event>());
    }
    std::vector<unsigned char*> host;
    for (size_t s = 0; s < slots; ++s) host.push_back(pinned.slot(s));
    const cuda_scan::MemberStager stager(plan_, work_, scan_kernels(plan_.isa));
    cuda_scan::StageReaders readers(plan_.files, stager, cuda_scan::stage_pieces(plan_, work_, o_.piece_bytes), nb, host,
                                    readers_n_);
    readers.allow(slots);

    for (size_t b = 0; b < nb; ++b) {
      const size_t s = b % slots;
      if (cancelled() || !readers.wait(b, control_.cancel)) throw_cancelled();
      if (b >= slots) {
        // The device buffer's previous batch must be computed before it is overwritten; its
        // bytes count as done from here.
        NP_CUDA_CHECK(cudaEventSynchronize(computed[s]->get()));
        progress(work_.batches[b - slots].model_bytes);
      }
      const cuda_scan::Batch& batch = work_.batches[b];
      NP_CUDA_CHECK(cudaMemcpyAsync(dev[s].get(), host[s], batch.copy_bytes, cudaMemcpyHostToDevice, copy.get()));
      NP_CUDA_CHECK(cudaEventRecord(copied[s]->get(), copy.get()));
      NP_CUDA_CHECK(cudaStreamWaitEvent(compute.get(), copied[s]->get(), 0));
      unsigned char* base = dev[s].get<unsigned char>();
      // Device-expanded Q8_0 members first, on the compute stream: their float32 regions are
      // written before any pass of the batch reads them.
      for (size_t i = batch.first; i < batch.end; ++i) {
        const cuda_scan::Item& it = work_.items[i];
        for (const cuda_scan::Item::Expand& e : it.expand) {
          const GgufRows& r = plan_.groups[it.group].members[e.member].gguf;
          const cuda_scan::ExpandQ8Args a{base + e.raw_offset, e.first_row, r.row_elems, r.rows, r.perm_heads, it.start,
                                          it.len, reinterpret_cast<float*>(base + it.member_offset[e.member])};
          NP_CUDA_CHECK(cuda_scan::launch_expand_q8_0(a, compute.get()));
        }
      }
      for (size_t i = batch.first; i < batch.end; ++i) {
        const cuda_scan::Item& it = work_.items[i];
        const ScanGroup& g = plan_.groups[it.group];
        passes.launch(g, base, it.member_offset, it.start, it.len, partial,
                      totals + plan_offset(it.group), path_, compute.get());
      }
      NP_CUDA_CHECK(cudaEventRecord(computed[s]->get(), compute.get()));
      // Once the copy is done the pinned buffer may take batch b + slots.
      NP_CUDA_CHECK(cudaEventSynchronize(copied[s]->get()));
      readers.allow(b + 1 + slots);
    }
    NP_CUDA_CHECK(cudaStreamSynchronize(compute.get()));
    for (size_t b = nb - std::min(nb, slots); b < nb; ++b) progress(work_.batches[b].model_bytes);
    if (cancelled()) throw_cancelled();
  }

  void run_resident(const PassTable& passes, double* partial, double* totals, CudaScanResult& res) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::vector<uint64_t>> where;
    const uint64_t bytes = cuda_scan::plan_resident(plan_, &where);
    DeviceMem weights;
    try {
      weights = DeviceMem(std::max<uint64_t>(bytes, 1));
    } catch (const Error& e) {
      throw Error(ErrorCode::Cuda, "cuda scan: the weights (" + std::to_string(bytes) +
                                       " bytes) do not fit in GPU memory for the resident mode: " + e.what());
    }
    unsigned char* dev = weights.get<unsigned char>();
    const size_t nb = work_.batches.size();
    Stream copy, compute;
    if (nb > 0) {
      const size_t slots = std::min<size_t>(static_cast<size_t>(o_.slots), nb);
      PinnedSlots pinned(work_.slot_bytes, slots);
      std::vector<std::unique_ptr<Event>> copied;
      std::vector<unsigned char*> host;
      for (size_t s = 0; s < slots; ++s) {
        copied.push_back(std::make_unique<Event>());
        host.push_back(pinned.slot(s));
      }
      const cuda_scan::MemberStager stager(plan_, work_, scan_kernels(plan_.isa));
      cuda_scan::StageReaders readers(plan_.files, stager, cuda_scan::stage_pieces(plan_, work_, o_.piece_bytes), nb,
                                      host, readers_n_);
      readers.allow(slots);
      for (size_t b = 0; b < nb; ++b) {
        const size_t s = b % slots;
        if (cancelled() || !readers.wait(b, control_.cancel)) throw_cancelled();
        const cuda_scan::Batch& batch = work_.batches[b];
        for (size_t i = batch.first; i < batch.end; ++i) {
          const cuda_scan::Item& it = work_.items[i];
          const ScanGroup& g = plan_.groups[it.group];
          for (size_t m = 0; m < g.members.size(); ++m) {
            if (same_bytes_as(g, m) != SIZE_MAX) continue;  // shares an earlier member's place
            const uint64_t size = dtype_size(g.members[m].dtype);
            NP_CUDA_CHECK(cudaMemcpyAsync(dev + where[it.group][m] + it.start * size, host[s] + it.member_offset[m],
                                          it.len * size, cudaMemcpyHostToDevice, copy.get()));
          }
        }
        NP_CUDA_CHECK(cudaEventRecord(copied[s]->get(), copy.get()));
        NP_CUDA_CHECK(cudaEventSynchronize(copied[s]->get()));
        readers.allow(b + 1 + slots);
        progress(batch.model_bytes);
      }
    }
    NP_CUDA_CHECK(cudaStreamSynchronize(copy.get()));
    res.pipeline_seconds = seconds_since(t0);

    Event start(true), stop(true);
    double sum_ms = 0, min_ms = 0;
    const size_t total_bytes = (plan_offset(plan_.groups.size())) * sizeof(double);
    for (int rep = 0; rep < o_.repeat; ++rep) {
      if (cancelled()) throw_cancelled();
      if (total_bytes) NP_CUDA_CHECK(cudaMemsetAsync(totals, 0, total_bytes, compute.get()));
      NP_CUDA_CHECK(cudaEventRecord(start.get(), compute.get()));
      for (size_t g = 0; g < plan_.groups.size(); ++g)
        passes.launch(plan_.groups[g], dev, where[g], 0, plan_.groups[g].count, partial, totals + plan_offset(g), path_,
                      compute.get());
      NP_CUDA_CHECK(cudaEventRecord(stop.get(), compute.get()));
      NP_CUDA_CHECK(cudaEventSynchronize(stop.get()));
      float ms = 0;
      NP_CUDA_CHECK(cudaEventElapsedTime(&ms, start.get(), stop.get()));
      sum_ms += ms;
      min_ms = rep == 0 ? ms : std::min<double>(min_ms, ms);
    }
    res.compute_seconds = sum_ms / 1000.0 / o_.repeat;
    res.compute_seconds_min = min_ms / 1000.0;
  }

  // Offset of group g's output block in the totals; plan_offset(groups) is the output size.
  uint64_t plan_offset(size_t g) const { return offsets_[g]; }

  const ScanPlan& plan_;
  const ScanControl& control_;
  const CudaScanOptions o_;
  GramPath path_ = GramPath::Mma;
  cuda_scan::WorkPlan work_;
  uint64_t total_bytes_ = 0;
  uint64_t bytes_done_ = 0;
  int readers_n_ = 1;
  std::vector<uint64_t> offsets_;
};

}  // namespace

CudaScanResult scan_cuda_ex(const ScanPlan& plan, const ScanControl& control, const CudaScanOptions& options) {
  CudaScan scan(plan, control, options);
  return scan.run();
}

}  // namespace np
