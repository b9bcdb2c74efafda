// The parameter types of the fused loss kernels (kernels/backend.h declares them). Reduction is a
// public API name too (tg::Reduction): ops/loss.h includes this header.
#pragma once

#include <cstdint>

namespace tg {

enum class Reduction { None, Mean, Sum };

}  // namespace tg

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

// SmoothL1 and Huber take a parameter (beta > 0, delta > 0); the others ignore it.
enum class PointwiseLoss { MSE, L1, BCE, BCEWithLogits, SmoothL1, Huber };
inline const char* loss_name(PointwiseLoss kind) {
  static const char* const names[] = {"mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
                                      "smooth_l1_loss", "huber_loss"};
  return names[static_cast<int>(kind)];
}

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

}  // namespace tg::kernels
