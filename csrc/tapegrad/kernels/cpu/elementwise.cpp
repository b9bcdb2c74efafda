// CPU kernels for elementwise math. Each op is a small functor handed to the shared loops in
// loops.h, so the dtype switch happens once per call and the inner loop is a plain C++ loop the
// compiler vectorises on contiguous data.
#include <cmath>
#include <limits>
#include <type_traits>

#include "tapegrad/kernels/cpu/backend.h"
#include "tapegrad/kernels/cpu/isa.h"
#include "tapegrad/kernels/cpu/loops.h"
#include "tapegrad/kernels/cpu/vector_kernels.h"

namespace tg::cpu {

namespace {

// A signed integer as the unsigned type of its promotion (int8 and int16 become unsigned int, not
// int, whose product could still overflow): integer +, -, * and negation wrap in two's complement
// as PyTorch's results do, and in unsigned arithmetic that wrap is defined, where signed overflow
// is undefined behaviour. Other types are returned as they are.
template <typename T>
constexpr auto wrapping(T value) {
  if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) return static_cast<std::make_unsigned_t<decltype(value + 0)>>(value);
  else return value;
}

// x ** y for bool is x or not y (true ** false == 1).
inline bool integer_power(bool base, bool exponent) { return base || !exponent; }

template <typename T>
T integer_power(T base, T exponent) {
  if (exponent < 0) return base == 1 ? 1 : base == -1 ? (exponent % 2 == 0 ? 1 : -1) : 0;
  auto result = wrapping(T(1)), factor = wrapping(base);
  while (exponent) {
    if (exponent & 1) result *= factor;
    factor *= factor;
    exponent >>= 1;
  }
  return static_cast<T>(result);
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

// Python's // and %, as PyTorch computes them. Floats: the quotient of a - fmod(a, b), which is
// exact, rounded to the nearest integer, so that 0.5 // 0.1 is 4 as in Python; a zero divisor
// gives IEEE's a / b.
template <typename T>
T floor_divide(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (b == 0) return a / b;
    const T remainder = std::fmod(a, b);
    T quotient = (a - remainder) / b;
    if (remainder != 0 && (b < 0) != (remainder < 0)) quotient -= T(1);
    if (quotient == 0) return std::copysign(T(0), a / b);
    T floored = std::floor(quotient);
    if (quotient - floored > T(0.5)) floored += T(1);
    return floored;
  } else {
    if (b == -1) return static_cast<T>(T(0) - static_cast<std::make_unsigned_t<T>>(a));  // no overflow trap at INT_MIN
    const T quotient = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? static_cast<T>(quotient - 1) : quotient;
  }
}

template <typename T>
T trunc_divide(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) return std::trunc(a / b);
  else if (b == -1) return static_cast<T>(T(0) - static_cast<std::make_unsigned_t<T>>(a));
  else return static_cast<T>(a / b);
}

// The remainder with the divisor's sign (Python's %).
template <typename T>
T remainder(T a, T b) {
  T result;
  if constexpr (std::is_floating_point_v<T>) result = std::fmod(a, b);
  else if (b == -1) return T(0);
  else result = static_cast<T>(a % b);
  return (result != 0 && (b < 0) != (result < 0)) ? static_cast<T>(result + b) : result;
}

