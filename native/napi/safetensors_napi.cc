// Placeholder until the safetensors reader lands (see native/core/safetensors.h).
#include <napi.h>

#include "napi/exports.h"

namespace np_napi {
void register_safetensors(Napi::Env, Napi::Object) {}
}  // namespace np_napi
