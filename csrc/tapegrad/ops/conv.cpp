#include "tapegrad/ops/conv.h"

#include <cstdint>
#include <string>
#include <utility>

#include "tapegrad/autograd/grad_mode.h"
#include "tapegrad/autograd/node.h"
#include "tapegrad/kernels/backend.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/elementwise.h"
#include "tapegrad/ops/reduce.h"
#include "tapegrad/ops/view.h"

namespace tg {

namespace {

using kernels::ConvGeometry;

// How the user's tensors map onto the kernel's 4-D ones: conv1d's gain a size-1 height dim and an
// unbatched input a size-1 batch dim, as views (any strides survive, nothing is copied).
struct ConvShape {
  int64_t spatial_dims;  // 1 or 2
  bool batched;
  Tensor input_4d(const Tensor& input) const {
    Tensor result = batched ? input : unsqueeze(input, 0);
    return spatial_dims == 1 ? unsqueeze(result, 2) : result;
  }
  Tensor weight_4d(const Tensor& weight) const { return spatial_dims == 1 ? unsqueeze(weight, 2) : weight; }
};

// What the convolution's and the transposed convolution's nodes share: PyTorch gives both one name.
struct ConvolutionNode : Node {
  enum Slot { Input, Weight };
  ConvGeometry geometry;  // the transposed convolution's is that of the convolution it is the adjoint of
  ConvShape shape;
  DimVector input_sizes;  // the input is saved only when the weight needs its gradient
  bool has_bias;
  ConvolutionNode(ConvGeometry g, ConvShape s, DimVector sizes, bool bias)
      : geometry(g), shape(s), input_sizes(std::move(sizes)), has_bias(bias) {}
  std::string name() const override { return "ConvolutionBackward0"; }

 protected:
  // The backward is a kernel, not a composition of differentiable ops, so a second derivative
  // through it would silently come out as zero: refuse create_graph instead.
  void refuse_double_backward() const {
    if (GradMode::is_enabled())
      fail<NotImplementedError>(name(), "double backward (create_graph=True) through convolution is not implemented");
  }
};

struct ConvolutionBackward final : ConvolutionNode {
  using ConvolutionNode::ConvolutionNode;

