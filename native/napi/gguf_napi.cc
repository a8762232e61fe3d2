// readGgufHeader(path) -> Promise<NativeGgufHeader> (read on a worker thread: a header holds
// the tokenizer and can be tens of MB), readGgufHeaderSync(path), and
// dequantizeGguf(typeName, bytes, nElements) -> Float32Array for tests and benchmarks.
#include <napi.h>

#include <cstring>
#include <string>

#include "core/error.h"
#include "core/gguf.h"
#include "core/gguf_quant.h"
#include "napi/convert.h"
#include "napi/exports.h"
#include "napi/promise_job.h"

namespace np_napi {
namespace {

const uint64_t kMaxSafe = (1ull << 53) - 1;

Napi::Value int_to_js(Napi::Env env, int64_t v) {
  if (v >= -static_cast<int64_t>(kMaxSafe) && v <= static_cast<int64_t>(kMaxSafe))
    return Napi::Number::New(env, static_cast<double>(v));
  return Napi::BigInt::New(env, v);
}
Napi::Value uint_to_js(Napi::Env env, uint64_t v) {
  if (v <= kMaxSafe) return Napi::Number::New(env, static_cast<double>(v));
  return Napi::BigInt::New(env, v);
}

// Scalars become JS values (u64/i64 beyond 2^53 as BigInt); arrays become
// { type: 'array', elementType, count, values? } with values only when the reader kept them.
Napi::Value value_to_js(Napi::Env env, const np::GgufValue& v) {
  using T = np::GgufValueType;
  switch (v.type) {
    case T::U8: case T::U16: case T::U32: case T::U64: return uint_to_js(env, v.u);
    case T::I8: case T::I16: case T::I32: case T::I64: return int_to_js(env, v.i);
    case T::F32: case T::F64: return Napi::Number::New(env, v.f);
    case T::Bool: return Napi::Boolean::New(env, v.u != 0);
    case T::String: return Napi::String::New(env, v.s);
    case T::Array: {
      Napi::Object a = Napi::Object::New(env);
      a.Set("type", "array");
      a.Set("elementType", np::gguf_value_type_name(v.elem_type));
      a.Set("count", uint_to_js(env, v.count));
      if (v.materialised) {
        Napi::Array items = Napi::Array::New(env, v.items.size());
        for (size_t i = 0; i < v.items.size(); ++i) items.Set(static_cast<uint32_t>(i), value_to_js(env, v.items[i]));
        a.Set("values", items);
      }
      return a;
    }
  }
  return env.Undefined();
}

Napi::Object header_to_js(Napi::Env env, const np::GgufHeader& h) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("path", h.path);
  o.Set("fileSize", Napi::Number::New(env, static_cast<double>(h.file_size)));
  o.Set("version", Napi::Number::New(env, h.version));
  o.Set("alignment", Napi::Number::New(env, h.alignment));
  o.Set("dataOffset", Napi::Number::New(env, static_cast<double>(h.data_offset)));
  Napi::Object meta = Napi::Object::New(env);
  Napi::Object types = Napi::Object::New(env);
  for (const auto& kv : h.kvs) {
    // Defined, not assigned: a key such as "__proto__" must stay an own property.
    meta.DefineProperty(Napi::PropertyDescriptor::Value(Napi::String::New(env, kv.key), value_to_js(env, kv.value),
                                                        napi_default_jsproperty));
    types.DefineProperty(Napi::PropertyDescriptor::Value(Napi::String::New(env, kv.key),
                                                         Napi::String::New(env, np::gguf_value_type_name(kv.value.type)),
                                                         napi_default_jsproperty));
  }
  o.Set("metadata", meta);
  o.Set("metadataTypes", types);
  Napi::Array tensors = Napi::Array::New(env, h.tensors.size());
  for (size_t i = 0; i < h.tensors.size(); ++i) {
    const np::GgufTensor& t = h.tensors[i];
    Napi::Object tj = Napi::Object::New(env);
    tj.Set("name", t.name);
    tj.Set("type", t.type->name);
    Napi::Array ne = Napi::Array::New(env, t.ne.size());
    Napi::Array shape = Napi::Array::New(env, t.ne.size());
    for (size_t d = 0; d < t.ne.size(); ++d) {
      ne.Set(static_cast<uint32_t>(d), Napi::Number::New(env, static_cast<double>(t.ne[d])));
      shape.Set(static_cast<uint32_t>(t.ne.size() - 1 - d), Napi::Number::New(env, static_cast<double>(t.ne[d])));
    }
    tj.Set("dims", ne);
    tj.Set("shape", shape);
    tj.Set("offset", Napi::Number::New(env, static_cast<double>(t.offset)));
    tj.Set("bytes", Napi::Number::New(env, static_cast<double>(t.bytes)));
    tj.Set("elements", Napi::Number::New(env, static_cast<double>(t.elements)));
    tensors.Set(static_cast<uint32_t>(i), tj);
  }
  o.Set("tensors", tensors);
  return o;
}

// A path with an embedded NUL would silently open a different (truncated) name.
std::string path_arg(const Napi::CallbackInfo& info, const char* fn) {
  if (info.Length() < 1 || !info[0].IsString())
    throw np::Error(np::ErrorCode::InvalidArgument, std::string(fn) + ": path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (path.empty()) throw np::Error(np::ErrorCode::InvalidArgument, std::string(fn) + ": path is empty");
  if (path.find('\0') != std::string::npos)
    throw np::Error(np::ErrorCode::InvalidArgument, std::string(fn) + ": path contains a NUL byte");
  return path;
}

class ReadHeaderJob : public PromiseJob {
 public:
  ReadHeaderJob(Napi::Env env, std::string path) : PromiseJob(env, "neural-phylogeny:readGgufHeader"), path_(std::move(path)) {}

 protected:
  void Compute() override { header_ = np::read_gguf_header(path_); }
  Napi::Value Result(Napi::Env env) override { return header_to_js(env, header_); }

 private:
  std::string path_;
  np::GgufHeader header_;
};

Napi::Value ReadHeaderAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  try {
    path = path_arg(info, "readGgufHeader");
  } catch (const np::Error& e) {
    Napi::Promise::Deferred d = Napi::Promise::Deferred::New(env);
    d.Reject(make_error(env, e.code(), e.what()).Value());
    return d.Promise();
  }
  return PromiseJob::Start(new ReadHeaderJob(env, std::move(path)), false);
}

Napi::Value ReadHeaderSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CapturedError error;
  np::GgufHeader h;
  try {
    h = np::read_gguf_header(path_arg(info, "readGgufHeaderSync"));
  } catch (...) {
    error.capture_current();
  }
  if (error.set) throw error.to_js(env);
  return header_to_js(env, h);
}

