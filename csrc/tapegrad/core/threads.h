// The thread count every kernel uses (OpenMP's; OMP_NUM_THREADS sets the initial value).
#pragma once

namespace tg {

void set_num_threads(int threads);
int get_num_threads();

}  // namespace tg
