#include "tapegrad/ops/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "tapegrad/autograd/node.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/kernels/backend.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/creation.h"
#include "tapegrad/ops/compare.h"
#include "tapegrad/ops/elementwise.h"
#include "tapegrad/ops/index.h"
#include "tapegrad/ops/view.h"

namespace tg {

using kernels::ReduceOp;

namespace {

// The output shape of a reduction with or without keepdim.
DimVector reduced_shape(const DimVector& sizes, const std::vector<bool>& reduced, bool keepdim) {
  DimVector shape;
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (!reduced[d]) shape.push_back(sizes[d]);
    else if (keepdim) shape.push_back(1);
  }
  return shape;
}

int64_t reduced_count(const DimVector& sizes, const std::vector<bool>& reduced) {
  int64_t count = 1;
  for (size_t d = 0; d < sizes.size(); ++d)
    if (reduced[d]) count *= sizes[d];
  return count;
}

// Runs the reduction kernel on `input` (already in the output dtype); records no history.
Tensor run_reduce(ReduceOp op, const Tensor& input, const std::vector<bool>& reduced, bool keepdim) {
  Tensor out = Tensor::empty(reduced_shape(input.sizes(), reduced, keepdim), input.dtype(), input.device());
  NoGradGuard no_grad;
  static const char* const names[] = {"sum", "prod", "max", "min"};
  static_assert(std::size(names) == static_cast<size_t>(ReduceOp::Min) + 1, "one name per ReduceOp, in order");
  kernels::backend(names[static_cast<int>(op)], out, input)->reduce(op, out, input, reduced);
  return out;
}

// max/min/amax/amin have no identity to return for an empty reduction.
void check_nonempty(const Tensor& self, const DimVector& dims, const std::vector<bool>& reduced, const char* op) {
  if (self.numel() > 0) return;
  TG_CHECK(!dims.empty(), op, "cannot reduce an empty tensor (input shape ", self.sizes(), ") without a dim");
  for (int64_t d = 0; d < self.dim(); ++d)
    TG_CHECK_INDEX(!reduced[d] || self.sizes()[d] != 0, op, "cannot reduce over dim ", d,
                   " of size 0 (input shape ", self.sizes(), "): the operation has no identity");
}

// A gradient of the reduced shape, broadcast back over the input's shape.
Tensor expand_grad(const Tensor& grad, const DimVector& kept_sizes, const DimVector& input_sizes) {
  return expand(reshape(grad, kept_sizes), input_sizes);
}

// sum and mean: the gradient broadcast back over the input (divided by the count, for mean).
struct SumBackward final : Node {
  DimVector input_sizes, kept_sizes;  // kept_sizes: the output shape with keepdim=True
  std::optional<double> count;        // mean's
  const char* node_name;
  SumBackward(DimVector in, DimVector kept, std::optional<double> n, const char* name)
      : input_sizes(std::move(in)), kept_sizes(std::move(kept)), count(n), node_name(name) {}
  TensorList apply(TensorList&& grads) override {
    return {expand_grad(count ? div(grads[0], Scalar(*count)) : grads[0], kept_sizes, input_sizes)};
  }
  std::string name() const override { return node_name; }
};

// prod_{j != i} x_j along the last dim, as an exclusive prefix product times an exclusive suffix
// product. Each is an inclusive scan of x shifted by one place, done as log2(n) multiplications by
// a shifted copy of itself (Hillis-Steele). Built from tapegrad ops and with no division, it is
// exact where x holds zeros and differentiable to any order (PyTorch's prod_safe_zeros_backward,
// with cumprod spelled out).
Tensor products_of_others(const Tensor& x) {
  const int64_t n = x.size(-1);
  DimVector block_sizes = x.sizes();
  // p moved `shift` places along the last dim, towards the end (prefix) or the start (suffix),
  // the vacated places holding ones.
  const auto shifted = [&](const Tensor& p, int64_t shift, bool towards_end) {
    block_sizes[block_sizes.size() - 1] = shift;
    const Tensor ones_block = ones(block_sizes, x.dtype(), x.device());
    return towards_end ? cat({ones_block, narrow(p, -1, 0, n - shift)}, -1)
                       : cat({narrow(p, -1, shift, n - shift), ones_block}, -1);
  };
  Tensor prefix = shifted(x, 1, true), suffix = shifted(x, 1, false);
  for (int64_t shift = 1; shift < n; shift *= 2) {
    prefix = mul(prefix, shifted(prefix, shift, true));
    suffix = mul(suffix, shifted(suffix, shift, false));
  }
  return mul(prefix, suffix);
}

// d prod / d x_i is the product of the other elements of x_i's slice: result / x_i when x holds no
// zero (PyTorch's fast path), else computed without dividing (products_of_others over the reduced
// dims moved last and merged).
struct ProdBackward final : Node {
  enum Slot { Input, Result };
  DimVector dims;
  DimVector kept_sizes;
  TensorList apply(TensorList&& grads) override {
    const Tensor x = saved(Input);
    const Tensor grad = reshape(grads[0], kept_sizes);
    if (x.dim() == 0) return {grad};
    bool has_zero = false;
    {
      NoGradGuard no_grad;
      has_zero = *any(compare(Comparison::Eq, x, Scalar(0))).data_ptr<bool>();
    }
    if (!has_zero) return {mul(grad, div(reshape(saved(Result), kept_sizes), x))};
    // The reduced dims moved last (permute by `order`) and merged into one.
    const std::vector<bool> reduced = dims_to_mask(dims, x.dim(), "prod");
    DimVector order, merged_sizes;
    for (bool is_reduced : {false, true})
      for (int64_t d = 0; d < x.dim(); ++d)
        if (reduced[d] == is_reduced) order.push_back(d);
    for (int64_t d = 0; d < x.dim(); ++d)
      if (!reduced[d]) merged_sizes.push_back(x.sizes()[d]);
    merged_sizes.push_back(reduced_count(x.sizes(), reduced));
    const Tensor moved = permute(x, order);
    DimVector inverse(order.size());
    for (size_t i = 0; i < order.size(); ++i) inverse[order[i]] = static_cast<int64_t>(i);
    const Tensor others = products_of_others(reshape(moved, merged_sizes));
    return {mul(grad, permute(reshape(others, moved.sizes()), inverse))};
  }
  std::string name() const override { return dims.empty() ? "ProdBackward0" : "ProdBackward1"; }
};

// amax/amin and the full max/min: the gradient is split evenly between the elements equal to
// the result (PyTorch's rule), so it stays symmetric under ties. For a NaN result the full max/min
// count the NaNs as equal to it (PyTorch's gradient goes to them); amax/amin do not, so their
// gradient is NaN there (0 / 0), as PyTorch's is.
struct ExtremeBackward final : Node {
  enum Slot { Input, Result };  // result as returned (it is reshaped to kept_sizes here)
  DimVector dims, kept_sizes;
  std::string node_name;
  bool nan_is_equal = false;
  TensorList apply(TensorList&& grads) override {
    const Tensor x = saved(Input), out = reshape(saved(Result), kept_sizes);
    Tensor equal = compare(Comparison::Eq, x, out);
    if (nan_is_equal) equal = where(compare(Comparison::Ne, out, out), compare(Comparison::Ne, x, x), equal);
    const Tensor mask = to_dtype(equal, x.dtype());
    const Tensor share = div(mask, sum(mask, dims, /*keepdim=*/true));
    return {mul(reshape(grads[0], kept_sizes), share)};
  }
  std::string name() const override { return node_name; }
};

// max(dim)/min(dim): the gradient goes to the returned index only.
struct IndexedExtremeBackward final : Node {
  enum Slot { Indices };  // with keepdim
  DimVector input_sizes, kept_sizes;
  int64_t dim = 0;
  bool is_max = true;
  TensorList apply(TensorList&& grads) override {
    const Tensor index = saved(Indices);
    DimVector position_shape(input_sizes.size(), 1);
    if (!input_sizes.empty()) position_shape[dim] = input_sizes[dim];
    const int64_t size = input_sizes.empty() ? 1 : input_sizes[dim];
    const Tensor positions = reshape(arange(Scalar(int64_t(0)), Scalar(size), Scalar(int64_t(1)), DType::Int64), position_shape);
    const Tensor chosen = compare(Comparison::Eq, positions, index);
    return {where(chosen, reshape(grads[0], kept_sizes), Scalar(0))};
  }
  std::string name() const override { return is_max ? "MaxBackward0" : "MinBackward0"; }
};

Tensor extreme(const Tensor& self, const DimVector& dims, bool keepdim, bool is_max, const char* op, const char* node_name,
               bool nan_is_equal = false) {
  const std::vector<bool> reduced = dims_to_mask(dims, self.dim(), op);
  check_nonempty(self, dims, reduced, op);
  Tensor out = run_reduce(is_max ? ReduceOp::Max : ReduceOp::Min, self, reduced, keepdim);
  if (needs_grad(self)) {
    auto node = make_node<ExtremeBackward>();
    node->dims = dims;
    node->kept_sizes = reduced_shape(self.sizes(), reduced, true);
    node->node_name = node_name;
    node->nan_is_equal = nan_is_equal;
    node->save(ExtremeBackward::Input, self);
    node->connect({&self}, {&out});
    node->save(ExtremeBackward::Result, out, /*is_output=*/true);
  }
  return out;
}

ValuesIndices indexed_extreme(const Tensor& self, int64_t dim, bool keepdim, bool is_max) {
  const char* op = is_max ? "max" : "min";
  dim = wrap_dim(dim, self.dim(), op);
  TG_CHECK_INDEX(self.dim() == 0 || self.sizes()[dim] > 0, op, "cannot reduce over dim ", dim,
                 " of size 0 (input shape ", self.sizes(), ")");
  DimVector kept = self.sizes();
  if (self.dim() > 0) kept[dim] = 1;
  Tensor values = Tensor::empty(kept, self.dtype(), self.device());
  Tensor indices = Tensor::empty(kept, DType::Int64, self.device());
  {
    NoGradGuard no_grad;
    kernels::backend(is_max ? "max" : "min", values, indices, self)->arg_reduce(is_max, values, indices, self, dim);
  }
  const Tensor kept_indices = indices;
  if (!keepdim && self.dim() > 0) {
    DimVector shape = self.sizes();
    shape.erase(static_cast<size_t>(dim));
    values = reshape(values, shape);
    indices = reshape(indices, shape);
  }
  if (needs_grad(self)) {
    auto node = make_node<IndexedExtremeBackward>();
    node->input_sizes = self.sizes();
    node->kept_sizes = kept;
    node->dim = dim;
    node->is_max = is_max;
    node->save(IndexedExtremeBackward::Indices, kept_indices);
    node->connect({&self}, {&values});
  }
  return {values, indices};
}

Tensor arg_extreme(const Tensor& self, std::optional<int64_t> dim, bool keepdim, bool is_max) {
  const char* op = is_max ? "argmax" : "argmin";
  TG_CHECK(self.dtype() != DType::Bool, op, "does not support bool input");
  if (!dim) {
    TG_CHECK_INDEX(self.numel() > 0, op, "cannot reduce an empty tensor (input shape ", self.sizes(),
                   ") without a dim");
    Tensor index = indexed_extreme(reshape(self.detach(), {self.numel()}), 0, false, is_max).indices;
    return keepdim ? reshape(index, DimVector(self.dim(), 1)) : index;
  }
  wrap_dim(*dim, self.dim(), op);
  TG_CHECK_INDEX(self.dim() == 0 || self.size(*dim) > 0, op, "cannot reduce over dim ", *dim,
                 " of size 0 (input shape ", self.sizes(), ")");
  return indexed_extreme(self.detach(), *dim, keepdim, is_max).indices;
}

// count - correction <= 0 divides by zero, giving inf or nan as in PyTorch.
double variance_divisor(int64_t count, double correction) { return std::max(0.0, static_cast<double>(count) - correction); }

// The forward of var and std, recording nothing.
Tensor variance(const Tensor& self, const DimVector& dims, double correction, bool keepdim, const char* op) {
  TG_CHECK(is_floating(self.dtype()), op, "only floating-point inputs are supported, got ", dtype_name(self.dtype()));
  const int64_t count = reduced_count(self.sizes(), dims_to_mask(dims, self.dim(), op));
  NoGradGuard no_grad;
  // Two passes: subtracting the mean of the centered values removes the rounding error of the
  // first mean, so a constant slice has variance exactly 0 (as PyTorch's Welford gives).
  Tensor centered = sub(self, mean(self, dims, /*keepdim=*/true));
  centered = sub(centered, mean(centered, dims, /*keepdim=*/true));
  return div(sum(mul(centered, centered), dims, keepdim), Scalar(variance_divisor(count, correction)));
}

// d var = 2 (x - mean) / divisor. d std = d var / (2 std), taken as 0 where std is 0 (PyTorch's
// convention: a constant slice has no direction to move in).
struct VarianceBackward final : Node {
  enum Slot { Input, Result };  // result: std's, as returned (it is reshaped to kept_sizes here)
  DimVector dims, kept_sizes;
  double divisor = 1;
  bool is_std = false;
  TensorList apply(TensorList&& grads) override {
    const Tensor x = saved(Input);
    const Tensor centered = sub(x, mean(x, dims, /*keepdim=*/true));
    const Tensor grad = reshape(grads[0], kept_sizes);
    if (!is_std) return {mul(mul(grad, Scalar(2.0 / divisor)), centered)};
    const Tensor out = reshape(saved(Result), kept_sizes);
    const Tensor is_zero = compare(Comparison::Eq, out, Scalar(0));
    const Tensor scale = where(is_zero, Scalar(0.0), div(grad, mul(where(is_zero, Scalar(1.0), out), Scalar(divisor))));
    return {mul(scale, centered)};
  }
  std::string name() const override { return is_std ? "StdBackward0" : "VarBackward0"; }
};

Tensor variance_op(const Tensor& self, const DimVector& dims, double correction, bool keepdim, bool is_std) {
  const char* op = is_std ? "std" : "var";
  Tensor out = variance(self, dims, correction, keepdim, op);
  if (is_std) {
    NoGradGuard no_grad;
    out = sqrt(out);
  }
  if (needs_grad(self)) {
    const std::vector<bool> reduced = dims_to_mask(dims, self.dim(), op);
    auto node = make_node<VarianceBackward>();
    node->dims = dims;
    node->kept_sizes = reduced_shape(self.sizes(), reduced, true);
    node->divisor = variance_divisor(reduced_count(self.sizes(), reduced), correction);
    node->is_std = is_std;
    node->save(VarianceBackward::Input, self);
    node->connect({&self}, {&out});
    if (is_std) node->save(VarianceBackward::Result, out, /*is_output=*/true);
  }
  return out;
}

// d logsumexp = exp(x - result): the softmax of the slice.
struct LogsumexpBackward0 final : Node {
  enum Slot { Input, Result };  // result as returned (it is reshaped to kept_sizes here)
  DimVector kept_sizes;
  TensorList apply(TensorList&& grads) override {
    const Tensor x = saved(Input), out = reshape(saved(Result), kept_sizes);
    return {mul(reshape(grads[0], kept_sizes), exp(sub(x, out)))};
  }
  std::string name() const override { return "LogsumexpBackward0"; }
};

Tensor logical_reduce(const Tensor& self, const DimVector& dims, bool keepdim, ReduceOp op, const char* name) {
  const std::vector<bool> reduced = dims_to_mask(dims, self.dim(), name);
  return run_reduce(op, to_dtype(self.detach(), DType::Bool), reduced, keepdim);
}

}  // namespace

