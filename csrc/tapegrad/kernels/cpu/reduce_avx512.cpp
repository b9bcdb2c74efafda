// reduce_kernels.h compiled for AVX-512 (this file's build flags); called only after a CPUID check.
#include "tapegrad/kernels/cpu/reduce_kernels.h"

namespace tg::cpu {

FloatReduceKernels float_reduce_kernels_avx512() { return make_float_reduce_kernels(); }

}  // namespace tg::cpu
