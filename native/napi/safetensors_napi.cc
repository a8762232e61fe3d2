// readSafetensorsHeader(path) -> Promise<NativeSafetensorsHeader>, read on a worker thread
// (a header can be 100 MB of JSON); readSafetensorsHeaderSync(path) for small files and tests.
#include <napi.h>

#include <string>

#include "core/safetensors.h"
#include "napi/convert.h"
#include "napi/exports.h"
#include "napi/promise_job.h"

namespace np_napi {
namespace {

// Offsets and sizes are bounded by the file size and dimensions by kMaxSafetensorsDim, so
// every number below is exact as a double.
Napi::Object header_to_js(Napi::Env env, const np::SafetensorsHeader& h) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("path", Napi::String::New(env, h.path));
  o.Set("fileSize", Napi::Number::New(env, static_cast<double>(h.file_size)));
  o.Set("headerSize", Napi::Number::New(env, static_cast<double>(h.header_size)));
  o.Set("dataStart", Napi::Number::New(env, static_cast<double>(h.data_start)));
  if (h.has_metadata) {
    Napi::Object meta = Napi::Object::New(env);
    // Defined, not assigned: a key such as "__proto__" must become an own property
    // instead of reaching Object.prototype's setter.
    for (const auto& kv : h.metadata)
      meta.DefineProperty(Napi::PropertyDescriptor::Value(Napi::String::New(env, kv.first),
                                                          Napi::String::New(env, kv.second), napi_default_jsproperty));
    o.Set("metadata", meta);
  } else {
    o.Set("metadata", env.Null());
  }
  Napi::Array tensors = Napi::Array::New(env, h.tensors.size());
  for (size_t i = 0; i < h.tensors.size(); ++i) {
    const np::SafetensorsTensor& t = h.tensors[i];
    Napi::Object tj = Napi::Object::New(env);
    tj.Set("name", Napi::String::New(env, t.name));
    tj.Set("dtype", Napi::String::New(env, t.dtype));
    Napi::Array shape = Napi::Array::New(env, t.shape.size());
    for (size_t d = 0; d < t.shape.size(); ++d)
      shape.Set(static_cast<uint32_t>(d), Napi::Number::New(env, static_cast<double>(t.shape[d])));
    tj.Set("shape", shape);
    tj.Set("begin", Napi::Number::New(env, static_cast<double>(t.begin)));
    tj.Set("end", Napi::Number::New(env, static_cast<double>(t.end)));
    tensors.Set(static_cast<uint32_t>(i), tj);
  }
  o.Set("tensors", tensors);
  return o;
}

// A path with an embedded NUL would silently open a different (truncated) name.
bool path_from_js(const Napi::CallbackInfo& info, std::string* path, std::string* problem) {
  if (info.Length() < 1 || !info[0].IsString()) {
    *problem = "readSafetensorsHeader: path must be a string";
    return false;
  }
  *path = info[0].As<Napi::String>().Utf8Value();
  if (path->empty()) {
    *problem = "readSafetensorsHeader: path is empty";
    return false;
  }
  if (path->find('\0') != std::string::npos) {
    *problem = "readSafetensorsHeader: path contains a NUL byte";
    return false;
  }
  return true;
}

// The header read as a PromiseJob (no progress, not cancellable: one read of one file).
class ReadHeaderJob : public PromiseJob {
 public:
  ReadHeaderJob(Napi::Env env, std::string path) : PromiseJob(env, "neural-phylogeny:readSafetensorsHeader"), path_(std::move(path)) {}

 protected:
  void Compute() override { header_ = np::read_safetensors_header(path_); }
  Napi::Value Result(Napi::Env env) override { return header_to_js(env, header_); }

 private:
  std::string path_;
  np::SafetensorsHeader header_;
};

Napi::Value ReadHeaderAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path, problem;
  if (!path_from_js(info, &path, &problem)) {
    Napi::Promise::Deferred d = Napi::Promise::Deferred::New(env);
    d.Reject(make_error(env, np::ErrorCode::InvalidArgument, problem).Value());
    return d.Promise();
  }
  return PromiseJob::Start(new ReadHeaderJob(env, std::move(path)), false);
}

Napi::Value ReadHeaderSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path, problem;
  if (!path_from_js(info, &path, &problem)) throw make_error(env, np::ErrorCode::InvalidArgument, problem);
  CapturedError error;
  np::SafetensorsHeader h;
  try {
    h = np::read_safetensors_header(path);
  } catch (...) {
    error.capture_current();
  }
  if (error.set) throw error.to_js(env);
  return header_to_js(env, h);
}

}  // namespace

void register_safetensors(Napi::Env env, Napi::Object exports) {
  exports.Set("readSafetensorsHeader", Napi::Function::New(env, ReadHeaderAsync, "readSafetensorsHeader"));
  exports.Set("readSafetensorsHeaderSync", Napi::Function::New(env, ReadHeaderSync, "readSafetensorsHeaderSync"));
}

}  // namespace np_napi
