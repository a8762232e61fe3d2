#!/usr/bin/env bash
# `npm run bench:kernel`: builds bench/scan-kernel.cc against the addon's CPU kernels with the
# addon's flags (baseline x86-64, AVX2/AVX-512 files with their own flags, no FP contraction)
# and runs it: where a warm-cache CPU scan's time goes and the best scan / read-and-sum ratio
# this machine allows. Usage:
#   scripts/scan-kernel-bench.sh [MiB for the read pass, 512] [threads, 0 = all] [GB/s for M=2 8 32]
# The optional figures (the read-and-sum column of `npm run bench`) are bounded against too.
set -euo pipefail
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  exit 0
fi
for a in "$@"; do
  if ! [[ "$a" =~ ^[0-9.]+$ ]]; then
    echo "scan-kernel-bench: '$a' is not a number (--help for usage)" >&2
    exit 2
  fi
done
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${NP_KERNEL_BENCH_DIR:-$root/.cache/kernel-bench}"
mkdir -p "$out"
cxx="${CXX:-g++}"
flags=(-O3 -std=c++17 -ffp-contract=off -fno-math-errno -DNP_X86_KERNELS -I"$root/native" -pthread)
if [[ "$(uname -m)" != x86_64 ]]; then
  echo "scan-kernel-bench: x86-64 only (the kernels it measures are the x86 ones)" >&2
  exit 1
fi
"$cxx" "${flags[@]}" -c "$root/native/core/scan_kernels_avx512.cc" -o "$out/avx512.o" \
  -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma -mf16c
"$cxx" "${flags[@]}" -c "$root/native/core/scan_kernels_avx2.cc" -o "$out/avx2.o" -mavx2 -mfma -mf16c
"$cxx" "${flags[@]}" "$root/bench/scan-kernel.cc" "$root/native/core/scan_kernels.cc" \
  "$root/native/core/scan_kernels_scalar.cc" "$root/native/core/cpu_features.cc" \
  "$out/avx512.o" "$out/avx2.o" -o "$out/scan-kernel"
if [[ $# -eq 0 ]]; then set -- 512; fi
"$out/scan-kernel" "$out/readsum.bin" "$@"
