#include "tapegrad/ops/optim.h"

#include "tapegrad/autograd/grad_mode.h"
#include "tapegrad/kernels/kernels.h"
#include "tapegrad/kernels/optim.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/creation.h"

namespace tg {

namespace {

// A parameter or state tensor the update writes into: it must match the parameter exactly.
void check_state(const Tensor& state, const Tensor& param, const char* what, const char* op) {
  TG_CHECK(state.defined(), "[", op, "] ", what, " is missing");
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
  TG_CHECK(grad.sizes() == param.sizes(), "[", op, "] gradient of shape ", grad.sizes(), " for a parameter of shape ",
           param.sizes());
  NoGradGuard no_grad;
  return contiguous(to_dtype(grad, param.dtype()));
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
  kernels::sgd_step(param, grad, options.momentum != 0.0 ? buffer : Tensor(), options, first_step);
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
  kernels::adam_step(param, grad, exp_avg, exp_avg_sq, options.amsgrad ? max_exp_avg_sq : Tensor(), step, options);
  for (const Tensor* written : {&param, &exp_avg, &exp_avg_sq, &step})
    written->impl()->bump_version();
  if (options.amsgrad) max_exp_avg_sq.impl()->bump_version();
}

}  // namespace tg
