#include "core/thread_pool.h"

#include <thread>
#include <vector>

#include "core/error.h"

namespace np {

void run_on_threads(int threads, const std::function<void()>& worker, const std::function<void()>& stop) {
  if (threads <= 1) {
    worker();
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(threads));
  try {
    for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  } catch (...) {
    stop();
    for (std::thread& th : pool) th.join();
    throw Error(ErrorCode::Internal, "cannot start worker threads");
  }
  for (std::thread& th : pool) th.join();
}

}  // namespace np
