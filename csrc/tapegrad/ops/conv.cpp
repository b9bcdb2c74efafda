#include "tapegrad/ops/conv.h"

#include <cstdint>
#include <string>
#include <utility>

#include "tapegrad/autograd/grad_mode.h"
#include "tapegrad/autograd/node.h"
#include "tapegrad/kernels/backend.h"
#include "tapegrad/ops/copy.h"
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

struct ConvolutionBackward final : Node {
  enum Slot { Input, Weight };
  ConvGeometry geometry;
  ConvShape shape;
  DimVector input_sizes;  // the input is saved only when the weight needs its gradient
  bool has_bias;
  ConvolutionBackward(ConvGeometry g, ConvShape s, DimVector sizes, bool bias)
      : geometry(g), shape(s), input_sizes(std::move(sizes)), has_bias(bias) {}

  TensorList apply(TensorList&& grads) override {
    // The backward is a kernel, not a composition of differentiable ops, so a second derivative
    // through it would silently come out as zero: refuse create_graph instead.
    if (GradMode::is_enabled())
      fail<NotImplementedError>(name(), "double backward (create_graph=True) through convolution is not implemented");
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
  std::string name() const override { return "ConvolutionBackward0"; }
};

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
  const int64_t spatial_dims = static_cast<int64_t>(stride.size());
  TG_CHECK(input.dim() == spatial_dims + 1 || input.dim() == spatial_dims + 2, op, "Expected ", spatial_dims + 1,
           "D (unbatched) or ", spatial_dims + 2, "D (batched) input to ", op, ", but got input of size: ",
           input.sizes());
  const ConvShape shape{spatial_dims, input.dim() == spatial_dims + 2};
  const ConvGeometry g =
      geometry_of(input, weight, bias, shape, stride, padding_kind, padding, dilation, groups, op);

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

}  // namespace tg
