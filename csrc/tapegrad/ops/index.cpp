#include "tapegrad/ops/index.h"

#include <algorithm>

#include "tapegrad/autograd/node.h"
#include "tapegrad/autograd/inplace.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/kernels/backend.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/creation.h"
#include "tapegrad/ops/reduce.h"
#include "tapegrad/ops/compare.h"
#include "tapegrad/ops/elementwise.h"
#include "tapegrad/ops/view.h"

namespace tg {

namespace {

// ---- basic indexing: one view --------------------------------------------------------------

// What the basic part of a key selects, both over self's storage and (relative_*) over a
// contiguous tensor of self's shape, which is what backward scatters into. `advanced` has one
// entry per result dim: the int64 index tensor applied to that dim afterwards, or undefined.
struct KeyPlan {
  DimVector sizes, strides, relative_strides;
  int64_t offset = 0, relative_offset = 0;
  std::vector<Tensor> advanced;
  bool has_advanced = false, has_slice = false, has_integer = false, has_none = false;
};

// (n, k) coordinates of a mask's true elements as k int64 index tensors of length n.
std::vector<Tensor> mask_to_indices(const Tensor& mask) {
  NoGradGuard no_grad;
  const Tensor coordinates = nonzero(mask);
  std::vector<Tensor> columns;
  for (int64_t d = 0; d < mask.dim(); ++d) columns.push_back(select(coordinates, 1, d));
  return columns;
}

void check_index_dtype(const Tensor& index, const char* op) {
  TG_CHECK_INDEX(index.dtype() == DType::Int64 || index.dtype() == DType::Int32 || index.dtype() == DType::Bool,
                 op, "tensors used as indices must be int64, int32 or bool tensors, got ",
                 dtype_name(index.dtype()));
}

KeyPlan plan_key(const Tensor& self, const std::vector<TensorIndex>& key) {
  using Kind = TensorIndex::Kind;
  const int64_t ndim = self.dim();
  int64_t consumed = 0, ellipses = 0;
  for (const TensorIndex& entry : key) {
    if (entry.kind == Kind::Integer || entry.kind == Kind::Slice) ++consumed;
    else if (entry.kind == Kind::Tensor) consumed += entry.tensor.dtype() == DType::Bool ? entry.tensor.dim() : 1;
    else if (entry.kind == Kind::Ellipsis) ++ellipses;
  }
  TG_CHECK_INDEX(ellipses <= 1, "index", "an index can only have a single ellipsis ('...')");
  TG_CHECK_INDEX(consumed <= ndim, "index", "too many indices for tensor of dimension ", ndim, " (got ", consumed, ")");

  KeyPlan plan;
  plan.offset = self.storage_offset();
  const DimVector relative = contiguous_strides(self.sizes());
  int64_t dim = 0;  // the next dim of self
  auto keep_dim = [&](int64_t d) {
    plan.sizes.push_back(self.sizes()[d]);
    plan.strides.push_back(self.strides()[d]);
    plan.relative_strides.push_back(relative[d]);
  };
  // A new size-1 dim, with the stride PyTorch's unsqueeze gives it at this point.
  auto new_dim = [&] {
    plan.sizes.push_back(1);
    plan.strides.push_back(dim < ndim ? self.sizes()[dim] * self.strides()[dim] : 1);
    plan.relative_strides.push_back(dim < ndim ? self.sizes()[dim] * relative[dim] : 1);
  };
  auto record_advanced = [&](Tensor index) {
    plan.advanced.resize(plan.sizes.size());
    plan.advanced.back() = std::move(index);
    plan.has_advanced = true;
  };
  for (const TensorIndex& entry : key) {
    switch (entry.kind) {
      case Kind::Integer: {
        const int64_t size = self.sizes()[dim];
        int64_t position = entry.start;
        TG_CHECK_INDEX(position >= -size && position < size, "index", "index ", position,
                       " is out of bounds for dimension ", dim, " with size ", size);
        if (position < 0) position += size;
        plan.offset += position * self.strides()[dim];
        plan.relative_offset += position * relative[dim];
        plan.has_integer = true;
        ++dim;
        break;
      }
      case Kind::Slice: {
        TG_CHECK_VALUE(entry.step > 0, "index", "slice step must be positive, got ", entry.step);
        const SliceBounds bounds = slice_bounds(self.sizes()[dim], entry.start, entry.stop, entry.step);
        plan.sizes.push_back(bounds.size);
        plan.strides.push_back(stepped_stride(self.strides()[dim], entry.step));
        plan.relative_strides.push_back(stepped_stride(relative[dim], entry.step));
        plan.offset += bounds.start * self.strides()[dim];
        plan.relative_offset += bounds.start * relative[dim];
        plan.has_slice = true;
        ++dim;
        break;
      }
      case Kind::None:
        new_dim();
        plan.has_none = true;
        break;
      case Kind::Ellipsis:
        for (int64_t end = dim + ndim - consumed; dim < end; ++dim) keep_dim(dim);
        break;
      case Kind::Boolean:
        // As PyTorch: a new dim, indexed by [0] (True) or by nothing (False).
        new_dim();
        record_advanced(zeros({entry.start ? 1 : 0}, DType::Int64, self.device()));
        break;
      case Kind::Tensor: {
        const Tensor& index = entry.tensor;
        check_index_dtype(index, "index");
        if (index.dtype() != DType::Bool) {
          keep_dim(dim++);
          record_advanced(index);
          break;
        }
        if (index.dim() == 0) {
          new_dim();
          record_advanced(mask_to_indices(reshape(index, {1}))[0]);
          break;
        }
        for (int64_t d = 0; d < index.dim(); ++d)
          TG_CHECK_INDEX(index.sizes()[d] == self.sizes()[dim + d], "index", "the shape of the mask ", index.sizes(),
                         " at index ", d, " does not match the shape of the indexed tensor ", self.sizes(),
                         " at index ", dim + d);
        for (Tensor& column : mask_to_indices(index)) {
          keep_dim(dim++);
          record_advanced(std::move(column));
        }
        break;
      }
    }
  }
  while (dim < ndim) keep_dim(dim++);
  plan.advanced.resize(plan.sizes.size());
  return plan;
}

// The view the basic part of the key selects, recorded as one node named after the PyTorch op
// that would dominate the chain.
Tensor basic_view(const Tensor& self, const KeyPlan& plan) {
  const char* name = plan.has_slice     ? "SliceBackward0"
                     : plan.has_integer ? "SelectBackward0"
                     : plan.has_none    ? "UnsqueezeBackward0"
                                        : "AliasBackward0";
  return strided_view(self, plan.sizes, plan.strides, plan.offset, plan.relative_strides, plan.relative_offset, name);
}

bool same_geometry(const Tensor& self, const KeyPlan& plan) {
  return plan.sizes == self.sizes() && plan.strides == self.strides() && plan.offset == self.storage_offset();
}

// ---- advanced indexing: copies through element offsets -------------------------------------

// Offsets, in row-major order, of every element of a (sizes, strides) block.
std::vector<int64_t> element_offsets(const DimVector& sizes, const DimVector& strides) {
  std::vector<int64_t> offsets{0};
  for (size_t d = 0; d < sizes.size(); ++d) {
    std::vector<int64_t> next;
    next.reserve(offsets.size() * static_cast<size_t>(sizes[d]));
    for (int64_t base : offsets)
      for (int64_t i = 0; i < sizes[d]; ++i) next.push_back(base + i * strides[d]);
    offsets = std::move(next);
  }
  return offsets;
}

// One int64 index (or undefined) per dim of self: bool masks become their nonzero coordinates.
std::vector<Tensor> expand_masks(const Tensor& self, const std::vector<Tensor>& indices, const char* op) {
  std::vector<Tensor> result;
  for (const Tensor& index : indices) {
    if (!index.defined() || index.dtype() != DType::Bool) {
      if (index.defined()) check_index_dtype(index, op);
      result.push_back(index);
      continue;
    }
    const int64_t first = static_cast<int64_t>(result.size());
    for (int64_t d = 0; d < index.dim(); ++d)
      TG_CHECK_INDEX(first + d < self.dim() && index.sizes()[d] == self.sizes()[first + d], op, "the shape of the mask ", index.sizes(), " at index ", d,
                     " does not match the shape of the indexed tensor ", self.sizes());
    for (Tensor& column : mask_to_indices(index)) result.push_back(std::move(column));
  }
  TG_CHECK_INDEX(static_cast<int64_t>(result.size()) <= self.dim(), op, "too many indices for tensor of dimension ",
                 self.dim(), " (got ", result.size(), ")");
  result.resize(self.dim());
  return result;
}

struct AdvancedLayout {
  DimVector result_sizes;
  kernels::IndexOffsets offsets;
};

// PyTorch's placement: when the indexed dims are adjacent the broadcast index shape replaces them
// in place; otherwise it goes first, followed by the other dims in order.
AdvancedLayout advanced_layout(const Tensor& self, const std::vector<Tensor>& indices, const char* op) {
  std::vector<int64_t> indexed;
  DimVector broadcast;
  for (int64_t d = 0; d < self.dim(); ++d) {
    if (!indices[d].defined()) continue;
    try {
      broadcast = indexed.empty() ? indices[d].sizes() : broadcast_shapes(broadcast, indices[d].sizes(), op);
    } catch (const Error& mismatch) {
      throw IndexError(mismatch.what());  // PyTorch's type for index tensors that do not broadcast
    }
    indexed.push_back(d);
  }
  TG_CHECK(!indexed.empty(), op, "expected at least one index tensor");
  const bool adjacent = indexed.back() - indexed.front() + 1 == static_cast<int64_t>(indexed.size());
  DimVector outer_sizes, outer_strides, inner_sizes, inner_strides;
  for (int64_t d = 0; d < self.dim(); ++d) {
    if (indices[d].defined()) continue;
    const bool before = adjacent && d < indexed.front();
    (before ? outer_sizes : inner_sizes).push_back(self.sizes()[d]);
    (before ? outer_strides : inner_strides).push_back(self.strides()[d]);
  }
  AdvancedLayout layout;
  layout.result_sizes = outer_sizes;
  for (int64_t size : broadcast) layout.result_sizes.push_back(size);
  for (int64_t size : inner_sizes) layout.result_sizes.push_back(size);
  checked_numel(layout.result_sizes, op);
  layout.offsets.outer = element_offsets(outer_sizes, outer_strides);
  layout.offsets.inner = element_offsets(inner_sizes, inner_strides);
  layout.offsets.inner_is_run = is_contiguous_layout(inner_sizes, inner_strides);

  NoGradGuard no_grad;
  auto& offsets = layout.offsets.index;
  offsets.assign(static_cast<size_t>(checked_numel(broadcast, op)), 0);
  for (int64_t d : indexed) {
    const Tensor values = contiguous(to_dtype(expand(indices[d], broadcast), DType::Int64));
    kernels::backend(op, values)->add_index_offsets(offsets, values, self.sizes()[d], self.strides()[d], d, op);
  }
  return layout;
}

// A node that keeps index tensors for backward, in its slots 0, 1, ... (an undefined index, a dim
// not indexed, saves nothing): version-checked like any saved tensor, as an index modified in place
// after the forward would silently scatter the gradient to the wrong places.
struct IndexingNode : Node {
  size_t index_count;
  explicit IndexingNode(const std::vector<Tensor>& indices) : index_count(indices.size()) {
    for (size_t i = 0; i < indices.size(); ++i) save(i, indices[i]);
  }
  std::vector<Tensor> saved_indices() {
    std::vector<Tensor> indices;
    for (size_t i = 0; i < index_count; ++i) indices.push_back(saved(i));
    return indices;
  }
};

// The gradient of a gather is a scatter-add into zeros, itself differentiable.
struct IndexBackward0 final : IndexingNode {
  DimVector input_sizes;
  IndexBackward0(DimVector sizes, const std::vector<Tensor>& index)
      : IndexingNode(index), input_sizes(std::move(sizes)) {}
  TensorList apply(TensorList&& grads) override {
    return {index_put(zeros(input_sizes, grads[0].dtype(), grads[0].device()), saved_indices(), grads[0], true)};
  }
  std::string name() const override { return "IndexBackward0"; }
};

// index_put_: values take the indexed places (or add to them); the rest of self's gradient passes.
struct IndexPutBackward0 final : IndexingNode {
  bool accumulate;
  IndexPutBackward0(const std::vector<Tensor>& index, bool add) : IndexingNode(index), accumulate(add) {}
  TensorList apply(TensorList&& grads) override {
    const Tensor& grad = grads[0];
    const std::vector<Tensor> positions = saved_indices();
    Tensor grad_self, grad_values;
    if (needs_input_grad(0))
      grad_self = accumulate ? grad : index_put(grad, positions, scalar_tensor(Scalar(0), grad.dtype(), grad.device()));
    if (needs_input_grad(1)) grad_values = index(grad, positions);
    return {grad_self, grad_values};
  }
  std::string name() const override { return "IndexPutBackward0"; }
};

Tensor index_with_expanded(const Tensor& self, const std::vector<Tensor>& indices) {
  const AdvancedLayout layout = advanced_layout(self, indices, "index");
  Tensor out = Tensor::empty(layout.result_sizes, self.dtype(), self.device(), "index");
  kernels::backend("index", out, self)->index_gather(out, self, layout.offsets);
  if (needs_grad(self)) make_node<IndexBackward0>(self.sizes(), indices)->connect({&self}, {&out});
  return out;
}

Tensor& index_put_with_expanded(Tensor& self, const std::vector<Tensor>& indices, const Tensor& values, bool accumulate) {
  const bool record = check_inplace(self, "index_put_", values.requires_grad());
  const AdvancedLayout layout = advanced_layout(self, indices, "index_put_");
  TG_CHECK(broadcasts_to(values.sizes(), layout.result_sizes),
           "index_put_", "shape mismatch: value tensor of shape ", values.sizes(),
           " cannot be broadcast to indexing result of shape ", layout.result_sizes);
  Tensor converted;
  {
    NoGradGuard no_grad;
    converted = contiguous(to_dtype(expand(values, layout.result_sizes), self.dtype()));
    // values may alias self (x[idx] = x): read them fully before writing.
    if (converted.impl()->storage() == self.impl()->storage()) converted = clone(converted);
  }
  std::shared_ptr<Node> node;
  if (record) {
    node = make_node<IndexPutBackward0>(indices, accumulate);
    node->connect({&self, &values}, {&self});
  }
  kernels::backend("index_put_", self, converted)->index_put(self, converted, layout.offsets, accumulate);
  self.impl()->bump_version();
  if (node) rebase_history(self, std::move(node));
  return self;
}

// ---- in-place assignment through a basic key -------------------------------------------------

// self[basic key] = value is, as in PyTorch, a copy into the view the key selects; with history,
// the view's base records it as a CopySlices node.
void assign_basic(Tensor& self, const KeyPlan& plan, const Tensor* value, Scalar scalar) {
  Tensor window = basic_view(self, plan);
  check_inplace(window, "__setitem__", value && value->requires_grad());
  if (!value) {
    fill_(window, scalar);
    return;
  }
  TG_CHECK(broadcasts_to(value->sizes(), window.sizes()), "__setitem__", "shape mismatch: value tensor of shape ",
           value->sizes(), " cannot be broadcast to indexing result of shape ", window.sizes());
  // A value overlapping the window (x[1:] = x[:-1]) is read fully before anything is written.
  copy_(window, value->impl()->storage() == self.impl()->storage() ? clone(*value) : *value);
}

// As in PyTorch's setitem, a value's leading size-1 dims are ignored: x[0] = ones(1, 4) fills a row.
Tensor without_leading_ones(const Tensor& value) {
  int64_t leading = 0;
  while (leading < value.dim() && value.sizes()[leading] == 1) ++leading;
  if (leading == 0) return value;
  DimVector sizes;
  for (int64_t d = leading; d < value.dim(); ++d) sizes.push_back(value.sizes()[d]);
  return reshape(value, sizes);
}

void assign(Tensor& self, const std::vector<TensorIndex>& key, const Tensor* value, Scalar scalar) {
  if (!value) scalar.check_fits(self.dtype(), "__setitem__");
  KeyPlan plan = plan_key(self, key);
  const Tensor stripped = value ? without_leading_ones(*value) : Tensor();
  if (!plan.has_advanced) return assign_basic(self, plan, value ? &stripped : nullptr, scalar);
  const Tensor values = value ? stripped : scalar_tensor(scalar, self.dtype(), self.device());
  // A key like x[:, idx] indexes self itself, which keeps the assignment differentiable.
  if (same_geometry(self, plan)) {
    index_put_with_expanded(self, plan.advanced, values, false);
    return;
  }
  Tensor window = basic_view(self, plan);
  index_put_with_expanded(window, plan.advanced, values, false);
}

}  // namespace

Tensor index(const Tensor& self, const std::vector<TensorIndex>& key) {
  KeyPlan plan = plan_key(self, key);
  if (!plan.has_advanced) return basic_view(self, plan);
  const Tensor base = same_geometry(self, plan) ? self : basic_view(self, plan);
  return index_with_expanded(base, plan.advanced);
}

void index_assign_(Tensor& self, const std::vector<TensorIndex>& key, const Tensor& value) {
  assign(self, key, &value, Scalar(0));
}

void index_assign_(Tensor& self, const std::vector<TensorIndex>& key, Scalar value) { assign(self, key, nullptr, value); }

Tensor index(const Tensor& self, const std::vector<Tensor>& indices) {
  return index_with_expanded(self, expand_masks(self, indices, "index"));
}

Tensor& index_put_(Tensor& self, const std::vector<Tensor>& indices, const Tensor& values, bool accumulate) {
  return index_put_with_expanded(self, expand_masks(self, indices, "index_put_"), values, accumulate);
}

Tensor index_put(const Tensor& self, const std::vector<Tensor>& indices, const Tensor& values, bool accumulate) {
  Tensor out = clone(self);
  return index_put_(out, indices, values, accumulate);
}

namespace {

// gather and index_select refuse negative positions with a RuntimeError, as PyTorch's do (the
// advanced indexing they are built on counts them from the end). The minimum is a 0-dim tensor on
// the index's device: CPU, the only one there is.
void check_no_negative_index(const Tensor& index_tensor, int64_t dim, int64_t size, const char* op) {
  if (index_tensor.numel() == 0) return;
  const int64_t smallest = *to_dtype(min(index_tensor), DType::Int64).data_ptr<int64_t>();
  TG_CHECK(smallest >= 0, op, "index ", smallest, " is out of bounds for dimension ", dim, " with size ", size);
}

// The dim-wise ops refuse any position outside [0, size) with a RuntimeError, as PyTorch's do.
void check_index_range(const Tensor& index_tensor, int64_t dim, int64_t size, const char* op) {
  check_no_negative_index(index_tensor, dim, size, op);
  if (index_tensor.numel() == 0) return;
  const int64_t largest = *to_dtype(max(index_tensor), DType::Int64).data_ptr<int64_t>();
  TG_CHECK(largest < size, op, "index ", largest, " is out of bounds for dimension ", dim, " with size ", size);
}

}  // namespace

namespace {

// index_select: the gradient adds back into the selected slices (repeats summed).
struct IndexSelectBackward0 final : Node {
  enum Slot { Index };
  int64_t dim;
  DimVector input_sizes;
  IndexSelectBackward0(int64_t d, const Tensor& positions, DimVector sizes) : dim(d), input_sizes(std::move(sizes)) {
    save(Index, positions);
  }
  TensorList apply(TensorList&& grads) override {
    const Tensor& grad = grads[0];
    return {index_add(zeros(input_sizes, grad.dtype(), grad.device()), dim, saved(Index), grad)};
  }
  std::string name() const override { return "IndexSelectBackward0"; }
};

}  // namespace

Tensor index_select(const Tensor& self, int64_t dim, const Tensor& index_tensor) {
  TG_CHECK_INDEX(index_tensor.dim() <= 1, "index_select", "index should be 0- or 1-D, got shape ", index_tensor.sizes());
  TG_CHECK_INDEX(index_tensor.dtype() == DType::Int64 || index_tensor.dtype() == DType::Int32,
                 "index_select", "expected an int64 or int32 index, got ", dtype_name(index_tensor.dtype()));
  dim = wrap_dim(dim, self.dim(), "index_select");
  check_no_negative_index(index_tensor, dim, self.dim() == 0 ? 1 : self.sizes()[dim], "index_select");
  const Tensor positions = reshape(index_tensor, {-1});
  Tensor out;
  {
    NoGradGuard no_grad;  // one node for the whole op, below
    if (self.dim() == 0) {
      out = reshape(index(reshape(self, {1}), std::vector<Tensor>{positions}), {});
    } else {
      std::vector<Tensor> indices(static_cast<size_t>(dim) + 1);
      indices[dim] = positions;
      out = index(self, indices);
    }
  }
  if (needs_grad(self)) make_node<IndexSelectBackward0>(dim, positions, self.sizes())->connect({&self}, {&out});
  return out;
}

// ---- dim-wise gather and scatter ------------------------------------------------------------

namespace {

// A 0-dim tensor's sizes as a 1-D tensor of one element's, which is how gather and scatter see it.
DimVector at_least_1d(const DimVector& sizes) { return sizes.empty() ? DimVector{1} : sizes; }

// PyTorch's rules for gather and the scatter family: an int64 (or int32) index with self's number
// of dims, no larger than self in any dim but `dim`, nor than src in any dim; no negative
// positions. Returns dim wrapped.
int64_t check_dim_index(const Tensor& self, int64_t dim, const Tensor& index_tensor, const Tensor* src,
                        const char* op) {
  TG_CHECK_INDEX(index_tensor.dtype() == DType::Int64 || index_tensor.dtype() == DType::Int32,
                 op, "expected an int64 or int32 index, got ", dtype_name(index_tensor.dtype()));
  const DimVector self_sizes = at_least_1d(self.sizes()), index_sizes = at_least_1d(index_tensor.sizes());
  TG_CHECK(index_sizes.size() == self_sizes.size() || index_tensor.numel() == 0, op, "index ", index_tensor.sizes(),
           " and input ", self.sizes(), " must have the same number of dimensions");
  dim = wrap_dim(dim, self.dim(), op);
  const DimVector src_sizes = src ? at_least_1d(src->sizes()) : DimVector{};
  if (src) {
    TG_CHECK(src->dtype() == self.dtype(), op, "expected self.dtype to be equal to src.dtype, got ",
             dtype_name(self.dtype()), " and ", dtype_name(src->dtype()));
    TG_CHECK(src_sizes.size() == self_sizes.size() || index_tensor.numel() == 0, op, "index ", index_tensor.sizes(),
             " and src ", src->sizes(), " must have the same number of dimensions");
  }
  for (size_t d = 0; d < index_sizes.size() && index_tensor.numel() > 0; ++d) {
    const bool fits_self = static_cast<int64_t>(d) == dim || index_sizes[d] <= self_sizes[d];
    const bool fits_src = !src || index_sizes[d] <= src_sizes[d];
    TG_CHECK(fits_self && fits_src, op, "expected index ", index_tensor.sizes(), " to be no larger than self ",
             self.sizes(), " apart from dimension ", dim, src ? " and to be no larger than src " : "", src_sizes);
  }
  check_index_range(index_tensor, dim, self_sizes[dim], op);
  return dim;
}

// The offset in `target` of the element each element of `index_tensor` names, in the index's
// row-major order: its own position in every dim but `dim`, its value in `dim`. Shapes checked.
kernels::IndexOffsets dim_index_offsets(const Tensor& target, int64_t dim, const Tensor& index_tensor, const char* op) {
  kernels::IndexOffsets offsets;
  offsets.outer = {0};
  offsets.inner = {0};
  offsets.inner_is_run = true;
  DimVector strides = target.dim() == 0 ? DimVector{0} : target.strides();
  const int64_t size = at_least_1d(target.sizes())[dim], stride = strides[dim];
  strides[dim] = 0;
  offsets.index = element_offsets(index_tensor.sizes(), strides);
  NoGradGuard no_grad;
  const Tensor positions = contiguous(to_dtype(index_tensor, DType::Int64));
  kernels::backend(op, positions)
      ->add_index_offsets(offsets.index, positions, size, stride, dim, op);
  return offsets;
}

// The elements of src that scatter reads: its leading block of the index's shape, contiguous (a
// 0-dim src stands for one value).
Tensor scatter_source(const Tensor& src, const Tensor& index_tensor) {
  NoGradGuard no_grad;
  const DimVector sizes = at_least_1d(index_tensor.sizes());
  Tensor block = src.dim() == 0 ? reshape(src, {1}) : src;
  for (size_t d = 0; d < sizes.size(); ++d) block = narrow(block, static_cast<int64_t>(d), 0, sizes[d]);
  return reshape(contiguous(block), index_tensor.sizes());
}

// The index saved by the scatter/gather nodes, with the dim.
struct DimIndexNode : Node {
  enum Slot { Index };
  int64_t dim;
  DimIndexNode(int64_t d, const Tensor& index_tensor) : dim(d) { save(Index, index_tensor); }
};

// gather's gradient is a scatter-add into zeros of the input's shape.
struct GatherBackward0 final : DimIndexNode {
  DimVector input_sizes;
  GatherBackward0(int64_t d, const Tensor& index_tensor, DimVector sizes)
      : DimIndexNode(d, index_tensor), input_sizes(std::move(sizes)) {}
  TensorList apply(TensorList&& grads) override {
    return {scatter_add(zeros(input_sizes, grads[0].dtype(), grads[0].device()), dim, saved(Index), grads[0])};
  }
  std::string name() const override { return "GatherBackward0"; }
};

// scatter: the written places take src's gradient, gathered; self's gradient is zero there. With a
// value (ScatterBackward1) there is no src.
struct ScatterBackward final : DimIndexNode {
  bool has_src;
  ScatterBackward(int64_t d, const Tensor& index_tensor, bool src) : DimIndexNode(d, index_tensor), has_src(src) {}
  TensorList apply(TensorList&& grads) override {
    const Tensor& grad = grads[0];
    const Tensor positions = saved(Index);
    TensorList result{needs_input_grad(0) ? scatter(grad, dim, positions, Scalar(0)) : Tensor()};
    if (has_src) result.push_back(needs_input_grad(1) ? gather(grad, dim, positions) : Tensor());
    return result;
  }
  std::string name() const override { return has_src ? "ScatterBackward0" : "ScatterBackward1"; }
};

// scatter_add: self's gradient passes; src's is gathered from the places it was added to.
struct ScatterAddBackward0 final : DimIndexNode {
  ScatterAddBackward0(int64_t d, const Tensor& index_tensor) : DimIndexNode(d, index_tensor) {}
  TensorList apply(TensorList&& grads) override {
    return {grads[0], needs_input_grad(1) ? gather(grads[0], dim, saved(Index)) : Tensor()};
  }
  std::string name() const override { return "ScatterAddBackward0"; }
};

// The in-place scatter family: src (undefined: `value`) written or added into self at the places
// index names.
Tensor& scatter_inplace(Tensor& self, int64_t dim, const Tensor& index_tensor, const Tensor& src, Scalar value,
                        bool accumulate, const char* op) {
  dim = check_dim_index(self, dim, index_tensor, src.defined() ? &src : nullptr, op);
  const bool record = check_inplace(self, op, src.defined() && src.requires_grad());
  const kernels::IndexOffsets offsets = dim_index_offsets(self, dim, index_tensor, op);
  const Tensor values = src.defined()
                            ? scatter_source(src, index_tensor)
                            : full(index_tensor.sizes(), value, self.dtype(), self.device());
  std::shared_ptr<Node> node;
  if (record) {
    if (accumulate) node = make_node<ScatterAddBackward0>(dim, index_tensor);
    else node = make_node<ScatterBackward>(dim, index_tensor, src.defined());
    if (src.defined()) node->connect({&self, &src}, {&self});
    else node->connect({&self}, {&self});
  }
  // src may alias self: values is a copy taken before anything is written.
  const Tensor read = values.impl()->storage() == self.impl()->storage() ? clone(values) : values;
  kernels::backend(op, self, read)->index_put(self, read, offsets, accumulate);
  self.impl()->bump_version();
  if (node) rebase_history(self, std::move(node));
  return self;
}

}  // namespace

Tensor gather(const Tensor& self, int64_t dim, const Tensor& index_tensor) {
  dim = check_dim_index(self, dim, index_tensor, nullptr, "gather");
  const kernels::IndexOffsets offsets = dim_index_offsets(self, dim, index_tensor, "gather");
  Tensor out = Tensor::empty(index_tensor.sizes(), self.dtype(), self.device(), "gather");
  kernels::backend("gather", out, self)->index_gather(out, self, offsets);
  if (needs_grad(self)) make_node<GatherBackward0>(dim, index_tensor, self.sizes())->connect({&self}, {&out});
  return out;
}

Tensor& scatter_(Tensor& self, int64_t dim, const Tensor& index_tensor, const Tensor& src) {
  return scatter_inplace(self, dim, index_tensor, src, Scalar(0), false, "scatter_");
}

Tensor& scatter_(Tensor& self, int64_t dim, const Tensor& index_tensor, Scalar value) {
  value.check_fits(self.dtype(), "scatter_");
  return scatter_inplace(self, dim, index_tensor, Tensor(), value, false, "scatter_");
}

Tensor& scatter_add_(Tensor& self, int64_t dim, const Tensor& index_tensor, const Tensor& src) {
  return scatter_inplace(self, dim, index_tensor, src, Scalar(0), true, "scatter_add_");
}

Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index_tensor, const Tensor& src) {
  Tensor out = clone(self);
  return scatter_inplace(out, dim, index_tensor, src, Scalar(0), false, "scatter");
}

Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index_tensor, Scalar value) {
  value.check_fits(self.dtype(), "scatter");
  Tensor out = clone(self);
  return scatter_inplace(out, dim, index_tensor, Tensor(), value, false, "scatter");
}

Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index_tensor, const Tensor& src) {
  Tensor out = clone(self);
  return scatter_inplace(out, dim, index_tensor, src, Scalar(0), true, "scatter_add");
}

