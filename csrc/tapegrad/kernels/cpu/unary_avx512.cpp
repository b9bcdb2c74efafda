// unary_kernels.h compiled for AVX-512 (this file's build flags); called only after a CPUID check.
#include "tapegrad/kernels/cpu/unary_kernels.h"

namespace tg::cpu {

bool float_unary_contiguous_avx512(kernels::UnaryOp op, const float* in, float* out, int64_t n) {
  return float_unary_contiguous_impl(op, in, out, n);
}

}  // namespace tg::cpu
