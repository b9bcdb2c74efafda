// Optimizer updates as fused kernels: one call per parameter does the whole update in place, in
// one pass over contiguous memory with no temporaries, and in PyTorch's order of floating-point
// operations so the trajectories match torch.optim's. They write raw data (no autograd) and bump
// the version counter of every tensor they modify.
#pragma once

#include "tapegrad/core/tensor.h"
#include "tapegrad/kernels/optim.h"  // SgdOptions, AdamOptions, ...

namespace tg {

// Returns the momentum buffer: `momentum_buffer` updated, or (undefined on the first step, with
// momentum != 0) a new one holding the first step's gradient. Undefined when momentum is 0.
Tensor sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, const SgdOptions& options);

// `step` is the 0-dim step count, incremented here. `max_exp_avg_sq` is used (and required) only
// with amsgrad.
void adam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
               const Tensor& max_exp_avg_sq, const Tensor& step, const AdamOptions& options);

// `step` as Adam's. `grad_avg` is used (and required) only when centered, `momentum_buffer` only
// with momentum > 0.
void rmsprop_step(const Tensor& param, const Tensor& grad, const Tensor& square_avg, const Tensor& grad_avg,
                  const Tensor& momentum_buffer, const Tensor& step, const RmspropOptions& options);

// `step` as Adam's; `sum` accumulates the squared gradients.
void adagrad_step(const Tensor& param, const Tensor& grad, const Tensor& sum, const Tensor& step,
                  const AdagradOptions& options);

// `step` as Adam's; square_avg and acc_delta hold the running averages of grad² and update².
void adadelta_step(const Tensor& param, const Tensor& grad, const Tensor& square_avg, const Tensor& acc_delta,
                   const Tensor& step, const AdadeltaOptions& options);

// `step` as Adam's; exp_inf holds the decayed infinity norm.
void adamax_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_inf,
                 const Tensor& step, const AdamaxOptions& options);

// `step` as Adam's; `mu_product`, the product of the momentum factors so far (a one-element
// floating tensor), is multiplied by this step's.
void nadam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                const Tensor& mu_product, const Tensor& step, const NadamOptions& options);

}  // namespace tg
