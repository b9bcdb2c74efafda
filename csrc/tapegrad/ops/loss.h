// Loss functions as fused kernels: one pass forward, one pass backward, each with PyTorch's
// semantics (reductions, class weights, ignore_index, label smoothing, the log clamp of BCE).
// Class and pointwise weights are constants: no gradient flows into them, as in PyTorch.
#pragma once

#include <string_view>

#include "tapegrad/core/tensor.h"
#include "tapegrad/kernels/loss.h"  // Reduction

namespace tg {

// 'none' | 'mean' | 'sum'; ValueError naming op otherwise.
Reduction reduction_from_string(std::string_view name, const char* op);

// input (C), (N, C) or (N, C, d1, ...); target int64 class indices of input's shape without the
// class dim, or probabilities of input's shape. weight: undefined or (C).
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction,
                     int64_t ignore_index, double label_smoothing);
// input holds log-probabilities, shaped as for cross_entropy.
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction,
                int64_t ignore_index);

// input and target broadcast together; both get gradients.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction);
// |x - y| < beta ? 0.5 (x - y)^2 / beta : |x - y| - 0.5 beta (beta >= 0; 0 is l1_loss).
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction, double beta);
// |x - y| < delta ? 0.5 (x - y)^2 : delta (|x - y| - 0.5 delta) (delta > 0).
Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction, double delta);
// input probabilities in [0, 1], target of input's shape; weight broadcasts to input.
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction);
// input logits; pos_weight broadcasts to input (one per class along the last dim).
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight,
                                        const Tensor& pos_weight, Reduction reduction);

}  // namespace tg
