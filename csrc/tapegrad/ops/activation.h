// The softmax family along one dim: fused, numerically stable kernels (the maximum is subtracted
// before exp), with fused backward kernels that are themselves differentiable.
#pragma once

#include <optional>

#include "tapegrad/core/tensor.h"

namespace tg {

// `dtype`: the input is converted to it first (as PyTorch's dtype= argument).
Tensor softmax(const Tensor& self, int64_t dim, std::optional<DType> dtype = std::nullopt);
Tensor log_softmax(const Tensor& self, int64_t dim, std::optional<DType> dtype = std::nullopt);

// The gradients with respect to the input, given the gradient of and the forward's output:
//   softmax:      output * (grad - sum(grad * output, dim))
//   log_softmax:  grad - exp(output) * sum(grad, dim)
Tensor softmax_backward_data(const Tensor& grad, const Tensor& output, int64_t dim);
Tensor log_softmax_backward_data(const Tensor& grad, const Tensor& output, int64_t dim);

}  // namespace tg
