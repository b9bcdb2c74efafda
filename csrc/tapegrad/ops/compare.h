// Comparisons and what is built on them: maximum/minimum, where, clamp, and closeness tests, with
// the broadcasting and type promotion of elementwise.h.
#pragma once

#include <optional>

#include "tapegrad/core/scalar.h"
#include "tapegrad/core/tensor.h"

namespace tg {

Tensor maximum(const Tensor& a, const Tensor& b);  // ties split the gradient evenly, as PyTorch
Tensor minimum(const Tensor& a, const Tensor& b);

// Comparisons give bool tensors and are not differentiable.
enum class Comparison { Eq, Ne, Lt, Le, Gt, Ge };
Tensor compare(Comparison op, const Tensor& a, const Tensor& b);
Tensor compare(Comparison op, const Tensor& a, Scalar b);

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);
Tensor where(const Tensor& condition, const Tensor& a, Scalar b);
Tensor where(const Tensor& condition, Scalar a, const Tensor& b);
Tensor where(const Tensor& condition, Scalar a, Scalar b);

// Bounds are inclusive; the gradient flows where min <= a <= max, as in PyTorch. A NaN bound
// gives NaN; min > max gives max.
Tensor clamp(const Tensor& a, std::optional<Scalar> min, std::optional<Scalar> max);
Tensor clamp_min(const Tensor& a, Scalar min);
Tensor clamp_max(const Tensor& a, Scalar max);
// Tensor bounds (either may be undefined) broadcast with a and are differentiable too.
Tensor clamp(const Tensor& a, const Tensor& min, const Tensor& max);
// In place: self's dtype is kept (the result must be castable to it) and its version bumped.
Tensor& clamp_(Tensor& self, std::optional<Scalar> min, std::optional<Scalar> max);
Tensor& clamp_(Tensor& self, const Tensor& min, const Tensor& max);

// |a - b| <= atol + rtol * |b| or a == b (NaNs equal when equal_nan), elementwise, as
// torch.isclose; a and b must have one dtype. allclose: all of it. equal: same shape, all equal.
Tensor isclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8, bool equal_nan = false);
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8, bool equal_nan = false);
bool equal(const Tensor& a, const Tensor& b);

}  // namespace tg
