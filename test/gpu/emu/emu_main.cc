// Runs the CUDA scan's real sources (kernels and host pipeline) on the CPU emulator and holds
// them to the CPU scan: random groups (1..128 members: the register kernel for 2..32, panels
// of 32 with the register triangle and cross kernels above, the tile kernel for one-row
// passes and, as the benchmarks' baseline, for everything; sizes off every tile, every dtype
// mixed, all three fake-init kinds), both Gram paths, small staging buffers (many items and
// batches), the resident mode, determinism, the fake init bitwise, progress, cancellation and
// error paths. Prints one line per check; exits 1 on the first failure. With --plan (see
// plan_mode below) it scans a plan written as JSON: a set with GGUF, GPTQ and LoRA members.
//
// What it cannot show: that the GPU runs these kernels as the emulator does (WMMA hardware,
// memory model, speed). test/gpu/scan-cuda.test.ts and scripts/gpu-check do that on a GPU.
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/cuda_backend.h"
#include "core/error.h"
#include "core/scan_cpu.h"
#include "core/scan_kernels.h"
#include "cuda/scan_cross_kernel.cuh"
#include "cuda/scan_cuda_plan.h"
#include "cuda/scan_warp_kernel.cuh"
#include "plan_json.h"

namespace np_emu {
void set_fail_launches(bool fail);
}

