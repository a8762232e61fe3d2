// startScan(plan, onProgress?) -> { promise, cancel() }: runs the scan on worker threads;
// progress reaches JS through a thread-safe function, at most every 50 ms.
#include <napi.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>

#include "core/cpu_features.h"
#include "core/scan_cpu.h"
#include "core/scan_kernels.h"
#include "napi/convert.h"
#include "napi/exports.h"

namespace np_napi {
namespace {

np::Isa isa_from_js(const Napi::Value& v);

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
    Napi::Object fake = get_object(g, "fake");
    int kind = static_cast<int>(get_number(fake, "kind"));
    if (kind < 0 || kind > 2)
      throw make_error(env, np::ErrorCode::InvalidArgument, "fake-init kind must be 0, 1 or 2", {}, group.name);
    group.fake.kind = static_cast<np::FakeInitKind>(kind);
    group.fake.a = get_number(fake, "a");
    group.fake.b = get_number(fake, "b");
    group.fake.key0 = static_cast<uint32_t>(get_u64(fake, "key0"));
    group.fake.key1 = static_cast<uint32_t>(get_u64(fake, "key1"));
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
  plan.threads = static_cast<int>(get_number_or(js, "threads", 0));
  double chunk = get_number_or(js, "chunkBytes", 2.0 * 1024 * 1024);
  if (!(chunk >= 4096)) throw make_error(env, np::ErrorCode::InvalidArgument, "chunkBytes must be at least 4096");
  plan.chunk_bytes = static_cast<size_t>(chunk);
  plan.isa = isa_from_js(js.Get("isa"));
  Napi::Value mode = js.Get("mode");
  if (mode.IsString() && mode.As<Napi::String>().Utf8Value() == "readsum") plan.mode = np::ScanMode::ReadSum;
  return plan;
}

struct ProgressData {
  double done, total;
  std::shared_ptr<std::atomic<bool>> finished;  // stale updates are dropped once the scan settled
};

class ScanWorker : public Napi::AsyncWorker {
 public:
  ScanWorker(Napi::Env env, np::ScanPlan plan, std::shared_ptr<std::atomic<bool>> cancel, Napi::Function on_progress)
      : Napi::AsyncWorker(env, "neural-phylogeny:scan"),
        deferred_(Napi::Promise::Deferred::New(env)),
        plan_(std::move(plan)),
        cancel_(std::move(cancel)) {
    if (!on_progress.IsEmpty()) {
      progress_ = Napi::ThreadSafeFunction::New(env, on_progress, "neural-phylogeny:scan-progress", 0, 1);
      progress_ref_ = Napi::Persistent(on_progress);
      has_progress_ = true;
    }
  }

  ~ScanWorker() override {
    if (has_progress_) progress_.Release();
  }

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      np::ScanControl control;
      control.cancel = cancel_.get();
      if (has_progress_) {
        control.progress = [this](uint64_t done, uint64_t total) { report(done, total); };
      }
      auto t0 = std::chrono::steady_clock::now();
      output_ = np::scan_cpu(plan_, control);
      seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } catch (...) {
      error_.capture_current();
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    finished_->store(true);
    if (has_progress_ && !error_.set) {
      // The final update goes out synchronously, so it arrives before the promise settles.
      try {
        progress_ref_.Call({Napi::Number::New(env, static_cast<double>(output_.bytes)),
                            Napi::Number::New(env, static_cast<double>(output_.bytes))});
      } catch (...) {
      }
    }
    if (error_.set) {
      deferred_.Reject(error_.to_js(env).Value());
      return;
    }
    Napi::Object result = Napi::Object::New(env);
    Napi::Float64Array values = Napi::Float64Array::New(env, output_.values.size());
    std::copy(output_.values.begin(), output_.values.end(), values.Data());
    Napi::Float64Array offsets = Napi::Float64Array::New(env, output_.offsets.size());
    for (size_t i = 0; i < output_.offsets.size(); ++i) offsets[i] = static_cast<double>(output_.offsets[i]);
    result.Set("values", values);
    result.Set("offsets", offsets);
    result.Set("isa", np::isa_name(output_.isa));
    result.Set("threads", output_.threads);
    result.Set("bytes", static_cast<double>(output_.bytes));
    result.Set("seconds", seconds_);
    result.Set("device", "cpu");
    deferred_.Resolve(result);
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
          // A throwing progress callback must not take the scan down.
        }
      }
      delete d;
    });
    if (st != napi_ok) delete data;
  }

  Napi::Promise::Deferred deferred_;
  np::ScanPlan plan_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  Napi::ThreadSafeFunction progress_;
  Napi::FunctionReference progress_ref_;
  std::shared_ptr<std::atomic<bool>> finished_ = std::make_shared<std::atomic<bool>>(false);
  bool has_progress_ = false;
  std::mutex progress_mutex_;
  std::chrono::steady_clock::time_point last_report_{};
  np::ScanOutput output_;
  double seconds_ = 0;
  CapturedError error_;
};

