// Optimizer updates as fused kernels: one call per parameter does the whole update in place, in
// one pass over contiguous memory with no temporaries, and in PyTorch's order of floating-point
// operations so the trajectories match torch.optim's. They write raw data (no autograd) and bump
// the version counter of every tensor they modify.
#pragma once

#include "tapegrad/core/tensor.h"
#include "tapegrad/kernels/optim.h"  // SgdOptions, AdamOptions

namespace tg {

// Returns the momentum buffer: `momentum_buffer` updated, or (undefined on the first step, with
// momentum != 0) a new one holding the first step's gradient. Undefined when momentum is 0.
Tensor sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, const SgdOptions& options);

// `step` is the 0-dim step count, incremented here. `max_exp_avg_sq` is used (and required) only
// with amsgrad.
void adam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
               const Tensor& max_exp_avg_sq, const Tensor& step, const AdamOptions& options);

}  // namespace tg
