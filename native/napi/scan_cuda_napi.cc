// CUDA bindings, compiled only into builds with the CUDA backend (cmake NP_CUDA_SOURCES), so
// their presence tells TypeScript that this build can scan on a GPU:
//   startScanCuda(plan, onProgress?, device?) -> { promise, cancel() }   (like startScan)
//   fakeInitCuda(params, start, count, device?) -> Float32Array            (tests)
//   cudaBandwidth(device?, bytes?) -> Promise<{ deviceName, h2dPinned, h2dPageable, d2d }>
// plan.cuda holds the CUDA-only options: { chunkBytes, slots, readers, resident, repeat, gram }.
#include <napi.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>

#include "core/cuda_backend.h"
#include "napi/convert.h"
#include "napi/exports.h"

namespace np_napi {
namespace {

np::FakeInitParams fake_from_js(const Napi::Object& fake, const std::string& tensor) {
  Napi::Env env = fake.Env();
  np::FakeInitParams p;
  int kind = static_cast<int>(get_number(fake, "kind"));
  if (kind < 0 || kind > 2) throw make_error(env, np::ErrorCode::InvalidArgument, "fake-init kind must be 0, 1 or 2", {}, tensor);
  p.kind = static_cast<np::FakeInitKind>(kind);
  p.a = get_number(fake, "a");
  p.b = get_number(fake, "b");
  p.key0 = static_cast<uint32_t>(get_u64(fake, "key0"));
  p.key1 = static_cast<uint32_t>(get_u64(fake, "key1"));
  return p;
}

// The plan, read as startScan reads it (scan_napi.cc); CPU-only fields (threads, isa) are
// accepted and ignored.
np::ScanPlan plan_from_js(const Napi::Object& js) {
  Napi::Env env = js.Env();
  np::ScanPlan plan;
  Napi::Array files = get_array(js, "files");
  for (uint32_t i = 0; i < files.Length(); ++i) {
    Napi::Value f = files.Get(i);
    if (!f.IsString()) throw make_error(env, np::ErrorCode::InvalidArgument, "plan.files must hold strings");
    plan.files.push_back(f.As<Napi::String>().Utf8Value());
  }
  Napi::Array groups = get_array(js, "groups");
  plan.groups.reserve(groups.Length());
  for (uint32_t gi = 0; gi < groups.Length(); ++gi) {
    Napi::Value gv = groups.Get(gi);
    if (!gv.IsObject()) throw make_error(env, np::ErrorCode::InvalidArgument, "plan.groups must hold objects");
    Napi::Object g = gv.As<Napi::Object>();
    np::ScanGroup group;
    group.name = get_string(g, "name");
    group.count = get_u64(g, "count");
    group.fake = fake_from_js(get_object(g, "fake"), group.name);
    Napi::Array members = get_array(g, "members");
    for (uint32_t mi = 0; mi < members.Length(); ++mi) {
      Napi::Value mv = members.Get(mi);
      if (!mv.IsObject()) throw make_error(env, np::ErrorCode::InvalidArgument, "group.members must hold objects");
      Napi::Object m = mv.As<Napi::Object>();
      np::ScanMember member;
      member.file = static_cast<uint32_t>(get_u64(m, "file"));
      member.offset = get_u64(m, "offset");
      std::string dtype = get_string(m, "dtype");
      if (!np::parse_scan_dtype(dtype, &member.dtype))
        throw make_error(env, np::ErrorCode::Dtype, "cannot scan dtype " + dtype, {}, group.name);
      group.members.push_back(member);
    }
    plan.groups.push_back(std::move(group));
  }
  Napi::Value mode = js.Get("mode");
  if (mode.IsString() && mode.As<Napi::String>().Utf8Value() == "readsum") plan.mode = np::ScanMode::ReadSum;
  return plan;
}

np::CudaScanOptions options_from_js(const Napi::Object& plan, int device) {
  np::CudaScanOptions o;
  o.device = device;
  Napi::Value v = plan.Get("cuda");
  if (v.IsUndefined() || v.IsNull()) return o;
  Napi::Env env = plan.Env();
  if (!v.IsObject()) throw make_error(env, np::ErrorCode::InvalidArgument, "plan.cuda must be an object");
  Napi::Object c = v.As<Napi::Object>();
  const double chunk = get_number_or(c, "chunkBytes", static_cast<double>(o.chunk_bytes));
  if (!(chunk >= 65536) || chunk > 4.0 * 1024 * 1024 * 1024)
    throw make_error(env, np::ErrorCode::InvalidArgument, "cuda.chunkBytes must be in [64 KiB, 4 GiB]");
  o.chunk_bytes = static_cast<size_t>(chunk);
  o.slots = static_cast<int>(get_number_or(c, "slots", o.slots));
  o.readers = static_cast<int>(get_number_or(c, "readers", 0));
  if (o.readers < 0 || o.readers > 256) throw make_error(env, np::ErrorCode::InvalidArgument, "cuda.readers must be 0..256");
  Napi::Value resident = c.Get("resident");
  if (!resident.IsUndefined()) {
    if (!resident.IsBoolean()) throw make_error(env, np::ErrorCode::InvalidArgument, "cuda.resident must be a boolean");
    o.resident = resident.As<Napi::Boolean>().Value();
  }
  o.repeat = static_cast<int>(get_number_or(c, "repeat", 1));
  Napi::Value gram = c.Get("gram");
  if (!gram.IsUndefined()) {
    const std::string g = gram.IsString() ? gram.As<Napi::String>().Utf8Value() : "";
    if (g == "auto") o.gram = np::CudaGram::Auto;
    else if (g == "dmma") o.gram = np::CudaGram::Mma;
    else if (g == "fma") o.gram = np::CudaGram::Fma;
    else throw make_error(env, np::ErrorCode::InvalidArgument, "cuda.gram must be 'auto', 'dmma' or 'fma'");
  }
  return o;
}

int device_from_js(const Napi::CallbackInfo& info, size_t index) {
  if (info.Length() <= index || info[index].IsUndefined() || info[index].IsNull()) return 0;
  if (!info[index].IsNumber()) throw make_error(info.Env(), np::ErrorCode::InvalidArgument, "device must be a number");
  const double d = info[index].As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d != static_cast<double>(static_cast<int>(d)))
    throw make_error(info.Env(), np::ErrorCode::InvalidArgument, "device must be a non-negative integer");
  return static_cast<int>(d);
}

struct ProgressData {
  double done, total;
  std::shared_ptr<std::atomic<bool>> finished;
};

// Same shape as startScan's worker: Promise, progress through a thread-safe function at most
// every 50 ms (the last one synchronously before the promise settles), cancel via a flag.
class CudaScanWorker : public Napi::AsyncWorker {
 public:
  CudaScanWorker(Napi::Env env, np::ScanPlan plan, np::CudaScanOptions options, std::shared_ptr<std::atomic<bool>> cancel,
                 Napi::Function on_progress)
      : Napi::AsyncWorker(env, "neural-phylogeny:scan-cuda"),
        deferred_(Napi::Promise::Deferred::New(env)),
        plan_(std::move(plan)),
        options_(options),
        cancel_(std::move(cancel)) {
    if (!on_progress.IsEmpty()) {
      progress_ = Napi::ThreadSafeFunction::New(env, on_progress, "neural-phylogeny:scan-cuda-progress", 0, 1);
      progress_ref_ = Napi::Persistent(on_progress);
      has_progress_ = true;
    }
  }

