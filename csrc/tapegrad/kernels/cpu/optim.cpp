// CPU kernels of the fused optimizer updates: one pass over every element of the parameter, its
// gradient and its state, with no temporaries, in PyTorch's order of floating-point operations.
// Built with -fno-math-errno (CMakeLists.txt): errno is never read, and keeping it set makes GCC
// call libm's sqrt per element, so the Adam loop only vectorises without it.
#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <type_traits>
#include <utility>

#include "tapegrad/kernels/cpu/backend.h"
#include "tapegrad/kernels/cpu/loops.h"

namespace tg::cpu {

namespace {

// Calls update(element of each tensor...) for every element of N tensors of one shape and dtype T,
// in the first tensor's memory order. When they share one dense layout (the usual case: the op
// gives the gradient the parameter's layout, and state is created with it), that is one flat loop
// the compiler vectorises, threaded as threads_for says; any other layout (a parameter that is a
// strided view, state of another layout) walks its strides through loops.h.
template <typename T, size_t N, typename Update>
void for_each_element(const std::array<const Tensor*, N>& tensors, Update update) {
  const Tensor& first = *tensors[0];
  // Dims outermost first in the first tensor's memory order, so that make_loop merges a permuted
  // dense layout (a transposed parameter) into one run.
  DimVector order(first.dim());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return first.strides()[a] > first.strides()[b]; });
  DimVector sizes;
  for (int64_t d : order) sizes.push_back(first.sizes()[d]);
  std::array<Operand, N> operands;
  std::array<int64_t, N> itemsizes;
  for (size_t k = 0; k < N; ++k) {
    operands[k].data = static_cast<char*>(tensors[k]->raw_data());
    for (int64_t d : order) operands[k].strides.push_back(tensors[k]->strides()[d]);
    itemsizes[k] = sizeof(T);
  }
  const Loop<N> loop = make_loop<N>(sizes, operands, itemsizes);
  const auto unit_strides = [&] {
    for (size_t k = 0; k < N; ++k)
      if (loop.strides[k][0] != 1) return false;
    return true;
  };
  [&]<size_t... K>(std::index_sequence<K...>) {
    if (loop.sizes.size() == 1 && unit_strides()) {
      const std::array<T*, N> data{reinterpret_cast<T*>(loop.data[K])...};
      const int64_t n = loop.numel;
      const int threads = threads_for(n);
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
      for (int64_t i = 0; i < n; ++i) update(data[K][i]...);
      return;
    }
    parallel_for_each_run(loop, [&](int64_t n, const std::array<char*, N>& pointers, const std::array<int64_t, N>& strides) {
      for (int64_t i = 0; i < n; ++i) update(reinterpret_cast<T*>(pointers[K])[i * strides[K]]...);
    });
  }(std::make_index_sequence<N>{});
}

// Calls f with each runtime flag as std::true_type/std::false_type, so that the update loops carry
// no per-element branches and vectorise.
template <typename F>
void with_flags(F&& f) { f(); }
template <typename F, typename... Flags>
void with_flags(F&& f, bool flag, Flags... rest) {
  if (flag) with_flags([&](auto... constants) { f(std::true_type{}, constants...); }, rest...);
  else with_flags([&](auto... constants) { f(std::false_type{}, constants...); }, rest...);
}

// Adds one to the step count (a one-element tensor of its own floating dtype, as torch keeps it)
// and returns the new count.
double incremented_step(const Tensor& step, const char* op) {
  return dispatch_floating(step.dtype(), op, [&](auto tag) {
    using S = typename decltype(tag)::type;
    S* value = static_cast<S*>(step.raw_data());
    *value = *value + S(1);
    return static_cast<double>(*value);
  });
}

// Multiplies a one-element floating tensor by factor (in the tensor's dtype, as torch's `t *= x`
// computes) and returns the new value.
double multiplied_scalar(const Tensor& value, double factor, const char* op) {
  return dispatch_floating(value.dtype(), op, [&](auto tag) {
    using S = typename decltype(tag)::type;
    S* data = static_cast<S*>(value.raw_data());
    *data = *data * S(factor);
    return static_cast<double>(*data);
  });
}