Tensor sum(const Tensor& self, const DimVector& dims, bool keepdim, std::optional<DType> dtype) {
  const DType out_dtype = dtype ? *dtype : is_floating(self.dtype()) ? self.dtype() : DType::Int64;
  const std::vector<bool> reduced = dims_to_mask(dims, self.dim(), "sum");
  Tensor out;
  {
    NoGradGuard no_grad;
    out = run_reduce(ReduceOp::Sum, to_dtype(self, out_dtype), reduced, keepdim);
  }
  if (needs_grad(self))
    make_node<SumBackward>(self.sizes(), reduced_shape(self.sizes(), reduced, true), std::nullopt,
                           dims.empty() ? "SumBackward0" : "SumBackward1")->connect({&self}, {&out});
  return out;
}

Tensor mean(const Tensor& self, const DimVector& dims, bool keepdim, std::optional<DType> dtype) {
  TG_CHECK(!dtype || is_floating(*dtype), "mean", "could not infer output dtype: dtype must be floating point, got ",
           dtype_name(dtype.value_or(DType::Float32)));
  TG_CHECK(dtype || is_floating(self.dtype()), "mean", "could not infer output dtype: input dtype must be floating "
           "point (or pass dtype=), got ", dtype_name(self.dtype()));
  // As PyTorch: dtype= converts the input first (differentiably), then the mean runs in it.
  if (dtype && *dtype != self.dtype()) return mean(to_dtype(self, *dtype), dims, keepdim);
  const std::vector<bool> reduced = dims_to_mask(dims, self.dim(), "mean");
  const double count = static_cast<double>(reduced_count(self.sizes(), reduced));
  Tensor out;
  {
    NoGradGuard no_grad;
    out = run_reduce(ReduceOp::Sum, self, reduced, keepdim);
    div_(out, Scalar(count));
  }
  if (needs_grad(self))
    make_node<SumBackward>(self.sizes(), reduced_shape(self.sizes(), reduced, true), count,
                           dims.empty() ? "MeanBackward0" : "MeanBackward1")->connect({&self}, {&out});
  return out;
}

