// The emulated CUDA runtime (include/cuda_runtime.h): memory is host memory, every "async"
// call completes at once, and kernels run block by block, each block's threads as ucontext
// fibers that switch only at __syncthreads. The fibers of each barrier-to-barrier segment run
// in a freshly shuffled order, so code that reads another thread's shared-memory writes
// without a barrier between them gets wrong answers here (as it might on a GPU).
#include <cuda_runtime.h>
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
  ucontext_t ctx;
  std::vector<char> stack;
  bool done = false;
  bool at_barrier = false;
};

dim3 g_thread, g_block, g_grid, g_block_dim;
std::vector<Fiber> g_fibers;
ucontext_t g_sched;
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
  swapcontext(&g_fibers[g_current].ctx, &g_sched);
}

void run_block(unsigned threads) {
  constexpr size_t kStack = 256 * 1024;
  g_fibers.resize(threads);
  for (unsigned t = 0; t < threads; ++t) {
    Fiber& f = g_fibers[t];
    f.done = false;
    f.at_barrier = false;
    if (f.stack.size() < kStack) f.stack.resize(kStack);
    getcontext(&f.ctx);
    f.ctx.uc_stack.ss_sp = f.stack.data();
    f.ctx.uc_stack.ss_size = f.stack.size();
    f.ctx.uc_link = nullptr;
    makecontext(&f.ctx, fiber_main, 0);
  }
  std::vector<unsigned> order(threads);
  for (unsigned t = 0; t < threads; ++t) order[t] = t;
  for (;;) {
    std::shuffle(order.begin(), order.end(), g_rng);
    bool any = false;
    for (unsigned t : order) {
      Fiber& f = g_fibers[t];
      if (f.done) continue;
      any = true;
      f.at_barrier = false;
      g_current = t;
      g_thread = dim3(t, 0, 0);
      swapcontext(&g_sched, &f.ctx);
    }
    if (!any) break;
    // Every live fiber is now at a barrier (or finished): release them together.
    size_t waiting = 0, done = 0;
    for (const Fiber& f : g_fibers) {
      waiting += f.at_barrier;
      done += f.done;
    }
    if (waiting && done) {
      std::fprintf(stderr, "emulator: some threads exited while others wait at a barrier\n");
      std::abort();
    }
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
  swapcontext(&f.ctx, &g_sched);
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