// start.lerp_(end, weight) as ATen computes it: its formula depends on which half of [0, 1] the
// weight is in (Small: below 0.5), for accuracy near either end.
template <bool Small, typename T>
T lerped(T start, T end, T weight) {
  if constexpr (Small) return start + weight * (end - start);
  else return end - (end - start) * (T(1) - weight);
}

}  // namespace

void CpuBackend::sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
                          const SgdOptions& options, bool first_step) {
  const bool has_momentum = options.momentum != 0.0;
  // Without momentum the parameter stands in for the buffer, which the update then never touches.
  const Tensor& buffer = has_momentum ? momentum_buffer : param;
  dispatch_floating(param.dtype(), "sgd_step", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T weight_decay = T(options.weight_decay), momentum = T(options.momentum);
    const T step_scale = T(1.0 - options.dampening), negative_lr = T(-options.lr);
    with_flags([&](auto maximize, auto decay, auto uses_momentum, auto first, auto nesterov) {
      for_each_element<T, 3>({&param, &grad, &buffer}, [=](T& p, const T& g, T& b) {
        T d = g;
        if constexpr (maximize()) d = -d;
        if constexpr (decay()) d = d + weight_decay * p;
        if constexpr (uses_momentum()) {
          if constexpr (first()) b = d;
          else b = b * momentum + step_scale * d;
          if constexpr (nesterov()) d = d + momentum * b;
          else d = b;
        }
        p = p + negative_lr * d;
      });
    }, options.maximize, options.weight_decay != 0.0, has_momentum, first_step, options.nesterov);
  });
}

void CpuBackend::adam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                           const Tensor& max_exp_avg_sq, const Tensor& step, const AdamOptions& options) {
  const char* op = options.decoupled_weight_decay ? "adamw_step" : "adam_step";
  // The step count and the bias corrections are Python floats in torch.optim: computed in double.
  const double step_count = incremented_step(step, op);
  const double bias_correction1 = 1.0 - std::pow(options.beta1, step_count);
  const double bias_correction2 = 1.0 - std::pow(options.beta2, step_count);
  const double step_size = options.lr / bias_correction1;
  const double bias_correction2_sqrt = std::pow(bias_correction2, 0.5);
  // Without amsgrad the second moment stands in for its maximum, which the update then never touches.
  const Tensor& max_second_moment = options.amsgrad ? max_exp_avg_sq : exp_avg_sq;

  dispatch_floating(param.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T weight_decay = T(options.weight_decay), decay_factor = T(1.0 - options.lr * options.weight_decay);
    const T beta1_complement = T(1.0 - options.beta1), beta2 = T(options.beta2), beta2_complement = T(1.0 - options.beta2);
    const T correction = T(bias_correction2_sqrt), eps = T(options.eps), negative_step = T(-step_size);
    // ATen's lerp picks its formula by the weight's size, for accuracy near either end.
    const bool small_weight = std::abs(beta1_complement) < T(0.5);
    with_flags([&](auto maximize, auto decay, auto decoupled, auto amsgrad, auto small) {
      for_each_element<T, 5>({&param, &grad, &exp_avg, &exp_avg_sq, &max_second_moment},
                             [=](T& p, const T& g, T& m, T& v, T& v_max) {
        T d = g;
        if constexpr (maximize()) d = -d;
        if constexpr (decay() && decoupled()) p = p * decay_factor;
        if constexpr (decay() && !decoupled()) d = d + weight_decay * p;
        m = lerped<small()>(m, d, beta1_complement);
        v = v * beta2;
        v = v + beta2_complement * d * d;
        T second_moment = v;
        if constexpr (amsgrad()) second_moment = v_max = std::max(v_max, v);
        const T denominator = std::sqrt(second_moment) / correction + eps;
        p = p + negative_step * m / denominator;
      });
    }, options.maximize, options.weight_decay != 0.0, options.decoupled_weight_decay, options.amsgrad, small_weight);
  });
}

