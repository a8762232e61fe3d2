#include "cuda/stage_readers.h"

#include <chrono>
#include <new>

#include "core/error.h"

namespace np {
namespace cuda_scan {
StageReaders::StageReaders(const std::vector<std::string>& files, const MemberStager& stager,
                           std::vector<StagePiece> pieces, size_t batches, std::vector<unsigned char*> slots, int threads)
    : stager_(stager),
      pieces_(std::move(pieces)),
      slots_(std::move(slots)),
      remaining_(batches, 0),
      files_(files) {
  for (const StagePiece& p : pieces_) ++remaining_[p.batch];
  try {
    for (int t = 0; t < threads; ++t) threads_.emplace_back([this] { run(); });
  } catch (...) {
    stop();
    for (std::thread& th : threads_) th.join();
    throw Error(ErrorCode::Internal, "cuda scan: cannot start reader threads");
  }
}

StageReaders::~StageReaders() {
  stop();
  for (std::thread& th : threads_) th.join();
}

void StageReaders::allow(size_t end) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (end > allowed_) allowed_ = end;
  cv_.notify_all();
}

void StageReaders::stop() {
  std::lock_guard<std::mutex> lock(mutex_);
  stop_ = true;
  cv_.notify_all();
}

bool StageReaders::wait(size_t b, const std::atomic<bool>* cancel) {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (error_) std::rethrow_exception(error_);
    if (remaining_[b] == 0) return true;
    if (stop_ || (cancel && cancel->load())) return false;
    cv_.wait_for(lock, std::chrono::milliseconds(10));
  }
}

void StageReaders::run() {
  MemberStager::Scratch scratch;
  for (;;) {
    size_t index;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      // Pieces are taken in order; a piece waits until its batch's buffer is free.
      cv_.wait(lock, [&] { return stop_ || next_ >= pieces_.size() || pieces_[next_].batch < allowed_; });
      if (stop_ || next_ >= pieces_.size()) return;
      index = next_++;
    }
    const StagePiece& p = pieces_[index];
    try {
      stager_.stage(p, slots_[p.batch % slots_.size()], files_, scratch);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) {
        try {
          throw;
        } catch (const std::bad_alloc&) {
          error_ = std::make_exception_ptr(Error(ErrorCode::OutOfMemory, "cuda scan: out of memory"));
        } catch (...) {
          error_ = std::current_exception();
        }
      }
      stop_ = true;
      cv_.notify_all();
      return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (--remaining_[p.batch] == 0) cv_.notify_all();
  }
}

}  // namespace cuda_scan
}  // namespace np
