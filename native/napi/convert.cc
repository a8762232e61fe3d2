#include "napi/convert.h"

#include <cmath>
#include <new>

namespace np_napi {

Napi::Error make_error(Napi::Env env, np::ErrorCode code, const std::string& message, const std::string& file,
                       const std::string& tensor) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, np::error_code_name(code)));
  if (!file.empty()) err.Set("file", Napi::String::New(env, file));
  if (!tensor.empty()) err.Set("tensor", Napi::String::New(env, tensor));
  return err;
}

void CapturedError::capture_current() {
  set = true;
  try {
    throw;
  } catch (const np::Error& e) {
    code = e.code();
    message = e.what();
    file = e.file();
    tensor = e.tensor();
  } catch (const std::bad_alloc&) {
    code = np::ErrorCode::OutOfMemory;
    message = "out of memory";
  } catch (const std::exception& e) {
    code = np::ErrorCode::Internal;
    message = std::string("internal error: ") + e.what();
  } catch (...) {
    code = np::ErrorCode::Internal;
    message = "internal error: unknown exception";
  }
}

static Napi::Value require(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined())
    throw make_error(o.Env(), np::ErrorCode::InvalidArgument, std::string("missing property '") + key + "'");
  return v;
}

std::string get_string(const Napi::Object& o, const char* key) {
  Napi::Value v = require(o, key);
  if (!v.IsString())
    throw make_error(o.Env(), np::ErrorCode::InvalidArgument, std::string("property '") + key + "' must be a string");
  return v.As<Napi::String>().Utf8Value();
}

double get_number(const Napi::Object& o, const char* key) {
  Napi::Value v = require(o, key);
  if (!v.IsNumber())
    throw make_error(o.Env(), np::ErrorCode::InvalidArgument, std::string("property '") + key + "' must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

double get_number_or(const Napi::Object& o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber())
    throw make_error(o.Env(), np::ErrorCode::InvalidArgument, std::string("property '") + key + "' must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

uint64_t get_u64(const Napi::Object& o, const char* key) {
  double d = get_number(o, key);
  if (!(d >= 0) || d != std::floor(d) || d > 9007199254740991.0)
    throw make_error(o.Env(), np::ErrorCode::InvalidArgument,
                     std::string("property '") + key + "' must be a non-negative integer");
  return static_cast<uint64_t>(d);
}

Napi::Array get_array(const Napi::Object& o, const char* key) {
  Napi::Value v = require(o, key);
  if (!v.IsArray())
    throw make_error(o.Env(), np::ErrorCode::InvalidArgument, std::string("property '") + key + "' must be an array");
  return v.As<Napi::Array>();
}

Napi::Object get_object(const Napi::Object& o, const char* key) {
  Napi::Value v = require(o, key);
  if (!v.IsObject())
    throw make_error(o.Env(), np::ErrorCode::InvalidArgument, std::string("property '") + key + "' must be an object");
  return v.As<Napi::Object>();
}

}  // namespace np_napi
