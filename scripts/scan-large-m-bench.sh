#!/usr/bin/env bash
# Builds bench/scan-large-m.cc against the CPU scan with the addon's flags (baseline x86-64,
# AVX2/AVX-512 kernel files with their own flags, no FP contraction) and runs it: the CPU
# scan's GB/s and time per Gram entry for M = 8, 32, 64, 128 BF16 models, as ratios to M = 8.
# Usage:
#   scripts/scan-large-m-bench.sh [elements per model, 1048583] [threads, 0 = all] [runs, 3]
# Writes 256 bytes x elements of models (256 MiB by default) under NP_LARGE_M_BENCH_DIR
# (default .cache/large-m-bench), removed at the end.
set -euo pipefail
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  exit 0
fi
for a in "$@"; do
  if ! [[ "$a" =~ ^[0-9]+$ ]]; then
    echo "scan-large-m-bench: '$a' is not a whole number (--help for usage)" >&2
    exit 2
  fi
done
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${NP_LARGE_M_BENCH_DIR:-$root/.cache/large-m-bench}"
mkdir -p "$out/obj"
cxx="${CXX:-g++}"
flags=(-O3 -std=c++17 -ffp-contract=off -fno-math-errno -I"$root/native" -pthread)
sources=(scan_cpu scan_kernels scan_kernels_scalar scan_plan file_cache file_reader cpu_features thread_pool)
if [[ "$(uname -m)" == x86_64 ]]; then
  flags+=(-DNP_X86_KERNELS)
  "$cxx" "${flags[@]}" -c "$root/native/core/scan_kernels_avx512.cc" -o "$out/obj/avx512.o" \
    -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma -mf16c
  "$cxx" "${flags[@]}" -c "$root/native/core/scan_kernels_avx2.cc" -o "$out/obj/avx2.o" -mavx2 -mfma -mf16c
fi
for s in "${sources[@]}"; do "$cxx" "${flags[@]}" -c "$root/native/core/$s.cc" -o "$out/obj/$s.o"; done
"$cxx" "${flags[@]}" "$root/bench/scan-large-m.cc" "$out/obj/"*.o -o "$out/scan-large-m"
"$out/scan-large-m" "$out/models.bin" "$@"
