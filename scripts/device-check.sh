#!/usr/bin/env bash
# Checks that need the GPU machine. Run from the repository root on it:
#   bash scripts/device-check.sh [section ...]      (no section: all of them)
# Results (logs, timings) go to $OUT when set, else ./device-check-out. The device machine has
# no node_modules, so each section builds plain C++/CUDA programs against native/core and
# native/cuda directly.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${OUT:-$ROOT/device-check-out}"
mkdir -p "$OUT"
cd "$ROOT"

# =============================================================================================
# Section: edge-encoder. The CUDA forward (native/cuda/edge_encoder.cu) against the
# CPU forward (native/core/edge_encoder_cpu.cc, every kernel set) on the same plan: odd
# shapes (not multiples of the 16 × 16 CUDA tile or the CPU column step), every float dtype,
# several pairs per tensor, chunks that split matrices anywhere; within 1e-4 relative. Then
# throughput on a LLaMA-7B MLP matrix (4096 × 11008, BF16), 8 pairs sharing it, CPU vs GPU.
# =============================================================================================
edge_encoder() {
  local dir="$OUT/edge-encoder"
  mkdir -p "$dir/obj"
  command -v nvcc >/dev/null || { echo "edge-encoder: nvcc not found" >&2; return 1; }
  nvidia-smi -L | tee "$dir/gpu.txt" || true
  cat > "$dir/check.cc" <<'CPP'
// Standalone check of the edge encoder: CUDA vs CPU on the same files and plan.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>
#include "core/edge_encoder_cpu.h"
#include "core/edge_encoder_cuda.h"
#include "core/error.h"

using namespace np;

static uint16_t to_bf16(float f) { uint32_t u; std::memcpy(&u, &f, 4); u += 0x7fffu + ((u >> 16) & 1u); return uint16_t(u >> 16); }
static uint16_t to_f16(float f) {  // round to nearest even, normal range only (test values are)
  uint32_t u; std::memcpy(&u, &f, 4);
  uint32_t sign = (u >> 16) & 0x8000u; int e = int((u >> 23) & 0xff) - 127 + 15; uint32_t m = u & 0x7fffffu;
  if (e <= 0) return uint16_t(sign);
  uint32_t h = sign | (uint32_t(e) << 10) | (m >> 13); uint32_t rest = m & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
  return uint16_t(h);
}

struct Built { EdgePlan plan; };

static EdgePlan make_plan(const std::string& file, const std::vector<std::pair<uint64_t, uint64_t>>& shapes, int models, int pairs_per, unsigned seed,
                          const std::vector<DType>& types) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  EdgePlan plan;
  plan.files.push_back(file);
  FILE* f = std::fopen(file.c_str(), "wb");
  uint64_t off = 0;
  for (size_t s = 0; s < shapes.size(); ++s) {
    for (DType dt : types) {
      EdgeTensor t;
      t.name = "t" + std::to_string(s) + "." + dtype_name(dt);
      t.rows = shapes[s].first; t.cols = shapes[s].second;
      const uint64_t n = t.rows * t.cols;
      std::vector<float> base(n);
      for (auto& v : base) v = 0.05f * g(rng);
      for (int m = 0; m < models; ++m) {
        t.sources.push_back({0, off, dt});
        for (uint64_t i = 0; i < n; ++i) {
          const float v = base[i] + (m ? 0.01f * g(rng) : 0.0f);
          if (dt == DType::F32) { std::fwrite(&v, 4, 1, f); off += 4; }
          else if (dt == DType::F64) { double d = v; std::fwrite(&d, 8, 1, f); off += 8; }
          else { uint16_t h = dt == DType::BF16 ? to_bf16(v) : to_f16(v); std::fwrite(&h, 2, 1, f); off += 2; }
        }
      }
      const uint32_t ti = uint32_t(plan.tensors.size());
      plan.tensors.push_back(t);
      for (int p = 0; p < pairs_per; ++p) plan.pairs.push_back({ti, uint32_t(p % models), uint32_t((p + 1) % models), 0.05f});
    }
  }
  std::fclose(f);
  const int c = 4;
  plan.weights.channels = c;
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  plan.weights.w1.resize(2 * c); for (auto& v : plan.weights.w1) v = 2.0f * u(rng);
  plan.weights.b1.resize(c); for (auto& v : plan.weights.b1) v = 0.2f * u(rng);
  plan.weights.w2.resize(9 * c * 32); for (auto& v : plan.weights.w2) v = 0.4f * u(rng);
  plan.weights.b2.resize(32); for (auto& v : plan.weights.b2) v = 0.2f * u(rng);
  return plan;
}