Tensor prod(const Tensor& self, const DimVector& dims, bool keepdim, std::optional<DType> dtype) {
  const DType out_dtype = dtype ? *dtype : is_floating(self.dtype()) ? self.dtype() : DType::Int64;
  const std::vector<bool> reduced = dims_to_mask(dims, self.dim(), "prod");
  Tensor out;
  {
    NoGradGuard no_grad;
    out = run_reduce(ReduceOp::Prod, to_dtype(self, out_dtype), reduced, keepdim);
  }
  if (needs_grad(self)) {
    auto node = make_node<ProdBackward>();
    node->dims = dims;
    node->kept_sizes = reduced_shape(self.sizes(), reduced, true);
    node->save(ProdBackward::Input, self);
    node->connect({&self}, {&out});
    node->save(ProdBackward::Result, out, /*is_output=*/true);
  }
  return out;
}

Tensor amax(const Tensor& self, const DimVector& dims, bool keepdim) { return extreme(self, dims, keepdim, true, "amax", "AmaxBackward0"); }
Tensor amin(const Tensor& self, const DimVector& dims, bool keepdim) { return extreme(self, dims, keepdim, false, "amin", "AminBackward0"); }

Tensor max(const Tensor& self) { return extreme(self, {}, false, true, "max", "MaxBackward1", /*nan_is_equal=*/true); }
Tensor min(const Tensor& self) { return extreme(self, {}, false, false, "min", "MinBackward1", /*nan_is_equal=*/true); }