  TensorList apply(TensorList&& grads) override {
    refuse_double_backward();
    const Tensor input = saved(Input), weight = saved(Weight);
    const ConvGeometry& g = geometry;
    const Tensor input_4d = input.defined() ? shape.input_4d(input) : input;
    const Tensor weight_4d = contiguous(shape.weight_4d(weight));
    const Tensor grad = view(contiguous(grads[0]), {g.batch, g.out_channels, g.out_h, g.out_w});
    Tensor grad_input, grad_weight, grad_bias;
    if (needs_input_grad(0))
      grad_input = Tensor::empty({g.batch, g.in_channels, g.in_h, g.in_w}, weight.dtype(), weight.device(), "conv2d");
    if (needs_input_grad(1)) grad_weight = Tensor::empty(weight_4d.sizes(), weight.dtype(), weight.device(), "conv2d");
    if (has_bias && needs_input_grad(2))
      grad_bias = Tensor::empty({g.out_channels}, weight.dtype(), weight.device(), "conv2d");
    kernels::backend("conv2d_backward", grad, grad_input, grad_weight, grad_bias, input_4d, weight_4d)
        ->conv2d_backward(grad_input, grad_weight, grad_bias, grad, input_4d, weight_4d, g);
    if (grad_input.defined()) grad_input = view(grad_input, input_sizes);
    if (grad_weight.defined()) grad_weight = view(grad_weight, weight.sizes());
    if (!has_bias) return {grad_input, grad_weight};
    return {grad_input, grad_weight, grad_bias};
  }
};

// The input's layout (batched or not) for a convolution with `spatial_dims` spatial dims; an input
// of any other rank is PyTorch's error.
ConvShape shape_of(const Tensor& input, int64_t spatial_dims, const char* op) {
  TG_CHECK(input.dim() == spatial_dims + 1 || input.dim() == spatial_dims + 2, op, "Expected ", spatial_dims + 1,
           "D (unbatched) or ", spatial_dims + 2, "D (batched) input to ", op, ", but got input of size: ",
           input.sizes());
  return ConvShape{spatial_dims, input.dim() == spatial_dims + 2};
}

std::string dims_text(const DimVector& sizes, int64_t first) {
  std::string text;
  for (int64_t d = first; d < static_cast<int64_t>(sizes.size()); ++d)
    text += (text.empty() ? "" : " x ") + std::to_string(sizes[d]);
  return "(" + text + ")";
}

// Checks the arguments as PyTorch does (its messages, with the op named) and fills the geometry.
ConvGeometry geometry_of(const Tensor& input, const Tensor& weight, const Tensor& bias, const ConvShape& shape,
                         const std::vector<int64_t>& stride, ConvPadding padding_kind,
                         const std::vector<int64_t>& padding, const std::vector<int64_t>& dilation, int64_t groups,
                         const char* op) {
  const auto spatial = static_cast<size_t>(shape.spatial_dims);
  TG_CHECK(weight.dim() == shape.spatial_dims + 2, op, "expected a ", shape.spatial_dims + 2,
           "-D weight, got shape ", weight.sizes());
  TG_CHECK(stride.size() == spatial && padding.size() == spatial && dilation.size() == spatial, op,
           "expected stride, padding and dilation of ", spatial, " values each");
  for (size_t d = 0; d < spatial; ++d) {
    TG_CHECK(stride[d] > 0, op, "non-positive stride is not supported, got stride ", stride[d]);
    TG_CHECK(dilation[d] > 0, op, "dilation should be greater than zero, got dilation ", dilation[d]);
    TG_CHECK(padding[d] >= 0, op, "negative padding is not supported, got padding ", padding[d]);
  }
  TG_CHECK(groups > 0, op, "non-positive groups is not supported, got groups ", groups);
  TG_CHECK(input.dtype() == weight.dtype() && (!bias.defined() || bias.dtype() == input.dtype()), op,
           "expected input (", dtype_name(input.dtype()), "), weight (", dtype_name(weight.dtype()),
           ") and bias to have the same dtype");
  TG_CHECK_TYPE(is_floating(input.dtype()), op, "not implemented for dtype ", dtype_name(input.dtype()));
  const int64_t batch_dim = shape.batched ? 1 : 0;
  const int64_t in_channels = input.size(batch_dim), out_channels = weight.size(0);
  TG_CHECK(out_channels % groups == 0, op, "expected weight of shape ", weight.sizes(),
           " to have out_channels divisible by groups=", groups);
  TG_CHECK(weight.size(1) * groups == in_channels, op, "Given groups=", groups, ", weight of size ", weight.sizes(),
           ", expected input", input.sizes(), " to have ", weight.size(1) * groups, " channels, but got ",
           in_channels, " channels instead");
  TG_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == out_channels), op, "Given weight of size ",
           weight.sizes(), ", expected bias to be 1-dimensional with ", out_channels, " elements, but got bias of size ",
           bias.sizes());
  if (padding_kind == ConvPadding::Same)
    for (size_t d = 0; d < spatial; ++d)
      TG_CHECK(stride[d] == 1, op, "padding='same' is not supported for strided convolutions");

  // Per spatial dim: padding before, padded size and output size.
  int64_t before[2] = {0, 0}, in_size[2] = {1, 1}, kernel[2] = {1, 1}, out_size[2] = {1, 1};
  int64_t strides[2] = {1, 1}, dilations[2] = {1, 1};
  DimVector padded_sizes, kernel_sizes;
  for (size_t d = 0; d < spatial; ++d) {
    const size_t k = d + 2 - spatial;  // conv1d's one dim is the width
    const int64_t size = input.size(batch_dim + 1 + static_cast<int64_t>(d));
    const int64_t extent = dilation[d] * (weight.size(2 + static_cast<int64_t>(d)) - 1) + 1;
    int64_t pad_before = padding[d], pad_total = 2 * padding[d];
    if (padding_kind == ConvPadding::Same) {
      pad_total = extent - 1;
      pad_before = pad_total / 2;
    }
    padded_sizes.push_back(size + pad_total);
    kernel_sizes.push_back(extent);
    before[k] = pad_before;
    in_size[k] = size;
    kernel[k] = weight.size(2 + static_cast<int64_t>(d));
    strides[k] = stride[d];
    dilations[k] = dilation[d];
    out_size[k] = size + pad_total >= extent ? (size + pad_total - extent) / stride[d] + 1 : 0;
  }
  for (size_t d = 0; d < spatial; ++d)
    TG_CHECK(padded_sizes[d] >= kernel_sizes[d], op, "Calculated padded input size per channel: ",
             dims_text(padded_sizes, 0), ". Kernel size: ", dims_text(kernel_sizes, 0),
             ". Kernel size can't be greater than actual input size (input ", input.sizes(), ", weight ",
             weight.sizes(), ")");
  return ConvGeometry{shape.batched ? input.size(0) : 1, in_channels, out_channels, groups,
                      in_size[0], in_size[1], kernel[0], kernel[1], out_size[0], out_size[1],
                      strides[0], strides[1], before[0], before[1], dilations[0], dilations[1]};
}

}  // namespace

