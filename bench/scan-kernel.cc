// Where the CPU scan's time goes, and how fast it could be at best on this machine.
// Built and run by scripts/scan-kernel-bench.sh (`npm run bench:kernel`); not part of the addon.
//
// Measures, per core and in one process:
//   1. the block kernel alone (fake init + moments + Gram) on BF16 data already in memory,
//      for M = 2, 8 and 32 models and each instruction set this CPU has;
//   2. the fake init alone (Philox4x32-10 + kaiming-uniform, and the normal scheme);
//   3. peak rates of float64 FMAs, of the 32x32->64-bit multiplies Philox needs, and of both
//      mixed (on Zen 5 they share two pipes);
//   4. the read-and-sum pass (pread of 2 MiB chunks from a warm page cache + sum), the
//      baseline of `npm run bench`, on all cores.
// From these it prints an upper bound on scan / read-and-sum: a core cannot compute while it
// copies page-cache bytes in pread (no SMT here), so a scan costs at least the read-and-sum's
// time plus the arithmetic's; the arithmetic is at least the multiplies that Philox4x32-10,
// the moments and the Gram need, at the measured peak (everything else taken as free).
#include <fcntl.h>
#include <immintrin.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/cpu_features.h"
#include "core/philox.h"
#include "core/scan_kernels.h"

using namespace np;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::vector<uint16_t> random_bf16(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 0.02f);
  std::vector<uint16_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    float f = nd(rng);
    uint32_t u;
    std::memcpy(&u, &f, 4);
    out[i] = static_cast<uint16_t>(u >> 16);
  }
  return out;
}

// ns per element position for fake init + block kernel over one 2 MiB item (best of reps).
double kernel_ns(const ScanKernels& K, int M, int reps) {
  const size_t n = (2u << 20) / (2 * M) / kBlockElems * kBlockElems;
  std::vector<std::vector<uint16_t>> rows;
  for (int m = 0; m < M; ++m) rows.push_back(random_bf16(n, 100 + m));
  const FakeInitParams p{FakeInitKind::Uniform, -0.03, 0.03, 123u, 456u};
  std::vector<float> r(kBlockElems);
  std::vector<double> scratch(K.block_scratch(M));
  std::vector<double> out(static_cast<size_t>(M) * kNumStats + static_cast<size_t>(M) * M);
  std::vector<const unsigned char*> src(M);
  std::vector<DType> dt(M, DType::BF16);
  double best = 1e30;
  for (int rep = 0; rep < reps; ++rep) {
    const auto t0 = Clock::now();
    for (size_t b = 0; b < n / kBlockElems; ++b) {
      for (int m = 0; m < M; ++m) src[m] = reinterpret_cast<const unsigned char*>(rows[m].data() + b * kBlockElems);
      K.fake_init(p, b * kBlockElems, r.data(), kBlockElems);
      BlockArgs a{static_cast<size_t>(M), kBlockElems, src.data(), dt.data(), r.data(), scratch.data()};
      K.block(a, out.data());
    }
    best = std::min(best, seconds_since(t0));
  }
  return best / static_cast<double>(n) * 1e9;
}

double fake_ns(const ScanKernels& K, FakeInitKind kind, int reps) {
  const FakeInitParams p{kind, kind == FakeInitKind::Normal ? 0.0 : -0.03, kind == FakeInitKind::Normal ? 0.02 : 0.03, 123u, 456u};
  const size_t n = 1 << 20;
  std::vector<float> r(kBlockElems);
  double best = 1e30;
  for (int rep = 0; rep < reps; ++rep) {
    const auto t0 = Clock::now();
    for (size_t b = 0; b < n; b += kBlockElems) K.fake_init(p, b, r.data(), kBlockElems);
    best = std::min(best, seconds_since(t0));
  }
  return best / static_cast<double>(n) * 1e9;
}

// Peak rates on one core, in vector instructions per ns, of float64 FMAs, of 32x32->64-bit
// multiplies (vpmuludq: Philox's multiplies), and of an even mix of the two (which tells
// whether they share execution pipes: on Zen 5 they do, and the mix runs at the same rate).
struct Peaks {
  double fma, mul, mixed;
};

