#include "tapegrad/ops/view.h"

#include <algorithm>
#include <mutex>
#include <numeric>

#include "tapegrad/autograd/node.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/creation.h"
#include "tapegrad/ops/elementwise.h"
#include "tapegrad/ops/index.h"
#include "tapegrad/ops/reduce.h"

namespace tg {

namespace {

// Reshape-like views (view, reshape, squeeze, unsqueeze, flatten): the gradient is reshaped back.
struct ReshapeAliasBackward final : Node {
  DimVector input_sizes;
  const char* node_name;
  ReshapeAliasBackward(DimVector sizes, const char* name) : input_sizes(std::move(sizes)), node_name(name) {}
  TensorList apply(TensorList&& grads) override { return {reshape(grads[0], input_sizes)}; }
  std::string name() const override { return node_name; }
};

// transpose and t (TransposeBackward0, TBackward0).
struct TransposeBackward final : Node {
  int64_t dim0, dim1;
  const char* node_name;
  TransposeBackward(int64_t a, int64_t b, const char* name) : dim0(a), dim1(b), node_name(name) {}
  TensorList apply(TensorList&& grads) override { return {transpose(grads[0], dim0, dim1)}; }
  std::string name() const override { return node_name; }
};

struct PermuteBackward0 final : Node {
  DimVector inverse;
  explicit PermuteBackward0(DimVector dims) : inverse(std::move(dims)) {}
  TensorList apply(TensorList&& grads) override { return {permute(grads[0], inverse)}; }
  std::string name() const override { return "PermuteBackward0"; }
};

struct ExpandBackward0 final : Node {
  DimVector input_sizes;
  explicit ExpandBackward0(DimVector sizes) : input_sizes(std::move(sizes)) {}
  TensorList apply(TensorList&& grads) override { return {sum_to(grads[0], input_sizes)}; }
  std::string name() const override { return "ExpandBackward0"; }
};

// Strided sub-views (slice, select, narrow, basic indexing, as_strided): the view's geometry is
// kept relative to a contiguous tensor of the input's shape, so backward can scatter into one.
struct StridedViewBackward final : Node {
  DimVector input_sizes, sizes, strides;
  int64_t offset;
  const char* node_name;
  StridedViewBackward(DimVector in, DimVector s, DimVector st, int64_t o, const char* name)
      : input_sizes(std::move(in)), sizes(std::move(s)), strides(std::move(st)), offset(o), node_name(name) {}
  TensorList apply(TensorList&& grads) override {
    return {view_scatter(grads[0], input_sizes, sizes, strides, offset)};
  }
  std::string name() const override { return node_name; }
};

struct ViewScatterBackward final : Node {
  DimVector sizes, strides;
  int64_t offset;
  ViewScatterBackward(DimVector s, DimVector st, int64_t o) : sizes(std::move(s)), strides(std::move(st)), offset(o) {}
  TensorList apply(TensorList&& grads) override {
    const Tensor grad = contiguous(grads[0]);
    return {as_strided(grad, sizes, strides, grad.storage_offset() + offset)};
  }
  std::string name() const override { return "ViewScatterBackward"; }
};

Tensor reshape_alias(const Tensor& self, DimVector sizes, DimVector strides, const char* node_name) {
  Tensor out = make_view(self, std::move(sizes), std::move(strides), self.storage_offset());
  if (needs_grad(self)) make_node<ReshapeAliasBackward>(self.sizes(), node_name)->connect({&self}, {&out});
  return out;
}

// True when no two elements of a (sizes, strides) window share a place in storage: taken by
// increasing stride, every dim steps past all that the smaller ones reach.
bool is_non_overlapping(const DimVector& sizes, const DimVector& strides) {
  std::vector<std::pair<int64_t, int64_t>> dims;  // (stride, size) of the dims that move
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 0) return true;
    if (sizes[d] > 1) dims.emplace_back(strides[d], sizes[d]);
  }
  std::sort(dims.begin(), dims.end());
  int64_t reach = 0;
  for (const auto& [stride, size] : dims) {
    if (stride <= reach) return false;
    reach += (size - 1) * stride;
  }
  return true;
}