ValuesIndices max(const Tensor& self, int64_t dim, bool keepdim) { return indexed_extreme(self, dim, keepdim, true); }
ValuesIndices min(const Tensor& self, int64_t dim, bool keepdim) { return indexed_extreme(self, dim, keepdim, false); }

Tensor argmax(const Tensor& self, std::optional<int64_t> dim, bool keepdim) { return arg_extreme(self, dim, keepdim, true); }
Tensor argmin(const Tensor& self, std::optional<int64_t> dim, bool keepdim) { return arg_extreme(self, dim, keepdim, false); }

Tensor var(const Tensor& self, const DimVector& dims, double correction, bool keepdim) {
  return variance_op(self, dims, correction, keepdim, /*is_std=*/false);
}

Tensor std(const Tensor& self, const DimVector& dims, double correction, bool keepdim) {
  return variance_op(self, dims, correction, keepdim, /*is_std=*/true);
}

Tensor logsumexp(const Tensor& self, const DimVector& dims, bool keepdim) {
  const Tensor x = is_floating(self.dtype()) ? self : to_dtype(self, default_dtype());
  const std::vector<bool> reduced = dims_to_mask(dims, x.dim(), "logsumexp");
  Tensor out;
  {
    NoGradGuard no_grad;
    if (reduced_count(x.sizes(), reduced) == 0 || x.numel() == 0) {
      out = log(sum(exp(x), dims, keepdim));
    } else {
      // Shifted by the maximum; an infinite maximum is not subtracted, so rows of -inf give -inf
      // and rows holding +inf give +inf, not nan.
      Tensor shift = amax(x, dims, /*keepdim=*/true);
      const Scalar infinity(std::numeric_limits<double>::infinity());
      shift = where(compare(Comparison::Eq, abs(shift), infinity), Scalar(0.0), shift);
      out = add(log(sum(exp(sub(x, shift)), dims, keepdim)),
                keepdim ? shift : reshape(shift, reduced_shape(x.sizes(), reduced, false)));
    }
  }
  if (needs_grad(x)) {
    auto node = make_node<LogsumexpBackward0>();
    node->kept_sizes = reduced_shape(x.sizes(), reduced, true);
    node->save(LogsumexpBackward0::Input, x);
    node->connect({&x}, {&out});
    node->save(LogsumexpBackward0::Result, out, /*is_output=*/true);
  }
  return out;
}