Tensor take_along_dim(const Tensor& self, const Tensor& indices, std::optional<int64_t> dim) {
  TG_CHECK_INDEX(indices.dtype() == DType::Int64 || indices.dtype() == DType::Int32, "take_along_dim",
                 "expected an int64 or int32 index, got ", dtype_name(indices.dtype()));
  if (!dim) return gather(reshape(self, {-1}), 0, reshape(indices, {-1}));
  TG_CHECK(self.dim() == indices.dim(), "take_along_dim", "input ", self.sizes(), " and indices ", indices.sizes(),
           " should have the same number of dimensions");
  const int64_t axis = wrap_dim(*dim, self.dim(), "take_along_dim");
  // Every dim but `axis` broadcasts, as PyTorch's.
  DimVector self_sizes = self.sizes(), index_sizes = indices.sizes();
  self_sizes[axis] = 1;
  index_sizes[axis] = 1;
  DimVector broadcast = broadcast_shapes(self_sizes, index_sizes, "take_along_dim");
  DimVector self_target = broadcast, index_target = broadcast;
  self_target[axis] = self.sizes()[axis];
  index_target[axis] = indices.sizes()[axis];
  return gather(expand(self, self_target), axis, expand(indices, index_target));
}

// ---- index_add, masked_select -----------------------------------------------------------------

