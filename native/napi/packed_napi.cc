// readPackedRange(files, member, tensor, start, length) -> Float32Array: elements [start,
// start + length) of a GPTQ/AWQ member exactly as the CPU scan forms them, for the tests that
// hold the scan's unpacking to the TypeScript reference bit for bit. Synchronous: tests only.
#include <napi.h>

#include <vector>

#include "core/error.h"
#include "core/file_cache.h"
#include "core/scan_packed.h"
#include "napi/convert.h"
#include "napi/exports.h"
#include "napi/plan_convert.h"

namespace np_napi {
namespace {

Napi::Value ReadPackedRange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  try {
    if (info.Length() < 5 || !info[0].IsArray() || !info[1].IsObject() || !info[2].IsString() || !info[3].IsNumber() ||
        !info[4].IsNumber())
      throw np::Error(np::ErrorCode::InvalidArgument, "readPackedRange(files, member, tensor, start, length)");
    Napi::Array fa = info[0].As<Napi::Array>();
    std::vector<std::string> files;
    for (uint32_t i = 0; i < fa.Length(); ++i) {
      if (!fa.Get(i).IsString()) throw np::Error(np::ErrorCode::InvalidArgument, "files must hold strings");
      files.push_back(fa.Get(i).As<Napi::String>().Utf8Value());
    }
    Napi::Object mo = info[1].As<Napi::Object>();
    const std::string tensor = info[2].As<Napi::String>().Utf8Value();
    const double start = info[3].As<Napi::Number>().DoubleValue(), length = info[4].As<Napi::Number>().DoubleValue();
    np::ScanMember m;
    m.file = static_cast<uint32_t>(get_u64(mo, "file"));
    m.offset = get_u64(mo, "offset");
    m.dtype = np::DType::F32;
    m.packed = packed_from_js(get_object(mo, "packed"), tensor);
    if (m.file >= files.size()) throw np::Error(np::ErrorCode::InvalidArgument, "member.file out of range");
    if (!(start >= 0) || !(length >= 0) || start + length > static_cast<double>(m.packed.in) * static_cast<double>(m.packed.out))
      throw np::Error(np::ErrorCode::InvalidArgument, "range outside the tensor");
    np::validate_packed_member(m, static_cast<uint64_t>(start + length), files.size(), tensor);
    np::FileCache cache(files);
    np::PackedScratch scratch;
    Napi::Float32Array out = Napi::Float32Array::New(env, static_cast<size_t>(length));
    np::read_packed_range(m, cache, static_cast<uint64_t>(start), static_cast<uint64_t>(length),
                          reinterpret_cast<unsigned char*>(out.Data()), scratch, tensor);
    return out;
  } catch (const np::Error& e) {
    throw make_error(env, e.code(), e.what(), e.file(), e.tensor());
  }
}

}  // namespace

void register_packed(Napi::Env env, Napi::Object exports) {
  exports.Set("readPackedRange", Napi::Function::New(env, ReadPackedRange, "readPackedRange"));
}

}  // namespace np_napi
