#include "core/cpu_features.h"

#include <cstdlib>
#include <cstring>

namespace np {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "scalar";
}

namespace {

bool cpu_has_avx2() {
#if defined(NP_X86_KERNELS) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#else
  return false;
#endif
}

bool cpu_has_avx512() {
#if defined(NP_X86_KERNELS) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  return cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#else
  return false;
#endif
}

}  // namespace

bool isa_supported(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return true;
    case Isa::Avx2: return cpu_has_avx2();
    case Isa::Avx512: return cpu_has_avx512();
  }
  return false;
}

Isa best_isa() {
  Isa best = cpu_has_avx512() ? Isa::Avx512 : (cpu_has_avx2() ? Isa::Avx2 : Isa::Scalar);
  const char* env = std::getenv("NP_CPU_ISA");
  Isa wanted;
  if (env && *env && parse_isa(env, &wanted) && static_cast<int>(wanted) < static_cast<int>(best)) return wanted;
  return best;
}

bool parse_isa(const std::string& name, Isa* out) {
  if (name == "scalar") { *out = Isa::Scalar; return true; }
  if (name == "avx2") { *out = Isa::Avx2; return true; }
  if (name == "avx512") { *out = Isa::Avx512; return true; }
  return false;
}

std::string cpu_feature_summary() {
  std::string s;
#if defined(NP_X86_KERNELS) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  const char* names[] = {"sse4.2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512dq", "avx512vl"};
  for (const char* n : names) {
    bool has = false;
    if (!std::strcmp(n, "sse4.2")) has = __builtin_cpu_supports("sse4.2");
    else if (!std::strcmp(n, "avx")) has = __builtin_cpu_supports("avx");
    else if (!std::strcmp(n, "avx2")) has = __builtin_cpu_supports("avx2");
    else if (!std::strcmp(n, "fma")) has = __builtin_cpu_supports("fma");
    else if (!std::strcmp(n, "f16c")) has = __builtin_cpu_supports("f16c");
    else if (!std::strcmp(n, "avx512f")) has = __builtin_cpu_supports("avx512f");
    else if (!std::strcmp(n, "avx512bw")) has = __builtin_cpu_supports("avx512bw");
    else if (!std::strcmp(n, "avx512dq")) has = __builtin_cpu_supports("avx512dq");
    else if (!std::strcmp(n, "avx512vl")) has = __builtin_cpu_supports("avx512vl");
    if (has) { if (!s.empty()) s += ' '; s += n; }
  }
#else
  s = "portable build (no x86 kernels)";
#endif
  return s;
}

}  // namespace np