namespace {

// index_add: self's gradient passes; source's is the rows of it that source was added to.
struct IndexAddBackward0 final : Node {
  enum Slot { Index };
  int64_t dim;
  Scalar alpha;
  bool scalar_source;
  IndexAddBackward0(int64_t d, const Tensor& index_tensor, Scalar a, bool scalar)
      : dim(d), alpha(a), scalar_source(scalar) {
    save(Index, index_tensor);
  }
  TensorList apply(TensorList&& grads) override {
    Tensor grad_source;
    if (needs_input_grad(1)) {
      grad_source = mul(index_select(grads[0], dim, saved(Index)), alpha);
      if (scalar_source) grad_source = reshape(grad_source, {});
    }
    return {grads[0], grad_source};
  }
  std::string name() const override { return "IndexAddBackward0"; }
};

}  // namespace

Tensor& index_add_(Tensor& self, int64_t dim, const Tensor& index_tensor, const Tensor& source, Scalar alpha) {
  const char* op = "index_add_";
  TG_CHECK_INDEX(index_tensor.dim() <= 1, op, "index is supposed to be a vector, but got shape ", index_tensor.sizes());
  TG_CHECK(index_tensor.dtype() == DType::Int64 || index_tensor.dtype() == DType::Int32, op,
           "expected an int64 or int32 index, got ", dtype_name(index_tensor.dtype()));
  TG_CHECK(source.dtype() == self.dtype(), op, "expected self.dtype to be equal to source.dtype, got ",
           dtype_name(self.dtype()), " and ", dtype_name(source.dtype()));
  dim = wrap_dim(dim, self.dim(), op);
  const Tensor positions = reshape(index_tensor, {-1});
  // A 0-dim self is seen as one element in 1-D (a view, so the kernel writes into self).
  const Tensor target = self.dim() == 0 ? reshape(self, {1}) : self;
  DimVector expected = target.sizes();
  expected[dim] = positions.numel();
  const bool scalar_source = source.dim() == 0;
  TG_CHECK(at_least_1d(source.sizes()) == expected, op, "source tensor shape must match self tensor shape, "
           "excluding the specified dimension. Got self.shape = ", self.sizes(), " source.shape = ", source.sizes());
  check_index_range(positions, dim, target.sizes()[dim], op);
  const bool record = check_inplace(self, op, source.requires_grad());
  std::vector<Tensor> indices(static_cast<size_t>(target.dim()));
  indices[dim] = positions;
  const AdvancedLayout layout = advanced_layout(target, indices, op);
  Tensor values;
  {
    NoGradGuard no_grad;
    values = contiguous(mul(reshape(source, layout.result_sizes), alpha));
    if (values.dtype() != self.dtype()) values = to_dtype(values, self.dtype());
  }
  std::shared_ptr<Node> node;
  if (record) {
    node = make_node<IndexAddBackward0>(dim, positions, alpha, scalar_source);
    node->connect({&self, &source}, {&self});
  }
  kernels::backend(op, self, values)->index_put(self, values, layout.offsets, true);
  self.impl()->bump_version();
  if (node) rebase_history(self, std::move(node));
  return self;
}