Tensor all(const Tensor& self, const DimVector& dims, bool keepdim) { return logical_reduce(self, dims, keepdim, ReduceOp::Min, "all"); }
Tensor any(const Tensor& self, const DimVector& dims, bool keepdim) { return logical_reduce(self, dims, keepdim, ReduceOp::Max, "any"); }

Tensor sum_to(const Tensor& grad, const DimVector& shape) {
  if (grad.sizes() == shape) return grad;
  const int64_t leading = grad.dim() - static_cast<int64_t>(shape.size());
  DimVector dims;
  for (int64_t d = 0; d < grad.dim(); ++d)
    if (d < leading || (shape[d - leading] == 1 && grad.sizes()[d] != 1)) dims.push_back(d);
  if (dims.empty()) return reshape(grad, shape);
  return reshape(sum(grad, dims, /*keepdim=*/true), shape);
}

namespace {

// PyTorch's norm_backward: the gradient of each p-norm, zero where the norm is zero (p >= 1) and
// shared among the tied extremes for p = +-inf.
struct LinalgVectorNormBackward0 final : Node {
  enum Slot { Input, Result };
  double p;
  DimVector kept_sizes;
  LinalgVectorNormBackward0(double order, DimVector kept) : p(order), kept_sizes(std::move(kept)) {}
  TensorList apply(TensorList&& grads) override {
    const Tensor x = saved(Input);
    const Tensor result = reshape(saved(Result), kept_sizes);
    const Tensor grad = reshape(grads[0], kept_sizes);
    const Tensor zero_norm = compare(Comparison::Eq, result, Scalar(0));
    if (p == 0.0) return {zeros_like(x)};
    if (p == 1.0) return {mul(sign(x), grad)};
    if (p == 2.0) return {mul(grad, where(zero_norm, Scalar(0), div(x, result)))};
    if (std::isinf(p)) {
      const Tensor magnitude = abs(x);
      const Tensor extreme = to_dtype(where(compare(Comparison::Ne, magnitude, magnitude), Scalar(true),
                                            compare(Comparison::Eq, magnitude, result)), x.dtype());
      DimVector reduced;
      for (int64_t d = 0; d < x.dim(); ++d)
        if (kept_sizes[d] == 1 && x.sizes()[d] != 1) reduced.push_back(d);
      const Tensor count = reduced.empty() ? extreme : sum(extreme, reduced, /*keepdim=*/true);
      return {mul(sign(x), mul(div(grad, count), extreme))};
    }
    const Tensor magnitude = abs(x);
    if (p < 1.0) {
      const Tensor scaled = mul(sign(x), where(compare(Comparison::Eq, x, Scalar(0)), Scalar(0),
                                               pow(magnitude, Scalar(p - 1.0))));
      return {mul(mul(scaled, grad), pow(result, Scalar(1.0 - p)))};
    }
    const Tensor scaled = p < 2.0 ? mul(sign(x), pow(magnitude, Scalar(p - 1.0))) : mul(x, pow(magnitude, Scalar(p - 2.0)));
    return {mul(scaled, where(zero_norm, Scalar(0), div(grad, pow(result, Scalar(p - 1.0)))))};
  }
  std::string name() const override { return "LinalgVectorNormBackward0"; }
};

}  // namespace

