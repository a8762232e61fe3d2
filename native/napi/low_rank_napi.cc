// lowRankSpectrum(child, parent | null, rows, cols, { k, powerIters, seed }) ->
// Promise<{ singular: Float64Array, energy }>: the top singular values of child − parent by a
// randomized range finder (core/low_rank.h), on a worker thread. The inputs are copied first,
// so JS may reuse its arrays at once; the work is bounded by rows·cols·k.
#include <napi.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/low_rank.h"
#include "napi/convert.h"
#include "napi/exports.h"
#include "napi/promise_job.h"

namespace np_napi {
namespace {

std::vector<float> float_array(const Napi::Value& v, const char* what, size_t expected) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw np::Error(np::ErrorCode::InvalidArgument, std::string("lowRankSpectrum: ") + what + " must be a Float32Array");
  Napi::Float32Array a = v.As<Napi::Float32Array>();
  if (a.ElementLength() != expected)
    throw np::Error(np::ErrorCode::InvalidArgument, std::string("lowRankSpectrum: ") + what + " has " + std::to_string(a.ElementLength()) + " elements, rows × cols is " + std::to_string(expected));
  return std::vector<float>(a.Data(), a.Data() + a.ElementLength());
}

class LowRankJob : public PromiseJob {
 public:
  LowRankJob(Napi::Env env, std::vector<float> child, std::vector<float> parent, size_t rows, size_t cols, np::LowRankOptions opts)
      : PromiseJob(env, "neural-phylogeny:lowRankSpectrum"), child_(std::move(child)), parent_(std::move(parent)), rows_(rows), cols_(cols), opts_(opts) {}

 protected:
  void Compute() override { out_ = np::low_rank_spectrum(child_.data(), parent_.empty() ? nullptr : parent_.data(), rows_, cols_, opts_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    Napi::Float64Array s = Napi::Float64Array::New(env, out_.singular.size());
    if (!out_.singular.empty()) std::memcpy(s.Data(), out_.singular.data(), out_.singular.size() * 8);
    o.Set("singular", s);
    o.Set("energy", Napi::Number::New(env, out_.energy));
    return o;
  }

 private:
  std::vector<float> child_, parent_;
  size_t rows_, cols_;
  np::LowRankOptions opts_;
  np::LowRankSpectrum out_;
};

Napi::Value LowRankSpectrum(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  try {
    if (info.Length() < 4 || !info[2].IsNumber() || !info[3].IsNumber()) throw np::Error(np::ErrorCode::InvalidArgument, "lowRankSpectrum(child, parent, rows, cols, options?)");
    double r = info[2].As<Napi::Number>().DoubleValue(), c = info[3].As<Napi::Number>().DoubleValue();
    if (!(r >= 1 && c >= 1 && r == static_cast<double>(static_cast<uint64_t>(r)) && c == static_cast<double>(static_cast<uint64_t>(c)) && r * c <= 9007199254740991.0))
      throw np::Error(np::ErrorCode::InvalidArgument, "lowRankSpectrum: rows and cols must be positive integers");
    size_t rows = static_cast<size_t>(r), cols = static_cast<size_t>(c);
    std::vector<float> child = float_array(info[0], "child", rows * cols);
    std::vector<float> parent;
    if (!info[1].IsNull() && !info[1].IsUndefined()) parent = float_array(info[1], "parent", rows * cols);
    np::LowRankOptions opts;
    if (info.Length() > 4 && info[4].IsObject()) {
      Napi::Object o = info[4].As<Napi::Object>();
      opts.k = static_cast<int>(get_number_or(o, "k", opts.k));
      opts.power_iters = static_cast<int>(get_number_or(o, "powerIters", opts.power_iters));
      opts.seed = static_cast<uint64_t>(get_number_or(o, "seed", 0));
    }
    if (opts.k < 1 || opts.k > 256 || opts.power_iters < 0 || opts.power_iters > 8)
      throw np::Error(np::ErrorCode::InvalidArgument, "lowRankSpectrum: k must be in 1..256 and powerIters in 0..8");
    return PromiseJob::Start(new LowRankJob(env, std::move(child), std::move(parent), rows, cols, opts), false);
  } catch (const np::Error& e) {
    throw make_error(env, e.code(), e.what(), e.file(), e.tensor());
  }
}

}  // namespace

void register_low_rank(Napi::Env env, Napi::Object exports) {
  exports.Set("lowRankSpectrum", Napi::Function::New(env, LowRankSpectrum, "lowRankSpectrum"));
}

}  // namespace np_napi
