// The emulated CUDA runtime (include/cuda_runtime.h): memory is host memory, every "async"
// call completes at once, and kernels run block by block, each block's threads as ucontext
// fibers that switch only at __syncthreads. The fibers of each barrier-to-barrier segment run
// in a freshly shuffled order, so code that reads another thread's shared-memory writes
// without a barrier between them gets wrong answers here (as it might on a GPU).
//
// A fiber starts with setcontext (its own stack, made by makecontext) and then switches with
// _setjmp/_longjmp: swapcontext saves and restores the signal mask with a system call at every
// switch, which made the kernel's time (sys) as large as the emulation's own at thousands of
// barriers per block. _longjmp to another stack is what fiber libraries do; the fortified
// longjmp check (which refuses a jump to a "lower" stack) must not be compiled in.
#undef _FORTIFY_SOURCE
#include <cuda_runtime.h>
#include <setjmp.h>
#include <ucontext.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace {

struct Fiber {
  ucontext_t ctx;  // only to start the fiber
  jmp_buf jb;      // where it waits once started
  std::vector<char> stack;
  bool started = false;
  bool done = false;
  bool at_barrier = false;  // waits at __syncthreads
  bool at_warp = false;     // waits at a warp barrier (__syncwarp, shuffles, mma)
};

// Per-thread exchange slots of the warp collectives: a lane writes, the warp meets at a
// barrier, lanes read each other's slots, the warp meets again before the slots are reused.
struct Slot {
  double d[4];
};
std::vector<Slot> g_slots;

dim3 g_thread, g_block, g_grid, g_block_dim;
std::vector<Fiber> g_fibers;
jmp_buf g_sched;
size_t g_current = 0;
std::vector<unsigned char> g_shared;
void (*g_entry)(void*) = nullptr;
void* g_ctx = nullptr;
std::mt19937 g_rng(12345);
bool g_fail = false;
cudaError_t g_last_error = cudaSuccess;

void fiber_main() {
  g_entry(g_ctx);
  g_fibers[g_current].done = true;
  _longjmp(g_sched, 1);  // never resumed: its stack is reset before the next start
}

// Scheduler → fiber t (returns when it waits or finishes).
void resume(Fiber& f) {
  if (_setjmp(g_sched) != 0) return;
  if (!f.started) {
    f.started = true;
    setcontext(&f.ctx);
  }
  _longjmp(f.jb, 1);
}

// Fiber → scheduler; returns when the scheduler resumes this fiber.
void wait_here(Fiber& f) {
  if (_setjmp(f.jb) == 0) _longjmp(g_sched, 1);
}

void run_block(unsigned threads) {
  constexpr size_t kStack = 256 * 1024;
  g_fibers.resize(threads);
  for (unsigned t = 0; t < threads; ++t) {
    Fiber& f = g_fibers[t];
    f.done = false;
    f.started = false;
    f.at_barrier = false;
    if (f.stack.size() < kStack) f.stack.resize(kStack);
    getcontext(&f.ctx);
    f.ctx.uc_stack.ss_sp = f.stack.data();
    f.ctx.uc_stack.ss_size = f.stack.size();
    f.ctx.uc_link = nullptr;
    makecontext(&f.ctx, fiber_main, 0);
  }
  g_slots.assign(threads, Slot{});
  std::vector<unsigned> order(threads);
  for (unsigned t = 0; t < threads; ++t) order[t] = t;
  const unsigned warps = (threads + 31) / 32;
  for (;;) {
    // Run every runnable fiber (in a fresh random order) until it waits or finishes; release
    // each warp whose live lanes all wait at a warp barrier; repeat while that frees anyone.
    bool ran = true;
    while (ran) {
      ran = false;
      std::shuffle(order.begin(), order.end(), g_rng);
      for (unsigned t : order) {
        Fiber& f = g_fibers[t];
        if (f.done || f.at_barrier || f.at_warp) continue;
        ran = true;
        g_current = t;
        g_thread = dim3(t, 0, 0);
        resume(f);
      }
      for (unsigned w = 0; w < warps; ++w) {
        bool all = true, anyw = false;
        for (unsigned t = 32 * w; t < std::min(threads, 32 * w + 32); ++t) {
          const Fiber& f = g_fibers[t];
          if (f.done) continue;
          all = all && f.at_warp;
          anyw = anyw || f.at_warp;
        }
        if (all && anyw) {
          for (unsigned t = 32 * w; t < std::min(threads, 32 * w + 32); ++t) g_fibers[t].at_warp = false;
          ran = true;
        }
      }
    }
    size_t waiting = 0, warp_waiting = 0, done = 0;
    for (const Fiber& f : g_fibers) {
      waiting += f.at_barrier;
      warp_waiting += f.at_warp;
      done += f.done;
    }
    if (done == threads) break;
    if (warp_waiting) {
      std::fprintf(stderr, "emulator: deadlock: lanes wait at a warp barrier that the rest of their warp never reaches\n");
      std::abort();
    }
    if (waiting && done) {
      std::fprintf(stderr, "emulator: some threads exited while others wait at a barrier\n");
      std::abort();
    }
    // Every live fiber is now at __syncthreads: release them together.
    for (Fiber& f : g_fibers) f.at_barrier = false;
  }
}

}  // namespace

