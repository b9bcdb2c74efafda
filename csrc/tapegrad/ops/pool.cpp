#include "tapegrad/ops/pool.h"

#include <algorithm>
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

using kernels::PoolAxis;
using kernels::PoolWindows;

// The user's input seen as (N, C, H, W): 1-D pooling gains a size-1 height, an unbatched input a
// size-1 batch, as views.
struct PoolShape {
  int64_t spatial_dims;
  bool batched;
  Tensor input_4d(const Tensor& input) const {
    Tensor result = batched ? input : unsqueeze(input, 0);
    return spatial_dims == 1 ? unsqueeze(result, 2) : result;
  }
};

PoolShape pool_shape(const Tensor& input, int64_t spatial_dims, const char* op) {
  TG_CHECK(input.dim() == spatial_dims + 1 || input.dim() == spatial_dims + 2, op, "Expected ", spatial_dims + 1,
           "D or ", spatial_dims + 2, "D input, but got input of size: ", input.sizes());
  TG_CHECK_TYPE(is_floating(input.dtype()), op, "not implemented for dtype ", dtype_name(input.dtype()));
  const bool batched = input.dim() == spatial_dims + 2;
  for (int64_t d = batched ? 1 : 0; d < input.dim(); ++d)
    TG_CHECK(input.size(d) > 0, op, "Expected input's non-batch dimensions to have positive length, but input has "
             "a shape of ", input.sizes());
  return {spatial_dims, batched};
}

struct PoolBackward final : Node {
  enum Slot { Indices };
  PoolKind kind;
  PoolWindows windows;
  DimVector input_sizes, input_4d_sizes;
  const char* node_name;
  PoolBackward(PoolKind k, PoolWindows w, DimVector sizes, DimVector sizes_4d, const char* name)
      : kind(k), windows(std::move(w)), input_sizes(std::move(sizes)), input_4d_sizes(std::move(sizes_4d)),
        node_name(name) {}

  TensorList apply(TensorList&& grads) override {
    // The backward is a kernel, not a composition of differentiable ops, so a second derivative
    // through it would silently come out as zero: refuse create_graph instead.
    if (GradMode::is_enabled())
      fail<NotImplementedError>(name(), "double backward (create_graph=True) through pooling is not implemented");
    const Tensor indices = kind == PoolKind::Max ? saved(Indices) : Tensor();
    const Tensor grad = contiguous(grads[0]);
    Tensor grad_input = Tensor::empty(input_4d_sizes, grad.dtype(), grad.device(), node_name);
    kernels::backend(node_name, grad_input, grad, indices)
        ->pool2d_backward(kind, grad_input, grad, indices, windows);
    return {view(grad_input, input_sizes)};
  }
  std::string name() const override { return node_name; }
};

std::pair<Tensor, Tensor> run_pool(PoolKind kind, const Tensor& input, const PoolShape& shape, PoolWindows windows,
                                   const char* op, const char* node_name) {
  DimVector out_sizes(input.sizes().begin(), input.sizes().end() - shape.spatial_dims);
  if (shape.spatial_dims == 2) out_sizes.push_back(windows.rows.size());
  out_sizes.push_back(windows.columns.size());
  Tensor out = Tensor::empty(out_sizes, input.dtype(), input.device(), op);
  Tensor indices = kind == PoolKind::Max ? Tensor::empty(out_sizes, DType::Int64, input.device(), op) : Tensor();
  Tensor input_4d;
  {
    NoGradGuard no_grad;  // the views are this op's plumbing, not graph nodes
    input_4d = shape.input_4d(input);
    const DimVector out_4d{input_4d.size(0), input_4d.size(1), windows.rows.size(), windows.columns.size()};
    kernels::backend(op, out, input_4d, indices)
        ->pool2d(kind, view(out, out_4d), indices.defined() ? view(indices, out_4d) : indices, input_4d, windows);
  }
  if (needs_grad(input)) {
    auto node = make_node<PoolBackward>(kind, std::move(windows), input.sizes(), input_4d.sizes(), node_name);
    if (indices.defined()) node->save(PoolBackward::Indices, indices);
    node->connect({&input}, {&out});
  }
  return {out, indices};
}

// A dim of no pooling: one window over its one element (1-D pooling's height).
PoolAxis single_axis() { return PoolAxis{{0}, {1}, {1}, 1}; }

std::string list_text(const std::vector<int64_t>& values) {
  std::string text;
  for (int64_t value : values) text += (text.empty() ? "" : ", ") + std::to_string(value);
  return "(" + text + ")";
}

}  // namespace

