// Reads a scan plan written as JSON by the emulator test (the NativeScanPlan that
// lib/scan/plan.ts builds and the addon takes, JSON.stringify'd), so the emulator scans model
// sets written by the project's own writers (GGUF, GPTQ, PEFT) exactly as the addon would.
// The same field names and rules as native/napi/plan_convert.cc; test input only, so errors
// are plain exceptions naming the field.
#pragma once
#include <string>

#include "core/scan_plan.h"

namespace np_emu {

np::ScanPlan read_plan_json(const std::string& path);

}  // namespace np_emu
