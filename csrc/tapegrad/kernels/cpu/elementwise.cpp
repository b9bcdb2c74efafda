// CPU kernels for elementwise math. Each op is a small functor handed to the shared loops in
// loops.h, so the dtype switch happens once per call and the inner loop is a plain C++ loop the
// compiler vectorises on contiguous data.
#include <cmath>
#include <type_traits>

#include "tapegrad/kernels/cpu/gemm.h"
#include "tapegrad/kernels/cpu/loops.h"
#include "tapegrad/kernels/cpu/unary_kernels.h"
#include "tapegrad/kernels/kernels.h"

namespace tg::kernels {

namespace {

template <typename T>
T integer_power(T base, T exponent) {
  if (exponent < 0) return base == 1 ? 1 : base == -1 ? (exponent % 2 == 0 ? 1 : -1) : 0;
  T result = 1;
  while (exponent) {
    if (exponent & 1) result *= base;
    base *= base;
    exponent >>= 1;
  }
  return result;
}

// NaN propagates through maximum/minimum, as in PyTorch.
template <typename T>
T propagate_nan_max(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (a != a) return a;
    if (b != b) return b;
  }
  return a > b ? a : b;
}
template <typename T>
T propagate_nan_min(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (a != a) return a;
    if (b != b) return b;
  }
  return a < b ? a : b;
}

template <typename T>
void arithmetic(BinaryOp op, const cpu::Loop<3>& loop) {
  switch (op) {
    case BinaryOp::Add: return cpu::map_binary<T, T, T>(loop, [](T a, T b) { return static_cast<T>(a + b); });
    case BinaryOp::Sub: return cpu::map_binary<T, T, T>(loop, [](T a, T b) { return static_cast<T>(a - b); });
    case BinaryOp::Mul: return cpu::map_binary<T, T, T>(loop, [](T a, T b) { return static_cast<T>(a * b); });
    case BinaryOp::Div: return cpu::map_binary<T, T, T>(loop, [](T a, T b) { return static_cast<T>(a / b); });
    case BinaryOp::Pow:
      if constexpr (std::is_floating_point_v<T>)
        return cpu::map_binary<T, T, T>(loop, [](T a, T b) { return std::pow(a, b); });
      else if constexpr (std::is_same_v<T, bool>)
        fail<TypeError>("[pow] not supported for bool tensors");
      else
        return cpu::map_binary<T, T, T>(loop, [](T a, T b) { return integer_power(a, b); });
    case BinaryOp::Maximum: return cpu::map_binary<T, T, T>(loop, propagate_nan_max<T>);
    case BinaryOp::Minimum: return cpu::map_binary<T, T, T>(loop, propagate_nan_min<T>);
    default: break;
  }
}

template <typename T>
void comparison(BinaryOp op, const cpu::Loop<3>& loop) {
  switch (op) {
    case BinaryOp::Eq: return cpu::map_binary<bool, T, T>(loop, [](T a, T b) { return a == b; });
    case BinaryOp::Ne: return cpu::map_binary<bool, T, T>(loop, [](T a, T b) { return a != b; });
    case BinaryOp::Lt: return cpu::map_binary<bool, T, T>(loop, [](T a, T b) { return a < b; });
    case BinaryOp::Le: return cpu::map_binary<bool, T, T>(loop, [](T a, T b) { return a <= b; });
    case BinaryOp::Gt: return cpu::map_binary<bool, T, T>(loop, [](T a, T b) { return a > b; });
    case BinaryOp::Ge: return cpu::map_binary<bool, T, T>(loop, [](T a, T b) { return a >= b; });
    default: break;
  }
}

bool is_comparison(BinaryOp op) { return op >= BinaryOp::Eq; }

template <typename T>
void floating_unary(UnaryOp op, const cpu::Loop<2>& loop) {
  switch (op) {
    case UnaryOp::Exp: return cpu::map_unary<T, T>(loop, [](T a) { return std::exp(a); });
    case UnaryOp::Log: return cpu::map_unary<T, T>(loop, [](T a) { return std::log(a); });
    case UnaryOp::Sqrt: return cpu::map_unary<T, T>(loop, [](T a) { return std::sqrt(a); });
    case UnaryOp::Rsqrt: return cpu::map_unary<T, T>(loop, [](T a) { return T(1) / std::sqrt(a); });
    case UnaryOp::Sin: return cpu::map_unary<T, T>(loop, [](T a) { return std::sin(a); });
    case UnaryOp::Cos: return cpu::map_unary<T, T>(loop, [](T a) { return std::cos(a); });
    case UnaryOp::Tanh: return cpu::map_unary<T, T>(loop, [](T a) { return std::tanh(a); });
    // Written so that neither branch overflows: exp of a large positive number is never taken.
    case UnaryOp::Sigmoid:
      return cpu::map_unary<T, T>(loop, [](T a) {
        if (a >= 0) return T(1) / (T(1) + std::exp(-a));
        const T e = std::exp(a);
        return e / (T(1) + e);
      });
    default: break;
  }
}