// view_scatter for a window that may see an element more than once along several dims (as_strided
// with strides such as (1, 1)): every element adds its gradient into its place.
Tensor scatter_add_window(const Tensor& grad, const DimVector& input_sizes, const DimVector& sizes,
                          const DimVector& strides, int64_t offset) {
  Tensor places;
  {
    NoGradGuard no_grad;
    places = scalar_tensor(Scalar(offset), DType::Int64, grad.device());
    for (size_t d = 0; d < sizes.size(); ++d) {
      if (sizes[d] <= 1) continue;
      DimVector shape(sizes.size(), 1);
      shape[d] = sizes[d];
      const Tensor steps =
          arange(Scalar(0), Scalar(sizes[d] * strides[d]), Scalar(strides[d]), DType::Int64, grad.device());
      places = add(places, reshape(steps, shape));
    }
    places = expand(places, sizes);
  }
  const Tensor flat = zeros({checked_numel(input_sizes, "view_scatter")}, grad.dtype(), grad.device());
  return reshape(index_put(flat, {places}, grad, /*accumulate=*/true), input_sizes);
}

// The gradient of a view at (view) of the input at (input), both anywhere in one storage.
Tensor as_strided_backward(const Tensor& grad, const StridedGeometry& input, const StridedGeometry& view) {
  const int64_t input_numel = input.numel();
  // The usual case: a contiguous input that holds every element of the view.
  if (is_contiguous_layout(input.sizes, input.strides) && view.offset >= input.offset &&
      view.end() <= input.offset + input_numel)
    return view_scatter(grad, input.sizes, view.sizes, view.strides, view.offset - input.offset);
  // Otherwise the gradient goes into a flat buffer standing for the storage both span, and the
  // input's elements are read from there.
  const int64_t start = std::min(input.offset, view.offset);
  const int64_t span = std::max(input.end(), view.end()) - start;
  const Tensor flat = view_scatter(grad, {span}, view.sizes, view.strides, view.offset - start);
  Tensor result = as_strided(flat, input.sizes, input.strides, flat.storage_offset() + input.offset - start);
  if (is_non_overlapping(input.sizes, input.strides)) return result;
  // Input elements sharing one place share its gradient evenly, as PyTorch's as_strided_backward.
  Tensor count;
  {
    NoGradGuard no_grad;
    const Tensor places = view_scatter(ones(input.sizes, grad.dtype(), grad.device()), {span}, input.sizes,
                                       input.strides, input.offset - start);
    count = as_strided(places, input.sizes, input.strides, places.storage_offset() + input.offset - start);
  }
  return div(result, count);
}

// A view anywhere in its input's storage: as_strided, and every view whose grad_fn is derived again
// from its base after an in-place write.
struct AsStridedBackward0 final : Node {
  StridedGeometry input, view;
  AsStridedBackward0(StridedGeometry in, StridedGeometry out) : input(std::move(in)), view(std::move(out)) {}
  TensorList apply(TensorList&& grads) override { return {as_strided_backward(grads[0], input, view)}; }
  std::string name() const override { return "AsStridedBackward0"; }
};

}  // namespace

int64_t StridedGeometry::numel() const {
  int64_t count = 1;
  for (int64_t size : sizes) count *= size;
  return count;
}

int64_t StridedGeometry::end() const {
  if (numel() == 0) return offset;
  int64_t last = offset;
  for (size_t d = 0; d < sizes.size(); ++d) last += (sizes[d] - 1) * strides[d];
  return last + 1;
}

Tensor make_view(const Tensor& self, DimVector sizes, DimVector strides, int64_t storage_offset) {
  auto impl = std::make_shared<TensorImpl>(self.impl()->storage(), std::move(sizes), std::move(strides),
                                           storage_offset, self.dtype());
  const TensorImpl& source = *self.impl();
  impl->set_view_base(source.is_view() ? source.view_base() : self.impl_ptr(),
                      !GradMode::is_enabled() || (source.is_view() && source.view_created_in_no_grad()));
  return Tensor(std::move(impl));
}

