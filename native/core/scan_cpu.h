// The CPU scan: one streaming pass over the planned tensors of all models, multithreaded,
// with bounded memory (threads x chunk_bytes of read buffers plus small per-block sums).
#pragma once
#include "core/scan_plan.h"

namespace np {

ScanOutput scan_cpu(const ScanPlan& plan, const ScanControl& control);

}  // namespace np