template <typename T>
void arithmetic(BinaryOp op, const cpu::Loop<3>& loop) {
  switch (op) {
    case BinaryOp::Add: return cpu::map_binary<T, T, T>(loop, [](T a, T b) { return static_cast<T>(wrapping(a) + wrapping(b)); });
    case BinaryOp::Sub: return cpu::map_binary<T, T, T>(loop, [](T a, T b) { return static_cast<T>(wrapping(a) - wrapping(b)); });
    case BinaryOp::Mul: return cpu::map_binary<T, T, T>(loop, [](T a, T b) { return static_cast<T>(wrapping(a) * wrapping(b)); });
    case BinaryOp::Div: return cpu::map_binary<T, T, T>(loop, [](T a, T b) { return static_cast<T>(a / b); });
    case BinaryOp::FloorDivide:
    case BinaryOp::TruncDivide:
    case BinaryOp::Remainder:
      if constexpr (std::is_same_v<T, bool>) {
        fail<NotImplementedError>(op == BinaryOp::Remainder ? "remainder" : "div", "not implemented for dtype bool");
      } else {
        if (op == BinaryOp::FloorDivide) return cpu::map_binary<T, T, T>(loop, floor_divide<T>);
        if (op == BinaryOp::TruncDivide) return cpu::map_binary<T, T, T>(loop, trunc_divide<T>);
        return cpu::map_binary<T, T, T>(loop, remainder<T>);
      }
    case BinaryOp::Pow:
      if constexpr (std::is_floating_point_v<T>)
        return cpu::map_binary<T, T, T>(loop, [](T a, T b) { return std::pow(a, b); });
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
    case UnaryOp::Atan: return cpu::map_unary<T, T>(loop, [](T a) { return std::atan(a); });
    case UnaryOp::Asin: return cpu::map_unary<T, T>(loop, [](T a) { return std::asin(a); });
    case UnaryOp::Acos: return cpu::map_unary<T, T>(loop, [](T a) { return std::acos(a); });
    case UnaryOp::Tan: return cpu::map_unary<T, T>(loop, [](T a) { return std::tan(a); });
    case UnaryOp::Sinh: return cpu::map_unary<T, T>(loop, [](T a) { return std::sinh(a); });
    case UnaryOp::Cosh: return cpu::map_unary<T, T>(loop, [](T a) { return std::cosh(a); });
    case UnaryOp::Log1p: return cpu::map_unary<T, T>(loop, [](T a) { return std::log1p(a); });
    case UnaryOp::Expm1: return cpu::map_unary<T, T>(loop, [](T a) { return std::expm1(a); });
    case UnaryOp::Log2: return cpu::map_unary<T, T>(loop, [](T a) { return std::log2(a); });
    case UnaryOp::Log10: return cpu::map_unary<T, T>(loop, [](T a) { return std::log10(a); });
    case UnaryOp::Exp2: return cpu::map_unary<T, T>(loop, [](T a) { return std::exp2(a); });
    case UnaryOp::Erf: return cpu::map_unary<T, T>(loop, [](T a) { return std::erf(a); });
    case UnaryOp::Floor: return cpu::map_unary<T, T>(loop, [](T a) { return std::floor(a); });
    case UnaryOp::Ceil: return cpu::map_unary<T, T>(loop, [](T a) { return std::ceil(a); });
    // nearbyint in the default rounding mode rounds half to even, as PyTorch's round.
    case UnaryOp::Round: return cpu::map_unary<T, T>(loop, [](T a) { return std::nearbyint(a); });
    case UnaryOp::Trunc: return cpu::map_unary<T, T>(loop, [](T a) { return std::trunc(a); });
    case UnaryOp::Frac: return cpu::map_unary<T, T>(loop, [](T a) { return a - std::trunc(a); });
    case UnaryOp::Reciprocal: return cpu::map_unary<T, T>(loop, [](T a) { return T(1) / a; });
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

// Picks a kernel's variant for the widest vector code this CPU runs, by the same ISA choice as
// GEMM (so TAPEGRAD_CPU=generic forces the baseline here too).
template <typename Kernel>
Kernel* for_active_isa(Kernel* baseline, Kernel* avx2, Kernel* avx512) {
  switch (cpu::active_isa()) {
    case cpu::Isa::Avx512: return avx512;
    case cpu::Isa::Avx2: return avx2;
    default: return baseline;
  }
}

// Contiguous float32 exp/tanh/sigmoid/erf through the vector kernels. False when not applicable.
bool try_vectorised_float_unary(UnaryOp op, const Tensor& out, const Tensor& a) {
  if (a.dtype() != DType::Float32 || !a.is_contiguous() || !out.is_contiguous() || a.sizes() != out.sizes()) return false;
  if (op != UnaryOp::Exp && op != UnaryOp::Tanh && op != UnaryOp::Sigmoid && op != UnaryOp::Erf) return false;
  auto* run = for_active_isa(&cpu::float_unary_contiguous_baseline, &cpu::float_unary_contiguous_avx2,
                             &cpu::float_unary_contiguous_avx512);
  const float* in = static_cast<const float*>(a.raw_data());
  float* result = static_cast<float*>(out.raw_data());
  cpu::parallel_ranges(a.numel(), [&](int64_t begin, int64_t end) { run(op, in + begin, result + begin, end - begin); });
  return true;
}

// Contiguous float arithmetic (tensor with tensor of the same shape, or with a one-element
// operand) through the vector kernels. False when not applicable.
bool try_vectorised_arithmetic(BinaryOp op, const Tensor& out, Tensor a, Tensor b) {
  if (!is_floating(out.dtype()) || a.dtype() != out.dtype() || b.dtype() != out.dtype() || !out.is_contiguous())
    return false;
  if (op != BinaryOp::Add && op != BinaryOp::Sub && op != BinaryOp::Mul && op != BinaryOp::Div) return false;
  const bool commutes = op == BinaryOp::Add || op == BinaryOp::Mul;
  if (commutes && a.numel() == 1 && b.sizes() == out.sizes()) std::swap(a, b);
  if (!a.is_contiguous() || a.sizes() != out.sizes()) return false;
  const bool b_is_scalar = b.numel() == 1 && out.numel() > 1;
  if (!b_is_scalar && (!b.is_contiguous() || b.sizes() != out.sizes())) return false;
  dispatch_floating(out.dtype(), "binary", [&](auto tag) {
    using T = typename decltype(tag)::type;
    bool (*run)(BinaryOp, const T*, const T*, bool, T*, int64_t);
    if constexpr (std::is_same_v<T, float>)
      run = for_active_isa(&cpu::float_arithmetic_contiguous_baseline, &cpu::float_arithmetic_contiguous_avx2,
                           &cpu::float_arithmetic_contiguous_avx512);
    else
      run = for_active_isa(&cpu::double_arithmetic_contiguous_baseline, &cpu::double_arithmetic_contiguous_avx2,
                           &cpu::double_arithmetic_contiguous_avx512);
    const T* x = static_cast<const T*>(a.raw_data());
    const T* y = static_cast<const T*>(b.raw_data());
    T* result = static_cast<T*>(out.raw_data());
    cpu::parallel_ranges(out.numel(), [&](int64_t begin, int64_t end) {
      run(op, x + begin, b_is_scalar ? y : y + begin, b_is_scalar, result + begin, end - begin);
    });
  });
  return true;
}

}  // namespace

void CpuBackend::binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  if (try_vectorised_arithmetic(op, out, a, b)) return;
  const auto loop = cpu::tensor_loop(out, a, b);
  if (is_comparison(op)) {
    dispatch_all(a.dtype(), [&](auto tag) { comparison<typename decltype(tag)::type>(op, loop); });
  } else {
    dispatch_all(out.dtype(), [&](auto tag) { arithmetic<typename decltype(tag)::type>(op, loop); });
  }
}