namespace {

int g_failures = 0;

void check(bool ok, const std::string& what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  if (!ok) ++g_failures;
}

std::string g_dir;
std::mt19937_64 g_rng(2026);

uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// Writes one member's data (random bit patterns of realistic magnitude, some zeros and, for
// F16, subnormals) after a random-length prefix; returns the data's offset.
uint64_t write_member(const std::string& path, np::DType t, uint64_t count, double scale) {
  std::vector<unsigned char> bytes(static_cast<size_t>(g_rng() % 61));
  for (auto& b : bytes) b = static_cast<unsigned char>(g_rng());
  const uint64_t offset = bytes.size();
  std::normal_distribution<double> normal(0.0, scale);
  for (uint64_t i = 0; i < count; ++i) {
    const double v = (g_rng() % 53 == 0) ? 0.0 : normal(g_rng);
    unsigned char buf[8];
    size_t n = np::dtype_size(t);
    switch (t) {
      case np::DType::F32: {
        float f = static_cast<float>(v);
        std::memcpy(buf, &f, 4);
        break;
      }
      case np::DType::F64:
        std::memcpy(buf, &v, 8);
        break;
      case np::DType::BF16: {
        uint32_t u = f32_bits(static_cast<float>(v));
        uint16_t h = static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
        std::memcpy(buf, &h, 2);
        break;
      }
      case np::DType::F16: {
        // Random half bit patterns: exponents 0 (zero/subnormal) to 16 (|x| < 4).
        uint16_t h = static_cast<uint16_t>(((g_rng() & 1) << 15) | ((g_rng() % 17) << 10) | (g_rng() & 0x3ff));
        std::memcpy(buf, &h, 2);
        break;
      }
    }
    bytes.insert(bytes.end(), buf, buf + n);
  }
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return offset;
}

np::FakeInitParams random_fake(int kind) {
  np::FakeInitParams p;
  p.kind = static_cast<np::FakeInitKind>(kind);
  p.key0 = static_cast<uint32_t>(g_rng());
  p.key1 = static_cast<uint32_t>(g_rng());
  if (kind == 0) {
    p.a = 1.0;
    p.b = 0.0;
  } else if (kind == 1) {
    p.a = -0.05;
    p.b = 0.05;
  } else {
    p.a = 0.0;
    p.b = 0.02;
  }
  return p;
}

int g_file = 0;

// Adds a group of k members (dtypes mixed unless `dtype` >= 0) to the plan.
void add_group(np::ScanPlan& plan, size_t k, uint64_t count, int kind, int dtype = -1) {
  np::ScanGroup g;
  g.name = "g" + std::to_string(plan.groups.size());
  g.count = count;
  g.fake = random_fake(kind);
  for (size_t m = 0; m < k; ++m) {
    const np::DType t = static_cast<np::DType>(dtype >= 0 ? dtype : static_cast<int>(g_rng() % 4));
    const std::string path = g_dir + "/f" + std::to_string(g_file++);
    np::ScanMember mem;
    mem.file = static_cast<uint32_t>(plan.files.size());
    mem.dtype = t;
    mem.offset = write_member(path, t, count, 0.02 + 0.5 * static_cast<double>(m % 5));
    plan.files.push_back(path);
    g.members.push_back(mem);
  }
  plan.groups.push_back(std::move(g));
}

// Largest error against natural magnitudes: moments against sqrt(count * sumSq) + sumSq,
// Gram entries against sqrt(G_aa G_bb) (as test/native/scan.test.ts does).
double max_rel(const np::ScanPlan& plan, const np::ScanOutput& want, const np::ScanOutput& got, std::string* where) {
  double worst = 0;
  for (size_t gi = 0; gi < plan.groups.size(); ++gi) {
    const size_t k = plan.groups[gi].members.size();
    const double* w = want.values.data() + want.offsets[gi];
    const double* g = got.values.data() + got.offsets[gi];
    for (size_t i = 0; i < k * 5 + k * k; ++i) {
      double scale;
      if (i < k * 5) {
        const double sq = w[(i / 5) * 5 + 1];
        scale = std::sqrt(static_cast<double>(plan.groups[gi].count) * sq) + sq;
      } else {
        const size_t a = (i - k * 5) / k, b = (i - k * 5) % k;
        scale = std::sqrt(w[k * 5 + a * k + a] * w[k * 5 + b * k + b]);
      }
      scale = std::max(scale, 1e-300);
      double err = std::fabs(g[i] - w[i]) / scale;
      if (std::isnan(err)) err = INFINITY;  // a NaN must not hide behind later comparisons
      if (err > worst) {
        worst = err;
        if (where) *where = plan.groups[gi].name + " value " + std::to_string(i) + " got " + std::to_string(g[i]) + " want " + std::to_string(w[i]);
      }
    }
  }
  return worst;
}

np::ScanOutput cpu(const np::ScanPlan& plan) {
  np::ScanControl c;
  return np::scan_cpu(plan, c);
}

np::CudaScanResult gpu(const np::ScanPlan& plan, np::CudaScanOptions o, const np::ScanControl& c = np::ScanControl{}) {
  return np::scan_cuda_ex(plan, c, o);
}

template <class F>
std::string error_of(F f, np::ErrorCode* code = nullptr) {
  try {
    f();
  } catch (const np::Error& e) {
    if (code) *code = e.code();
    return e.what();
  }
  return "";
}

// with_tile: also the benchmarks' tile-kernel baseline (CudaScanOptions::tile_kernel).
void compare_variants(const std::string& name, const np::ScanPlan& plan, bool with_tile = false) {
  const np::ScanOutput want = cpu(plan);
  struct Variant {
    const char* label;
    np::CudaScanOptions o;
  };
  std::vector<Variant> variants;
  variants.push_back({"dmma", {}});
  np::CudaScanOptions fma;
  fma.gram = np::CudaGram::Fma;
  variants.push_back({"fma", fma});
  np::CudaScanOptions small;
  small.stage_bytes = 64 * 1024;
  small.slots = 2;
  small.readers = 3;
  variants.push_back({"64KiB items, 2 slots", small});
  np::CudaScanOptions resident;
  resident.resident = true;
  resident.repeat = 2;
  variants.push_back({"resident x2", resident});
  np::CudaScanOptions resident_small = resident;
  resident_small.stage_bytes = 64 * 1024;
  resident_small.slots = 2;
  variants.push_back({"resident, 64KiB, 2 slots", resident_small});
  np::CudaScanOptions tile;
  tile.tile_kernel = true;
  tile.stage_bytes = 64 * 1024;
  if (with_tile) variants.push_back({"tile kernel, 64KiB", tile});
  for (const Variant& v : variants) {
    std::string where;
    const np::CudaScanResult r = gpu(plan, v.o);
    const double err = max_rel(plan, want, r.output, &where);
    char line[512];
    std::snprintf(line, sizeof line, "%s [%s]: max relative error %.2e%s%s", name.c_str(), v.label, err,
                  err <= 1e-12 ? "" : " at ", err <= 1e-12 ? "" : where.c_str());
    check(err <= 1e-12 && r.output.bytes == want.bytes, line);
  }
}

// Plan mode: emu --plan formed.json --dense dense.json --out values.bin. formed.json is a
// plan lib/scan/plan.ts built for a set written by the project's writers (GGUF, GPTQ, PEFT
// members among plain ones); dense.json the same set with every formed member written out as
// float32 from the TypeScript reference values. Checks: the CUDA scan of formed.json against
// the CPU scan (every variant; Q8_0 expanded on the device, or on the host); bitwise the CUDA
// scan of dense.json (the formed values reach the device exactly); errors inside forming
// reach the caller as the CPU scan raises them.
// Writes the CUDA scan's values (raw float64) for the test to hold against the addon's scan.
int plan_mode(const std::string& formed_path, const std::string& dense_path, const std::string& out_path) {
  const np::ScanPlan plan = np_emu::read_plan_json(formed_path);
  const np::ScanPlan dense = np_emu::read_plan_json(dense_path);
  size_t gguf = 0, packed = 0, lora = 0;
  for (const np::ScanGroup& g : plan.groups)
    for (const np::ScanMember& m : g.members) {
      gguf += m.dequantized();
      packed += m.is_packed();
      lora += m.is_lora();
    }
  size_t expanded = 0;
  for (const np::cuda_scan::Item& it : np::cuda_scan::plan_work(plan, 64 * 1024, true).items) expanded += it.expand.size();
  std::printf("formed members: gguf %zu packed %zu lora %zu; Q8_0 item members expanded on the device: %zu\n", gguf, packed,
              lora, expanded);
  // Host-side variants only (the kernels are the generic checks' business): one item per
  // group; 64 KiB items in 4 KiB reader pieces, which cut rows, GGUF blocks and GPTQ groups;
  // the resident pipeline with those pieces.
  const np::ScanOutput want = cpu(plan);
  np::CudaScanOptions pieces;
  pieces.stage_bytes = 64 * 1024;
  pieces.piece_bytes = 4096;
  np::CudaScanOptions resident = pieces;
  resident.resident = true;
  np::CudaScanOptions host = pieces;
  host.device_dequant = false;
  const std::pair<const char*, np::CudaScanOptions> variants[] = {{"default", {}},
                                                                  {"64KiB items, 4KiB pieces", pieces},
                                                                  {"64KiB, 4KiB pieces, Q8_0 on the host", host},
                                                                  {"resident, 4KiB pieces", resident}};
  np::ScanOutput first;
  for (const auto& [label, o] : variants) {
    const np::CudaScanResult r = gpu(plan, o);
    std::string where;
    const double err = max_rel(plan, want, r.output, &where);
    char line[512];
    std::snprintf(line, sizeof line, "formed set [%s]: max relative error %.2e%s%s, bytes %llu (cpu %llu)", label, err,
                  err <= 1e-12 ? "" : " at ", err <= 1e-12 ? "" : where.c_str(), static_cast<unsigned long long>(r.output.bytes),
                  static_cast<unsigned long long>(want.bytes));
    check(err <= 1e-12 && r.output.bytes == want.bytes, line);
    if (o.resident) continue;
    // The float32 copy's scan under the same options: the same items, the same sums.
    check(gpu(dense, o).output.values == r.output.values, std::string("formed set equals its float32 copy bitwise [") + label + "]");
    if (first.values.empty()) first = r.output;
  }
  std::printf("bytes %llu\n", static_cast<unsigned long long>(first.bytes));
  std::ofstream(out_path, std::ios::binary)
      .write(reinterpret_cast<const char*>(first.values.data()), static_cast<std::streamsize>(first.values.size() * sizeof(double)));

  // A GGUF member whose rows run past its file; a packed member whose g_idx is its qweight's
  // random words (groups out of range). Same error code from both scans.
  auto same_error = [&](const char* what, const std::function<void(np::ScanMember&)>& breakit, bool (*kind)(const np::ScanMember&)) {
    np::ScanPlan broken = plan;
    bool found = false;
    for (np::ScanGroup& g : broken.groups)
      for (np::ScanMember& m : g.members)
        if (!found && kind(m)) {
          breakit(m);
          found = true;
        }
    np::ErrorCode cpu_code = np::ErrorCode::Internal, gpu_code = np::ErrorCode::Internal;
    const std::string cpu_msg = error_of([&] { cpu(broken); }, &cpu_code);
    np::CudaScanOptions o;
    o.stage_bytes = 64 * 1024;
    const std::string gpu_msg = error_of([&] { gpu(broken, o); }, &gpu_code);
    check(found && !gpu_msg.empty() && gpu_code == cpu_code && gpu_code != np::ErrorCode::Internal,
          std::string(what) + ": " + gpu_msg);
  };
  same_error("GGUF Q4_K rows past the file", [](np::ScanMember& m) { m.offset += uint64_t{1} << 40; },
             [](const np::ScanMember& m) { return m.dequantized() && std::string(m.gguf.type->name) == "Q4_K"; });
  same_error("GGUF Q8_0 rows (expanded on the device) past the file", [](np::ScanMember& m) { m.offset += uint64_t{1} << 40; },
             [](const np::ScanMember& m) { return m.dequantized() && std::string(m.gguf.type->name) == "Q8_0"; });
  same_error("packed g_idx out of range", [](np::ScanMember& m) {
    m.packed.has_gidx = true;
    m.packed.gidx_file = m.file;
    m.packed.gidx_offset = m.offset;
  }, [](const np::ScanMember& m) { return m.is_packed(); });
  std::printf("%s: %d failure(s)\n", g_failures ? "FAILED" : "PASSED", g_failures);
  return g_failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 7 && std::string(argv[1]) == "--plan" && std::string(argv[3]) == "--dense" && std::string(argv[5]) == "--out") {
    try {
      return plan_mode(argv[2], argv[4], argv[6]);
    } catch (const std::exception& e) {
      std::printf("FAIL plan mode: %s\n", e.what());
      return 1;
    }
  }
  const char* schedule = std::getenv("EMU_SCHEDULE");
  std::printf("schedule: %s\n", schedule ? schedule : "lazy");
  char tmpl[] = "/tmp/np-cuda-emu-XXXXXX";
  if (!mkdtemp(tmpl)) return 2;
  g_dir = tmpl;