static double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

static int run(const std::string& dir);

int main(int argc, char** argv) {
  try {
    return run(argc > 1 ? argv[1] : ".");
  } catch (const std::exception& e) {
    std::printf("error: %s\n0 passed, 1 failed\n", e.what());
    return 1;
  }
}

static int run(const std::string& dir) {
  ScanControl none;
  int failures = 0;
  // 1. Equality on odd shapes, every dtype, every CPU kernel set.
  EdgePlan plan = make_plan(dir + "/small.bin", {{1, 1}, {1, 7}, {3, 5}, {17, 33}, {40, 9}, {33, 70}, {64, 129}, {100, 1000}}, 3, 4, 1,
                             {DType::F32, DType::F16, DType::BF16, DType::F64});
  for (uint64_t chunk : {uint64_t(50), uint64_t(1) << 18}) {
    plan.chunk_elems = chunk;
    plan.cuda_chunk_elems = chunk;  // the GPU's chunks split the matrices too
    EdgeOutput gpu = edge_encode_cuda(plan, none);
    for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
      if (!isa_supported(isa)) continue;
      plan.isa = isa;
      EdgeOutput cpu = edge_encode_cpu(plan, none);
      double worst = 0;
      for (size_t i = 0; i < cpu.values.size(); ++i)
        worst = std::max(worst, std::fabs(gpu.values[i] - cpu.values[i]) / std::max(1e-3, std::fabs(cpu.values[i])));
      std::printf("cuda vs cpu %-7s chunk %-7llu: %zu values, worst relative error %.3g %s\n", isa_name(isa), (unsigned long long)chunk,
                  cpu.values.size(), worst, worst <= 1e-4 ? "OK" : "FAIL");
      if (!(worst <= 1e-4)) ++failures;
    }
  }
  // 2. Throughput: 8 pairs sharing one 4096 x 11008 BF16 matrix (3 models).
  EdgePlan bf = make_plan(dir + "/big.bin", {{4096, 11008}}, 3, 8, 2, {DType::BF16});
  const double work = double(bf.pairs.size()) * 4096.0 * 11008.0;
  const double flops = 2.0 * (2 * 4 + 9 * 4 * 32);
  edge_encode_cuda(bf, none);  // warm-up: context, page cache
  auto t0 = std::chrono::steady_clock::now();
  EdgeOutput g = edge_encode_cuda(bf, none);
  const double tg = seconds_since(t0);
  bf.isa = best_isa();
  t0 = std::chrono::steady_clock::now();
  EdgeOutput c = edge_encode_cpu(bf, none);
  const double tc = seconds_since(t0);
  double worst = 0;
  for (size_t i = 0; i < c.values.size(); ++i) worst = std::max(worst, std::fabs(g.values[i] - c.values[i]) / std::max(1e-3, std::fabs(c.values[i])));
  std::printf("4096x11008 BF16, %zu pairs: cuda %.3f s = %.1f G pair-params/s (%.1f TFLOP/s); cpu %s %d threads %.3f s = %.2f G pair-params/s; gpu/cpu %.1fx; worst rel err %.3g %s\n",
              bf.pairs.size(), tg, work / tg / 1e9, work * flops / tg / 1e12, isa_name(c.isa), c.threads, tc, work / tc / 1e9, tc / tg, worst, worst <= 1e-4 ? "OK" : "FAIL");
  if (!(worst <= 1e-4)) ++failures;
  std::printf("%d passed, %d failed\n", failures == 0 ? 1 : 0, failures);
  return failures == 0 ? 0 : 1;
}
CPP
  local CXX="${CXX:-g++}" flags="-std=c++17 -O3 -ffp-contract=off -fno-math-errno -fPIC -Inative -DNP_X86_KERNELS=1"
  # Compile in parallel (the device's minutes are counted); any failure stops the section.
  local pids=()
  for f in edge_encoder_cpu edge_plan edge_encoder_kernels_scalar file_reader cpu_features thread_pool; do
    $CXX $flags -c "native/core/$f.cc" -o "$dir/obj/$f.o" & pids+=($!)
  done
  $CXX $flags -mavx2 -mfma -mf16c -c native/core/edge_encoder_kernels_avx2.cc -o "$dir/obj/avx2.o" & pids+=($!)
  $CXX $flags -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma -mf16c -c native/core/edge_encoder_kernels_avx512.cc -o "$dir/obj/avx512.o" & pids+=($!)
  $CXX $flags -c "$dir/check.cc" -o "$dir/obj/check.o" & pids+=($!)
  nvcc -std=c++17 -O3 --expt-relaxed-constexpr -Inative -arch="${NP_NVCC_ARCH:-native}" -c native/cuda/edge_encoder.cu -o "$dir/obj/edge_encoder_cu.o" & pids+=($!)
  nvcc -std=c++17 -O3 -Inative -c native/cuda/cuda_device.cc -o "$dir/obj/cuda_device.o" & pids+=($!)
  for p in "${pids[@]}"; do wait "$p" || { echo "edge-encoder: compile failed" | tee "$dir/result.txt"; return 0; }; done
  nvcc -o "$dir/check" "$dir/obj/"*.o -lpthread
  timeout "${NP_EDGE_TIMEOUT:-120}" "$dir/check" "$dir" 2>&1 | tee "$dir/result.txt" || true
  rm -f "$dir/small.bin" "$dir/big.bin"
}

