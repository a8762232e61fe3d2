// The plans as JS passes them (lib/native.ts NativeScanPlan, NativeEdgePlan), read once for
// the CPU and the CUDA bindings.
#pragma once
#include <napi.h>

#include <string>

#include "core/cpu_features.h"
#include "core/edge_plan.h"
#include "core/philox.h"
#include "core/scan_plan.h"

namespace np_napi {

np::FakeInitParams fake_from_js(const Napi::Object& fake, const std::string& tensor = {});
// "auto" or absent: the best kernel set; otherwise it must be known and supported here.
np::Isa isa_from_js(const Napi::Value& v);
np::ScanPlan plan_from_js(const Napi::Object& js);
// A GPTQ/AWQ member's `packed` object (lib/native.ts NativePackedMember).
np::PackedRows packed_from_js(const Napi::Object& o, const std::string& tensor);
// The edge encoder's plan; *use_cuda tells whether plan.device is 'cuda'.
np::EdgePlan edge_plan_from_js(const Napi::Object& js, bool* use_cuda);
// The plan's scan output as { values, offsets } on `result`.
void set_scan_values(Napi::Env env, Napi::Object result, const np::ScanOutput& out);

}  // namespace np_napi