  // 1. Groups of every shape class against the CPU scan.
  {
    np::ScanPlan plan;
    plan.threads = 2;
    add_group(plan, 1, 1, 1);
    add_group(plan, 1, 12345, 2);
    add_group(plan, 2, 63, 1);
    add_group(plan, 3, 4097, 2);
    add_group(plan, 5, 2049, 0);
    add_group(plan, 8, 5000, 2, static_cast<int>(np::DType::BF16));
    add_group(plan, 9, 777, 1);
    add_group(plan, 16, 1500, 2);
    add_group(plan, 17, 515, 1);
    add_group(plan, 2, 0, 1);
    compare_variants("k 1..17", plan);
  }
  {
    np::ScanPlan plan;
    plan.threads = 2;
    add_group(plan, 25, 301, 0);
    add_group(plan, 32, 129, 2);
    add_group(plan, 33, 300, 2);
    add_group(plan, 64, 200, 1);
    compare_variants("k 25, 32, 33, 64", plan);
  }
  {
    np::ScanPlan plan;
    plan.threads = 2;
    add_group(plan, 65, 70, 2);
    add_group(plan, 100, 130, 1);
    compare_variants("k 65, 100 (panel passes)", plan);
  }
  // Groups of 33..128 members: panels of 32 (the last one 1..32 members), register triangle
  // and cross passes; element counts off every unit (16, 64) and tile (4096).
  {
    np::ScanPlan plan;
    plan.threads = 2;
    add_group(plan, 33, 601, 1);
    add_group(plan, 48, 517, 0);
    add_group(plan, 64, 333, 2);
    compare_variants("k 33, 48, 64 (register panels)", plan, true);
  }
  // The largest groups run under one schedule only: stream ordering is exercised by every
  // other group under both, and these two plans are most of the emulator's time.
  const bool eager = schedule && std::string(schedule) == "eager";
  if (!eager) {
    np::ScanPlan plan;
    plan.threads = 2;
    add_group(plan, 100, 259, 2);
    add_group(plan, 128, 197, 1);
    compare_variants("k 100, 128 (register panels)", plan, true);
  }
  if (!eager) {
    np::ScanPlan plan;
    plan.threads = 2;
    add_group(plan, 40, 4099, 0, static_cast<int>(np::DType::BF16));
    add_group(plan, 57, 129, 1, static_cast<int>(np::DType::F64));
    compare_variants("k 40 BF16, k 57 F64 (register panels)", plan);
  }
  // Every pass of a 33..128-member group runs a register kernel, except one-row panels.
  {
    bool ok = true;
    std::string bad;
    for (size_t k = 33; k <= 128 && ok; ++k) {
      for (const np::cuda_scan::PassPlan& p : np::cuda_scan::plan_passes(k)) {
        np::cuda_scan::PassArgs a{};
        for (size_t q = 0; q < p.pair_a.size(); ++q) {
          a.pair_a[q] = p.pair_a[q];
          a.pair_b[q] = p.pair_b[q];
        }
        a.rows = static_cast<int>(p.rows.size());
        a.moment_rows = p.moment_rows;
        a.pairs = static_cast<int>(p.pair_a.size());
        const bool reg = np::cuda_scan::warp_kernel_fits(a) || np::cuda_scan::cross_kernel_fits(a);
        if (!reg && !(a.rows == 1 && a.moment_rows == 1)) {
          ok = false;
          bad = ": k " + std::to_string(k) + " has a pass of " + std::to_string(a.rows) + " rows on the tile kernel";
        }
      }
    }
    check(ok, "k 33..128: every pass but one-row panels runs a register kernel" + bad);
  }

