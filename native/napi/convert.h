// Argument conversion and error mapping shared by the bindings. Bindings only convert:
// they never compute.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

#include "core/error.h"

namespace np_napi {

// A coded JS Error: message, plus `code` (E_*), and `file` / `tensor` where known.
Napi::Error make_error(Napi::Env env, np::ErrorCode code, const std::string& message, const std::string& file = {},
                       const std::string& tensor = {});

// The error an AsyncWorker saw on its thread, carried to the main thread.
struct CapturedError {
  bool set = false;
  np::ErrorCode code = np::ErrorCode::Internal;
  std::string message, file, tensor;
  void capture_current();  // call inside catch (...)
  Napi::Error to_js(Napi::Env env) const { return make_error(env, code, message, file, tensor); }
};

std::string get_string(const Napi::Object& o, const char* key);
double get_number(const Napi::Object& o, const char* key);
double get_number_or(const Napi::Object& o, const char* key, double fallback);
uint64_t get_u64(const Napi::Object& o, const char* key);  // a non-negative integer (safe range)
Napi::Array get_array(const Napi::Object& o, const char* key);
Napi::Object get_object(const Napi::Object& o, const char* key);

}  // namespace np_napi