# =============================================================================================
# Section: cuda-scan. The CUDA scan against the CPU scan through the addon: random
# model sets M = 1..64 (and 70), every dtype, the three fake-init kinds, DMMA and FP64-FMA Gram
# paths, small staging buffers, resident mode, determinism, the device fake init bitwise
# (node dist/scripts/gpu-check.js); then the benchmark (node dist/bench/cuda-scan.js: host-
# and device-resident GB/s beside pinned H2D, D2D and a PyTorch scan). Needs, carried in:
#   .devnode (this machine's node binary, packed), the CUDA addon (build-cuda/Release, or
#   NEURAL_PHYLOGENY_ADDON), dist/ (npm run build:ts). Never stops the other sections.
# =============================================================================================
# Puts node on PATH (unpacked from the carried .devnode) and exports NEURAL_PHYLOGENY_ADDON;
# says what is missing into $1/summary.txt and fails when it cannot.
node_and_addon() {
  local dir="$1" name="$2"
  if ! command -v node >/dev/null && [ -f .devnode/node.xz ]; then
    mkdir -p /tmp/nb && xz -dc .devnode/node.xz > /tmp/nb/node && chmod +x /tmp/nb/node && export PATH=/tmp/nb:$PATH
  fi
  if ! command -v node >/dev/null; then
    echo "$name: no node (carry .devnode)" | tee -a "$dir/summary.txt"; return 1
  fi
  local addon="${NEURAL_PHYLOGENY_ADDON:-}"
  [ -z "$addon" ] && for a in build-cuda/Release/neural_phylogeny.node build/Release/neural_phylogeny.node; do
    [ -f "$a" ] && { addon="$ROOT/$a"; break; }
  done
  if [ -z "$addon" ] || [ ! -f dist/scripts/gpu-check.js ]; then
    echo "$name: missing the CUDA addon or dist/ (carry build-cuda/Release and dist)" | tee -a "$dir/summary.txt"; return 1
  fi
  export NEURAL_PHYLOGENY_ADDON="$addon"
}

