// Device probe: asks the CUDA runtime (linked statically) for the driver and devices.
// On a machine without a driver the runtime answers with an error code; we report it.
#pragma once
#include "core/cuda_backend.h"
