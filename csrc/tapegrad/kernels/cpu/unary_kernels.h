// Contiguous float32 loops for the transcendental unary ops, compiled once per instruction set
// (unary_avx2.cpp, unary_avx512.cpp, and the baseline in elementwise.cpp) from this one source.
#pragma once

#include <cstdint>

#include "tapegrad/kernels/cpu/vector_math.h"
#include "tapegrad/kernels/kernels.h"

namespace tg::cpu {

namespace {  // one copy per ISA-specific file; see vector_math.h

// Returns false for ops without a vectorised float32 form (the caller then uses the generic loop).
inline bool float_unary_contiguous_impl(kernels::UnaryOp op, const float* __restrict in, float* __restrict out,
                                        int64_t n) {
  switch (op) {
    case kernels::UnaryOp::Exp:
      for (int64_t i = 0; i < n; ++i) out[i] = vector_math::exp(in[i]);
      return true;
    case kernels::UnaryOp::Tanh:
      for (int64_t i = 0; i < n; ++i) out[i] = vector_math::tanh(in[i]);
      return true;
    case kernels::UnaryOp::Sigmoid:
      for (int64_t i = 0; i < n; ++i) out[i] = vector_math::sigmoid(in[i]);
      return true;
    default:
      return false;
  }
}

}  // namespace

bool float_unary_contiguous_baseline(kernels::UnaryOp op, const float* in, float* out, int64_t n);
bool float_unary_contiguous_avx2(kernels::UnaryOp op, const float* in, float* out, int64_t n);
bool float_unary_contiguous_avx512(kernels::UnaryOp op, const float* in, float* out, int64_t n);

}  // namespace tg::cpu