// Records a strided sub-view. `relative_strides`/`relative_offset` describe it over a contiguous
// input, which is what backward scatters into.
Tensor strided_view(const Tensor& self, DimVector sizes, DimVector strides, int64_t storage_offset,
                    DimVector relative_strides, int64_t relative_offset, const char* node_name) {
  Tensor out = make_view(self, sizes, std::move(strides), storage_offset);
  if (needs_grad(self))
    make_node<StridedViewBackward>(self.sizes(), std::move(sizes), std::move(relative_strides), relative_offset,
                                   node_name)->connect({&self}, {&out});
  return out;
}

Tensor as_strided(const Tensor& self, const DimVector& sizes, const DimVector& strides, int64_t storage_offset) {
  TG_CHECK(sizes.size() == strides.size(), "as_strided", "got ", sizes.size(), " sizes but ", strides.size(), " strides");
  int64_t extent = 0;
  bool empty = false;
  for (size_t d = 0; d < sizes.size(); ++d) {
    TG_CHECK(sizes[d] >= 0 && strides[d] >= 0, "as_strided", "negative size or stride in sizes ", sizes,
             " strides ", strides);
    empty = empty || sizes[d] == 0;
    extent += (sizes[d] - 1) * strides[d];
  }
  const int64_t capacity = static_cast<int64_t>(self.impl()->storage()->nbytes() / itemsize(self.dtype()));
  TG_CHECK(storage_offset >= 0 && (empty || storage_offset + extent < capacity), "as_strided", "sizes ", sizes,
           " strides ", strides, " offset ", storage_offset, " reach outside a storage of ", capacity, " elements");
  Tensor out = make_view(self, sizes, strides, storage_offset);
  if (needs_grad(self))
    make_node<AsStridedBackward0>(StridedGeometry(self), StridedGeometry(out))->connect({&self}, {&out});
  return out;
}

Tensor view(const Tensor& self, const DimVector& shape) {
  DimVector sizes = infer_shape(shape, self.numel(), "view");
  auto strides = view_strides(self.sizes(), self.strides(), sizes);
  TG_CHECK(strides.has_value(), "view", "size ", sizes, " is not compatible with input of size ", self.sizes(),
           " and stride ", self.strides(), " (at least one dimension spans across two contiguous subspaces). "
           "Use .reshape(...) instead.");
  return reshape_alias(self, std::move(sizes), std::move(*strides), "ViewBackward0");
}

Tensor reshape(const Tensor& self, const DimVector& shape) {
  DimVector sizes = infer_shape(shape, self.numel(), "reshape");
  if (auto strides = view_strides(self.sizes(), self.strides(), sizes))
    return reshape_alias(self, std::move(sizes), std::move(*strides), "ViewBackward0");
  return view(clone(self), sizes);
}

namespace {
Tensor transpose_view(const Tensor& self, int64_t dim0, int64_t dim1, const char* op, const char* node_name) {
  const int64_t ndim = self.dim();
  dim0 = wrap_dim(dim0, ndim, op);
  dim1 = wrap_dim(dim1, ndim, op);
  DimVector sizes = self.sizes(), strides = self.strides();
  if (ndim > 0) {
    std::swap(sizes[dim0], sizes[dim1]);
    std::swap(strides[dim0], strides[dim1]);
  }
  Tensor out = make_view(self, std::move(sizes), std::move(strides), self.storage_offset());
  if (needs_grad(self)) make_node<TransposeBackward>(dim0, dim1, node_name)->connect({&self}, {&out});
  return out;
}
}  // namespace

Tensor transpose(const Tensor& self, int64_t dim0, int64_t dim1) {
  return transpose_view(self, dim0, dim1, "transpose", "TransposeBackward0");
}

Tensor t(const Tensor& self) {
  TG_CHECK(self.dim() <= 2, "t", "expects a tensor with <= 2 dimensions, but self is ", self.dim(), "-D");
  return transpose_view(self, 0, self.dim() < 2 ? 0 : 1, "t", "TBackward0");
}