Tensor convolution(const Tensor& input, const Tensor& weight, const Tensor& bias, const std::vector<int64_t>& stride,
                   ConvPadding padding_kind, const std::vector<int64_t>& padding,
                   const std::vector<int64_t>& dilation, int64_t groups, const char* op) {
  const ConvShape shape = shape_of(input, static_cast<int64_t>(stride.size()), op);
  const ConvGeometry g =
      geometry_of(input, weight, bias, shape, stride, padding_kind, padding, dilation, groups, op);
  const int64_t spatial_dims = shape.spatial_dims;

  DimVector out_sizes;
  if (shape.batched) out_sizes.push_back(g.batch);
  out_sizes.push_back(g.out_channels);
  if (spatial_dims == 2) out_sizes.push_back(g.out_h);
  out_sizes.push_back(g.out_w);
  Tensor out = Tensor::empty(out_sizes, input.dtype(), input.device(), op);
  {
    NoGradGuard no_grad;  // the views below are this op's plumbing, not graph nodes
    const Tensor input_4d = shape.input_4d(input);
    const Tensor weight_4d = contiguous(shape.weight_4d(weight));
    const Tensor bias_contiguous = bias.defined() ? contiguous(bias) : bias;
    kernels::backend(op, out, input_4d, weight_4d, bias_contiguous)
        ->conv2d(view(out, {g.batch, g.out_channels, g.out_h, g.out_w}), input_4d, weight_4d, bias_contiguous, g);
  }
  if (needs_grad(input, weight) || (bias.defined() && needs_grad(bias))) {
    auto node = make_node<ConvolutionBackward>(g, shape, input.sizes(), bias.defined());
    if (weight.requires_grad()) node->save(ConvolutionBackward::Input, input);
    node->save(ConvolutionBackward::Weight, weight);
    if (bias.defined()) node->connect({&input, &weight, &bias}, {&out});
    else node->connect({&input, &weight}, {&out});
  }
  return out;
}

// ---- transposed convolution ----------------------------------------------------------------------
// A transposed convolution is the adjoint of the convolution that maps its output's shape back onto
// its input's, with the same weight (PyTorch's (C, O / groups, K...) layout is that convolution's
// (out, in / groups, K...)). So its forward is that convolution's input gradient (col2im), its input
// gradient is that convolution's forward and its weight gradient that convolution's weight gradient
// with input and output exchanged: the kernels serve as they are. Composing it instead (zeros
// inserted between the input's elements, padding, a convolution with the flipped weight) multiplies
// stride^2 - 1 zeros for every value and allocates the dilated input: forward and backward of
// 32x16x16x16 -> 8@4x4 stride 2 took 17.9 ms that way against 3.9 ms here (one thread).

namespace {

struct ConvolutionTransposeBackward final : ConvolutionNode {
  static constexpr const char* kBackwardOp = "conv_transpose_backward";  // errors and the profiler
  using ConvolutionNode::ConvolutionNode;  // geometry: its input is our output

