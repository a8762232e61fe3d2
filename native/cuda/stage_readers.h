// Host threads that fill pinned staging buffers, batch by batch, running ahead of the GPU by
// as many batches as there are buffers: each takes the next piece (stage_members.h: pread, or
// read and made dense on the host) in order. The scan driver says which batches may be read
// (their buffer's previous copy to the device is done) and waits for each batch in order. No
// CUDA here: the buffers are plain pointers (cudaHostAlloc'd by the caller).
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/file_cache.h"
#include "cuda/stage_members.h"

namespace np {
namespace cuda_scan {

class StageReaders {
 public:
  // Batch b is read into slots[b % slots.size()]. Pieces must be in batch order; `stager`
  // (which must outlive the readers) fills them.
  StageReaders(const std::vector<std::string>& files, const MemberStager& stager, std::vector<StagePiece> pieces,
               size_t batches, std::vector<unsigned char*> slots, int threads);
  ~StageReaders();
  StageReaders(const StageReaders&) = delete;
  StageReaders& operator=(const StageReaders&) = delete;

  // Batches [0, end) may be read.
  void allow(size_t end);
  // Blocks until batch b is read. Returns false when cancelled (polled every 10 ms); rethrows
  // the first read error (E_IO naming the file, or what forming a member raised).
  bool wait(size_t b, const std::atomic<bool>* cancel);
  void stop();

 private:
  void run();

  const MemberStager& stager_;
  std::vector<StagePiece> pieces_;
  std::vector<unsigned char*> slots_;
  std::vector<size_t> remaining_;  // unread pieces per batch
  std::mutex mutex_;
  std::condition_variable cv_;
  size_t next_ = 0;
  size_t allowed_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
  FileCache files_;  // shared by the threads
  std::vector<std::thread> threads_;
};

}  // namespace cuda_scan
}  // namespace np