Tensor index_add(const Tensor& self, int64_t dim, const Tensor& index_tensor, const Tensor& source, Scalar alpha) {
  Tensor out = clone(self);
  return index_add_(out, dim, index_tensor, source, alpha);
}

namespace {

// masked_select: the gradient goes back to the selected places of the broadcast input, summed back
// to the input's shape.
struct MaskedSelectBackward0 final : Node {
  enum Slot { Mask };
  DimVector input_sizes;
  MaskedSelectBackward0(const Tensor& mask, DimVector sizes) : input_sizes(std::move(sizes)) { save(Mask, mask); }
  TensorList apply(TensorList&& grads) override {
    const Tensor mask = saved(Mask);
    const Tensor spread = index_put(zeros(mask.sizes(), grads[0].dtype(), grads[0].device()), {mask}, grads[0]);
    return {sum_to(spread, input_sizes)};
  }
  std::string name() const override { return "MaskedSelectBackward0"; }
};

}  // namespace

Tensor masked_select(const Tensor& self, const Tensor& mask) {
  TG_CHECK(mask.dtype() == DType::Bool, "masked_select", "expected a bool mask, got ", dtype_name(mask.dtype()));
  // Two 0-dim operands select from one element, seen as 1-D.
  const DimVector shape = at_least_1d(broadcast_shapes(self.sizes(), mask.sizes(), "masked_select"));
  Tensor out, full_mask;
  {
    NoGradGuard no_grad;
    full_mask = contiguous(expand(mask, shape));
    out = index(expand(self, shape), std::vector<Tensor>{full_mask});
  }
  if (needs_grad(self)) make_node<MaskedSelectBackward0>(full_mask, self.sizes())->connect({&self}, {&out});
  return out;
}

