// Contiguous float loops for the hottest elementwise ops, compiled once per instruction set
// (vector_avx2.cpp, vector_avx512.cpp, and the baseline in elementwise.cpp) from this one source:
// the baseline build is SSE2 only, which leaves even a memory-bound add instruction-bound.
#pragma once

#include <cstdint>

#include "tapegrad/kernels/activation.h"
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
    case kernels::UnaryOp::Erf:
      for (int64_t i = 0; i < n; ++i) out[i] = vector_math::erf(in[i]);
      return true;
    default:
      return false;
  }
}

// silu and both GELUs; false for the other activations (the caller then uses the generic loop).
inline bool float_activation_contiguous_impl(kernels::Activation kind, const float* __restrict in, float* __restrict out,
                                             int64_t n) {
  switch (kind) {
    case kernels::Activation::Silu:
      for (int64_t i = 0; i < n; ++i) out[i] = in[i] * vector_math::sigmoid(in[i]);
      return true;
    // As activation.cpp's generic loop writes it, so the two agree to erf's rounding.
    case kernels::Activation::Gelu: {
      constexpr float sqrt_half = 0.707106781186547524f;
      for (int64_t i = 0; i < n; ++i) {
        const float x = in[i];
        out[i] = x * 0.5f * (1.0f + vector_math::erf(x * sqrt_half));
      }
      return true;
    }
    case kernels::Activation::GeluTanh: {
      constexpr float beta = 0.797884560802865355f, kappa = 0.044715f;  // sqrt(2 / pi)
      for (int64_t i = 0; i < n; ++i) {
        const float x = in[i];
        out[i] = 0.5f * x * (1.0f + vector_math::tanh(beta * (x + kappa * x * x * x)));
      }
      return true;
    }
    default:
      return false;
  }
}

// out = a op b over n contiguous elements; b_is_scalar reads b[0] for every element. Out may be
// a or b (in-place updates): each element is read before it is written.
template <typename T>
bool arithmetic_contiguous_impl(kernels::BinaryOp op, const T* a, const T* b, bool b_is_scalar, T* out, int64_t n) {
  const T scalar = b_is_scalar ? b[0] : T(0);
#define TG_ARITHMETIC_LOOP(expression)                                        \
  if (b_is_scalar) {                                                          \
    for (int64_t i = 0; i < n; ++i) { const T y = scalar; out[i] = expression; } \
  } else {                                                                    \
    for (int64_t i = 0; i < n; ++i) { const T y = b[i]; out[i] = expression; } \
  }                                                                           \
  return true;
  switch (op) {
    case kernels::BinaryOp::Add: TG_ARITHMETIC_LOOP(a[i] + y)
    case kernels::BinaryOp::Sub: TG_ARITHMETIC_LOOP(a[i] - y)
    case kernels::BinaryOp::Mul: TG_ARITHMETIC_LOOP(a[i] * y)
    case kernels::BinaryOp::Div: TG_ARITHMETIC_LOOP(a[i] / y)
    default: return false;
  }
#undef TG_ARITHMETIC_LOOP
}

}  // namespace

// One entry per ISA for each family: <family>_<isa>.
bool float_unary_contiguous_baseline(kernels::UnaryOp op, const float* in, float* out, int64_t n);
bool float_unary_contiguous_avx2(kernels::UnaryOp op, const float* in, float* out, int64_t n);
bool float_unary_contiguous_avx512(kernels::UnaryOp op, const float* in, float* out, int64_t n);
bool float_activation_contiguous_baseline(kernels::Activation kind, const float* in, float* out, int64_t n);
bool float_activation_contiguous_avx2(kernels::Activation kind, const float* in, float* out, int64_t n);
bool float_activation_contiguous_avx512(kernels::Activation kind, const float* in, float* out, int64_t n);
bool float_arithmetic_contiguous_baseline(kernels::BinaryOp op, const float* a, const float* b, bool b_is_scalar, float* out, int64_t n);
bool float_arithmetic_contiguous_avx2(kernels::BinaryOp op, const float* a, const float* b, bool b_is_scalar, float* out, int64_t n);
bool float_arithmetic_contiguous_avx512(kernels::BinaryOp op, const float* a, const float* b, bool b_is_scalar, float* out, int64_t n);
bool double_arithmetic_contiguous_baseline(kernels::BinaryOp op, const double* a, const double* b, bool b_is_scalar, double* out, int64_t n);
bool double_arithmetic_contiguous_avx2(kernels::BinaryOp op, const double* a, const double* b, bool b_is_scalar, double* out, int64_t n);
bool double_arithmetic_contiguous_avx512(kernels::BinaryOp op, const double* a, const double* b, bool b_is_scalar, double* out, int64_t n);

}  // namespace tg::cpu

// Defines the entry points above for one ISA; each vector_<isa>.cpp expands it once.
#define TG_DEFINE_VECTOR_KERNELS(isa)                                                                            \
  namespace tg::cpu {                                                                                            \
  bool float_unary_contiguous_##isa(kernels::UnaryOp op, const float* in, float* out, int64_t n) {              \
    return float_unary_contiguous_impl(op, in, out, n);                                                          \
  }                                                                                                              \
  bool float_activation_contiguous_##isa(kernels::Activation kind, const float* in, float* out, int64_t n) {    \
    return float_activation_contiguous_impl(kind, in, out, n);                                                   \
  }                                                                                                              \
  bool float_arithmetic_contiguous_##isa(kernels::BinaryOp op, const float* a, const float* b, bool b_is_scalar, \
                                         float* out, int64_t n) {                                                \
    return arithmetic_contiguous_impl(op, a, b, b_is_scalar, out, n);                                            \
  }                                                                                                              \
  bool double_arithmetic_contiguous_##isa(kernels::BinaryOp op, const double* a, const double* b,               \
                                          bool b_is_scalar, double* out, int64_t n) {                            \
    return arithmetic_contiguous_impl(op, a, b, b_is_scalar, out, n);                                            \
  }                                                                                                              \
  }