cuda_scan() {
  local dir="$OUT/cuda-scan"
  mkdir -p "$dir"
  : > "$dir/summary.txt"
  node_and_addon "$dir" cuda-scan || return 0
  nvidia-smi > "$dir/nvidia-smi.txt" 2>&1 || true
  node -e 'const a=require(process.env.NEURAL_PHYLOGENY_ADDON);console.log(JSON.stringify(a.cudaStatus()))' > "$dir/cuda-status.json" 2>&1 || true
  local rc_check=0 rc_bench=0
  timeout "${NP_CHECK_TIMEOUT:-150}" node dist/scripts/gpu-check.js --json "$dir/gpu-check.json" > "$dir/gpu-check.log" 2>&1 || rc_check=$?
  NP_BENCH_DIR="${NP_BENCH_DIR:-/tmp/np-bench}" timeout "${NP_BENCH_TIMEOUT:-200}" node dist/bench/cuda-scan.js ${NP_BENCH_ARGS:-} --json "$dir/bench.json" \
    > "$dir/bench.txt" 2> "$dir/bench.log" || rc_bench=$?
  rm -rf "${NP_BENCH_DIR:-/tmp/np-bench}"
  {
    echo "cuda-scan: gpu-check exit $rc_check, bench exit $rc_bench ($(date -u +%Y-%m-%dT%H:%MZ))"
    grep -E "FAIL|fake init|gpu-check:" "$dir/gpu-check.log" | tail -8 || true
    cat "$dir/bench.txt"
  } >> "$dir/summary.txt"
  return 0
}

# =============================================================================================
# Section: scan-large-m. The CUDA scan of groups of more than 32 models: panels of 32 with the
# register triangle and cross kernels (native/cuda/scan_cross_kernel.cu) against the CPU scan
# (M = 33, 64, 100, 128, mixed dtypes, odd element counts, both Gram paths), then GB/s of
# model bytes with the weights on the GPU for M = 32, 64, 128 BF16 models, each measured with
# the shared-memory tile kernel alone (CudaScanOptions::tile_kernel, the scan before the
# register kernels) and with the default kernels, on the same data in the same run.
# NP_LARGE_M_ELEMS sets the elements per model (default 4194317).
# =============================================================================================
scan_large_m() {
  local dir="$OUT/scan-large-m"
  mkdir -p "$dir/obj"
  command -v nvcc >/dev/null || { echo "scan-large-m: nvcc not found" | tee "$dir/result.txt"; return 0; }
  nvidia-smi -L > "$dir/gpu.txt" 2>&1 || true
  cat > "$dir/check.cc" <<'CPP'
// Standalone check and benchmark of the CUDA scan at M > 32 (scripts/device-check.sh).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>
#include "core/cuda_backend.h"
#include "core/error.h"
#include "core/scan_cpu.h"

using namespace np;

// Largest error against natural magnitudes (as test/gpu/emu/emu_main.cc): moments against
// sqrt(count * sumSq) + sumSq, Gram entries against sqrt(G_aa G_bb).
static double max_rel(const ScanPlan& plan, const ScanOutput& want, const ScanOutput& got) {
  double worst = 0;
  for (size_t gi = 0; gi < plan.groups.size(); ++gi) {
    const size_t k = plan.groups[gi].members.size();
    const double* w = want.values.data() + want.offsets[gi];
    const double* g = got.values.data() + got.offsets[gi];
    for (size_t i = 0; i < k * 5 + k * k; ++i) {
      double scale;
      if (i < k * 5) {
        const double sq = w[(i / 5) * 5 + 1];
        scale = std::sqrt(double(plan.groups[gi].count) * sq) + sq;
      } else {
        const size_t a = (i - k * 5) / k, b = (i - k * 5) % k;
        scale = std::sqrt(w[k * 5 + a * k + a] * w[k * 5 + b * k + b]);
      }
      double err = std::fabs(g[i] - w[i]) / std::max(scale, 1e-300);
      if (std::isnan(err)) err = INFINITY;
      worst = std::max(worst, err);
    }
  }
  return worst;
}

static FakeInitParams fake(int kind, unsigned seed) {
  FakeInitParams p{static_cast<FakeInitKind>(kind), kind == 0 ? 1.0 : kind == 1 ? -0.05 : 0.0, kind == 0 ? 0.0 : kind == 1 ? 0.05 : 0.02,
                   seed, seed * 7u + 1u};
  return p;
}

// Appends `count` values of one model to f in dtype t (cheap generator: GBs of data).
static uint64_t write_model(FILE* f, uint64_t& off, DType t, uint64_t count, uint64_t seed) {
  const uint64_t start = off;
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  std::vector<unsigned char> buf;
  buf.reserve(count * dtype_size(t));
  for (uint64_t i = 0; i < count; ++i) {
    s ^= s << 13; s ^= s >> 7; s ^= s << 17;
    const float v = (float(int32_t(s >> 32)) / 2147483648.0f) * 0.05f;
    uint32_t u; std::memcpy(&u, &v, 4);
    if (t == DType::F32) { buf.insert(buf.end(), reinterpret_cast<const unsigned char*>(&v), reinterpret_cast<const unsigned char*>(&v) + 4); }
    else if (t == DType::F64) { double d = v; buf.insert(buf.end(), reinterpret_cast<const unsigned char*>(&d), reinterpret_cast<const unsigned char*>(&d) + 8); }
    else if (t == DType::BF16) { uint16_t h = uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16); buf.push_back(h & 0xff); buf.push_back(h >> 8); }
    else { uint16_t h = uint16_t(((s >> 3) & 1u) << 15 | ((s >> 8) % 17) << 10 | (s & 0x3ff)); buf.push_back(h & 0xff); buf.push_back(h >> 8); }
  }
  std::fwrite(buf.data(), 1, buf.size(), f);
  off += buf.size();
  return start;
}