  ~CudaScanWorker() override {
    if (has_progress_) progress_.Release();
  }

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      np::ScanControl control;
      control.cancel = cancel_.get();
      if (has_progress_) control.progress = [this](uint64_t done, uint64_t total) { report(done, total); };
      auto t0 = std::chrono::steady_clock::now();
      result_ = np::scan_cuda_ex(plan_, control, options_);
      seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } catch (...) {
      error_.capture_current();
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    finished_->store(true);
    const np::ScanOutput& out = result_.output;
    if (has_progress_ && !error_.set) {
      try {
        progress_ref_.Call({Napi::Number::New(env, static_cast<double>(out.bytes)),
                            Napi::Number::New(env, static_cast<double>(out.bytes))});
      } catch (...) {
      }
    }
    if (error_.set) {
      deferred_.Reject(error_.to_js(env).Value());
      return;
    }
    Napi::Object r = Napi::Object::New(env);
    Napi::Float64Array values = Napi::Float64Array::New(env, out.values.size());
    std::copy(out.values.begin(), out.values.end(), values.Data());
    Napi::Float64Array offsets = Napi::Float64Array::New(env, out.offsets.size());
    for (size_t i = 0; i < out.offsets.size(); ++i) offsets[i] = static_cast<double>(out.offsets[i]);
    const std::string cc = std::to_string(result_.cc_major) + "." + std::to_string(result_.cc_minor);
    r.Set("values", values);
    r.Set("offsets", offsets);
    // The "kernel set" of a CUDA scan: the GPU, its architecture and the Gram path.
    r.Set("isa", result_.device_name + " (sm_" + std::to_string(result_.cc_major) + std::to_string(result_.cc_minor) +
                     ", " + result_.gram + ")");
    r.Set("threads", out.threads);
    r.Set("bytes", static_cast<double>(out.bytes));
    r.Set("seconds", seconds_);
    r.Set("device", "cuda");
    r.Set("deviceIndex", options_.device);
    r.Set("deviceName", result_.device_name);
    r.Set("computeCapability", cc);
    r.Set("gram", result_.gram);
    Napi::Object t = Napi::Object::New(env);
    t.Set("setup", result_.setup_seconds);
    t.Set("pipeline", result_.pipeline_seconds);
    t.Set("compute", result_.compute_seconds);
    t.Set("computeMin", result_.compute_seconds_min);
    r.Set("timings", t);
    deferred_.Resolve(r);
  }