__attribute__((target("avx512f"))) Peaks peaks_avx512() {
  constexpr int kChains = 12;
  __m512d f[kChains];
  __m512i m[kChains];
  for (int i = 0; i < kChains; ++i) {
    f[i] = _mm512_set1_pd(i * 1e-3);
    m[i] = _mm512_set1_epi64(i + 12345);
  }
  const __m512d a = _mm512_set1_pd(0.999999), b = _mm512_set1_pd(1e-9);
  const __m512i k = _mm512_set1_epi64(kPhiloxM0);
  const long iters = 20000000;
  auto t0 = Clock::now();
  for (long it = 0; it < iters; ++it)
    for (int i = 0; i < kChains; ++i) f[i] = _mm512_fmadd_pd(f[i], a, b);
  const double tf = seconds_since(t0);
  t0 = Clock::now();
  for (long it = 0; it < iters; ++it)
    for (int i = 0; i < kChains; ++i) m[i] = _mm512_mul_epu32(m[i], k);
  const double tm = seconds_since(t0);
  t0 = Clock::now();
  for (long it = 0; it < iters; ++it)
    for (int i = 0; i < kChains; ++i) {
      f[i] = _mm512_fmadd_pd(f[i], a, b);
      m[i] = _mm512_mul_epu32(m[i], k);
    }
  const double tb = seconds_since(t0);
  double sink = 0;
  for (int i = 0; i < kChains; ++i) sink += _mm512_reduce_add_pd(f[i]) + static_cast<double>(_mm512_reduce_add_epi64(m[i]));
  if (sink == 42.0) std::puts("");
  const double n = static_cast<double>(kChains) * iters;
  return {n / tf / 1e9, n / tm / 1e9, 2 * n / tb / 1e9};
}

__attribute__((target("avx2,fma"))) Peaks peaks_avx2() {
  constexpr int kChains = 6;
  __m256d f[kChains];
  __m256i m[kChains];
  for (int i = 0; i < kChains; ++i) {
    f[i] = _mm256_set1_pd(i * 1e-3);
    m[i] = _mm256_set1_epi64x(i + 12345);
  }
  const __m256d a = _mm256_set1_pd(0.999999), b = _mm256_set1_pd(1e-9);
  const __m256i k = _mm256_set1_epi64x(kPhiloxM0);
  const long iters = 20000000;
  auto t0 = Clock::now();
  for (long it = 0; it < iters; ++it)
    for (int i = 0; i < kChains; ++i) f[i] = _mm256_fmadd_pd(f[i], a, b);
  const double tf = seconds_since(t0);
  t0 = Clock::now();
  for (long it = 0; it < iters; ++it)
    for (int i = 0; i < kChains; ++i) m[i] = _mm256_mul_epu32(m[i], k);
  const double tm = seconds_since(t0);
  t0 = Clock::now();
  for (long it = 0; it < iters; ++it)
    for (int i = 0; i < kChains; ++i) {
      f[i] = _mm256_fmadd_pd(f[i], a, b);
      m[i] = _mm256_mul_epu32(m[i], k);
    }
  const double tb = seconds_since(t0);
  alignas(32) double l[4];
  alignas(32) long long q[4];
  double sink = 0;
  for (int i = 0; i < kChains; ++i) {
    _mm256_store_pd(l, f[i]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(q), m[i]);
    sink += l[0] + static_cast<double>(q[0]);
  }
  if (sink == 42.0) std::puts("");
  const double n = static_cast<double>(kChains) * iters;
  return {n / tf / 1e9, n / tm / 1e9, 2 * n / tb / 1e9};
}

