// The CPU scan at large M: the same synthetic BF16 models scanned as groups of M = 8, 32, 64
// and 128 (the first M models of one file), warm page cache, the real scan_cpu (reads, fake
// init, moments, Gram) on all cores. Prints GB/s of model bytes and the time per Gram entry
// and element, each as a ratio to M = 8 from the same run. Its counterpart on the GPU is
// scripts/device-check.sh's scan-large-m section. Built and run by
// scripts/scan-large-m-bench.sh; not part of the addon.
//
// Why: the Gram work grows as M^2 and the bytes as M, so GB/s must fall as M grows; this row
// says by how much on a given machine, against which the GPU's large-M figures can be read.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/error.h"
#include "core/scan_cpu.h"

using namespace np;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// One model's n BF16 values (xorshift bits scaled to about N(0, 0.03)): cheap to make.
void write_model(FILE* f, uint64_t n, uint64_t seed) {
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  std::vector<uint16_t> buf(n);
  for (uint64_t i = 0; i < n; ++i) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    const float v = static_cast<float>(static_cast<int32_t>(s >> 32)) / 2147483648.0f * 0.05f;
    uint32_t u;
    std::memcpy(&u, &v, 4);
    buf[i] = static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
  }
  if (std::fwrite(buf.data(), 2, n, f) != n) throw Error(ErrorCode::Io, "scan-large-m: cannot write the model file");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: scan-large-m FILE [elements per model, 1048583] [threads, 0 = all] [runs, 3]\n");
    return 2;
  }
  const std::string file = argv[1];
  const uint64_t n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1048583ull;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 0;
  const int runs = argc > 4 ? std::max(1, std::atoi(argv[4])) : 3;
  try {
    FILE* f = std::fopen(file.c_str(), "wb");
    if (!f) throw Error(ErrorCode::Io, "scan-large-m: cannot create " + file);
    for (int m = 0; m < 128; ++m) write_model(f, n, 1000 + static_cast<uint64_t>(m));
    std::fclose(f);
    std::printf("CPU scan, BF16, %llu elements per model, kernels %s, best of %d warm runs\n", static_cast<unsigned long long>(n),
                isa_name(best_isa()), runs);
    std::printf("%5s %10s %10s %9s %16s %12s\n", "M", "seconds", "GB/s", "vs M=8", "ns/(entry*elem)", "vs M=8");
    double base_gbs = 0, base_ns = 0;
    for (size_t k : {size_t{8}, size_t{32}, size_t{64}, size_t{128}}) {
      ScanPlan plan;
      plan.files.push_back(file);
      plan.threads = threads;
      plan.isa = best_isa();
      ScanGroup g;
      g.name = "bf16";
      g.count = n;
      g.fake = FakeInitParams{FakeInitKind::Uniform, -0.05, 0.05, 7u, 8u};
      for (size_t m = 0; m < k; ++m) g.members.push_back(ScanMember{0, static_cast<uint64_t>(m) * n * 2, DType::BF16});
      plan.groups.push_back(g);
      ScanControl none;
      scan_cpu(plan, none);  // warms the page cache
      double best = 0;
      for (int r = 0; r < runs; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        scan_cpu(plan, none);
        const double s = seconds_since(t0);
        best = r == 0 ? s : std::min(best, s);
      }
      const double gbs = static_cast<double>(k) * static_cast<double>(n) * 2.0 / best / 1e9;
      // Gram entries computed: the upper triangle with its diagonal.
      const double ns = best * 1e9 / (static_cast<double>(k * (k + 1) / 2) * static_cast<double>(n));
      if (k == 8) {
        base_gbs = gbs;
        base_ns = ns;
      }
      std::printf("%5zu %10.3f %10.3f %8.3fx %16.4f %11.3fx\n", k, best, gbs, gbs / base_gbs, ns, ns / base_ns);
    }
    std::remove(file.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "scan-large-m: %s\n", e.what());
    std::remove(file.c_str());
    return 1;
  }
  return 0;
}