  void OnError(const Napi::Error& e) override {
    finished_->store(true);
    deferred_.Reject(e.Value());
  }

 private:
  void report(uint64_t done, uint64_t total) {
    auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard<std::mutex> lock(progress_mutex_);
      if (now - last_report_ < std::chrono::milliseconds(50)) return;
      last_report_ = now;
    }
    auto* data = new ProgressData{static_cast<double>(done), static_cast<double>(total), finished_};
    napi_status st = progress_.NonBlockingCall(data, [](Napi::Env env, Napi::Function fn, ProgressData* d) {
      if (env != nullptr && !fn.IsEmpty() && !d->finished->load()) {
        try {
          fn.Call({Napi::Number::New(env, d->done), Napi::Number::New(env, d->total)});
        } catch (...) {
        }
      }
      delete d;
    });
    if (st != napi_ok) delete data;
  }

  Napi::Promise::Deferred deferred_;
  np::ScanPlan plan_;
  np::CudaScanOptions options_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  Napi::ThreadSafeFunction progress_;
  Napi::FunctionReference progress_ref_;
  std::shared_ptr<std::atomic<bool>> finished_ = std::make_shared<std::atomic<bool>>(false);
  bool has_progress_ = false;
  std::mutex progress_mutex_;
  std::chrono::steady_clock::time_point last_report_{};
  np::CudaScanResult result_;
  double seconds_ = 0;
  CapturedError error_;
};