Napi::Value Dequantize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto bad = [&](const std::string& m) { return make_error(env, np::ErrorCode::InvalidArgument, "dequantizeGguf: " + m); };
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsTypedArray() || !info[2].IsNumber())
    throw bad("expected (typeName, Uint8Array, nElements)");
  const np::GgmlTypeInfo* type = np::ggml_type_by_name(info[0].As<Napi::String>().Utf8Value());
  if (!type) throw bad("unknown ggml type '" + info[0].As<Napi::String>().Utf8Value() + "'");
  Napi::TypedArray ta = info[1].As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_uint8_array) throw bad("bytes must be a Uint8Array");
  Napi::Uint8Array bytes = ta.As<Napi::Uint8Array>();
  double n = info[2].As<Napi::Number>().DoubleValue();
  if (!(n >= 0) || n != static_cast<double>(static_cast<uint64_t>(n)) || n > static_cast<double>(kMaxSafe))
    throw bad("nElements must be a non-negative integer");
  const uint64_t elements = static_cast<uint64_t>(n);
  if (elements % type->block_elems != 0)
    throw bad(std::to_string(elements) + " elements is not a whole number of " + type->name + " blocks of " +
              std::to_string(type->block_elems));
  const uint64_t blocks = elements / type->block_elems;
  if (blocks > bytes.ByteLength() / type->block_bytes)
    throw bad(std::to_string(blocks) + " blocks need " + std::to_string(blocks * type->block_bytes) + " bytes, got " +
              std::to_string(bytes.ByteLength()));
  Napi::Float32Array out = Napi::Float32Array::New(env, static_cast<size_t>(elements));
  CapturedError error;
  try {
    np::dequantize_blocks(*type, bytes.Data(), blocks, out.Data());
  } catch (...) {
    error.capture_current();
  }
  if (error.set) throw error.to_js(env);
  return out;
}

}  // namespace

void register_gguf(Napi::Env env, Napi::Object exports) {
  exports.Set("readGgufHeader", Napi::Function::New(env, ReadHeaderAsync, "readGgufHeader"));
  exports.Set("readGgufHeaderSync", Napi::Function::New(env, ReadHeaderSync, "readGgufHeaderSync"));
  exports.Set("dequantizeGguf", Napi::Function::New(env, Dequantize, "dequantizeGguf"));
}

}  // namespace np_napi
