#include "tapegrad/ops/normalization.h"

#include <cstdint>
#include <string>
#include <utility>

#include "tapegrad/autograd/grad_mode.h"
#include "tapegrad/autograd/node.h"
#include "tapegrad/kernels/backend.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/elementwise.h"
#include "tapegrad/ops/view.h"

namespace tg {

namespace {

using kernels::RowNormGeometry;

// The backward nodes are kernels, not compositions of differentiable ops, so a second derivative
// through them would silently come out as zero: refuse create_graph instead.
void refuse_double_backward(const Node& node, const char* what) {
  if (GradMode::is_enabled())
    fail<NotImplementedError>(node.name(), "double backward (create_graph=True) through ", what,
                              " is not implemented");
}

// Batch norm's input as the kernel's 4-D (batch, channels, h, w): (N, C) and (N, C, L) gain size-1
// dims as views (any strides survive); more than two spatial dims are flattened into one.
Tensor batch_norm_4d(const Tensor& input) {
  if (input.dim() == 2) return unsqueeze(unsqueeze(input, 2), 3);
  if (input.dim() == 3) return unsqueeze(input, 2);
  if (input.dim() == 4) return input;
  return reshape(input, {input.size(0), input.size(1), 1, -1});
}

void check_same_dtype(const Tensor& input, const Tensor& other, const char* name, const char* op) {
  TG_CHECK(!other.defined() || other.dtype() == input.dtype(), op, "expected ", name, " (",
           other.defined() ? dtype_name(other.dtype()) : "", ") to have the input's dtype (",
           dtype_name(input.dtype()), ")");
}

void check_floating(const Tensor& input, const char* op) {
  TG_CHECK_TYPE(is_floating(input.dtype()), op, "not implemented for dtype ", dtype_name(input.dtype()));
}

Tensor contiguous_or_none(const Tensor& tensor) { return tensor.defined() ? contiguous(tensor) : tensor; }

Tensor empty_if(bool wanted, const DimVector& sizes, const Tensor& like, const char* op) {
  return wanted ? Tensor::empty(sizes, like.dtype(), like.device(), op) : Tensor();
}

struct NativeBatchNormBackward0 final : Node {
  enum Slot { Input, Weight, Mean, Invstd };
  bool training;
  explicit NativeBatchNormBackward0(bool t) : training(t) {}

  TensorList apply(TensorList&& grads) override {
    refuse_double_backward(*this, "batch norm");
    const Tensor input = saved(Input), weight = saved(Weight), mean = saved(Mean), invstd = saved(Invstd);
    const Tensor input_4d = batch_norm_4d(input);
    const Tensor grad = view(contiguous(grads[0]), input_4d.sizes());
    const DimVector channels{input.size(1)};
    Tensor grad_input = empty_if(needs_input_grad(0), input_4d.sizes(), input, "batch_norm");
    Tensor grad_weight = empty_if(needs_input_grad(1), channels, input, "batch_norm");
    Tensor grad_bias = empty_if(needs_input_grad(2), channels, input, "batch_norm");
    kernels::backend("batch_norm_backward", grad, grad_input, grad_weight, grad_bias, input_4d, weight)
        ->batch_norm_backward(grad_input, grad_weight, grad_bias, grad, input_4d, weight, mean, invstd, training);
    if (grad_input.defined()) grad_input = view(grad_input, input.sizes());
    return {grad_input, grad_weight, grad_bias};
  }
  std::string name() const override { return "NativeBatchNormBackward0"; }
};

// Layer and group norm share their kernels and so their node; only the name differs.
struct RowNormBackward final : Node {
  enum Slot { Input, Weight, Mean, Rstd };
  RowNormGeometry geometry;
  DimVector weight_sizes;
  bool is_group_norm;
  RowNormBackward(RowNormGeometry g, DimVector sizes, bool group)
      : geometry(g), weight_sizes(std::move(sizes)), is_group_norm(group) {}

