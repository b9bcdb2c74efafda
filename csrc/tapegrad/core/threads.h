// The thread count every parallel region uses. OpenMP's own setting (omp_set_num_threads) belongs
// to the calling thread, so a count set from one Python thread would not reach kernels that
// another runs; this one is process-wide. It starts at OpenMP's default, which honours
// OMP_NUM_THREADS.
#pragma once

namespace tg {

void set_num_threads(int threads);
int get_num_threads();

}  // namespace tg
