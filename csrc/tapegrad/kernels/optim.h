// Kernel entry points of the fused optimizer updates (see kernels.h for how the backend is
// chosen). ops/optim.cpp checks shapes and dtypes; every tensor here has the parameter's shape and
// dtype and any strides, and the kernels update them in place, in PyTorch's order of operations.
#pragma once

#include "tapegrad/core/tensor.h"
#include "tapegrad/ops/optim.h"  // SgdOptions, AdamOptions

namespace tg::kernels {

// momentum_buffer is undefined when options.momentum is 0; on the first step (first_step) it is
// written with the gradient instead of being read.
void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, const SgdOptions& options,
              bool first_step);
// Increments `step` (a one-element floating tensor) and updates param and the moments;
// max_exp_avg_sq is used only with amsgrad.
void adam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
               const Tensor& max_exp_avg_sq, const Tensor& step, const AdamOptions& options);

}  // namespace tg::kernels
