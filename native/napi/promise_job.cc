#include "napi/promise_job.h"

namespace np_napi {
namespace {

struct ProgressData {
  double done, total;
  std::shared_ptr<std::atomic<bool>> finished;
};

}  // namespace

PromiseJob::PromiseJob(Napi::Env env, const char* name, Napi::Function on_progress)
    : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)) {
  if (!on_progress.IsEmpty()) {
    progress_ = Napi::ThreadSafeFunction::New(env, on_progress, std::string(name) + ":progress", 0, 1);
    progress_ref_ = Napi::Persistent(on_progress);
    has_progress_ = true;
  }
}

PromiseJob::~PromiseJob() {
  if (has_progress_) progress_.Release();
}

Napi::Value PromiseJob::Start(PromiseJob* job, bool cancellable) {
  Napi::Env env = job->Env();
  Napi::Promise promise = job->deferred_.Promise();
  Napi::Value handle = promise;
  if (cancellable) {
    Napi::Object h = Napi::Object::New(env);
    h.Set("promise", promise);
    std::shared_ptr<std::atomic<bool>> cancel = job->cancel_;
    h.Set("cancel", Napi::Function::New(env, [cancel](const Napi::CallbackInfo&) { cancel->store(true); }, "cancel"));
    handle = h;
  }
  job->Queue();
  return handle;
}

std::function<void(uint64_t, uint64_t)> PromiseJob::ProgressCallback() {
  if (!has_progress_) return {};
  return [this](uint64_t done, uint64_t total) { Report(done, total); };
}

void PromiseJob::Execute() {
  try {
    auto t0 = std::chrono::steady_clock::now();
    Compute();
    seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  } catch (...) {
    error_.capture_current();
  }
}

void PromiseJob::OnOK() {
  Napi::Env env = Env();
  finished_->store(true);
  if (error_.set) {
    deferred_.Reject(error_.to_js(env).Value());
    return;
  }
  if (has_progress_) {
    const double total = ProgressTotal();
    try {
      progress_ref_.Call({Napi::Number::New(env, total), Napi::Number::New(env, total)});
    } catch (...) {
      // A throwing progress callback must not take the job down.
    }
  }
  try {
    deferred_.Resolve(Result(env));
  } catch (const Napi::Error& e) {
    deferred_.Reject(e.Value());
  }
}

void PromiseJob::OnError(const Napi::Error& e) {
  finished_->store(true);
  deferred_.Reject(e.Value());
}

void PromiseJob::Report(uint64_t done, uint64_t total) {
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

}  // namespace np_napi