Napi::Value StartScanCuda(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject())
    throw make_error(env, np::ErrorCode::InvalidArgument, "startScanCuda(plan, onProgress?, device?) needs a plan object");
  Napi::Object js = info[0].As<Napi::Object>();
  np::ScanPlan plan = plan_from_js(js);
  const int device = device_from_js(info, 2);
  np::CudaScanOptions options = options_from_js(js, device);
  Napi::Function on_progress;
  if (info.Length() > 1 && info[1].IsFunction()) on_progress = info[1].As<Napi::Function>();
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  auto* worker = new CudaScanWorker(env, std::move(plan), options, cancel, on_progress);
  Napi::Object handle = Napi::Object::New(env);
  handle.Set("promise", worker->promise());
  handle.Set("cancel", Napi::Function::New(env, [cancel](const Napi::CallbackInfo&) { cancel->store(true); }, "cancel"));
  worker->Queue();
  return handle;
}

// Synchronous (a test helper): the first call in a process also creates the CUDA context.
Napi::Value FakeInitCuda(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsObject() || !info[1].IsNumber() || !info[2].IsNumber())
    throw make_error(env, np::ErrorCode::InvalidArgument, "fakeInitCuda(params, start, count, device?)");
  np::FakeInitParams p = fake_from_js(info[0].As<Napi::Object>(), {});
  double start = info[1].As<Napi::Number>().DoubleValue();
  double count = info[2].As<Napi::Number>().DoubleValue();
  if (!(start >= 0) || start > 9007199254740991.0 || !(count >= 0) || count > (1u << 28))
    throw make_error(env, np::ErrorCode::InvalidArgument, "fakeInitCuda: bad start or count");
  const int device = device_from_js(info, 3);
  std::vector<float> values;
  try {
    values = np::fake_init_cuda(p, static_cast<uint64_t>(start), static_cast<size_t>(count), device);
  } catch (...) {
    CapturedError e;
    e.capture_current();
    throw e.to_js(env);
  }
  Napi::Float32Array out = Napi::Float32Array::New(env, values.size());
  std::copy(values.begin(), values.end(), out.Data());
  return out;
}

class BandwidthWorker : public Napi::AsyncWorker {
 public:
  BandwidthWorker(Napi::Env env, int device, size_t bytes)
      : Napi::AsyncWorker(env, "neural-phylogeny:cuda-bandwidth"), deferred_(Napi::Promise::Deferred::New(env)), device_(device), bytes_(bytes) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      bw_ = np::cuda_bandwidth(device_, bytes_);
    } catch (...) {
      error_.capture_current();
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (error_.set) {
      deferred_.Reject(error_.to_js(env).Value());
      return;
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("deviceName", bw_.device_name);
    o.Set("bytes", static_cast<double>(bytes_));
    o.Set("h2dPinned", bw_.h2d_pinned);
    o.Set("h2dPageable", bw_.h2d_pageable);
    o.Set("d2d", bw_.d2d);
    deferred_.Resolve(o);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  int device_;
  size_t bytes_;
  np::CudaBandwidth bw_;
  CapturedError error_;
};

Napi::Value CudaBandwidthJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int device = device_from_js(info, 0);
  double bytes = 256.0 * 1024 * 1024;
  if (info.Length() > 1 && info[1].IsNumber()) bytes = info[1].As<Napi::Number>().DoubleValue();
  if (!(bytes >= 1024.0 * 1024) || bytes > 16.0 * 1024 * 1024 * 1024)
    throw make_error(env, np::ErrorCode::InvalidArgument, "cudaBandwidth: bytes must be in [1 MiB, 16 GiB]");
  auto* worker = new BandwidthWorker(env, device, static_cast<size_t>(bytes));
  Napi::Promise p = worker->promise();
  worker->Queue();
  return p;
}

}  // namespace

void register_scan_cuda(Napi::Env env, Napi::Object exports) {
  exports.Set("startScanCuda", Napi::Function::New(env, StartScanCuda, "startScanCuda"));
  exports.Set("fakeInitCuda", Napi::Function::New(env, FakeInitCuda, "fakeInitCuda"));
  exports.Set("cudaBandwidth", Napi::Function::New(env, CudaBandwidthJs, "cudaBandwidth"));
}

}  // namespace np_napi