std::pair<Tensor, Tensor> pool(PoolKind kind, const Tensor& input, const PoolOptions& options, const char* op) {
  const auto spatial = static_cast<int64_t>(options.kernel_size.size());
  const PoolShape shape = pool_shape(input, spatial, op);
  const auto& k = options.kernel_size;
  const auto& s = options.stride;
  const auto& p = options.padding;
  const auto& d = options.dilation;
  std::vector<PoolAxis> axes;
  for (int64_t dim = 0; dim < spatial; ++dim) {
    TG_CHECK(k[dim] > 0, op, "kernel_size should be greater than zero, but got kernel_size=", list_text(k));
    TG_CHECK(s[dim] > 0, op, "stride should be greater than zero, but got stride=", list_text(s));
    TG_CHECK(d[dim] > 0, op, "dilation should be greater than zero, but got dilation=", list_text(d));
    TG_CHECK(p[dim] >= 0 && p[dim] <= (d[dim] * (k[dim] - 1) + 1) / 2, op,
             "pad should be at most half of effective kernel size, but got pad=", list_text(p), ", kernel_size=",
             list_text(k), " and dilation=", list_text(d));
    const int64_t size = input.size(input.dim() - spatial + dim);
    const int64_t extent = d[dim] * (k[dim] - 1) + 1, span = size + 2 * p[dim] - extent;
    int64_t out = (span < 0 ? -1 : (span + (options.ceil_mode ? s[dim] - 1 : 0)) / s[dim]) + 1;
    // ceil_mode: the last window must start inside the input or its left padding, as in PyTorch.
    if (options.ceil_mode && out > 0 && (out - 1) * s[dim] >= size + p[dim]) --out;
    TG_CHECK(out > 0, op, "Given input size: ", input.sizes(), ", kernel_size=", list_text(k), ", stride=",
             list_text(s), ", padding=", list_text(p), ", dilation=", list_text(d),
             ": calculated output size is ", out, ". Output size is too small");
    PoolAxis axis;
    axis.step = d[dim];
    for (int64_t o = 0; o < out; ++o) {
      const int64_t start = o * s[dim] - p[dim];
      // Averages count padding up to size + padding (PyTorch's pool_size), not past it.
      axis.divisor_extent.push_back(std::min(start + extent, size + p[dim]) - start);
      // The first tap at or after 0 and the taps before size, on the dilation's grid.
      const int64_t skip = start < 0 ? (-start + d[dim] - 1) / d[dim] : 0;
      const int64_t first = start + skip * d[dim];
      const int64_t last = std::min(start + extent, size);  // exclusive
      axis.first.push_back(first);
      axis.count.push_back(last > first ? (last - first + d[dim] - 1) / d[dim] : 0);
    }
    axes.push_back(std::move(axis));
  }
  PoolWindows windows{spatial == 2 ? axes[0] : single_axis(), axes.back(), options.count_include_pad,
                      options.divisor_override};
  const char* node_name = kind == PoolKind::Max ? (spatial == 2 ? "MaxPool2DWithIndicesBackward0"
                                                                : "MaxPool1DWithIndicesBackward0")
                                                : (spatial == 2 ? "AvgPool2DBackward0" : "AvgPool1DBackward0");
  return run_pool(kind, input, shape, std::move(windows), op, node_name);
}

std::pair<Tensor, Tensor> adaptive_pool(PoolKind kind, const Tensor& input, const std::vector<int64_t>& output_size,
                                        const char* op) {
  const auto spatial = static_cast<int64_t>(output_size.size());
  const PoolShape shape = pool_shape(input, spatial, op);
  std::vector<PoolAxis> axes;
  for (int64_t dim = 0; dim < spatial; ++dim) {
    const int64_t out = output_size[dim], size = input.size(input.dim() - spatial + dim);
    TG_CHECK(out >= 0, op, "output_size must be non-negative, got ", list_text(output_size));
    PoolAxis axis;
    for (int64_t o = 0; o < out; ++o) {
      const int64_t start = o * size / out, end = ((o + 1) * size + out - 1) / out;
      axis.first.push_back(start);
      axis.count.push_back(end - start);
      axis.divisor_extent.push_back(end - start);
    }
    axes.push_back(std::move(axis));
  }
  PoolWindows windows{spatial == 2 ? axes[0] : single_axis(), axes.back(), true, 0};
  const char* node_name = kind == PoolKind::Max ? (spatial == 2 ? "AdaptiveMaxPool2DBackward0"
                                                                : "AdaptiveMaxPool1DBackward0")
                                                : (spatial == 2 ? "AdaptiveAvgPool2DBackward0"
                                                                : "AdaptiveAvgPool1DBackward0");
  return run_pool(kind, input, shape, std::move(windows), op, node_name);
}

}  // namespace tg