Tensor permute(const Tensor& self, const DimVector& dims) {
  const int64_t ndim = self.dim();
  TG_CHECK(static_cast<int64_t>(dims.size()) == ndim, "permute", "number of dims don't match: input has ", ndim,
           " dims but got permutation ", dims);
  DimVector sizes(ndim), strides(ndim), inverse(ndim);
  std::vector<bool> seen(ndim, false);
  for (int64_t i = 0; i < ndim; ++i) {
    const int64_t dim = wrap_dim(dims[i], ndim, "permute");
    TG_CHECK(!seen[dim], "permute", "repeated dim ", dim, " in permutation ", dims);
    seen[dim] = true;
    sizes[i] = self.sizes()[dim];
    strides[i] = self.strides()[dim];
    inverse[dim] = i;
  }
  Tensor out = make_view(self, std::move(sizes), std::move(strides), self.storage_offset());
  if (needs_grad(self)) make_node<PermuteBackward0>(std::move(inverse))->connect({&self}, {&out});
  return out;
}

Tensor squeeze(const Tensor& self) { return squeeze(self, {}); }

Tensor squeeze(const Tensor& self, const DimVector& dims) {
  const std::vector<bool> listed = dims_to_mask(dims, self.dim(), "squeeze");
  DimVector sizes, strides;
  for (int64_t d = 0; d < self.dim(); ++d) {
    if (listed[d] && self.sizes()[d] == 1) continue;
    sizes.push_back(self.sizes()[d]);
    strides.push_back(self.strides()[d]);
  }
  return reshape_alias(self, std::move(sizes), std::move(strides), "SqueezeBackward0");
}

Tensor unsqueeze(const Tensor& self, int64_t dim) {
  dim = wrap_dim(dim, self.dim() + 1, "unsqueeze");
  check_dims(self.dim() + 1, "unsqueeze");
  DimVector sizes = self.sizes(), strides = self.strides();
  const int64_t stride = dim < self.dim() ? sizes[dim] * strides[dim] : 1;
  sizes.insert(dim, 1);
  strides.insert(dim, stride);
  return reshape_alias(self, std::move(sizes), std::move(strides), "UnsqueezeBackward0");
}

Tensor expand(const Tensor& self, const DimVector& requested) {
  const int64_t ndim = static_cast<int64_t>(requested.size());
  TG_CHECK(ndim >= self.dim(), "expand", "the number of sizes provided (", ndim,
           ") must be greater or equal to the number of dimensions in the tensor (", self.dim(), ")");
  DimVector sizes(ndim), strides(ndim);
  const int64_t leading = ndim - self.dim();
  for (int64_t d = ndim - 1; d >= 0; --d) {
    const int64_t wanted = requested[d];
    if (d < leading) {
      TG_CHECK(wanted >= 0, "expand", "the expanded size ", wanted, " is not allowed in a leading, new dimension");
      sizes[d] = wanted;
      strides[d] = 0;
      continue;
    }
    const int64_t have = self.sizes()[d - leading];
    if (wanted == -1 || wanted == have) {
      sizes[d] = have;
      strides[d] = self.strides()[d - leading];
    } else {
      TG_CHECK(have == 1, "expand", "the expanded size of the tensor (", wanted,
               ") must match the existing size (", have, ") at non-singleton dimension ", d, ". Target sizes: ",
               requested, ". Tensor sizes: ", self.sizes());
      TG_CHECK(wanted >= 0, "expand", "invalid size ", wanted, " in ", requested);
      sizes[d] = wanted;
      strides[d] = 0;
    }
  }
  if (sizes == self.sizes()) return reshape_alias(self, std::move(sizes), std::move(strides), "ExpandBackward0");
  checked_numel(sizes, "expand");
  Tensor out = make_view(self, std::move(sizes), std::move(strides), self.storage_offset());
  if (needs_grad(self)) make_node<ExpandBackward0>(self.sizes())->connect({&self}, {&out});
  return out;
}

Tensor flatten(const Tensor& self, int64_t start_dim, int64_t end_dim) {
  start_dim = wrap_dim(start_dim, self.dim(), "flatten");
  end_dim = wrap_dim(end_dim, self.dim(), "flatten");
  if (self.dim() == 0) return reshape(self, {1});
  TG_CHECK(start_dim <= end_dim, "flatten", "start_dim (", start_dim, ") cannot come after end_dim (", end_dim, ")");
  if (start_dim == end_dim) return self;
  DimVector shape;
  for (int64_t d = 0; d < start_dim; ++d) shape.push_back(self.sizes()[d]);
  int64_t merged = 1;
  for (int64_t d = start_dim; d <= end_dim; ++d) merged *= self.sizes()[d];
  shape.push_back(merged);
  for (int64_t d = end_dim + 1; d < self.dim(); ++d) shape.push_back(self.sizes()[d]);
  return reshape(self, shape);
}

