#include "tapegrad/core/threads.h"

#include <omp.h>

#include <atomic>

#include "tapegrad/core/error.h"

namespace tg {

namespace {
// Made on first use, so that no static initialiser elsewhere can read it before it is set.
std::atomic<int>& thread_setting() {
  static std::atomic<int> threads{omp_get_max_threads()};
  return threads;
}
}  // namespace

void set_num_threads(int threads) {
  TG_CHECK_VALUE(threads > 0, "set_num_threads", "expected a positive number of threads, got ", threads);
  thread_setting().store(threads, std::memory_order_relaxed);
}

int get_num_threads() { return thread_setting().load(std::memory_order_relaxed); }

}  // namespace tg
