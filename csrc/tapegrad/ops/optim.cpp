#include "tapegrad/ops/optim.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "tapegrad/autograd/grad_mode.h"
#include "tapegrad/kernels/cpu/loops.h"
#include "tapegrad/kernels/kernels.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/creation.h"

namespace tg {

namespace {

// A parameter or state tensor the update writes into: it must match the parameter exactly.
void check_state(const Tensor& state, const Tensor& param, const char* what, const char* op) {
  TG_CHECK(state.defined(), "[", op, "] ", what, " is missing");
  kernels::require_cpu(op, state);
  TG_CHECK(state.sizes() == param.sizes() && state.dtype() == param.dtype(), "[", op, "] ", what, " has shape ",
           state.sizes(), " and dtype ", dtype_name(state.dtype()), ", the parameter ", param.sizes(), " and ",
           dtype_name(param.dtype()));
  TG_CHECK(state.is_contiguous(), "[", op, "] ", what, " must be contiguous to be updated in place");
}

void check_param(const Tensor& param, const char* op) {
  TG_CHECK_TYPE(is_floating(param.dtype()), "[", op, "] can only update floating-point parameters, got ",
                dtype_name(param.dtype()));
  check_state(param, param, "param", op);
}

// The gradient as contiguous memory of the parameter's dtype (a copy only when it is not already).
Tensor prepared_grad(const Tensor& grad, const Tensor& param, const char* op) {
  TG_CHECK(grad.defined(), "[", op, "] the parameter has no gradient");
  kernels::require_cpu(op, grad);
  TG_CHECK(grad.sizes() == param.sizes(), "[", op, "] gradient of shape ", grad.sizes(), " for a parameter of shape ",
           param.sizes());
  NoGradGuard no_grad;
  return contiguous(to_dtype(grad, param.dtype()));
}

// Elementwise over n independent elements, threaded only where a team pays for itself.
template <typename F>
void for_each_element(int64_t n, F f) {
  const int threads = cpu::threads_for(n);
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
  for (int64_t i = 0; i < n; ++i) f(i);
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

}  // namespace

Tensor sgd_step(const Tensor& param, const Tensor& grad_in, const Tensor& momentum_buffer, const SgdOptions& options) {
  const char* op = "sgd_step";
  check_param(param, op);
  const Tensor grad = prepared_grad(grad_in, param, op);
  Tensor buffer = momentum_buffer;
  const bool first_step = options.momentum != 0.0 && !buffer.defined();
  if (first_step) buffer = empty_like(param);
  else if (options.momentum != 0.0) check_state(buffer, param, "momentum_buffer", op);
  dispatch_floating(param.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = param.data_ptr<T>();
    const T* g = grad.data_ptr<T>();
    T* b = options.momentum != 0.0 ? buffer.data_ptr<T>() : nullptr;
    const T weight_decay = T(options.weight_decay), momentum = T(options.momentum);
    const T step_scale = T(1.0 - options.dampening), negative_lr = T(-options.lr);
    with_flags([&](auto maximize, auto decay, auto has_momentum, auto first, auto nesterov) {
      for_each_element(param.numel(), [=](int64_t i) {
        T d = g[i];
        if constexpr (maximize()) d = -d;
        if constexpr (decay()) d = d + weight_decay * p[i];
        if constexpr (has_momentum()) {
          if constexpr (first()) b[i] = d;
          else b[i] = b[i] * momentum + step_scale * d;
          if constexpr (nesterov()) d = d + momentum * b[i];
          else d = b[i];
        }
        p[i] = p[i] + negative_lr * d;
      });
    }, options.maximize, options.weight_decay != 0.0, options.momentum != 0.0, first_step, options.nesterov);
  });
  param.impl()->bump_version();
  if (buffer.defined()) buffer.impl()->bump_version();
  return buffer;
}

void adam_step(const Tensor& param, const Tensor& grad_in, const Tensor& exp_avg, const Tensor& exp_avg_sq,
               const Tensor& max_exp_avg_sq, const Tensor& step, const AdamOptions& options) {
  const char* op = options.decoupled_weight_decay ? "adamw_step" : "adam_step";
  check_param(param, op);
  const Tensor grad = prepared_grad(grad_in, param, op);
  check_state(exp_avg, param, "exp_avg", op);
  check_state(exp_avg_sq, param, "exp_avg_sq", op);
  if (options.amsgrad) check_state(max_exp_avg_sq, param, "max_exp_avg_sq", op);
  TG_CHECK(step.defined() && step.numel() == 1 && is_floating(step.dtype()), "[", op,
           "] step must be a one-element floating-point tensor");
  kernels::require_cpu(op, step);

  // The step count and the bias corrections are Python floats in torch.optim: computed in double.
  const double step_count = dispatch_floating(step.dtype(), op, [&](auto tag) {
    using S = typename decltype(tag)::type;
    S* value = static_cast<S*>(step.raw_data());
    *value = *value + S(1);
    return static_cast<double>(*value);
  });
  step.impl()->bump_version();
  const double bias_correction1 = 1.0 - std::pow(options.beta1, step_count);
  const double bias_correction2 = 1.0 - std::pow(options.beta2, step_count);
  const double step_size = options.lr / bias_correction1;
  const double bias_correction2_sqrt = std::pow(bias_correction2, 0.5);

  dispatch_floating(param.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T *p = param.data_ptr<T>(), *m = exp_avg.data_ptr<T>(), *v = exp_avg_sq.data_ptr<T>();
    T* v_max = options.amsgrad ? max_exp_avg_sq.data_ptr<T>() : nullptr;
    const T* g = grad.data_ptr<T>();
    const T weight_decay = T(options.weight_decay), decay_factor = T(1.0 - options.lr * options.weight_decay);
    const T beta1_complement = T(1.0 - options.beta1), beta2 = T(options.beta2), beta2_complement = T(1.0 - options.beta2);
    const T correction = T(bias_correction2_sqrt), eps = T(options.eps), negative_step = T(-step_size);
    // ATen's lerp picks its formula by the weight's size, for accuracy near either end.
    const bool small_weight = std::abs(beta1_complement) < T(0.5);
    with_flags([&](auto maximize, auto decay, auto decoupled, auto amsgrad, auto small) {
      for_each_element(param.numel(), [=](int64_t i) {
        T d = g[i];
        if constexpr (maximize()) d = -d;
        if constexpr (decay() && decoupled()) p[i] = p[i] * decay_factor;
        if constexpr (decay() && !decoupled()) d = d + weight_decay * p[i];
        if constexpr (small()) m[i] = m[i] + beta1_complement * (d - m[i]);
        else m[i] = d - (d - m[i]) * (T(1) - beta1_complement);
        v[i] = v[i] * beta2;
        v[i] = v[i] + beta2_complement * d * d;
        T second_moment = v[i];
        if constexpr (amsgrad()) second_moment = v_max[i] = std::max(v_max[i], v[i]);
        const T denominator = std::sqrt(second_moment) / correction + eps;
        p[i] = p[i] + negative_step * m[i] / denominator;
      });
    }, options.maximize, options.weight_decay != 0.0, options.decoupled_weight_decay, options.amsgrad, small_weight);
  });
  for (const Tensor* written : {&param, &exp_avg, &exp_avg_sq})
    written->impl()->bump_version();
  if (options.amsgrad) max_exp_avg_sq.impl()->bump_version();
}

}  // namespace tg