  TensorList apply(TensorList&& grads) override {
    refuse_double_backward(*this, is_group_norm ? "group norm" : "layer norm");
    const Tensor input = saved(Input), weight = saved(Weight), mean = saved(Mean), rstd = saved(Rstd);
    const char* op = is_group_norm ? "group_norm_backward" : "layer_norm_backward";
    const Tensor grad = contiguous(grads[0]);
    const DimVector affine{geometry.affine_channels()};
    Tensor grad_input = empty_if(needs_input_grad(0), input.sizes(), input, op);
    Tensor grad_weight = empty_if(needs_input_grad(1), affine, input, op);
    Tensor grad_bias = empty_if(needs_input_grad(2), affine, input, op);
    kernels::backend(op, grad, grad_input, grad_weight, grad_bias, input, weight)
        ->row_norm_backward(grad_input, grad_weight, grad_bias, grad, input, weight, mean, rstd, geometry);
    if (grad_weight.defined()) grad_weight = view(grad_weight, weight_sizes);
    if (grad_bias.defined()) grad_bias = view(grad_bias, weight_sizes);
    return {grad_input, grad_weight, grad_bias};
  }
  std::string name() const override {
    return is_group_norm ? "NativeGroupNormBackward0" : "NativeLayerNormBackward0";
  }
};

// Runs the row-norm kernel on input (checked by the caller) and records its node.
Tensor row_norm(const Tensor& input, const Tensor& weight, const Tensor& bias, const RowNormGeometry& geometry,
                double eps, bool is_group_norm) {
  const char* op = is_group_norm ? "group_norm" : "layer_norm";
  Tensor out = Tensor::empty(input.sizes(), input.dtype(), input.device(), op);
  Tensor dense_input, dense_weight, mean, rstd;
  {
    NoGradGuard no_grad;  // the copies below are this op's plumbing, not graph nodes
    dense_input = contiguous(input);
    dense_weight = contiguous_or_none(weight);
    const Tensor dense_bias = contiguous_or_none(bias);
    mean = Tensor::empty({geometry.rows}, input.dtype(), input.device(), op);
    rstd = Tensor::empty({geometry.rows}, input.dtype(), input.device(), op);
    kernels::backend(op, out, dense_input, dense_weight, dense_bias)
        ->row_norm(out, mean, rstd, dense_input, dense_weight, dense_bias, geometry, eps);
  }
  if (any_needs_grad({input, weight, bias})) {
    const DimVector affine_sizes = weight.defined() ? weight.sizes() : bias.defined() ? bias.sizes() : DimVector();
    auto node = make_node<RowNormBackward>(geometry, affine_sizes, is_group_norm);
    // The dense copy is what backward reads; it is the input itself when that was contiguous.
    node->save(RowNormBackward::Input, dense_input);
    node->save(RowNormBackward::Weight, dense_weight);
    node->save(RowNormBackward::Mean, mean);
    node->save(RowNormBackward::Rstd, rstd);
    node->connect({&input, &weight, &bias}, {&out});
  }
  return out;
}

}  // namespace

Tensor batch_norm(const Tensor& input, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum, double eps) {
  const char* op = "batch_norm";
  TG_CHECK(input.dim() >= 2, op, "expected an input of 2 or more dims (batch, channels, *), got shape ",
           input.sizes());
  check_floating(input, op);
  const int64_t channels = input.size(1);
  const std::pair<const Tensor*, const char*> per_channel[] = {
      {&running_mean, "running_mean"}, {&running_var, "running_var"}, {&weight, "weight"}, {&bias, "bias"}};
  for (const auto& [tensor, name] : per_channel) {
    check_same_dtype(input, *tensor, name, op);
    TG_CHECK(!tensor->defined() || tensor->numel() == channels, op, name, " should contain ", channels,
             " elements not ", tensor->numel(), " (input of shape ", input.sizes(), ")");
  }
  TG_CHECK(training || (running_mean.defined() && running_var.defined()), op,
           "running_mean and running_var must be defined in evaluation mode");

  Tensor out = Tensor::empty(input.sizes(), input.dtype(), input.device(), op);
  const DimVector channel_sizes{channels};
  Tensor mean, invstd, dense_weight;
  {
    NoGradGuard no_grad;  // the views, copies and running-statistics updates are not graph nodes
    const Tensor input_4d = batch_norm_4d(input);
    dense_weight = contiguous_or_none(weight);
    const Tensor dense_bias = contiguous_or_none(bias);
    Tensor variance;
    if (training) {
      mean = Tensor::empty(channel_sizes, input.dtype(), input.device(), op);
      invstd = Tensor::empty(channel_sizes, input.dtype(), input.device(), op);
      if (running_var.defined()) variance = Tensor::empty(channel_sizes, input.dtype(), input.device(), op);
    } else {
      mean = clone(reshape(running_mean, channel_sizes));
      invstd = rsqrt(add(reshape(running_var, channel_sizes), Scalar(eps)));
    }
    kernels::backend(op, out, input_4d, dense_weight, dense_bias, mean, invstd)
        ->batch_norm(view(out, input_4d.sizes()), mean, invstd, variance, input_4d, dense_weight, dense_bias,
                     training, eps);
    // An empty batch has no statistics: the running ones stay as they are, as in PyTorch.
    if (training && input.numel() > 0) {
      if (running_mean.defined()) {
        Tensor running = running_mean;
        add_(mul_(running, Scalar(1.0 - momentum)), view(mean, running.sizes()), Scalar(momentum));
      }
      if (running_var.defined()) {
        const double count = static_cast<double>(input.numel() / channels);
        Tensor running = running_var;
        add_(mul_(running, Scalar(1.0 - momentum)), view(variance, running.sizes()),
             Scalar(momentum * count / (count - 1.0)));
      }
    }
  }
  if (any_needs_grad({input, weight, bias})) {
    auto node = make_node<NativeBatchNormBackward0>(training);
    node->save(NativeBatchNormBackward0::Input, input);
    node->save(NativeBatchNormBackward0::Weight, dense_weight);
    node->save(NativeBatchNormBackward0::Mean, mean);
    node->save(NativeBatchNormBackward0::Invstd, invstd);
    node->connect({&input, &weight, &bias}, {&out});
  }
  return out;
}

Tensor layer_norm(const Tensor& input, const DimVector& normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps) {
  const char* op = "layer_norm";
  const int64_t dims = static_cast<int64_t>(normalized_shape.size());
  TG_CHECK(dims >= 1, op, "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                          "element, but got normalized_shape = ", normalized_shape);
  TG_CHECK(!weight.defined() || weight.sizes() == normalized_shape, op,
           "Expected weight to be of same shape as normalized_shape, but got weight of shape ", weight.sizes(),
           " and normalized_shape = ", normalized_shape);
  TG_CHECK(!bias.defined() || bias.sizes() == normalized_shape, op,
           "Expected bias to be of same shape as normalized_shape, but got bias of shape ", bias.sizes(),
           " and normalized_shape = ", normalized_shape);
  bool matches = input.dim() >= dims;
  for (int64_t d = 0; matches && d < dims; ++d)
    matches = input.size(input.dim() - dims + d) == normalized_shape[static_cast<size_t>(d)];
  TG_CHECK(matches, op, "Given normalized_shape=", normalized_shape, ", expected input with shape (*, ",
           [&] {
             std::string text;
             for (int64_t size : normalized_shape) text += (text.empty() ? "" : ", ") + std::to_string(size);
             return text;
           }(),
           "), but got input of size ", input.sizes());
  check_floating(input, op);
  check_same_dtype(input, weight, "weight", op);
  check_same_dtype(input, bias, "bias", op);
  int64_t row_size = 1;
  for (int64_t size : normalized_shape) row_size *= size;
  const int64_t rows = row_size > 0 ? input.numel() / row_size : 0;
  return row_norm(input, weight, bias, RowNormGeometry{rows, 1, row_size, 1}, eps, /*is_group_norm=*/false);
}

Tensor group_norm(const Tensor& input, int64_t num_groups, const Tensor& weight, const Tensor& bias, double eps) {
  const char* op = "group_norm";
  TG_CHECK(input.dim() >= 2, op, "Expected at least 2 dimensions for input tensor but received ", input.dim());
  TG_CHECK(num_groups > 0, op, "Expected num_groups to be positive, got ", num_groups);
  const int64_t channels = input.size(1);
  TG_CHECK(channels % num_groups == 0, op,
           "Expected number of channels in input to be divisible by num_groups, but got input of shape ",
           input.sizes(), " and num_groups=", num_groups);
  TG_CHECK(!weight.defined() || (weight.dim() == 1 && weight.numel() == channels), op,
           "Expected weight to be a vector of size equal to the number of channels in input, but got weight of "
           "shape ", weight.sizes(), " and input of shape ", input.sizes());
  TG_CHECK(!bias.defined() || (bias.dim() == 1 && bias.numel() == channels), op,
           "Expected bias to be a vector of size equal to the number of channels in input, but got bias of "
           "shape ", bias.sizes(), " and input of shape ", input.sizes());
  check_floating(input, op);
  check_same_dtype(input, weight, "weight", op);
  check_same_dtype(input, bias, "bias", op);
  int64_t inner = 1;
  for (int64_t d = 2; d < input.dim(); ++d) inner *= input.size(d);
  const RowNormGeometry geometry{input.size(0) * num_groups, num_groups, channels / num_groups, inner};
  return row_norm(input, weight, bias, geometry, eps, /*is_group_norm=*/true);
}

}  // namespace tg