void CpuBackend::unary(UnaryOp op, const Tensor& out, const Tensor& a) {
  const auto loop = cpu::tensor_loop(out, a);
  switch (op) {
    case UnaryOp::LogicalNot:
      return dispatch_all(a.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        cpu::map_unary<bool, T>(loop, [](T v) { return !v; });
      });
    case UnaryOp::Sign:
      if (a.dtype() == DType::Bool) return cpu::map_unary<bool, bool>(loop, [](bool v) { return v; });
      [[fallthrough]];
    case UnaryOp::Neg:
    case UnaryOp::Abs:
    case UnaryOp::Relu:
      return dispatch_numeric(a.dtype(), "unary", [&](auto tag) {
        using T = typename decltype(tag)::type;
        // abs(INT64_MIN) is INT64_MIN, as in PyTorch.
        if (op == UnaryOp::Neg) cpu::map_unary<T, T>(loop, [](T v) { return static_cast<T>(-wrapping(v)); });
        if (op == UnaryOp::Abs) cpu::map_unary<T, T>(loop, [](T v) { return v < 0 ? static_cast<T>(-wrapping(v)) : v; });
        if (op == UnaryOp::Sign) cpu::map_unary<T, T>(loop, [](T v) { return static_cast<T>((T(0) < v) - (v < T(0))); });
        // NaN stays NaN, as PyTorch's relu.
        if (op == UnaryOp::Relu) cpu::map_unary<T, T>(loop, [](T v) { return v < T(0) ? T(0) : v; });
      });
    case UnaryOp::Floor:
    case UnaryOp::Ceil:
    case UnaryOp::Round:
    case UnaryOp::Trunc:
      if (!is_floating(a.dtype()))  // an integer is already whole
        return dispatch_numeric(a.dtype(), "unary", [&](auto tag) {
          using T = typename decltype(tag)::type;
          cpu::map_unary<T, T>(loop, [](T v) { return v; });
        });
      [[fallthrough]];
    default:
      if (try_vectorised_float_unary(op, out, a)) return;
      return dispatch_floating(a.dtype(), "unary", [&](auto tag) { floating_unary<typename decltype(tag)::type>(op, loop); });
  }
}

void CpuBackend::clamp(const Tensor& out, const Tensor& a, std::optional<Scalar> min, std::optional<Scalar> max) {
  const auto loop = cpu::tensor_loop(out, a);
  dispatch_numeric(a.dtype(), "clamp", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T low = min ? min->to<T>() : T(0), high = max ? max->to<T>() : T(0);
    const bool has_low = min.has_value(), has_high = max.has_value();
    if ((has_low && low != low) || (has_high && high != high))
      return cpu::map_unary<T, T>(loop, [](T) { return std::numeric_limits<T>::quiet_NaN(); });
    cpu::map_unary<T, T>(loop, [=](T v) {
      if (v != v) return v;  // NaN passes through
      if (has_low && v < low) v = low;
      if (has_high && v > high) v = high;
      return v;
    });
  });
}

void CpuBackend::where(const Tensor& out, const Tensor& condition, const Tensor& a, const Tensor& b) {
  const auto loop = cpu::tensor_loop(out, condition, a, b);
  dispatch_all(out.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::map_ternary<T, bool, T, T>(loop, [](bool c, T x, T y) { return c ? x : y; });
  });
}

void CpuBackend::threshold_backward(const Tensor& out, const Tensor& grad, const Tensor& output) {
  const auto loop = cpu::tensor_loop(out, grad, output);
  dispatch_floating(out.dtype(), "threshold_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::map_binary<T, T, T>(loop, [](T g, T o) { return o > T(0) ? g : T(0); });
  });
}

}  // namespace tg::cpu

// The baseline (SSE2) build of the vector kernels; the AVX2 and AVX-512 ones have files of their own.
TG_DEFINE_VECTOR_KERNELS(baseline)