namespace {

void check_mask(const Tensor& mask, const char* op) {
  TG_CHECK(mask.dtype() == DType::Bool, op, "only supports boolean masks, got ", dtype_name(mask.dtype()));
}

struct MaskedFillBackward0 final : Node {
  enum Slot { Mask };
  explicit MaskedFillBackward0(const Tensor& mask) { save(Mask, mask); }
  TensorList apply(TensorList&& grads) override { return {where(saved(Mask), Scalar(0), grads[0])}; }
  std::string name() const override { return "MaskedFillBackward0"; }
};

}  // namespace

Tensor masked_fill(const Tensor& self, const Tensor& mask, Scalar value) {
  check_mask(mask, "masked_fill");
  value.check_fits(self.dtype(), "masked_fill");
  return where(mask, scalar_tensor(value, self.dtype(), self.device()), self);
}

Tensor& masked_fill_(Tensor& self, const Tensor& mask, Scalar value) {
  check_mask(mask, "masked_fill_");
  value.check_fits(self.dtype(), "masked_fill_");
  TG_CHECK(broadcasts_to(mask.sizes(), self.sizes()), "masked_fill_", "mask of shape ", mask.sizes(),
           " cannot be broadcast to the tensor's shape ", self.sizes());
  // Writing one value is idempotent, so an expanded self is allowed, as in PyTorch.
  std::shared_ptr<Node> node;
  if (check_inplace(self, "masked_fill_", false, /*idempotent=*/true)) {
    node = make_node<MaskedFillBackward0>(mask);
    node->connect({&self}, {&self});
  }
  kernels::backend("where", self, mask)->where(self, mask, scalar_tensor(value, self.dtype(), self.device()), self);
  self.impl()->bump_version();
  if (node) rebase_history(self, std::move(node));
  return self;
}

