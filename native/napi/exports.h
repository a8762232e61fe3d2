// One register_* per binding file; native/addon.cc calls them all.
#pragma once
#include <napi.h>

namespace np_napi {

void register_device(Napi::Env env, Napi::Object exports);
void register_scan(Napi::Env env, Napi::Object exports);
void register_safetensors(Napi::Env env, Napi::Object exports);
void register_gguf(Napi::Env env, Napi::Object exports);
void register_packed(Napi::Env env, Napi::Object exports);
void register_scan_cuda(Napi::Env env, Napi::Object exports);  // CUDA builds only (scan_cuda_napi.cc)
void register_edge(Napi::Env env, Napi::Object exports);
void register_fingerprint(Napi::Env env, Napi::Object exports);
void register_low_rank(Napi::Env env, Napi::Object exports);

}  // namespace np_napi