  TensorList apply(TensorList&& grads) override {
    refuse_double_backward();
    const Tensor input = saved(Input), weight = saved(Weight);
    const ConvGeometry& g = geometry;
    const Tensor weight_4d = contiguous(shape.weight_4d(weight));
    const Tensor grad = view(contiguous(grads[0]), {g.batch, g.in_channels, g.in_h, g.in_w});
    Tensor grad_input, grad_weight, grad_bias;
    if (needs_input_grad(0)) {
      grad_input =
          Tensor::empty({g.batch, g.out_channels, g.out_h, g.out_w}, weight.dtype(), weight.device(), kBackwardOp);
      kernels::backend(kBackwardOp, grad_input, grad, weight_4d)->conv2d(grad_input, grad, weight_4d, Tensor(), g);
      grad_input = view(grad_input, input_sizes);
    }
    if (needs_input_grad(1)) {
      // The convolution's weight gradient: its output gradient is our input, its input our grad.
      const Tensor input_4d = contiguous(shape.input_4d(input));
      grad_weight = Tensor::empty(weight_4d.sizes(), weight.dtype(), weight.device(), kBackwardOp);
      kernels::backend(kBackwardOp, grad_weight, input_4d, grad, weight_4d)
          ->conv2d_backward(Tensor(), grad_weight, Tensor(), input_4d, grad, weight_4d, g);
      grad_weight = view(grad_weight, weight.sizes());
    }
    if (!has_bias) return {grad_input, grad_weight};
    if (needs_input_grad(2)) grad_bias = sum(grad, {0, 2, 3});
    return {grad_input, grad_weight, grad_bias};
  }
};

// Checks the arguments as PyTorch does (its messages, with the op named) and fills the geometry of
// the convolution whose adjoint the transposed one is.
ConvGeometry transpose_geometry_of(const Tensor& input, const Tensor& weight, const Tensor& bias,
                                   const ConvShape& shape, const std::vector<int64_t>& stride,
                                   const std::vector<int64_t>& padding, const std::vector<int64_t>& output_padding,
                                   int64_t groups, const std::vector<int64_t>& dilation, const char* op) {
  const auto spatial = static_cast<size_t>(shape.spatial_dims);
  TG_CHECK(weight.dim() == shape.spatial_dims + 2, op, "expected a ", shape.spatial_dims + 2,
           "-D weight, got shape ", weight.sizes());
  TG_CHECK(stride.size() == spatial && padding.size() == spatial && output_padding.size() == spatial &&
               dilation.size() == spatial,
           op, "expected stride, padding, output_padding and dilation of ", spatial, " values each");
  for (size_t d = 0; d < spatial; ++d) {
    TG_CHECK(stride[d] > 0, op, "non-positive stride is not supported, got stride ", stride[d]);
    TG_CHECK(dilation[d] > 0, op, "dilation should be greater than zero, got dilation ", dilation[d]);
    TG_CHECK(padding[d] >= 0, op, "negative padding is not supported, got padding ", padding[d]);
    TG_CHECK(output_padding[d] >= 0, op, "negative output_padding is not supported, got output_padding ",
             output_padding[d]);
    TG_CHECK(output_padding[d] < stride[d] || output_padding[d] < dilation[d], op,
             "output padding must be smaller than either stride or dilation, but got output_padding ",
             output_padding[d], ", stride ", stride[d], " and dilation ", dilation[d], " (input ", input.sizes(),
             ", weight ", weight.sizes(), ")");
  }
  TG_CHECK(groups > 0, op, "non-positive groups is not supported, got groups ", groups);
  TG_CHECK(input.dtype() == weight.dtype() && (!bias.defined() || bias.dtype() == input.dtype()), op,
           "expected input (", dtype_name(input.dtype()), "), weight (", dtype_name(weight.dtype()),
           ") and bias to have the same dtype");
  TG_CHECK_TYPE(is_floating(input.dtype()), op, "not implemented for dtype ", dtype_name(input.dtype()));
  const int64_t batch_dim = shape.batched ? 1 : 0;
  const int64_t in_channels = input.size(batch_dim), out_channels = weight.size(1) * groups;
  TG_CHECK(weight.size(0) % groups == 0, op, "Given groups=", groups, ", expected weight to be divisible by ",
           groups, " at dimension 0, but got weight of size ", weight.sizes(), " instead");
  TG_CHECK(weight.size(0) == in_channels, op, "Given transposed=1, weight of size ", weight.sizes(),
           ", expected input", input.sizes(), " to have ", weight.size(0), " channels, but got ", in_channels,
           " channels instead");
  TG_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == out_channels), op,
           "Given transposed=1, weight of size ", weight.sizes(), ", expected bias to be 1-dimensional with ",
           out_channels, " elements, but got bias of size ", bias.sizes(), " instead");

  int64_t in_size[2] = {1, 1}, kernel[2] = {1, 1}, out_size[2] = {1, 1}, pads[2] = {0, 0};
  int64_t strides[2] = {1, 1}, dilations[2] = {1, 1};
  DimVector input_sizes, output_sizes;
  for (size_t d = 0; d < spatial; ++d) {
    const size_t k = d + 2 - spatial;  // the 1-D op's one dim is the width
    const int64_t size = input.size(batch_dim + 1 + static_cast<int64_t>(d));
    kernel[k] = weight.size(2 + static_cast<int64_t>(d));
    in_size[k] = size;
    out_size[k] = (size - 1) * stride[d] - 2 * padding[d] + dilation[d] * (kernel[k] - 1) + output_padding[d] + 1;
    pads[k] = padding[d];
    strides[k] = stride[d];
    dilations[k] = dilation[d];
    input_sizes.push_back(size);
    output_sizes.push_back(out_size[k]);
  }
  for (size_t d = 0; d < spatial; ++d)
    TG_CHECK(output_sizes[d] > 0, op, "Given input size per channel: ", dims_text(input_sizes, 0),
             ". Calculated output size per channel: ", dims_text(output_sizes, 0), ". Output size is too small (input ",
             input.sizes(), ", weight ", weight.sizes(), ")");
  // Our output is that convolution's input, our input its output.
  return ConvGeometry{shape.batched ? input.size(0) : 1, out_channels, in_channels, groups,
                      out_size[0], out_size[1], kernel[0], kernel[1], in_size[0], in_size[1],
                      strides[0], strides[1], pads[0], pads[1], dilations[0], dilations[1]};
}

}  // namespace

