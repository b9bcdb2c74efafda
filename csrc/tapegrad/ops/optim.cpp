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
  TG_CHECK(step.defined() && step.numel() == 1 && is_floating(step.dtype()), op, "step must be a one-element floating-point tensor");
  const Tensor used_max_exp_avg_sq = options.amsgrad ? max_exp_avg_sq : Tensor();
  kernels::backend(op, param, grad, exp_avg, exp_avg_sq, used_max_exp_avg_sq, step)
      ->adam_step(param, grad, exp_avg, exp_avg_sq, used_max_exp_avg_sq, step, options);
  for (const Tensor* written : {&param, &exp_avg, &exp_avg_sq, &step})
    written->impl()->bump_version();
  if (options.amsgrad) max_exp_avg_sq.impl()->bump_version();
}

}  // namespace tg