  // 2. Determinism: the same scan twice, bitwise.
  {
    np::ScanPlan plan;
    add_group(plan, 7, 3000, 2);
    add_group(plan, 12, 999, 1);
    const np::CudaScanResult a = gpu(plan, {}), b = gpu(plan, {});
    check(a.output.values == b.output.values, "deterministic: two runs give bitwise the same values");
  }

  // 3. The device fake init, bitwise.
  {
    bool ok = true;
    std::string first_bad;
    for (int kind = 0; kind < 3; ++kind) {
      const np::FakeInitParams p = random_fake(kind);
      for (uint64_t start : {0ull, 1ull, 63ull, 64ull, 100ull, 4095ull, 1000000007ull, (1ull << 33) + 5})
        for (size_t count : {size_t{1}, size_t{17}, size_t{200}, size_t{5000}}) {
          const std::vector<float> got = np::fake_init_cuda(p, start, count, 0);
          for (size_t i = 0; i < count && ok; ++i) {
            const float want = np::fake_init_value(p, start + i);
            if (std::memcmp(&want, &got[i], 4) != 0) {
              ok = false;
              first_bad = "kind " + std::to_string(kind) + " index " + std::to_string(start + i);
            }
          }
        }
    }
    check(ok, "fake init on the device equals fake_init_value bitwise" + (ok ? std::string() : ": " + first_bad));
  }

