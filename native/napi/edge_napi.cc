// startEdgeEncode(plan, onProgress?) -> { promise, cancel() }: the edge encoder's forward over
// whole matrices on worker threads (lib/learned/native-encoder.ts builds the plan).
#include <napi.h>

#include "core/cpu_features.h"
#include "core/edge_encoder_cpu.h"
#include "core/edge_encoder_cuda.h"
#include "napi/convert.h"
#include "napi/exports.h"
#include "napi/plan_convert.h"
#include "napi/promise_job.h"

namespace np_napi {
namespace {

std::vector<float> floats(const Napi::Object& o, const char* key, size_t expected) {
  Napi::Value v = o.Get(key);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw make_error(o.Env(), np::ErrorCode::InvalidArgument, std::string("weights.") + key + " must be a Float32Array");
  Napi::Float32Array a = v.As<Napi::Float32Array>();
  if (a.ElementLength() != expected)
    throw make_error(o.Env(), np::ErrorCode::InvalidArgument,
                     std::string("weights.") + key + " has " + std::to_string(a.ElementLength()) + " values, expected " +
                         std::to_string(expected));
  return std::vector<float>(a.Data(), a.Data() + a.ElementLength());
}

np::EdgePlan edge_plan_from_js(const Napi::Object& js, bool* use_cuda) {
  Napi::Env env = js.Env();
  np::EdgePlan plan;
  Napi::Array files = get_array(js, "files");
  for (uint32_t i = 0; i < files.Length(); ++i) {
    Napi::Value f = files.Get(i);
    if (!f.IsString()) throw make_error(env, np::ErrorCode::InvalidArgument, "plan.files must hold strings");
    plan.files.push_back(f.As<Napi::String>().Utf8Value());
  }
  Napi::Array tensors = get_array(js, "tensors");
  for (uint32_t ti = 0; ti < tensors.Length(); ++ti) {
    Napi::Value tv = tensors.Get(ti);
    if (!tv.IsObject()) throw make_error(env, np::ErrorCode::InvalidArgument, "plan.tensors must hold objects");
    Napi::Object t = tv.As<Napi::Object>();
    np::EdgeTensor tensor;
    tensor.name = get_string(t, "name");
    tensor.rows = get_u64(t, "rows");
    tensor.cols = get_u64(t, "cols");
    Napi::Array sources = get_array(t, "sources");
    for (uint32_t si = 0; si < sources.Length(); ++si) {
      Napi::Value sv = sources.Get(si);
      if (!sv.IsObject()) throw make_error(env, np::ErrorCode::InvalidArgument, "tensor.sources must hold objects", {}, tensor.name);
      Napi::Object s = sv.As<Napi::Object>();
      np::EdgeSource src;
      src.file = static_cast<uint32_t>(get_u64(s, "file"));
      src.offset = get_u64(s, "offset");
      std::string dtype = get_string(s, "dtype");
      if (!np::parse_scan_dtype(dtype, &src.dtype))
        throw make_error(env, np::ErrorCode::Dtype, "the edge encoder cannot read dtype " + dtype, {}, tensor.name);
      tensor.sources.push_back(src);
    }
    plan.tensors.push_back(std::move(tensor));
  }
  Napi::Array pairs = get_array(js, "pairs");
  for (uint32_t pi = 0; pi < pairs.Length(); ++pi) {
    Napi::Value pv = pairs.Get(pi);
    if (!pv.IsObject()) throw make_error(env, np::ErrorCode::InvalidArgument, "plan.pairs must hold objects");
    Napi::Object p = pv.As<Napi::Object>();
    np::EdgePair pair;
    pair.tensor = static_cast<uint32_t>(get_u64(p, "tensor"));
    pair.a = static_cast<uint32_t>(get_u64(p, "a"));
    pair.b = static_cast<uint32_t>(get_u64(p, "b"));
    pair.scale = static_cast<float>(get_number(p, "scale"));
    plan.pairs.push_back(pair);
  }
  Napi::Object w = get_object(js, "weights");
  double channels = get_number(w, "channels");
  if (!(channels >= 1 && channels <= 256) || channels != static_cast<int>(channels))
    throw make_error(env, np::ErrorCode::InvalidArgument, "weights.channels must be an integer in 1..256");
  const size_t c = static_cast<size_t>(channels);
  plan.weights.channels = static_cast<int>(c);
  plan.weights.w1 = floats(w, "w1", c * 2);
  plan.weights.b1 = floats(w, "b1", c);
  plan.weights.w2 = floats(w, "w2", 9 * c * np::kEdgeLatent);
  plan.weights.b2 = floats(w, "b2", np::kEdgeLatent);
  plan.threads = static_cast<int>(get_number_or(js, "threads", 0));
  double chunk = get_number_or(js, "chunkElems", static_cast<double>(1u << 18));
  if (!(chunk >= 1)) throw make_error(env, np::ErrorCode::InvalidArgument, "chunkElems must be at least 1");
  plan.chunk_elems = static_cast<uint64_t>(chunk);
  double cuda_chunk = get_number_or(js, "cudaChunkElems", static_cast<double>(plan.cuda_chunk_elems));
  if (!(cuda_chunk >= 1)) throw make_error(env, np::ErrorCode::InvalidArgument, "cudaChunkElems must be at least 1");
  plan.cuda_chunk_elems = static_cast<uint64_t>(cuda_chunk);
  plan.isa = isa_from_js(js.Get("isa"));
  *use_cuda = false;
  Napi::Value device = js.Get("device");
  if (device.IsString()) {
    std::string d = device.As<Napi::String>().Utf8Value();
    if (d == "cuda") *use_cuda = true;
    else if (d != "cpu") throw make_error(env, np::ErrorCode::InvalidArgument, "device must be 'cpu' or 'cuda' (got '" + d + "')");
  }
  return plan;
}

class EdgeJob : public PromiseJob {
 public:
  EdgeJob(Napi::Env env, np::EdgePlan plan, bool use_cuda, Napi::Function on_progress)
      : PromiseJob(env, "neural-phylogeny:edge-encode", on_progress), plan_(std::move(plan)), use_cuda_(use_cuda) {}