// Read-and-sum over a warm file on `threads` threads, 2 MiB preads: GB/s (best of reps).
double readsum_gbs(const ScanKernels& K, const std::string& path, size_t bytes, int threads, int reps) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) {
    std::perror(path.c_str());
    std::exit(1);
  }
  const size_t chunk = 2u << 20;
  double best = 1e30;
  for (int rep = 0; rep < reps + 1; ++rep) {  // the first run warms the page cache
    std::atomic<size_t> next{0};
    std::atomic<double> total{0};
    const auto t0 = Clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&] {
        std::vector<unsigned char> buf(chunk);
        double s = 0;
        for (;;) {
          const size_t off = next.fetch_add(chunk);
          if (off >= bytes) break;
          const size_t len = std::min(chunk, bytes - off);
          if (::pread(fd, buf.data(), len, static_cast<off_t>(off)) != static_cast<ssize_t>(len)) std::abort();
          s += K.sum(DType::BF16, buf.data(), len / 2);
        }
        double cur = total.load();
        while (!total.compare_exchange_weak(cur, cur + s)) {
        }
      });
    for (auto& th : pool) th.join();
    if (rep > 0) best = std::min(best, seconds_since(t0));
  }
  ::close(fd);
  return static_cast<double>(bytes) / best / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: scan-kernel <scratch file for the read-and-sum pass> [MiB=512] [threads=all]\n"
                 "                   [read-and-sum GB/s for M = 2, 8, 32 from `npm run bench`, to bound against too]\n");
    return 2;
  }
  const std::string file = argv[1];
  const size_t mib = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 512;
  const int threads = argc > 3 && std::atoi(argv[3]) > 0 ? std::atoi(argv[3])
                                                        : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<double> other_rs;  // read-and-sum GB/s measured elsewhere, for M = 2, 8, 32 (one: all)
  for (int i = 4; i < argc; ++i) other_rs.push_back(std::strtod(argv[i], nullptr));
  const Isa best_isa = np::best_isa();
  const ScanKernels& K = scan_kernels(best_isa);
  std::printf("kernels: %s, %d threads for the read-and-sum pass\n\n", isa_name(best_isa), threads);

  std::printf("Block kernel alone (fake init + moments + Gram), BF16 data in memory, one core:\n\n");
  std::printf("| M | ISA | ns per element position | GB/s of model bytes per core |\n|---|---|---|---|\n");
  const int Ms[] = {2, 8, 32};
  double ns_best[3];
  for (int mi = 0; mi < 3; ++mi) {
    for (Isa isa : {Isa::Avx512, Isa::Avx2, Isa::Scalar}) {
      if (!isa_supported(isa)) continue;
      const int M = Ms[mi];
      const double ns = kernel_ns(scan_kernels(isa), M, isa == Isa::Scalar ? 3 : 20);
      if (isa == best_isa) ns_best[mi] = ns;
      std::printf("| %d | %s | %.2f | %.2f |\n", M, isa_name(isa), ns, 2.0 * M / ns);
    }
  }
  const double fake_u = fake_ns(K, FakeInitKind::Uniform, 20);
  const double fake_n = fake_ns(K, FakeInitKind::Normal, 20);
  const bool wide = best_isa == Isa::Avx512;
  const Peaks pk = wide ? peaks_avx512() : best_isa == Isa::Avx2 ? peaks_avx2() : Peaks{0, 0, 0};
  const int lanes = wide ? 8 : 4;
  std::printf("\nFake init alone (%s): kaiming-uniform %.3f ns per element, normal %.3f ns\n", isa_name(best_isa), fake_u, fake_n);
  std::printf("Peaks per core, vector instructions per ns (%d lanes of 64 bits): float64 FMA %.2f, 32x32->64 multiply %.2f, "
              "the two mixed %.2f (%s)\n",
              lanes, pk.fma, pk.mul, pk.mixed,
              pk.mixed < 1.25 * std::max(pk.fma, pk.mul) ? "they share pipes" : "separate pipes");

  // The read-and-sum baseline on a warm file of BF16 values.
  const size_t bytes = mib << 20;
  {
    FILE* f = std::fopen(file.c_str(), "wb");
    if (!f) {
      std::perror(file.c_str());
      return 1;
    }
    const std::vector<uint16_t> block = random_bf16(1 << 20, 7);
    for (size_t done = 0; done < bytes; done += block.size() * 2)
      std::fwrite(block.data(), 1, std::min(block.size() * 2, bytes - done), f);
    std::fclose(f);
  }
  const double rs = readsum_gbs(K, file, bytes, threads, 5);
  std::remove(file.c_str());
  std::printf("read-and-sum (pread, warm page cache, %zu MiB): %.2f GB/s\n\n", mib, rs);

  if (pk.mixed <= 0) return 0;
  std::printf("Upper bound on scan / read-and-sum with a warm page cache (target: 0.7).\n");
  std::printf("bound = R / (R + A): R = read-and-sum core-ns per element position; A = the multiplies no\n");
  std::printf("implementation can avoid, at the mixed peak: Philox4x32-10's 5 per element, one float64\n");
  std::printf("multiply for the uniform draw, x^2, x^3, x^4 and (x-r)^2 per model, one FMA per pair of\n");
  std::printf("models (nothing else: no loads, conversions, additions). 'kernel' uses the measured block\n");
  std::printf("kernel instead of A.\n\n");
  std::printf("| M | multiply-pipe vector ops per position | floor A, ns per position per core | read-and-sum GB/s | bound | kernel |\n|---|---|---|---|---|---|\n");
  for (int mi = 0; mi < 3; ++mi) {
    std::vector<std::pair<double, std::string>> baselines{{rs, " (this run)"}};
    if (!other_rs.empty()) baselines.push_back({other_rs[std::min<size_t>(mi, other_rs.size() - 1)], " (given)"});
    const int M = Ms[mi];
    // Philox: 20 multiplies per 4 outputs; the uniform draw: 1 multiply; per model x^2 (mul),
    // x^3, x^4 and (x - r)^2 (FMAs); per pair of models one FMA. `lanes` 64-bit lanes each.
    const double ops = (5.0 + 1.0 + 4.0 * M + M * (M - 1) / 2.0) / lanes;
    const double floor_ns = ops / pk.mixed;
    for (const auto& [gbs, label] : baselines) {
      const double rs_ns = 2.0 * M / gbs * threads;  // read-and-sum core-ns per element position
      std::printf("| %d | %.1f | %.2f | %.2f%s | %.2f | %.2f |\n", M, ops, floor_ns, gbs, label.c_str(),
                  rs_ns / (rs_ns + floor_ns), rs_ns / (rs_ns + ns_best[mi]));
    }
  }
  return 0;
}
