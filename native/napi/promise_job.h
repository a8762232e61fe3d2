// Base of the bindings whose work runs off the main thread and settles a Promise: optional
// progress through a thread-safe function (at most every 50 ms; the last update is delivered
// synchronously just before the promise settles, and stale queued updates are dropped), and
// cancellation through a flag that the returned handle's cancel() sets.
#pragma once
#include <napi.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "napi/convert.h"

namespace np_napi {

class PromiseJob : public Napi::AsyncWorker {
 public:
  // Queues the job. Returns { promise, cancel() } when `cancellable`, else the promise.
  static Napi::Value Start(PromiseJob* job, bool cancellable = true);

 protected:
  PromiseJob(Napi::Env env, const char* name, Napi::Function on_progress = Napi::Function());
  ~PromiseJob() override;

  // Worker thread: the work. Anything thrown rejects the promise with a coded error.
  virtual void Compute() = 0;
  // Main thread, after Compute succeeded: the value the promise resolves to.
  virtual Napi::Value Result(Napi::Env env) = 0;
  // The total of the final progress update (e.g. bytes); called after Compute succeeded.
  virtual double ProgressTotal() const { return 0; }

  // For Compute(): a progress callback (empty when JS gave none) and the cancel flag.
  std::function<void(uint64_t, uint64_t)> ProgressCallback();
  const std::atomic<bool>* CancelFlag() const { return cancel_.get(); }
  // Seconds Compute() took.
  double Seconds() const { return seconds_; }

 private:
  void Execute() final;
  void OnOK() final;
  void OnError(const Napi::Error& e) final;
  void Report(uint64_t done, uint64_t total);

  Napi::Promise::Deferred deferred_;
  std::shared_ptr<std::atomic<bool>> cancel_ = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<std::atomic<bool>> finished_ = std::make_shared<std::atomic<bool>>(false);
  Napi::ThreadSafeFunction progress_;
  Napi::FunctionReference progress_ref_;
  bool has_progress_ = false;
  std::mutex progress_mutex_;
  std::chrono::steady_clock::time_point last_report_{};
  double seconds_ = 0;
  CapturedError error_;
};

}  // namespace np_napi