void CpuBackend::rmsprop_step(const Tensor& param, const Tensor& grad, const Tensor& square_avg, const Tensor& grad_avg,
                              const Tensor& momentum_buffer, const Tensor& step, const RmspropOptions& options) {
  const char* op = "rmsprop_step";
  incremented_step(step, op);  // RMSprop's update does not depend on it; torch counts it all the same
  const bool has_momentum = options.momentum > 0.0;
  // Absent state is stood in for by square_avg, which the update then never touches as such.
  const Tensor& average = options.centered ? grad_avg : square_avg;
  const Tensor& buffer = has_momentum ? momentum_buffer : square_avg;
  dispatch_floating(param.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T weight_decay = T(options.weight_decay), alpha = T(options.alpha), alpha_complement = T(1.0 - options.alpha);
    const T eps = T(options.eps), momentum = T(options.momentum), negative_lr = T(-options.lr);
    // grad_avg.lerp_(grad, 1 - alpha): ATen's lerp picks its formula by the weight's size.
    const bool small_weight = std::abs(alpha_complement) < T(0.5);
    with_flags([&](auto maximize, auto decay, auto centered, auto uses_momentum, auto small) {
      for_each_element<T, 5>({&param, &grad, &square_avg, &average, &buffer},
                             [=](T& p, const T& g, T& v, T& m, T& b) {
        T d = g;
        if constexpr (maximize()) d = -d;
        if constexpr (decay()) d = d + weight_decay * p;
        v = v * alpha;
        v = v + alpha_complement * d * d;
        T denominator;
        if constexpr (centered()) {
          m = lerped<small()>(m, d, alpha_complement);
          denominator = std::sqrt(v - m * m);
        } else {
          denominator = std::sqrt(v);
        }
        denominator = denominator + eps;
        if constexpr (uses_momentum()) {
          b = b * momentum + d / denominator;
          p = p + negative_lr * b;
        } else {
          p = p + negative_lr * (d / denominator);
        }
      });
    }, options.maximize, options.weight_decay != 0.0, options.centered, has_momentum, small_weight);
  });
}

void CpuBackend::adagrad_step(const Tensor& param, const Tensor& grad, const Tensor& sum, const Tensor& step,
                              const AdagradOptions& options) {
  const char* op = "adagrad_step";
  const double step_count = incremented_step(step, op);
  // As torch.optim: the decayed lr is a Python float.
  const double decayed_lr = options.lr / (1.0 + (step_count - 1.0) * options.lr_decay);
  dispatch_floating(param.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T weight_decay = T(options.weight_decay), eps = T(options.eps), negative_lr = T(-decayed_lr);
    with_flags([&](auto maximize, auto decay) {
      for_each_element<T, 3>({&param, &grad, &sum}, [=](T& p, const T& g, T& s) {
        T d = g;
        if constexpr (maximize()) d = -d;
        if constexpr (decay()) d = d + weight_decay * p;
        s = s + d * d;
        p = p + negative_lr * (d / (std::sqrt(s) + eps));
      });
    }, options.maximize, options.weight_decay != 0.0);
  });
}

void CpuBackend::adadelta_step(const Tensor& param, const Tensor& grad, const Tensor& square_avg,
                               const Tensor& acc_delta, const Tensor& step, const AdadeltaOptions& options) {
  const char* op = "adadelta_step";
  incremented_step(step, op);  // Adadelta's update does not depend on it; torch counts it all the same
  dispatch_floating(param.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T weight_decay = T(options.weight_decay), rho = T(options.rho), rho_complement = T(1.0 - options.rho);
    const T eps = T(options.eps), negative_lr = T(-options.lr);
    with_flags([&](auto maximize, auto decay) {
      for_each_element<T, 4>({&param, &grad, &square_avg, &acc_delta}, [=](T& p, const T& g, T& v, T& u) {
        T d = g;
        if constexpr (maximize()) d = -d;
        if constexpr (decay()) d = d + weight_decay * p;
        v = v * rho;
        v = v + rho_complement * d * d;
        const T delta = std::sqrt(u + eps) / std::sqrt(v + eps) * d;
        u = u * rho;
        u = u + rho_complement * delta * delta;
        p = p + negative_lr * delta;
      });
    }, options.maximize, options.weight_decay != 0.0);
  });
}