namespace np_emu {

const dim3& thread_idx() { return g_thread; }
const dim3& block_idx() { return g_block; }
const dim3& grid_dim() { return g_grid; }
const dim3& block_dim() { return g_block_dim; }
void* dynamic_shared() { return g_shared.data(); }
void set_fail_launches(bool fail) { g_fail = fail; }
bool launches_fail() { return g_fail; }
void set_last_error(cudaError_t e) { g_last_error = e; }

void syncthreads() {
  Fiber& f = g_fibers[g_current];
  f.at_barrier = true;
  wait_here(f);
}

void syncwarp() {
  Fiber& f = g_fibers[g_current];
  f.at_warp = true;
  wait_here(f);
}

double shfl(double v, int src) {
  const size_t me = g_current, base = me & ~size_t{31};
  g_slots[me].d[0] = v;
  syncwarp();
  const double r = g_slots[base + (static_cast<size_t>(src) & 31)].d[0];
  syncwarp();
  return r;
}

// mma.m8n8k4.f64 with its fragment layout (native/cuda/warp_ops.cuh): lane 4g + t holds
// A[g][t], B[t][g] and C[g][2t], C[g][2t + 1]. Each output is fma(A[g][k], B[k][n], .) for
// k = 0..3 in order: the order the FMA path uses (the tensor cores round differently, within
// float64 rounding, which the GPU check bounds).
void mma_f64_m8n8k4(double a, double b, double& c0, double& c1) {
  const size_t me = g_current, base = me & ~size_t{31};
  g_slots[me].d[0] = a;
  g_slots[me].d[1] = b;
  syncwarp();
  const size_t lane = me & 31, g = lane >> 2, t = lane & 3;
  double r[2] = {c0, c1};
  for (int i = 0; i < 2; ++i) {
    const size_t n = 2 * t + static_cast<size_t>(i);
    for (size_t k = 0; k < 4; ++k) r[i] = std::fma(g_slots[base + 4 * g + k].d[0], g_slots[base + 4 * n + k].d[1], r[i]);
  }
  syncwarp();
  c0 = r[0];
  c1 = r[1];
}

void run_grid(dim3 grid, dim3 block, size_t shared_bytes, void (*entry)(void*), void* ctx) {
  if (block.y != 1 || block.z != 1 || grid.y != 1 || grid.z != 1 || shared_bytes > 48 * 1024 || block.x > 1024) {
    std::fprintf(stderr, "emulator: unsupported launch shape or shared memory over 48 KiB (%zu)\n", shared_bytes);
    std::abort();
  }
  g_entry = entry;
  g_ctx = ctx;
  g_grid = grid;
  g_block_dim = block;
  for (unsigned b = 0; b < grid.x; ++b) {
    // Fresh garbage in shared memory for every block: nothing may rely on its contents.
    g_shared.assign(shared_bytes + 64, 0);
    for (auto& c : g_shared) c = static_cast<unsigned char>(g_rng());
    g_block = dim3(b, 0, 0);
    run_block(block.x);
  }
}

}  // namespace np_emu

// ---- Streams and events: lazy queues ----

enum class OpKind { Copy, Wait, Other };
struct Op {
  uint64_t id;
  OpKind kind;
  std::function<void()> fn;
  cudaStream_t wait_stream = nullptr;  // Wait: run until that stream has done op wait_id
  uint64_t wait_id = 0;
};
struct CUstream_st {
  std::deque<Op> q;
};
struct CUevent_st {
  cudaStream_t stream = nullptr;
  uint64_t marker = 0;  // id of the latest record's op; 0: never recorded
  std::chrono::steady_clock::time_point t;
};

