#include "tapegrad/ops/optim.h"

#include "tapegrad/autograd/inplace.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/kernels/backend.h"
#include "tapegrad/ops/creation.h"

namespace tg {

namespace {

// A parameter or state tensor the update writes into: it must match the parameter's shape and
// dtype (any strides will do).
void check_state(const Tensor& state, const Tensor& param, const char* what, const char* op) {
  TG_CHECK(state.defined(), op, what, " is missing");
  TG_CHECK(state.sizes() == param.sizes() && state.dtype() == param.dtype(), op, what, " has shape ",
           state.sizes(), " and dtype ", dtype_name(state.dtype()), ", the parameter ", param.sizes(), " and ",
           dtype_name(param.dtype()));
}

void check_param(const Tensor& param, const char* op) {
  TG_CHECK(param.defined(), op, "param is missing");
  TG_CHECK_TYPE(is_floating(param.dtype()), op, "can only update floating-point parameters, got ",
                dtype_name(param.dtype()));
  check_not_inference(param, op);
  // As torch: an update in place cannot write one memory location for several elements.
  for (int64_t d = 0; d < param.dim(); ++d)
    TG_CHECK(param.strides()[d] != 0 || param.sizes()[d] <= 1, op, "more than one element of the param of "
             "shape ", param.sizes(), " and strides ", param.strides(), " refers to a single memory location; clone() "
             "it first");
}

// The gradient in the parameter's dtype and, where the parameter is dense, its strides, so that
// the kernel walks all its operands in one flat loop: a copy only when the gradient is not already
// so (another dtype, or a contiguous gradient for a transposed parameter).
Tensor prepared_grad(const Tensor& grad, const Tensor& param, const char* op) {
  TG_CHECK(grad.defined(), op, "the parameter has no gradient");
  TG_CHECK(grad.sizes() == param.sizes(), op, "gradient of shape ", grad.sizes(), " for a parameter of shape ",
           param.sizes());
  const bool same_layout = (grad.is_contiguous() && param.is_contiguous()) || grad.strides() == param.strides() ||
                           !is_non_overlapping_and_dense(param.sizes(), param.strides());
  if (grad.dtype() == param.dtype() && same_layout) return grad;
  Tensor converted = empty_like(param);
  kernels::backend("copy", converted, grad)->copy(converted, grad);
  return converted;
}

void check_step(const Tensor& step, const char* op) {
  TG_CHECK(step.defined() && step.numel() == 1 && is_floating(step.dtype()), op, "step must be a one-element floating-point tensor");
}

}  // namespace

Tensor sgd_step(const Tensor& param, const Tensor& grad_in, const Tensor& momentum_buffer, const SgdOptions& options) {
  const char* op = "sgd_step";
  check_param(param, op);
  const Tensor grad = prepared_grad(grad_in, param, op);
  Tensor buffer = momentum_buffer;
  const bool first_step = options.momentum != 0.0 && !buffer.defined();
  if (first_step) buffer = empty_like(param);  // in the parameter's layout, as Adam's state
  else if (options.momentum != 0.0) check_state(buffer, param, "momentum_buffer", op);
  const Tensor used_buffer = options.momentum != 0.0 ? buffer : Tensor();
  kernels::backend(op, param, grad, used_buffer)->sgd_step(param, grad, used_buffer, options, first_step);
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
  check_step(step, op);
  const Tensor used_max_exp_avg_sq = options.amsgrad ? max_exp_avg_sq : Tensor();
  kernels::backend(op, param, grad, exp_avg, exp_avg_sq, used_max_exp_avg_sq, step)
      ->adam_step(param, grad, exp_avg, exp_avg_sq, used_max_exp_avg_sq, step, options);
  for (const Tensor* written : {&param, &exp_avg, &exp_avg_sq, &step})
    written->impl()->bump_version();
  if (options.amsgrad) max_exp_avg_sq.impl()->bump_version();
}

void rmsprop_step(const Tensor& param, const Tensor& grad_in, const Tensor& square_avg, const Tensor& grad_avg,
                  const Tensor& momentum_buffer, const Tensor& step, const RmspropOptions& options) {
  const char* op = "rmsprop_step";
  check_param(param, op);
  const Tensor grad = prepared_grad(grad_in, param, op);
  check_state(square_avg, param, "square_avg", op);
  const bool has_momentum = options.momentum > 0.0;
  if (options.centered) check_state(grad_avg, param, "grad_avg", op);
  if (has_momentum) check_state(momentum_buffer, param, "momentum_buffer", op);
  check_step(step, op);
  const Tensor used_grad_avg = options.centered ? grad_avg : Tensor();
  const Tensor used_buffer = has_momentum ? momentum_buffer : Tensor();
  kernels::backend(op, param, grad, square_avg, used_grad_avg, used_buffer, step)
      ->rmsprop_step(param, grad, square_avg, used_grad_avg, used_buffer, step, options);
  for (const Tensor* written : {&param, &square_avg, &step, &used_grad_avg, &used_buffer})
    if (written->defined()) written->impl()->bump_version();
}

void adagrad_step(const Tensor& param, const Tensor& grad_in, const Tensor& sum, const Tensor& step,
                  const AdagradOptions& options) {
  const char* op = "adagrad_step";
  check_param(param, op);
  const Tensor grad = prepared_grad(grad_in, param, op);
  check_state(sum, param, "sum", op);
  check_step(step, op);
  kernels::backend(op, param, grad, sum, step)->adagrad_step(param, grad, sum, step, options);
  for (const Tensor* written : {&param, &sum, &step})
    written->impl()->bump_version();
}

void adadelta_step(const Tensor& param, const Tensor& grad_in, const Tensor& square_avg, const Tensor& acc_delta,
                   const Tensor& step, const AdadeltaOptions& options) {
  const char* op = "adadelta_step";
  check_param(param, op);
  const Tensor grad = prepared_grad(grad_in, param, op);
  check_state(square_avg, param, "square_avg", op);
  check_state(acc_delta, param, "acc_delta", op);
  check_step(step, op);
  kernels::backend(op, param, grad, square_avg, acc_delta, step)
      ->adadelta_step(param, grad, square_avg, acc_delta, step, options);
  for (const Tensor* written : {&param, &square_avg, &acc_delta, &step})
    written->impl()->bump_version();
}

void adamax_step(const Tensor& param, const Tensor& grad_in, const Tensor& exp_avg, const Tensor& exp_inf,
                 const Tensor& step, const AdamaxOptions& options) {
  const char* op = "adamax_step";
  check_param(param, op);
  const Tensor grad = prepared_grad(grad_in, param, op);
  check_state(exp_avg, param, "exp_avg", op);
  check_state(exp_inf, param, "exp_inf", op);
  check_step(step, op);
  kernels::backend(op, param, grad, exp_avg, exp_inf, step)->adamax_step(param, grad, exp_avg, exp_inf, step, options);
  for (const Tensor* written : {&param, &exp_avg, &exp_inf, &step})
    written->impl()->bump_version();
}

void nadam_step(const Tensor& param, const Tensor& grad_in, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                const Tensor& mu_product, const Tensor& step, const NadamOptions& options) {
  const char* op = "nadam_step";
  check_param(param, op);
  const Tensor grad = prepared_grad(grad_in, param, op);
  check_state(exp_avg, param, "exp_avg", op);
  check_state(exp_avg_sq, param, "exp_avg_sq", op);
  TG_CHECK(mu_product.defined() && mu_product.numel() == 1 && is_floating(mu_product.dtype()), op,
           "mu_product must be a one-element floating-point tensor");
  check_step(step, op);
  kernels::backend(op, param, grad, exp_avg, exp_avg_sq, mu_product, step)
      ->nadam_step(param, grad, exp_avg, exp_avg_sq, mu_product, step, options);
  for (const Tensor* written : {&param, &exp_avg, &exp_avg_sq, &mu_product, &step})
    written->impl()->bump_version();
}

}  // namespace tg
