// Runs one job's workers: `threads` std::threads (the calling thread alone when 1), joined
// before returning. Workers catch their own errors; if threads cannot be started, `stop` is
// called so the ones already running wind down, and an E_INTERNAL error is thrown.
#pragma once
#include <functional>

namespace np {

void run_on_threads(int threads, const std::function<void()>& worker, const std::function<void()>& stop);

}  // namespace np
