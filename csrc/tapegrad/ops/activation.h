// The softmax family along one dim: fused, numerically stable kernels (the maximum is subtracted
// before exp), with fused backward kernels that are themselves differentiable; and the activations
// of torch.nn.functional, each one kernel forward with a backward formula of tapegrad ops (so that
// double backward works).
#pragma once

#include <optional>

#include "tapegrad/core/scalar.h"
#include "tapegrad/core/tensor.h"
#include "tapegrad/kernels/activation.h"

namespace tg {

// `dtype`: the input is converted to it first (as PyTorch's dtype= argument).
Tensor softmax(const Tensor& self, int64_t dim, std::optional<DType> dtype = std::nullopt);
Tensor log_softmax(const Tensor& self, int64_t dim, std::optional<DType> dtype = std::nullopt);

// The gradients with respect to the input, given the gradient of and the forward's output:
//   softmax:      output * (grad - sum(grad * output, dim))
//   log_softmax:  grad - exp(output) * sum(grad, dim)
Tensor softmax_backward_data(const Tensor& grad, const Tensor& output, int64_t dim);
Tensor log_softmax_backward_data(const Tensor& grad, const Tensor& output, int64_t dim);

// gelu, silu, leaky_relu, elu (selu: elu with its constants), celu, softplus, mish, logsigmoid,
// hardsigmoid and hardswish of a floating tensor (NotImplementedError otherwise), with PyTorch's
// node names. The in-place form writes into self under the in-place rules of autograd/inplace.h.
Tensor activation(kernels::Activation kind, const Tensor& input, const kernels::ActivationParams& params = {});
Tensor& activation_(Tensor& self, kernels::Activation kind, const kernels::ActivationParams& params = {});
// clamp(input, min_val, max_val) with a gradient of 0 at and beyond the bounds (relu6 is (0, 6)).
// ValueError when min_val > max_val.
Tensor hardtanh(const Tensor& input, Scalar min_val, Scalar max_val);
Tensor& hardtanh_(Tensor& self, Scalar min_val, Scalar max_val);
// The gated linear unit: the first half of input along dim times the sigmoid of the second half.
Tensor glu(const Tensor& input, int64_t dim = -1);

}  // namespace tg