 protected:
  void Compute() override {
    np::ScanControl control;
    control.cancel = CancelFlag();
    control.progress = ProgressCallback();
    output_ = use_cuda_ ? np::edge_encode_cuda(plan_, control) : np::edge_encode_cpu(plan_, control);
  }

  double ProgressTotal() const override { return static_cast<double>(output_.bytes); }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    Napi::Float64Array values = Napi::Float64Array::New(env, output_.values.size());
    std::copy(output_.values.begin(), output_.values.end(), values.Data());
    result.Set("values", values);
    result.Set("isa", np::isa_name(output_.isa));
    result.Set("threads", output_.threads);
    result.Set("bytes", static_cast<double>(output_.bytes));
    result.Set("seconds", Seconds());
    result.Set("device", output_.device);
    return result;
  }

 private:
  np::EdgePlan plan_;
  bool use_cuda_;
  np::EdgeOutput output_;
};

Napi::Value StartEdgeEncode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject())
    throw make_error(env, np::ErrorCode::InvalidArgument, "startEdgeEncode(plan, onProgress?) needs a plan object");
  bool use_cuda = false;
  np::EdgePlan plan = edge_plan_from_js(info[0].As<Napi::Object>(), &use_cuda);
  Napi::Function on_progress;
  if (info.Length() > 1 && info[1].IsFunction()) on_progress = info[1].As<Napi::Function>();
  return PromiseJob::Start(new EdgeJob(env, std::move(plan), use_cuda, on_progress));
}

}  // namespace

void register_edge(Napi::Env env, Napi::Object exports) {
  exports.Set("startEdgeEncode", Napi::Function::New(env, StartEdgeEncode, "startEdgeEncode"));
}

}  // namespace np_napi
