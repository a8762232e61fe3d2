// CPU emulation: IEEE half to float through the core's own exact conversion.
#pragma once
#include <cstdint>

#include "core/dtype.h"

struct __half {
  unsigned short bits;
};
inline __half __ushort_as_half(unsigned short b) { return __half{b}; }
inline float __half2float(__half h) { return np::f16_to_float(h.bits); }