Napi::Value StartScan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject())
    throw make_error(env, np::ErrorCode::InvalidArgument, "startScan(plan, onProgress?) needs a plan object");
  np::ScanPlan plan = plan_from_js(info[0].As<Napi::Object>());
  Napi::Function on_progress;
  if (info.Length() > 1 && info[1].IsFunction()) on_progress = info[1].As<Napi::Function>();
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  auto* worker = new ScanWorker(env, std::move(plan), cancel, on_progress);
  Napi::Object handle = Napi::Object::New(env);
  handle.Set("promise", worker->promise());
  handle.Set("cancel", Napi::Function::New(env, [cancel](const Napi::CallbackInfo&) { cancel->store(true); }, "cancel"));
  worker->Queue();
  return handle;
}

np::Isa isa_from_js(const Napi::Value& v) {
  np::Isa isa = np::best_isa();
  if (v.IsString() && v.As<Napi::String>().Utf8Value() != "auto") {
    std::string name = v.As<Napi::String>().Utf8Value();
    if (!np::parse_isa(name, &isa) || !np::isa_supported(isa))
      throw make_error(v.Env(), np::ErrorCode::InvalidArgument, "isa '" + name + "' is unknown or not supported here");
  }
  return isa;
}

// fakeInit(params, start, count, isa?) -> Float32Array: the fake-init values of elements
// [start, start + count) through the chosen kernel set (tests hold them equal to the TS mirror).
Napi::Value FakeInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsObject() || !info[1].IsNumber() || !info[2].IsNumber())
    throw make_error(env, np::ErrorCode::InvalidArgument, "fakeInit(params, start, count, isa?)");
  Napi::Object fake = info[0].As<Napi::Object>();
  np::FakeInitParams p;
  int kind = static_cast<int>(get_number(fake, "kind"));
  if (kind < 0 || kind > 2) throw make_error(env, np::ErrorCode::InvalidArgument, "fake-init kind must be 0, 1 or 2");
  p.kind = static_cast<np::FakeInitKind>(kind);
  p.a = get_number(fake, "a");
  p.b = get_number(fake, "b");
  p.key0 = static_cast<uint32_t>(get_u64(fake, "key0"));
  p.key1 = static_cast<uint32_t>(get_u64(fake, "key1"));
  double start = info[1].As<Napi::Number>().DoubleValue();
  double count = info[2].As<Napi::Number>().DoubleValue();
  if (!(start >= 0) || !(count >= 0) || count > (1u << 28))
    throw make_error(env, np::ErrorCode::InvalidArgument, "fakeInit: bad start or count");
  np::Isa isa = info.Length() > 3 ? isa_from_js(info[3]) : np::best_isa();
  Napi::Float32Array out = Napi::Float32Array::New(env, static_cast<size_t>(count));
  np::fake_init_range(np::scan_kernels(isa), p, static_cast<uint64_t>(start), out.Data(), static_cast<size_t>(count));
  return out;
}

}  // namespace

void register_scan(Napi::Env env, Napi::Object exports) {
  exports.Set("startScan", Napi::Function::New(env, StartScan, "startScan"));
  exports.Set("fakeInit", Napi::Function::New(env, FakeInit, "fakeInit"));
}

}  // namespace np_napi
