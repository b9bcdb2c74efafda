// CPU kernels of the activations with a parameter or a formula of their own, each a functor on the
// shared loops of loops.h, written as PyTorch's CPU kernels write them (so results agree to the
// rounding of the same operations).
#include <algorithm>
#include <cmath>
#include <numbers>

#include "tapegrad/kernels/cpu/backend.h"
#include "tapegrad/kernels/cpu/isa.h"
#include "tapegrad/kernels/cpu/loops.h"
#include "tapegrad/kernels/cpu/vector_kernels.h"

namespace tg::cpu {

namespace {

using kernels::Activation;
using kernels::ActivationParams;

template <typename T>
void activation_loop(Activation kind, const cpu::Loop<2>& loop, const ActivationParams& params) {
  switch (kind) {
    case Activation::Gelu:
      return cpu::map_unary<T, T>(loop, [](T x) { return x * T(0.5) * (T(1) + std::erf(x * T(std::numbers::sqrt2 / 2))); });
    case Activation::GeluTanh:
      return cpu::map_unary<T, T>(loop, [](T x) {
        constexpr T beta = T(std::numbers::sqrt2 * std::numbers::inv_sqrtpi), kappa = T(0.044715);
        return T(0.5) * x * (T(1) + std::tanh(beta * (x + kappa * x * x * x)));
      });
    case Activation::Silu: return cpu::map_unary<T, T>(loop, [](T x) { return x / (T(1) + std::exp(-x)); });
    case Activation::LeakyRelu: {
      const T slope = static_cast<T>(params.negative_slope);
      return cpu::map_unary<T, T>(loop, [slope](T x) { return x > T(0) ? x : x * slope; });
    }
    case Activation::Elu:
    case Activation::Celu: {
      const bool celu = kind == Activation::Celu;
      const T positive = static_cast<T>(celu ? 1.0 : params.scale);
      const T negative = static_cast<T>(celu ? params.alpha : params.alpha * params.scale);
      const T input_scale = static_cast<T>(celu ? 1.0 / params.alpha : params.input_scale);
      return cpu::map_unary<T, T>(loop, [=](T x) { return x <= T(0) ? std::expm1(x * input_scale) * negative : x * positive; });
    }
    case Activation::Softplus: {
      const T beta = static_cast<T>(params.beta), threshold = static_cast<T>(params.threshold);
      return cpu::map_unary<T, T>(loop, [=](T x) { return x * beta > threshold ? x : std::log1p(std::exp(x * beta)) / beta; });
    }
    case Activation::Mish: return cpu::map_unary<T, T>(loop, [](T x) { return x * std::tanh(std::log1p(std::exp(x))); });
    // Neither term overflows: exp is only taken of -|x|.
    case Activation::LogSigmoid:
      return cpu::map_unary<T, T>(loop, [](T x) { return std::min(x, T(0)) - std::log1p(std::exp(-std::abs(x))); });
    case Activation::Hardsigmoid:
      return cpu::map_unary<T, T>(loop, [](T x) { return std::min(std::max(x + T(3), T(0)), T(6)) / T(6); });
    case Activation::Hardswish:
      return cpu::map_unary<T, T>(loop, [](T x) { return x * std::min(std::max(x + T(3), T(0)), T(6)) / T(6); });
  }
}

// Contiguous float32 silu and both GELUs through the vector kernels of the widest ISA this CPU runs.
// False when not applicable.
bool try_vectorised_activation(Activation kind, const Tensor& out, const Tensor& a) {
  if (a.dtype() != DType::Float32 || !a.is_contiguous() || !out.is_contiguous() || a.sizes() != out.sizes()) return false;
  if (kind != Activation::Silu && kind != Activation::Gelu && kind != Activation::GeluTanh) return false;
  auto* run = cpu::active_isa() == cpu::Isa::Avx512 ? &cpu::float_activation_contiguous_avx512
              : cpu::active_isa() == cpu::Isa::Avx2 ? &cpu::float_activation_contiguous_avx2
                                                     : &cpu::float_activation_contiguous_baseline;
  const float* in = static_cast<const float*>(a.raw_data());
  float* result = static_cast<float*>(out.raw_data());
  cpu::parallel_ranges(a.numel(), [&](int64_t begin, int64_t end) { run(kind, in + begin, result + begin, end - begin); });
  return true;
}

}  // namespace

void CpuBackend::activation(Activation kind, const Tensor& out, const Tensor& a, const ActivationParams& params) {
  if (try_vectorised_activation(kind, out, a)) return;
  const auto loop = cpu::tensor_loop(out, a);
  dispatch_floating(a.dtype(), "activation", [&](auto tag) { activation_loop<typename decltype(tag)::type>(kind, loop, params); });
}

}  // namespace tg::cpu