static int run(const std::string& dir) {
  int failures = 0;
  ScanControl none;
  // 1. Equality with the CPU scan: M = 33, 64, 100, 128, mixed dtypes, odd element counts.
  {
    ScanPlan plan;
    plan.files.push_back(dir + "/small.bin");
    FILE* f = std::fopen(plan.files[0].c_str(), "wb");
    uint64_t off = 0;
    unsigned seed = 1;
    const size_t ks[] = {33, 64, 100, 128};
    const uint64_t ns[] = {100003, 4099, 20011, 65537};
    for (int i = 0; i < 4; ++i) {
      ScanGroup g;
      g.name = "m" + std::to_string(ks[i]);
      g.count = ns[i];
      g.fake = fake(i % 3, seed);
      for (size_t m = 0; m < ks[i]; ++m) {
        const DType t = static_cast<DType>(seed % 4);
        g.members.push_back(ScanMember{0, write_model(f, off, t, ns[i], seed++), t});
      }
      plan.groups.push_back(g);
    }
    std::fclose(f);
    const ScanOutput cpu = scan_cpu(plan, none);
    for (int variant = 0; variant < 4; ++variant) {
      CudaScanOptions o;
      o.gram = variant & 1 ? CudaGram::Fma : CudaGram::Auto;
      o.tile_kernel = variant >= 2;
      const CudaScanResult r = scan_cuda_ex(plan, none, o);
      const double err = max_rel(plan, cpu, r.output);
      const bool ok = err <= 1e-12;
      std::printf("M 33/64/100/128 mixed dtypes vs CPU, %s, %s: max relative error %.3g %s\n", o.tile_kernel ? "tile kernel" : "default kernels",
                  r.gram.c_str(), err, ok ? "OK" : "FAIL");
      if (!ok) ++failures;
    }
    std::remove(plan.files[0].c_str());
  }
  // 2. GB/s with the weights on the GPU: M = 32, 64, 128 BF16 models (the first M of one file).
  {
    const char* env = std::getenv("NP_LARGE_M_ELEMS");
    const uint64_t n = env ? std::strtoull(env, nullptr, 10) : 4194317ull;
    std::vector<uint64_t> offsets;
    const std::string file = dir + "/big.bin";
    FILE* f = std::fopen(file.c_str(), "wb");
    uint64_t off = 0;
    for (int m = 0; m < 128; ++m) offsets.push_back(write_model(f, off, DType::BF16, n, 1000 + m));
    std::fclose(f);
    for (size_t k : {size_t{32}, size_t{64}, size_t{128}}) {
      ScanPlan plan;
      plan.files.push_back(file);
      ScanGroup g;
      g.name = "bf16";
      g.count = n;
      g.fake = fake(1, 77);
      for (size_t m = 0; m < k; ++m) g.members.push_back(ScanMember{0, offsets[m], DType::BF16});
      plan.groups.push_back(g);
      const double bytes = double(k) * double(n) * 2.0;
      CudaScanOptions o;
      o.resident = true;
      o.repeat = 5;
      o.tile_kernel = true;
      const CudaScanResult tile = scan_cuda_ex(plan, none, o);
      o.tile_kernel = false;
      const CudaScanResult reg = scan_cuda_ex(plan, none, o);
      const double gt = bytes / tile.compute_seconds_min / 1e9, gr = bytes / reg.compute_seconds_min / 1e9;
      const double diff = max_rel(plan, tile.output, reg.output);
      const bool ok = diff <= 1e-12;
      std::printf("M %3zu BF16 x %llu elements, resident, best of 5 (%s, %s): tile kernel %.1f GB/s, default kernels %.1f GB/s (%.2fx); default vs tile max relative difference %.3g %s\n",
                  k, (unsigned long long)n, reg.device_name.c_str(), reg.gram.c_str(), gt, gr, gr / gt, diff, ok ? "OK" : "FAIL");
      if (!ok) ++failures;
    }
    std::remove(file.c_str());
  }
  std::printf("%d passed, %d failed\n", failures == 0 ? 1 : 0, failures);
  return failures == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  try {
    return run(argc > 1 ? argv[1] : ".");
  } catch (const std::exception& e) {
    std::printf("error: %s\n0 passed, 1 failed\n", e.what());
    return 1;
  }
}
CPP
  local CXX="${CXX:-g++}" flags="-std=c++17 -O3 -ffp-contract=off -fno-math-errno -fPIC -Inative -DNP_X86_KERNELS=1"
  local nvflags="-std=c++17 -O3 --expt-relaxed-constexpr -Inative -arch=${NP_NVCC_ARCH:-native}"
  # Compile in parallel (the device's minutes are counted); any failure stops the section.
  local pids=()
  for f in scan_cpu scan_kernels scan_kernels_scalar scan_plan scan_gguf scan_lora scan_packed gguf_quant file_cache file_reader cpu_features thread_pool; do
    $CXX $flags -c "native/core/$f.cc" -o "$dir/obj/$f.o" & pids+=($!)
  done
  $CXX $flags -mavx2 -mfma -mf16c -c native/core/scan_kernels_avx2.cc -o "$dir/obj/avx2.o" & pids+=($!)
  $CXX $flags -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma -mf16c -c native/core/scan_kernels_avx512.cc -o "$dir/obj/avx512.o" & pids+=($!)
  $CXX $flags -c "$dir/check.cc" -o "$dir/obj/check.o" & pids+=($!)
  for f in fake_init_kernel gguf_expand_kernel scan_pass_kernel scan_reduce_kernel scan_warp_kernel scan_cross_kernel; do
    nvcc $nvflags -c "native/cuda/$f.cu" -o "$dir/obj/$f.o" & pids+=($!)
  done
  for f in scan_cuda scan_cuda_plan stage_members stage_readers cuda_device cuda_tools; do
    nvcc -std=c++17 -O3 -Inative -c "native/cuda/$f.cc" -o "$dir/obj/$f.o" & pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || { echo "scan-large-m: compile failed" | tee "$dir/result.txt"; return 0; }; done
  nvcc -o "$dir/check" "$dir/obj/"*.o -lpthread
  timeout "${NP_LARGE_M_TIMEOUT:-240}" "$dir/check" "$dir" 2>&1 | tee "$dir/result.txt" || true
  rm -f "$dir/small.bin" "$dir/big.bin"
}

