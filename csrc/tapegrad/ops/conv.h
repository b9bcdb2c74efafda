// Convolution (torch.nn.functional.conv1d / conv2d) on our own GEMM: the kernel builds each image's
// column matrix in a reused per-thread workspace and multiplies it by the weight; backward runs
// through the same GEMM (weight^T · grad, then col2im, and grad · columns^T). The input may have any
// strides (a channels-last view is read in place). One node, ConvolutionBackward0, as PyTorch's.
// The transposed convolution runs on the same two kernels, as the convolution's adjoint.
#pragma once

#include <cstdint>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tg {

// How the input is padded: `Explicit` by the given amounts on both sides, `Same` so that the output
// has the input's size (stride 1 only; an even dilated kernel gets the extra zero after the end, as
// in PyTorch). padding="valid" is Explicit with zeros.
enum class ConvPadding { Explicit, Same };

// input (N, C, L) or unbatched (C, L) with weight (O, C / groups, K) for conv1d, or (N, C, H, W) /
// (C, H, W) with weight (O, C / groups, KH, KW) for conv2d; bias undefined or (O). stride, padding
// and dilation hold one value per spatial dim. float32 or float64, all operands alike.
Tensor convolution(const Tensor& input, const Tensor& weight, const Tensor& bias, const std::vector<int64_t>& stride,
                   ConvPadding padding_kind, const std::vector<int64_t>& padding,
                   const std::vector<int64_t>& dilation, int64_t groups, const char* op);

// torch.nn.functional.conv_transpose1d / conv_transpose2d: input (N, C, L) / (N, C, H, W) or unbatched,
// weight (C, O / groups, K...) (PyTorch's transposed layout), bias undefined or (O). Each output size
// is (in - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1.
Tensor convolution_transpose(const Tensor& input, const Tensor& weight, const Tensor& bias,
                             const std::vector<int64_t>& stride, const std::vector<int64_t>& padding,
                             const std::vector<int64_t>& output_padding, int64_t groups,
                             const std::vector<int64_t>& dilation, const char* op);

}  // namespace tg
