#include "tapegrad/ops/sort.h"

#include "tapegrad/autograd/grad_mode.h"
#include "tapegrad/autograd/node.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/kernels/backend.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/creation.h"
#include "tapegrad/ops/index.h"
#include "tapegrad/ops/shape.h"
#include "tapegrad/ops/view.h"

namespace tg {

namespace {

// sort and topk: each value's gradient goes back to the place it came from.
struct SelectedValuesBackward final : Node {
  enum Slot { Indices };
  int64_t dim;
  DimVector input_sizes;
  const char* node_name;
  SelectedValuesBackward(int64_t d, DimVector sizes, const char* name)
      : dim(d), input_sizes(std::move(sizes)), node_name(name) {}
  TensorList apply(TensorList&& grads) override {
    const Tensor& grad = grads[0];
    return {scatter(zeros(input_sizes, grad.dtype(), grad.device()), dim, saved(Indices), grad)};
  }
  std::string name() const override { return node_name; }
};

ValuesIndices sort_or_topk(const Tensor& self, int64_t k, int64_t dim, bool descending, bool partial,
                           const char* op, const char* node_name) {
  dim = wrap_dim(dim, self.dim(), op);
  // A 0-dim tensor sorts as one element.
  const Tensor input = self.dim() == 0 ? reshape(self, {1}) : self;
  DimVector sizes = input.sizes();
  sizes[dim] = k;
  ValuesIndices result{Tensor::empty(sizes, self.dtype(), self.device(), op),
                       Tensor::empty(sizes, DType::Int64, self.device(), op)};
  if (partial) kernels::backend(op, result.values, input)->topk(result.values, result.indices, input, k, dim, descending);
  else kernels::backend(op, result.values, input)->sort(result.values, result.indices, input, dim, descending);
  if (self.dim() == 0) {
    result.values = reshape(result.values, {});
    result.indices = reshape(result.indices, {});
  }
  if (needs_grad(self)) {
    auto node = make_node<SelectedValuesBackward>(dim, self.sizes(), node_name);
    node->save(SelectedValuesBackward::Indices, result.indices);
    node->connect({&self}, {&result.values});
  }
  return result;
}

// cumsum: each input element feeds every later output, so its gradient is the reversed running
// sum of the gradient.
struct CumsumBackward0 final : Node {
  int64_t dim;
  DType input_dtype;
  CumsumBackward0(int64_t d, DType dtype) : dim(d), input_dtype(dtype) {}
  TensorList apply(TensorList&& grads) override {
    const Tensor& grad = grads[0];
    if (grad.dim() == 0) return {to_dtype(grad, input_dtype)};
    return {to_dtype(flip(cumsum(flip(grad, {dim}), dim), {dim}), input_dtype)};
  }
  std::string name() const override { return "CumsumBackward0"; }
};

struct CumprodBackward0 final : Node {
  enum Slot { Input };
  int64_t dim;
  DType input_dtype;
  CumprodBackward0(int64_t d, DType dtype) : dim(d), input_dtype(dtype) {}
  TensorList apply(TensorList&& grads) override {
    // The backward is a kernel (the one formula exact where the input holds zeros), not a
    // composition of differentiable ops: refuse create_graph rather than give a zero second
    // derivative.
    if (GradMode::is_enabled())
      fail<NotImplementedError>(name(), "double backward (create_graph=True) through cumprod is not implemented");
    const Tensor input = saved(Input);
    const Tensor grad = to_dtype(grads[0], input.dtype());
    if (input.dim() == 0) return {to_dtype(grad, input_dtype)};
    Tensor grad_input = Tensor::empty(input.sizes(), input.dtype(), input.device(), "cumprod_backward");
    kernels::backend("cumprod_backward", grad_input, grad, input)->cumprod_backward(grad_input, grad, input, dim);
    return {to_dtype(grad_input, input_dtype)};
  }
  std::string name() const override { return "CumprodBackward0"; }
};

Tensor cumulative(kernels::ReduceOp op, const Tensor& self, int64_t dim, std::optional<DType> dtype,
                  const char* name) {
  dim = wrap_dim(dim, self.dim(), name);
  const DType out_dtype = dtype ? *dtype : (is_floating(self.dtype()) ? self.dtype() : DType::Int64);
  const Tensor input = self.dim() == 0 ? reshape(self, {1}) : self;
  Tensor out = Tensor::empty(input.sizes(), out_dtype, self.device(), name);
  kernels::backend(name, out, input)->cumulative(op, out, input, dim);
  if (self.dim() == 0) out = reshape(out, {});
  if (needs_grad(self)) {
    TG_CHECK(is_floating(out_dtype), name, "the result of a differentiable input must be floating, got dtype ",
             dtype_name(out_dtype));
    if (op == kernels::ReduceOp::Sum) {
      make_node<CumsumBackward0>(dim, self.dtype())->connect({&self}, {&out});
    } else {
      auto node = make_node<CumprodBackward0>(dim, self.dtype());
      {
        NoGradGuard no_grad;
        node->save(CumprodBackward0::Input, to_dtype(self, out_dtype));
      }
      node->connect({&self}, {&out});
    }
  }
  return out;
}

}  // namespace

ValuesIndices sort(const Tensor& self, int64_t dim, bool descending) {
  const int64_t wrapped = wrap_dim(dim, self.dim(), "sort");
  const int64_t size = self.dim() == 0 ? 1 : self.sizes()[wrapped];
  return sort_or_topk(self, size, wrapped, descending, false, "sort", "SortBackward0");
}

Tensor argsort(const Tensor& self, int64_t dim, bool descending) {
  NoGradGuard no_grad;
  return sort(self, dim, descending).indices;
}

ValuesIndices topk(const Tensor& self, int64_t k, int64_t dim, bool largest) {
  TG_CHECK(self.dtype() != DType::Bool, "topk", "not implemented for dtype bool");
  const int64_t wrapped = wrap_dim(dim, self.dim(), "topk");
  const int64_t size = self.dim() == 0 ? 1 : self.sizes()[wrapped];
  TG_CHECK(k >= 0 && k <= size, "topk", "selected index k out of range: k = ", k, " for dimension ", wrapped,
                 " of size ", size, " (input shape ", self.sizes(), ")");
  return sort_or_topk(self, k, wrapped, largest, true, "topk", "TopkBackward0");
}

Tensor cumsum(const Tensor& self, int64_t dim, std::optional<DType> dtype) {
  return cumulative(kernels::ReduceOp::Sum, self, dim, dtype, "cumsum");
}

Tensor cumprod(const Tensor& self, int64_t dim, std::optional<DType> dtype) {
  return cumulative(kernels::ReduceOp::Prod, self, dim, dtype, "cumprod");
}

}  // namespace tg