# =============================================================================================
# Section: cuda-formed. Model sets with members the CUDA scan forms on the host (GGUF Q8_0 and
# Q4_K, GPTQ 4-bit, a PEFT LoRA adapter, beside BF16 models; scripts/formed-set.ts): the GPU
# against the CPU for every variant and bitwise against the set's float32 copy
# (node dist/scripts/gpu-check.js --formed-only), then the benchmark (node
# dist/bench/cuda-formed.js: parameters/s of the formed set against the BF16 models alone, on
# the GPU and the CPU; NP_FORMED_ARGS e.g. "--hidden 2048 --layers 8 --bf16 8"), and the PEFT
# benchmark on the GPU (node dist/bench/peft-scan.js --device cuda: a base with 4 LoRA adapters
# against the base alone, the adapters formed by the host's reader threads; NP_PEFT_ARGS e.g.
# "--hidden 4096 --layers 8"). Needs what cuda-scan needs. Not yet run on a GPU.
# =============================================================================================
cuda_formed() {
  local dir="$OUT/cuda-formed"
  mkdir -p "$dir"
  : > "$dir/summary.txt"
  node_and_addon "$dir" cuda-formed || return 0
  local rc_check=0 rc_bench=0 rc_peft=0
  timeout "${NP_CHECK_TIMEOUT:-150}" node dist/scripts/gpu-check.js --formed-only --json "$dir/gpu-check.json" > "$dir/gpu-check.log" 2>&1 || rc_check=$?
  timeout "${NP_BENCH_TIMEOUT:-200}" node dist/bench/cuda-formed.js ${NP_FORMED_ARGS:-} --json "$dir/bench.json" \
    > "$dir/bench.txt" 2> "$dir/bench.log" || rc_bench=$?
  timeout "${NP_BENCH_TIMEOUT:-200}" node dist/bench/peft-scan.js --device cuda --reps 3 ${NP_PEFT_ARGS:-} \
    > "$dir/peft.txt" 2> "$dir/peft.log" || rc_peft=$?
  {
    echo "cuda-formed: gpu-check exit $rc_check, bench exit $rc_bench, peft exit $rc_peft ($(date -u +%Y-%m-%dT%H:%MZ))"
    grep -E "FAIL|formed|gpu-check:" "$dir/gpu-check.log" | tail -8 || true
    cat "$dir/bench.txt" "$dir/peft.txt"
  } >> "$dir/summary.txt"
  return 0
}

# The short table, last, whatever happened: each section's summary.txt (or result.txt).
print_summaries() {
  echo
  echo "==== device-check summary ($OUT) ===="
  for f in "$OUT"/*/summary.txt "$OUT"/*/result.txt; do
    if [ -f "$f" ]; then cat "$f"; fi
  done
}
trap print_summaries EXIT

sections=("$@")
[ ${#sections[@]} -eq 0 ] && sections=(cuda-scan cuda-formed edge-encoder scan-large-m)
for s in "${sections[@]}"; do
  case "$s" in
    edge-encoder) edge_encoder ;;
    cuda-scan) cuda_scan ;;
    cuda-formed) cuda_formed ;;
    scan-large-m) scan_large_m ;;
    *) echo "unknown section $s (known: edge-encoder, cuda-scan, cuda-formed, scan-large-m)" >&2; exit 2 ;;
  esac
done