void CpuBackend::adamax_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_inf,
                             const Tensor& step, const AdamaxOptions& options) {
  const char* op = "adamax_step";
  const double step_count = incremented_step(step, op);
  const double step_size = options.lr / (1.0 - std::pow(options.beta1, step_count));  // a Python float in torch
  dispatch_floating(param.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T weight_decay = T(options.weight_decay), beta1_complement = T(1.0 - options.beta1);
    const T beta2 = T(options.beta2), eps = T(options.eps), negative_step = T(-step_size);
    const bool small_weight = std::abs(beta1_complement) < T(0.5);
    with_flags([&](auto maximize, auto decay, auto small) {
      for_each_element<T, 4>({&param, &grad, &exp_avg, &exp_inf}, [=](T& p, const T& g, T& m, T& u) {
        T d = g;
        if constexpr (maximize()) d = -d;
        if constexpr (decay()) d = d + weight_decay * p;
        m = lerped<small()>(m, d, beta1_complement);
        // torch.maximum: a NaN on either side propagates.
        const T decayed = u * beta2, magnitude = std::abs(d) + eps;
        u = (decayed < magnitude || magnitude != magnitude) ? magnitude : decayed;
        p = p + negative_step * (m / u);
      });
    }, options.maximize, options.weight_decay != 0.0, small_weight);
  });
}

void CpuBackend::nadam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                            const Tensor& mu_product, const Tensor& step, const NadamOptions& options) {
  const char* op = "nadam_step";
  // The scalars are Python floats in torch.optim, but for mu_product, a tensor of its own dtype.
  const double step_count = incremented_step(step, op);
  const double bias_correction2 = 1.0 - std::pow(options.beta2, step_count);
  const double mu = options.beta1 * (1.0 - 0.5 * std::pow(0.96, step_count * options.momentum_decay));
  const double mu_next = options.beta1 * (1.0 - 0.5 * std::pow(0.96, (step_count + 1.0) * options.momentum_decay));
  const double product = multiplied_scalar(mu_product, mu, op);
  const double grad_scale = -options.lr * (1.0 - mu) / (1.0 - product);
  const double average_scale = (-options.lr * mu_next) / (1.0 - product * mu_next);
  dispatch_floating(param.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T weight_decay = T(options.weight_decay), decay_factor = T(1.0 - options.lr * options.weight_decay);
    const T beta1_complement = T(1.0 - options.beta1), beta2 = T(options.beta2), beta2_complement = T(1.0 - options.beta2);
    const T correction = T(bias_correction2), eps = T(options.eps);
    const T grad_step = T(grad_scale), average_step = T(average_scale);
    const bool small_weight = std::abs(beta1_complement) < T(0.5);
    with_flags([&](auto maximize, auto decay, auto decoupled, auto small) {
      for_each_element<T, 4>({&param, &grad, &exp_avg, &exp_avg_sq}, [=](T& p, const T& g, T& m, T& v) {
        T d = g;
        if constexpr (maximize()) d = -d;
        if constexpr (decay() && decoupled()) p = p * decay_factor;
        if constexpr (decay() && !decoupled()) d = d + weight_decay * p;
        m = lerped<small()>(m, d, beta1_complement);
        v = v * beta2;
        v = v + beta2_complement * d * d;
        const T denominator = std::sqrt(v / correction) + eps;
        p = p + grad_step * (d / denominator);
        p = p + average_step * (m / denominator);
      });
    }, options.maximize, options.weight_decay != 0.0, options.decoupled_weight_decay, small_weight);
  });
}

}  // namespace tg::cpu
