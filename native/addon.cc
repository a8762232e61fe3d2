// Registers the addon's exports; each binding lives in native/napi/.
#include <napi.h>

#include "napi/exports.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  np_napi::register_device(env, exports);
  np_napi::register_scan(env, exports);
  np_napi::register_safetensors(env, exports);
  np_napi::register_gguf(env, exports);
  np_napi::register_packed(env, exports);
#if defined(NP_HAVE_CUDA)
  np_napi::register_scan_cuda(env, exports);  // startScanCuda exists only where CUDA was built in
#endif
  np_napi::register_edge(env, exports);
  np_napi::register_fingerprint(env, exports);
  np_napi::register_low_rank(env, exports);
  // lib/native.ts ADDON_ABI_VERSION: bump both whenever an export changes shape.
  exports.Set("abiVersion", Napi::Number::New(env, 4));
  return exports;
}

NODE_API_MODULE(neural_phylogeny, Init)