// Contiguous float32 exp/tanh/sigmoid through the widest vector code this CPU runs (the same ISA
// choice as GEMM, so TAPEGRAD_CPU=generic forces the baseline here too), split over threads above
// the grain size. False when the op has no vectorised form.
bool try_vectorised_float_unary(UnaryOp op, const Tensor& out, const Tensor& a) {
  if (a.dtype() != DType::Float32 || !a.is_contiguous() || !out.is_contiguous() || a.sizes() != out.sizes()) return false;
  if (op != UnaryOp::Exp && op != UnaryOp::Tanh && op != UnaryOp::Sigmoid) return false;
  auto* run = cpu::active_isa() == cpu::Isa::Avx512 ? &cpu::float_unary_contiguous_avx512
              : cpu::active_isa() == cpu::Isa::Avx2 ? &cpu::float_unary_contiguous_avx2
                                                     : &cpu::float_unary_contiguous_baseline;
  const float* in = static_cast<const float*>(a.raw_data());
  float* result = static_cast<float*>(out.raw_data());
  const int64_t n = a.numel();
  const int64_t threads = std::min<int64_t>(omp_get_max_threads(), n / cpu::kGrainSize);
  if (threads <= 1) return run(op, in, result, n);
#pragma omp parallel num_threads(threads)
  {
    const int64_t chunk = (n + omp_get_num_threads() - 1) / omp_get_num_threads();
    const int64_t begin = std::min(n, omp_get_thread_num() * chunk);
    run(op, in + begin, result + begin, std::min(n, begin + chunk) - begin);
  }
  return true;
}

}  // namespace

void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  require_cpu("binary", out);
  const auto loop = cpu::tensor_loop(out, a, b);
  if (is_comparison(op)) {
    dispatch_all(a.dtype(), [&](auto tag) { comparison<typename decltype(tag)::type>(op, loop); });
  } else {
    dispatch_all(out.dtype(), [&](auto tag) { arithmetic<typename decltype(tag)::type>(op, loop); });
  }
}

void unary(UnaryOp op, const Tensor& out, const Tensor& a) {
  require_cpu("unary", out);
  const auto loop = cpu::tensor_loop(out, a);
  switch (op) {
    case UnaryOp::LogicalNot:
      return dispatch_all(a.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        cpu::map_unary<bool, T>(loop, [](T v) { return !v; });
      });
    case UnaryOp::Neg:
    case UnaryOp::Abs:
    case UnaryOp::Sign:
    case UnaryOp::Relu:
      return dispatch_numeric(a.dtype(), "unary", [&](auto tag) {
        using T = typename decltype(tag)::type;
        if (op == UnaryOp::Neg) cpu::map_unary<T, T>(loop, [](T v) { return static_cast<T>(-v); });
        if (op == UnaryOp::Abs) cpu::map_unary<T, T>(loop, [](T v) { return v < 0 ? static_cast<T>(-v) : v; });
        if (op == UnaryOp::Sign) cpu::map_unary<T, T>(loop, [](T v) { return static_cast<T>((T(0) < v) - (v < T(0))); });
        // NaN stays NaN, as PyTorch's relu.
        if (op == UnaryOp::Relu) cpu::map_unary<T, T>(loop, [](T v) { return v < T(0) ? T(0) : v; });
      });
    default:
      if (try_vectorised_float_unary(op, out, a)) return;
      return dispatch_floating(a.dtype(), "unary", [&](auto tag) { floating_unary<typename decltype(tag)::type>(op, loop); });
  }
}

void clamp(const Tensor& out, const Tensor& a, std::optional<Scalar> min, std::optional<Scalar> max) {
  require_cpu("clamp", out);
  const auto loop = cpu::tensor_loop(out, a);
  dispatch_numeric(a.dtype(), "clamp", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T low = min ? min->to<T>() : T(0), high = max ? max->to<T>() : T(0);
    const bool has_low = min.has_value(), has_high = max.has_value();
    cpu::map_unary<T, T>(loop, [=](T v) {
      if (v != v) return v;  // NaN passes through
      if (has_low && v < low) v = low;
      if (has_high && v > high) v = high;
      return v;
    });
  });
}

void where(const Tensor& out, const Tensor& condition, const Tensor& a, const Tensor& b) {
  require_cpu("where", out);
  const auto loop = cpu::tensor_loop(out, condition, a, b);
  dispatch_all(out.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::map_ternary<T, bool, T, T>(loop, [](bool c, T x, T y) { return c ? x : y; });
  });
}

void threshold_backward(const Tensor& out, const Tensor& grad, const Tensor& output) {
  require_cpu("threshold_backward", out);
  const auto loop = cpu::tensor_loop(out, grad, output);
  dispatch_floating(out.dtype(), "threshold_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::map_binary<T, T, T>(loop, [](T g, T o) { return o > T(0) ? g : T(0); });
  });
}

}  // namespace tg::kernels

namespace tg::cpu {

bool float_unary_contiguous_baseline(kernels::UnaryOp op, const float* in, float* out, int64_t n) {
  return float_unary_contiguous_impl(op, in, out, n);
}

}  // namespace tg::cpu
