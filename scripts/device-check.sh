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
cuda_scan() {
  local dir="$OUT/cuda-scan"
  mkdir -p "$dir"
  : > "$dir/summary.txt"
  if ! command -v node >/dev/null && [ -f .devnode/node.xz ]; then
    mkdir -p /tmp/nb && xz -dc .devnode/node.xz > /tmp/nb/node && chmod +x /tmp/nb/node && export PATH=/tmp/nb:$PATH
  fi
  if ! command -v node >/dev/null; then
    echo "cuda-scan: no node (carry .devnode)" | tee -a "$dir/summary.txt"; return 0
  fi
  local addon="${NEURAL_PHYLOGENY_ADDON:-}"
  [ -z "$addon" ] && for a in build-cuda/Release/neural_phylogeny.node build/Release/neural_phylogeny.node; do
    [ -f "$a" ] && { addon="$ROOT/$a"; break; }
  done
  if [ -z "$addon" ] || [ ! -f dist/scripts/gpu-check.js ] || [ ! -f dist/bench/cuda-scan.js ]; then
    echo "cuda-scan: missing the CUDA addon or dist/ (carry build-cuda/Release and dist)" | tee -a "$dir/summary.txt"; return 0
  fi
  export NEURAL_PHYLOGENY_ADDON="$addon"
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
[ ${#sections[@]} -eq 0 ] && sections=(cuda-scan edge-encoder)
for s in "${sections[@]}"; do
  case "$s" in
    edge-encoder) edge_encoder ;;
    cuda-scan) cuda_scan ;;
    *) echo "unknown section $s (known: edge-encoder, cuda-scan)" >&2; exit 2 ;;
  esac
done
