// Kernel entry points of the fused losses: one pass forward, one pass backward (see kernels.h for
// how the backend is chosen). ops/loss.cpp checks shapes, converts every operand to one floating
// dtype and makes it contiguous; the kernels compute in PyTorch's order of operations.
#pragma once

#include <cstdint>

#include "tapegrad/core/tensor.h"
#include "tapegrad/ops/loss.h"  // Reduction

namespace tg::kernels {

// The upstream gradient of one element of the unreduced loss: grad itself (reduction 'none'), or
// its single element ('sum'), divided by `denominator` ('mean').
struct UpstreamScale {
  Reduction reduction;
  double denominator;
  template <typename T>
  T at(const T* grad, int64_t index) const {
    if (reduction == Reduction::None) return grad[index];
    return reduction == Reduction::Sum ? grad[0] : static_cast<T>(grad[0] / denominator);
  }
};

// ---- pointwise losses: input, target and the optional weights share one shape ------------------

enum class PointwiseLoss { MSE, L1, BCE, BCEWithLogits };
inline const char* loss_name(PointwiseLoss kind) {
  static const char* const names[] = {"mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"};
  return names[static_cast<int>(kind)];
}

// Writes each element's loss into `out` when it is defined (and returns 0), else returns their
// sum. weight and pos_weight may be undefined. BCE: RuntimeError for an input or target outside
// [0, 1], naming its flat index.
double pointwise_loss(PointwiseLoss kind, const Tensor& out, const Tensor& input, const Tensor& target,
                      const Tensor& weight, const Tensor& pos_weight);
// grad_input and grad_target (either may be undefined: not needed) = the loss's derivatives times
// the upstream gradient.
void pointwise_loss_backward(PointwiseLoss kind, const Tensor& grad_input, const Tensor& grad_target, const Tensor& grad,
                             UpstreamScale scale, const Tensor& input, const Tensor& target, const Tensor& weight,
                             const Tensor& pos_weight);

// ---- classification losses ---------------------------------------------------------------------

// The input seen as (batch, classes, inner): (C) is one row, (N, C) has inner 1, and the trailing
// dims of (N, C, d1, ...) are inner positions, each a row of its own strided by `inner`.
struct ClassLayout {
  int64_t batch = 1, classes = 0, inner = 1;
  int64_t rows() const { return batch * inner; }
  int64_t offset(int64_t row) const { return (row / inner) * classes * inner + row % inner; }
};
// The target is one int64 class index per row (rows holding ignore_index count for nothing; any
// other index outside [0, classes) is an IndexError naming the op), or, for cross_entropy, class
// probabilities of the input's shape and dtype. The weight is undefined or one per class.
struct ClassTarget {
  ClassLayout layout;
  int64_t ignore_index = -100;
  double label_smoothing = 0.0;
};
// The summed loss and the mean's denominator (the summed weights of the counted rows).
struct ClassLossTotals {
  double total = 0.0, denominator = 0.0;
};

// Writes each row's loss into `out` when it is defined and its log-sum-exp into log_sum_exp
// (rows(), saved for backward).
ClassLossTotals cross_entropy(const Tensor& out, const Tensor& log_sum_exp, const Tensor& input, const Tensor& target,
                              const Tensor& weight, const ClassTarget& spec);
// grad_target is undefined unless the target holds probabilities that need a gradient.
void cross_entropy_backward(const Tensor& grad_input, const Tensor& grad_target, const Tensor& grad, UpstreamScale scale,
                            const Tensor& input, const Tensor& target, const Tensor& weight, const Tensor& log_sum_exp,
                            const ClassTarget& spec);
// input holds log-probabilities.
ClassLossTotals nll_loss(const Tensor& out, const Tensor& input, const Tensor& target, const Tensor& weight,
                         const ClassTarget& spec);
// grad_input, zero-filled by the caller, gets the gradient at each row's target class.
void nll_loss_backward(const Tensor& grad_input, const Tensor& grad, UpstreamScale scale, const Tensor& target,
                       const Tensor& weight, const ClassTarget& spec);

}  // namespace tg::kernels
