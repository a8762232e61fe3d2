// Run-time CPU feature detection: the addon is built for baseline x86-64 (or any other CPU)
// and picks the widest kernel set this CPU runs. NP_CPU_ISA=scalar|avx2|avx512 narrows the
// choice (tests use it to hold every kernel set to the same answers).
#pragma once
#include <string>

namespace np {

enum class Isa : int { Scalar = 0, Avx2 = 1, Avx512 = 2 };

const char* isa_name(Isa isa);
// The best kernel set this CPU and this build support.
Isa best_isa();
// Whether this CPU and this build can run `isa`.
bool isa_supported(Isa isa);
// Parses "scalar" | "avx2" | "avx512" | "auto"; returns false otherwise.
bool parse_isa(const std::string& name, Isa* out);
// A one-line description of the CPU features that matter here.
std::string cpu_feature_summary();

}  // namespace np