Tensor nonzero(const Tensor& self) {
  const int64_t count = kernels::backend("nonzero", self)->count_nonzero(self);
  Tensor out = Tensor::empty({count, self.dim()}, DType::Int64, self.device(), "nonzero");
  kernels::backend("nonzero", out, self)->nonzero(out, self);
  return out;
}

// ---- cat, stack, split -----------------------------------------------------------------------

namespace {

// Each input's gradient is its slice of the output's: narrow views, one per input.
struct CatBackward0 final : Node {
  int64_t dim;
  std::vector<DimVector> input_sizes;  // empty for skipped (empty 1-D) inputs
  const char* node_name;
  CatBackward0(int64_t d, std::vector<DimVector> sizes, const char* name)
      : dim(d), input_sizes(std::move(sizes)), node_name(name) {}
  TensorList apply(TensorList&& grads) override {
    TensorList result(input_sizes.size());
    int64_t offset = 0;
    for (size_t i = 0; i < input_sizes.size(); ++i) {
      if (input_sizes[i].size() == 1 && input_sizes[i][0] == 0 && grads[0].dim() != 1) {
        result[i] = zeros({0}, grads[0].dtype(), grads[0].device());
        continue;
      }
      const int64_t length = input_sizes[i][dim];
      if (needs_input_grad(i)) result[i] = narrow(grads[0], dim, offset, length);
      offset += length;
    }
    return result;
  }
  std::string name() const override { return node_name; }
};

Tensor cat_impl(const std::vector<Tensor>& tensors, int64_t dim, const char* op, const char* node_name) {
  TG_CHECK(!tensors.empty(), op, "expected a non-empty list of tensors");
  DType dtype = tensors[0].dtype();
  const Tensor* reference = nullptr;
  for (const Tensor& tensor : tensors) {
    dtype = promote_types(dtype, tensor.dtype());
    TG_CHECK(tensor.device() == tensors[0].device(), op, "expected all tensors to be on the same device, got ",
             tensors[0].device().str(), " and ", tensor.device().str());
    if (!reference && !(tensor.dim() == 1 && tensor.numel() == 0)) reference = &tensor;
  }
  if (!reference) return Tensor::empty({0}, dtype, tensors[0].device(), op);
  TG_CHECK(reference->dim() > 0, op, "zero-dimensional tensor (at position ", reference - tensors.data(),
           ") cannot be concatenated");
  dim = wrap_dim(dim, reference->dim(), op);
  DimVector sizes = reference->sizes();
  sizes[dim] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& tensor = tensors[i];
    if (tensor.dim() == 1 && tensor.numel() == 0) continue;
    bool matches = tensor.dim() == reference->dim();
    for (int64_t d = 0; matches && d < tensor.dim(); ++d) matches = d == dim || tensor.sizes()[d] == reference->sizes()[d];
    TG_CHECK(matches, op, "sizes of tensors must match except in dimension ", dim, ": expected ",
             reference->sizes(), " but got ", tensor.sizes(), " for tensor number ", i, " in the list");
    sizes[dim] += tensor.sizes()[dim];
  }
  Tensor out = Tensor::empty(sizes, dtype, reference->device(), op);
  {
    NoGradGuard no_grad;
    int64_t offset = 0;
    for (const Tensor& tensor : tensors) {
      if (tensor.dim() == 1 && tensor.numel() == 0) continue;
      kernels::backend("copy", out, tensor)->copy(narrow(out, dim, offset, tensor.sizes()[dim]), tensor);
      offset += tensor.sizes()[dim];
    }
  }
  if (any_needs_grad(tensors)) {
    std::vector<DimVector> input_sizes;
    for (const Tensor& tensor : tensors) input_sizes.push_back(tensor.sizes());
    std::vector<Tensor> outputs{out};
    make_node<CatBackward0>(dim, std::move(input_sizes), node_name)->connect(tensors, outputs);
    out = outputs[0];
  }
  return out;
}

}  // namespace

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) { return cat_impl(tensors, dim, "cat", "CatBackward0"); }

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  TG_CHECK(!tensors.empty(), "stack", "expected a non-empty list of tensors");
  dim = wrap_dim(dim, tensors[0].dim() + 1, "stack");
  std::vector<Tensor> expanded;
  for (size_t i = 0; i < tensors.size(); ++i) {
    TG_CHECK(tensors[i].sizes() == tensors[0].sizes(), "stack", "expects each tensor to be equal size, but got ",
             tensors[0].sizes(), " at entry 0 and ", tensors[i].sizes(), " at entry ", i);
    expanded.push_back(unsqueeze(tensors[i], dim));
  }
  return cat_impl(expanded, dim, "stack", "StackBackward0");
}

