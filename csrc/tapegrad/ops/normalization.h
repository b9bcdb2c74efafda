// Normalisation (torch.batch_norm, layer_norm, group_norm) as fused kernels: the forward gathers
// the statistics in one pass and normalises in another, the backward reduces the gradient against
// the saved statistics and writes the input's gradient, one node each, named as PyTorch's
// (NativeBatchNormBackward0, NativeLayerNormBackward0, NativeGroupNormBackward0). Double backward
// through them is a NotImplementedError naming the node. weight and bias are optional (undefined).
#pragma once

#include <cstdint>

#include "tapegrad/core/tensor.h"

namespace tg {

// input (batch, channels, *) of any strides, float32/float64; weight, bias, running_mean and
// running_var (channels), each optional, of the input's dtype. `training`: normalises with the
// batch's statistics and, where the running ones are given, updates them in place
// (running = (1 - momentum) * running + momentum * batch, the variance unbiased, as PyTorch);
// otherwise normalises with the running statistics, which must be given.
Tensor batch_norm(const Tensor& input, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum, double eps);

// Normalises over the last normalized_shape.size() dims of input, which must equal
// normalized_shape; weight and bias have that shape.
Tensor layer_norm(const Tensor& input, const DimVector& normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps);

// input (batch, channels, *): normalises each of num_groups groups of channels per batch item;
// weight and bias (channels) scale and shift per channel.
Tensor group_norm(const Tensor& input, int64_t num_groups, const Tensor& weight, const Tensor& bias, double eps);

}  // namespace tg