  // 4. Progress, cancellation, errors.
  {
    np::ScanPlan plan;
    add_group(plan, 4, 40000, 1);
    std::vector<uint64_t> seen;
    np::ScanControl c;
    c.progress = [&](uint64_t done, uint64_t total) { seen.push_back(done * 1000 + (done == total)); };
    np::CudaScanOptions o;
    o.stage_bytes = 64 * 1024;
    const np::CudaScanResult r = gpu(plan, o, c);
    bool mono = !seen.empty();
    for (size_t i = 1; i < seen.size(); ++i) mono = mono && seen[i] >= seen[i - 1];
    check(mono && seen.back() == r.output.bytes * 1000 + 1, "progress rises to the total (" + std::to_string(seen.size()) + " reports)");

    std::atomic<bool> cancel{false};
    np::ScanControl cc;
    cc.cancel = &cancel;
    cc.progress = [&](uint64_t, uint64_t) { cancel.store(true); };
    np::ErrorCode code = np::ErrorCode::Internal;
    const std::string msg = error_of([&] { gpu(plan, o, cc); }, &code);
    check(code == np::ErrorCode::Aborted && msg.find("cancelled after") != std::string::npos, "cancel: " + msg);

    np::ScanPlan broken = plan;
    broken.files[2] += ".missing";
    code = np::ErrorCode::Internal;
    const std::string io = error_of([&] { gpu(broken, o); }, &code);
    check(code == np::ErrorCode::Io && io.find(".missing") != std::string::npos, "missing file: " + io);

    np_emu::set_fail_launches(true);
    code = np::ErrorCode::Internal;
    const std::string launch = error_of([&] { gpu(plan, o); }, &code);
    np_emu::set_fail_launches(false);
    check(code == np::ErrorCode::Cuda && launch.find("failed:") != std::string::npos, "failing launch: " + launch);

    np::CudaScanOptions bad;
    bad.device = 3;
    code = np::ErrorCode::Internal;
    const std::string dev = error_of([&] { gpu(plan, bad); }, &code);
    check(code == np::ErrorCode::InvalidArgument, "absent device: " + dev);

    np::ScanPlan readsum = plan;
    readsum.mode = np::ScanMode::ReadSum;
    code = np::ErrorCode::Internal;
    const std::string rs = error_of([&] { gpu(readsum, {}); }, &code);
    check(code == np::ErrorCode::InvalidArgument, "read-and-sum mode refused: " + rs);

    // After all those errors the emulated device still scans correctly.
    const double err = max_rel(plan, cpu(plan), gpu(plan, {}).output, nullptr);
    check(err <= 1e-12, "scans correctly after the errors");
  }

  std::string cleanup = "rm -rf '" + g_dir + "'";
  if (std::system(cleanup.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", g_dir.c_str());
  std::printf("%s: %d failure(s)\n", g_failures ? "FAILED" : "PASSED", g_failures);
  return g_failures ? 1 : 0;
}
