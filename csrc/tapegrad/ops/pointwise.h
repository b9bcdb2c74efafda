// Pointwise ops composed from the elementwise and comparison kernels, each recorded as one node
// with PyTorch's name: the float classification tests (isnan, isinf, isfinite), nan_to_num, the
// logical ops, lerp, addcmul and addcdiv.
#pragma once

#include <optional>

#include "tapegrad/core/scalar.h"
#include "tapegrad/core/tensor.h"

namespace tg {

// Bool results, not differentiable; integer and bool inputs are never NaN or infinite.
Tensor isnan(const Tensor& self);
Tensor isinf(const Tensor& self);
Tensor isfinite(const Tensor& self);
// NaN, +inf and -inf replaced (by 0, the dtype's largest and its lowest finite value unless given).
Tensor nan_to_num(const Tensor& self, std::optional<double> nan = std::nullopt,
                  std::optional<double> posinf = std::nullopt, std::optional<double> neginf = std::nullopt);

// Any dtype, nonzero is true; bool results.
Tensor logical_and(const Tensor& a, const Tensor& b);
Tensor logical_or(const Tensor& a, const Tensor& b);
Tensor logical_xor(const Tensor& a, const Tensor& b);

// start + weight * (end - start), computed from the nearer end as PyTorch does.
Tensor lerp(const Tensor& start, const Tensor& end, Scalar weight);
Tensor lerp(const Tensor& start, const Tensor& end, const Tensor& weight);
// self + value * a * b, and self + value * a / b.
Tensor addcmul(const Tensor& self, const Tensor& a, const Tensor& b, Scalar value = Scalar(1));
Tensor addcdiv(const Tensor& self, const Tensor& a, const Tensor& b, Scalar value = Scalar(1));
// In place, recorded as the out-of-place op's node (optimizer updates are written with these).
Tensor& lerp_(Tensor& self, const Tensor& end, Scalar weight);
Tensor& lerp_(Tensor& self, const Tensor& end, const Tensor& weight);
Tensor& addcmul_(Tensor& self, const Tensor& a, const Tensor& b, Scalar value = Scalar(1));
Tensor& addcdiv_(Tensor& self, const Tensor& a, const Tensor& b, Scalar value = Scalar(1));

}  // namespace tg