Tensor convolution_transpose(const Tensor& input, const Tensor& weight, const Tensor& bias,
                             const std::vector<int64_t>& stride, const std::vector<int64_t>& padding,
                             const std::vector<int64_t>& output_padding, int64_t groups,
                             const std::vector<int64_t>& dilation, const char* op) {
  const ConvShape shape = shape_of(input, static_cast<int64_t>(stride.size()), op);
  const ConvGeometry g =
      transpose_geometry_of(input, weight, bias, shape, stride, padding, output_padding, groups, dilation, op);
  DimVector out_sizes;
  if (shape.batched) out_sizes.push_back(g.batch);
  out_sizes.push_back(g.in_channels);
  if (shape.spatial_dims == 2) out_sizes.push_back(g.in_h);
  out_sizes.push_back(g.in_w);
  Tensor out = Tensor::empty(out_sizes, input.dtype(), input.device(), op);
  {
    NoGradGuard no_grad;  // the views and the bias's add are this op's plumbing, not graph nodes
    Tensor out_4d = view(out, {g.batch, g.in_channels, g.in_h, g.in_w});
    const Tensor input_4d = contiguous(shape.input_4d(input));
    const Tensor weight_4d = contiguous(shape.weight_4d(weight));
    kernels::backend(op, out_4d, input_4d, weight_4d)
        ->conv2d_backward(out_4d, Tensor(), Tensor(), input_4d, Tensor(), weight_4d, g);
    if (bias.defined()) add_(out_4d, view(bias, {1, g.in_channels, 1, 1}));
  }
  if (needs_grad(input, weight) || (bias.defined() && needs_grad(bias))) {
    auto node = make_node<ConvolutionTransposeBackward>(g, shape, input.sizes(), bias.defined());
    if (weight.requires_grad()) node->save(ConvolutionTransposeBackward::Input, input);
    node->save(ConvolutionTransposeBackward::Weight, weight);
    if (bias.defined()) node->connect({&input, &weight, &bias}, {&out});
    else node->connect({&input, &weight}, {&out});
  }
  return out;
}

}  // namespace tg
