// readFingerprint(plan) -> Promise<{ values, moments, fakeSq, fakeWholeSq, bytesRead, reads, threads, seconds }>:
// the sampled rows of a fingerprint plan (core/fingerprint.h), read off the main thread.
#include <napi.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "core/fingerprint.h"
#include "napi/convert.h"
#include "napi/exports.h"
#include "napi/plan_convert.h"
#include "napi/promise_job.h"

namespace np_napi {
namespace {

std::vector<uint64_t> index_list(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
    throw np::Error(np::ErrorCode::InvalidArgument, std::string("readFingerprint: tensor.") + key + " must be a Uint32Array");
  Napi::Uint32Array a = v.As<Napi::Uint32Array>();
  return std::vector<uint64_t>(a.Data(), a.Data() + a.ElementLength());
}

np::FingerprintPlan plan_from_js(const Napi::Object& p) {
  np::FingerprintPlan plan;
  Napi::Array files = get_array(p, "files");
  for (uint32_t i = 0; i < files.Length(); ++i) {
    Napi::Value f = files.Get(i);
    if (!f.IsString()) throw np::Error(np::ErrorCode::InvalidArgument, "readFingerprint: files must be strings");
    std::string s = f.As<Napi::String>().Utf8Value();
    if (s.empty() || s.find('\0') != std::string::npos)
      throw np::Error(np::ErrorCode::InvalidArgument, "readFingerprint: a file path is empty or contains a NUL byte");
    plan.files.push_back(std::move(s));
  }
  plan.coalesce_bytes = static_cast<uint64_t>(get_number_or(p, "coalesceBytes", 64 * 1024));
  const double threads = get_number_or(p, "threads", 0);
  if (!(threads >= 0 && threads <= 256)) throw np::Error(np::ErrorCode::InvalidArgument, "readFingerprint: threads must be 0 to 256");
  plan.threads = static_cast<int>(threads);
  Napi::Array tensors = get_array(p, "tensors");
  for (uint32_t i = 0; i < tensors.Length(); ++i) {
    Napi::Value tv = tensors.Get(i);
    if (!tv.IsObject()) throw np::Error(np::ErrorCode::InvalidArgument, "readFingerprint: tensors must be objects");
    Napi::Object t = tv.As<Napi::Object>();
    np::FingerprintTensor ft;
    ft.file = static_cast<int>(get_u64(t, "file"));
    ft.offset = get_u64(t, "offset");
    if (!np::parse_scan_dtype(get_string(t, "dtype"), &ft.dtype))
      throw np::Error(np::ErrorCode::Dtype, "readFingerprint: dtype must be F32, F16, BF16 or F64");
    ft.total_rows = get_u64(t, "totalRows");
    ft.row_len = get_u64(t, "rowLen");
    ft.rows = index_list(t, "rows");
    ft.cols = index_list(t, "cols");
    Napi::Value per_row = t.Get("colsPerRow");
    if (!per_row.IsUndefined() && !per_row.IsBoolean())
      throw np::Error(np::ErrorCode::InvalidArgument, "readFingerprint: tensor.colsPerRow must be a boolean");
    ft.cols_per_row = per_row.IsBoolean() && per_row.As<Napi::Boolean>().Value();
    Napi::Value fake = t.Get("fake");
    if (!fake.IsUndefined()) {
      if (!fake.IsObject()) throw np::Error(np::ErrorCode::InvalidArgument, "readFingerprint: tensor.fake must be an object");
      ft.fake = fake_from_js(fake.As<Napi::Object>());
      ft.has_fake = true;
    }
    plan.tensors.push_back(std::move(ft));
  }
  return plan;
}

class FingerprintJob : public PromiseJob {
 public:
  FingerprintJob(Napi::Env env, np::FingerprintPlan plan)
      : PromiseJob(env, "neural-phylogeny:readFingerprint"), plan_(std::move(plan)) {}

 protected:
  void Compute() override { out_ = np::read_fingerprint(plan_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    Napi::Float32Array values = Napi::Float32Array::New(env, out_.values.size());
    if (!out_.values.empty()) std::memcpy(values.Data(), out_.values.data(), out_.values.size() * 4);
    Napi::Float64Array moments = Napi::Float64Array::New(env, out_.moments.size());
    if (!out_.moments.empty()) std::memcpy(moments.Data(), out_.moments.data(), out_.moments.size() * 8);
    Napi::Float64Array fake_sq = Napi::Float64Array::New(env, out_.fake_sq.size());
    if (!out_.fake_sq.empty()) std::memcpy(fake_sq.Data(), out_.fake_sq.data(), out_.fake_sq.size() * 8);
    o.Set("values", values);
    o.Set("moments", moments);
    o.Set("fakeSq", fake_sq);
    Napi::Float64Array fake_whole = Napi::Float64Array::New(env, out_.fake_whole_sq.size());
    if (!out_.fake_whole_sq.empty()) std::memcpy(fake_whole.Data(), out_.fake_whole_sq.data(), out_.fake_whole_sq.size() * 8);
    o.Set("fakeWholeSq", fake_whole);
    o.Set("threads", Napi::Number::New(env, out_.threads));
    o.Set("bytesRead", Napi::Number::New(env, static_cast<double>(out_.bytes_read)));
    o.Set("reads", Napi::Number::New(env, static_cast<double>(out_.reads)));
    o.Set("seconds", Napi::Number::New(env, out_.seconds));
    return o;
  }

 private:
  np::FingerprintPlan plan_;
  np::FingerprintOutput out_;
};

Napi::Value ReadFingerprint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  np::FingerprintPlan plan;
  // A malformed plan is the caller's bug: thrown synchronously (property errors from
  // convert.h are JS errors already).
  try {
    if (info.Length() < 1 || !info[0].IsObject()) throw np::Error(np::ErrorCode::InvalidArgument, "readFingerprint: plan must be an object");
    plan = plan_from_js(info[0].As<Napi::Object>());
  } catch (const np::Error& e) {
    throw make_error(env, e.code(), e.what(), e.file(), e.tensor());
  }
  return PromiseJob::Start(new FingerprintJob(env, std::move(plan)), false);
}

}  // namespace

void register_fingerprint(Napi::Env env, Napi::Object exports) {
  exports.Set("readFingerprint", Napi::Function::New(env, ReadFingerprint, "readFingerprint"));
}

}  // namespace np_napi