Tensor slice(const Tensor& self, int64_t dim, int64_t start, int64_t end, int64_t step) {
  TG_CHECK(self.dim() > 0, "slice", "cannot slice a 0-d tensor");
  dim = wrap_dim(dim, self.dim(), "slice");
  TG_CHECK_VALUE(step > 0, "slice", "step must be greater than zero, got ", step);
  const SliceBounds bounds = slice_bounds(self.sizes()[dim], start, end, step);
  DimVector sizes = self.sizes(), strides = self.strides();
  sizes[dim] = bounds.size;
  strides[dim] = stepped_stride(strides[dim], step);
  DimVector relative = contiguous_strides(self.sizes());
  const int64_t relative_offset = bounds.start * relative[dim];
  relative[dim] = stepped_stride(relative[dim], step);
  return strided_view(self, std::move(sizes), std::move(strides),
                      self.storage_offset() + bounds.start * self.strides()[dim], std::move(relative), relative_offset,
                      "SliceBackward0");
}

Tensor narrow(const Tensor& self, int64_t dim, int64_t start, int64_t length) {
  TG_CHECK(self.dim() > 0, "narrow", "cannot be applied to a 0-dim tensor");
  dim = wrap_dim(dim, self.dim(), "narrow");
  const int64_t size = self.sizes()[dim];
  TG_CHECK_INDEX(start >= -size && start <= size, "narrow", "start (", start, ") is out of bounds for dimension ", dim,
                 " of size ", size);
  if (start < 0) start += size;
  TG_CHECK(length >= 0 && start + length <= size, "narrow", "start (", start, ") + length (", length,
           ") exceeds dimension size (", size, ")");
  return slice(self, dim, start, start + length, 1);
}

Tensor select(const Tensor& self, int64_t dim, int64_t index) {
  TG_CHECK_INDEX(self.dim() > 0, "select", "invalid index of a 0-dim tensor");
  dim = wrap_dim(dim, self.dim(), "select");
  const int64_t size = self.sizes()[dim];
  TG_CHECK_INDEX(index >= -size && index < size, "select", "index ", index, " is out of bounds for dimension ", dim,
                 " with size ", size);
  if (index < 0) index += size;
  DimVector sizes = self.sizes(), strides = self.strides();
  DimVector relative = contiguous_strides(self.sizes());
  const int64_t relative_offset = index * relative[dim];
  const int64_t offset = self.storage_offset() + index * strides[dim];
  sizes.erase(dim);
  strides.erase(dim);
  relative.erase(dim);
  return strided_view(self, std::move(sizes), std::move(strides), offset, std::move(relative), relative_offset,
                      "SelectBackward0");
}

Tensor view_scatter(const Tensor& grad, const DimVector& input_sizes, const DimVector& sizes,
                    const DimVector& strides, int64_t offset) {
  // Along a stride-0 dim (an expanded view) the view sees one element many times: it gets the sum.
  DimVector repeated;
  for (size_t d = 0; d < sizes.size(); ++d)
    if (sizes[d] > 1 && strides[d] == 0) repeated.push_back(static_cast<int64_t>(d));
  if (!repeated.empty()) {
    DimVector once = sizes;
    for (int64_t d : repeated) once[d] = 1;
    return view_scatter(sum(grad, repeated, /*keepdim=*/true), input_sizes, once, strides, offset);
  }
  if (!is_non_overlapping(sizes, strides)) return scatter_add_window(grad, input_sizes, sizes, strides, offset);
  Tensor out = zeros(input_sizes, grad.dtype(), grad.device());
  {
    NoGradGuard no_grad;
    Tensor window = make_view(out, sizes, strides, offset);
    copy_(window, grad);
  }
  if (needs_grad(grad)) make_node<ViewScatterBackward>(sizes, strides, offset)->connect({&grad}, {&out});
  return out;
}

}  // namespace tg