std::vector<Tensor> split(const Tensor& self, int64_t split_size, int64_t dim) {
  TG_CHECK(self.dim() > 0, "split", "expects at least a 1-dimensional tensor");
  dim = wrap_dim(dim, self.dim(), "split");
  const int64_t size = self.sizes()[dim];
  TG_CHECK_VALUE(split_size > 0 || (split_size == 0 && size == 0), "split", "split_size must be positive, got ", split_size);
  std::vector<Tensor> pieces;
  if (size == 0) return {self};
  for (int64_t start = 0; start < size; start += split_size)
    pieces.push_back(narrow(self, dim, start, std::min(split_size, size - start)));
  return pieces;
}

std::vector<Tensor> split(const Tensor& self, const DimVector& sizes, int64_t dim) {
  TG_CHECK(self.dim() > 0, "split", "expects at least a 1-dimensional tensor");
  dim = wrap_dim(dim, self.dim(), "split");
  int64_t total = 0;
  for (int64_t size : sizes) {
    TG_CHECK(size >= 0, "split", "split sizes must be non-negative, got ", sizes);
    total += size;
  }
  TG_CHECK(total == self.sizes()[dim], "split", "split sizes ", sizes, " must sum to ", self.sizes()[dim],
           " (the size of dimension ", dim, ")");
  std::vector<Tensor> pieces;
  int64_t start = 0;
  for (int64_t size : sizes) {
    pieces.push_back(narrow(self, dim, start, size));
    start += size;
  }
  return pieces;
}

std::vector<Tensor> chunk(const Tensor& self, int64_t chunks, int64_t dim) {
  TG_CHECK(self.dim() > 0, "chunk", "expects at least a 1-dimensional tensor");
  TG_CHECK_VALUE(chunks > 0, "chunk", "number of chunks must be positive, got ", chunks);
  dim = wrap_dim(dim, self.dim(), "chunk");
  const int64_t size = self.sizes()[dim];
  return split(self, std::max<int64_t>((size + chunks - 1) / chunks, 1), dim);
}

}  // namespace tg
