#include <omp.h>

#include "tapegrad/core/error.h"
#include "tapegrad/core/threads.h"

namespace tg {

void set_num_threads(int threads) {
  TG_CHECK_VALUE(threads > 0, "[set_num_threads] expected a positive number of threads, got ", threads);
  omp_set_num_threads(threads);
}

int get_num_threads() { return omp_get_max_threads(); }

}  // namespace tg