Tensor norm(const Tensor& self, double p, const DimVector& dims, bool keepdim) {
  TG_CHECK(is_floating(self.dtype()), "norm", "expected a floating point tensor as input, got ",
                dtype_name(self.dtype()));
  const std::vector<bool> reduced = dims_to_mask(dims, self.dim(), "norm");
  Tensor out;
  {
    NoGradGuard no_grad;
    const Tensor magnitude = abs(self);
    if (p == 2.0) out = sqrt(sum(mul(self, self), dims, keepdim));
    else if (p == 1.0) out = sum(magnitude, dims, keepdim);
    else if (std::isinf(p)) out = p > 0 ? amax(magnitude, dims, keepdim) : amin(magnitude, dims, keepdim);
    else if (p == 0.0) out = sum(to_dtype(compare(Comparison::Ne, self, Scalar(0)), self.dtype()), dims, keepdim);
    else out = pow(sum(pow(magnitude, Scalar(p)), dims, keepdim), Scalar(1.0 / p));
  }
  if (needs_grad(self)) {
    auto node = make_node<LinalgVectorNormBackward0>(p, reduced_shape(self.sizes(), reduced, true));
    node->save(LinalgVectorNormBackward0::Input, self);
    node->connect({&self}, {&out});
    node->save(LinalgVectorNormBackward0::Result, out, /*is_output=*/true);
  }
  return out;
}

}  // namespace tg
