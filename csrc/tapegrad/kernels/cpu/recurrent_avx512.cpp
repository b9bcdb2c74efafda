// recurrent_kernels.h compiled for AVX-512 (this file's build flags); called only after a CPUID check.
#include "tapegrad/kernels/cpu/recurrent_kernels.h"

namespace tg::cpu {

FloatRecurrentKernels float_recurrent_kernels_avx512() { return make_float_recurrent_kernels(); }

}  // namespace tg::cpu