namespace {
uint64_t g_next_id = 1;
CUstream_st g_legacy;
std::vector<cudaStream_t> g_streams;
// EMU_SCHEDULE=lazy (default): nothing runs until forced, so work the host did not wait for
// runs late. EMU_SCHEDULE=eager: kernels, memsets and satisfied waits run as soon as they
// are queued, copies only when forced, so work that does not wait for a copy runs early.
const bool g_eager = [] {
  const char* e = std::getenv("EMU_SCHEDULE");
  return e && std::string(e) == "eager";
}();

cudaStream_t real(cudaStream_t s) { return s ? s : &g_legacy; }

bool done(cudaStream_t s, uint64_t id) {
  s = real(s);
  return s->q.empty() || s->q.front().id > id;
}

void drain(cudaStream_t s, uint64_t id);

void run(Op& op) {
  if (op.kind == OpKind::Wait)
    drain(op.wait_stream, op.wait_id);
  else
    op.fn();
}

// Runs the stream's queued work up to and including op `id` (everything when id is 0).
void drain(cudaStream_t s, uint64_t id) {
  s = real(s);
  while (!s->q.empty() && (id == 0 || s->q.front().id <= id)) {
    Op op = std::move(s->q.front());
    s->q.pop_front();
    run(op);
  }
}

// Eager schedule: runs what may run now without forcing a copy.
void pump(cudaStream_t s) {
  s = real(s);
  while (!s->q.empty()) {
    Op& front = s->q.front();
    if (front.kind == OpKind::Copy) return;
    if (front.kind == OpKind::Wait && !done(front.wait_stream, front.wait_id)) return;
    Op op = std::move(front);
    s->q.pop_front();
    run(op);
  }
}

void push(cudaStream_t s, Op op) {
  real(s)->q.push_back(std::move(op));
  if (g_eager) pump(s);
}

void drain_all() {
  bool any = true;
  while (any) {
    any = false;
    for (cudaStream_t s : g_streams)
      if (!s->q.empty()) {
        drain(s, 0);
        any = true;
      }
    if (!g_legacy.q.empty()) {
      drain(&g_legacy, 0);
      any = true;
    }
  }
}
}  // namespace

void np_emu::enqueue(cudaStream_t s, std::function<void()> fn) { push(s, Op{g_next_id++, OpKind::Other, std::move(fn)}); }

const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidValue: return "invalid argument (emulated failure)";
    default: return "emulated error";
  }
}
cudaError_t cudaGetLastError() {
  const cudaError_t e = g_last_error;
  g_last_error = cudaSuccess;
  return e;
}
cudaError_t cudaGetDeviceCount(int* n) {
  *n = 1;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int d) { return d == 0 ? cudaSuccess : cudaErrorInvalidDevice; }
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int) {
  std::memset(p, 0, sizeof(*p));
  std::snprintf(p->name, sizeof(p->name), "CPU emulation");
  p->major = 9;
  p->minor = 0;
  p->totalGlobalMem = size_t{1} << 32;
  p->multiProcessorCount = 1;
  return cudaSuccess;
}
cudaError_t cudaMalloc(void** p, size_t bytes) {
  *p = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
  if (!*p) return cudaErrorMemoryAllocation;
  // Device memory starts as garbage.
  for (size_t i = 0; i < bytes; ++i) static_cast<unsigned char*>(*p)[i] = static_cast<unsigned char>(i * 131 + 7);
  return cudaSuccess;
}
cudaError_t cudaFree(void* p) {
  drain_all();  // cudaFree waits for the device
  std::free(p);
  return cudaSuccess;
}
cudaError_t cudaHostAlloc(void** p, size_t bytes, unsigned) { return cudaMalloc(p, bytes); }
cudaError_t cudaFreeHost(void* p) { return cudaFree(p); }
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind) {
  drain(nullptr, 0);  // ordered after earlier legacy-stream work (not after non-blocking streams)
  std::memcpy(dst, src, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind, cudaStream_t s) {
  push(s, Op{g_next_id++, OpKind::Copy, [=] { std::memcpy(dst, src, bytes); }});
  return cudaSuccess;
}
cudaError_t cudaMemset(void* p, int v, size_t bytes) { return cudaMemsetAsync(p, v, bytes, nullptr); }
cudaError_t cudaMemsetAsync(void* p, int v, size_t bytes, cudaStream_t s) {
  np_emu::enqueue(s, [=] { std::memset(p, v, bytes); });
  return cudaSuccess;
}
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned) {
  *s = new CUstream_st;
  g_streams.push_back(*s);
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t s) {
  drain_all();  // queued work still completes, including other streams' waits on this one
  g_streams.erase(std::find(g_streams.begin(), g_streams.end(), s));
  delete s;
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  drain(s, 0);
  return cudaSuccess;
}
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned) {
  if (e->marker) push(s, Op{g_next_id++, OpKind::Wait, {}, e->stream, e->marker});
  return cudaSuccess;
}
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned) {
  *e = new CUevent_st;
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t e) {
  if (e->marker) drain(e->stream, e->marker);
  delete e;
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
  e->stream = s;
  np_emu::enqueue(s, [e] { e->t = std::chrono::steady_clock::now(); });
  e->marker = g_next_id - 1;
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t e) {
  if (e->marker) drain(e->stream, e->marker);
  return cudaSuccess;
}
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t a, cudaEvent_t b) {
  *ms = std::chrono::duration<float, std::milli>(b->t - a->t).count();
  return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize() {
  drain_all();
  return cudaSuccess;
}
