#include "tapegrad/ops/shape.h"

#include <algorithm>
#include <string>

#include "tapegrad/autograd/node.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/kernels/backend.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/creation.h"
#include "tapegrad/ops/index.h"
#include "tapegrad/ops/reduce.h"
#include "tapegrad/ops/view.h"

namespace tg {

namespace {

// ---- copies that take each output element from a position along each dim --------------------

// out[i0, i1, ...] = self[positions[0][i0], positions[1][i1], ...]: out (contiguous) has one dim
// per entry of positions, of its length. One gather through element offsets, recording nothing.
Tensor gather_positions(const Tensor& self, const std::vector<std::vector<int64_t>>& positions, const char* op) {
  DimVector sizes;
  for (const auto& along : positions) sizes.push_back(static_cast<int64_t>(along.size()));
  Tensor out = Tensor::empty(sizes, self.dtype(), self.device(), op);
  kernels::IndexOffsets offsets;
  offsets.index = {0};
  offsets.outer = {0};
  offsets.inner = {0};
  offsets.inner_is_run = true;
  const int64_t ndim = self.dim();
  // All dims but the last make the rows; the last dim's offsets are each row's elements.
  for (int64_t d = 0; d + 1 < ndim; ++d) {
    std::vector<int64_t> next;
    next.reserve(offsets.outer.size() * positions[d].size());
    for (int64_t base : offsets.outer)
      for (int64_t position : positions[d]) next.push_back(base + position * self.strides()[d]);
    offsets.outer = std::move(next);
  }
  if (ndim > 0) {
    const std::vector<int64_t>& last = positions[ndim - 1];
    const int64_t stride = self.strides()[ndim - 1];
    offsets.inner.clear();
    for (size_t i = 0; i < last.size(); ++i) {
      offsets.inner.push_back(last[i] * stride);
      offsets.inner_is_run = offsets.inner_is_run && stride == 1 && last[i] == last[0] + static_cast<int64_t>(i);
    }
  }
  if (out.numel() > 0) kernels::backend(op, out, self)->index_gather(out, self, offsets);
  return out;
}

// A 1-D int64 tensor holding `values`.
Tensor from_positions(const std::vector<int64_t>& values) {
  Tensor out = Tensor::empty({static_cast<int64_t>(values.size())}, DType::Int64);
  std::copy(values.begin(), values.end(), out.data_ptr<int64_t>());
  return out;
}

DimVector identity_order(int64_t ndim) {
  DimVector order;
  for (int64_t d = 0; d < ndim; ++d) order.push_back(d);
  return order;
}

// Each dim's positions taken as they are: 0, 1, ..., size - 1.
std::vector<std::vector<int64_t>> identity_positions(const DimVector& sizes) {
  std::vector<std::vector<int64_t>> positions;
  for (int64_t size : sizes) {
    std::vector<int64_t> along(static_cast<size_t>(size));
    for (int64_t i = 0; i < size; ++i) along[i] = i;
    positions.push_back(std::move(along));
  }
  return positions;
}

struct FlipBackward0 final : Node {
  DimVector dims;
  explicit FlipBackward0(DimVector d) : dims(std::move(d)) {}
  TensorList apply(TensorList&& grads) override { return {flip(grads[0], dims)}; }
  std::string name() const override { return "FlipBackward0"; }
};

struct RollBackward0 final : Node {
  DimVector shifts, dims;
  RollBackward0(DimVector s, DimVector d) : shifts(std::move(s)), dims(std::move(d)) {}
  TensorList apply(TensorList&& grads) override {
    DimVector back;
    for (int64_t shift : shifts) back.push_back(-shift);
    return {roll(grads[0], back, dims)};
  }
  std::string name() const override { return "RollBackward0"; }
};

// repeat: each input element's gradient is the sum over its copies: the gradient seen as
// (repeats[0], size[0], repeats[1], size[1], ...) summed over the repeat dims.
struct RepeatBackward0 final : Node {
  DimVector repeats, padded_sizes, input_sizes;
  RepeatBackward0(DimVector r, DimVector padded, DimVector sizes)
      : repeats(std::move(r)), padded_sizes(std::move(padded)), input_sizes(std::move(sizes)) {}
  TensorList apply(TensorList&& grads) override {
    DimVector split, summed;
    for (size_t d = 0; d < repeats.size(); ++d) {
      summed.push_back(static_cast<int64_t>(split.size()));
      split.push_back(repeats[d]);
      split.push_back(padded_sizes[d]);
    }
    return {reshape(sum(reshape(grads[0], split), summed), input_sizes)};
  }
  std::string name() const override { return "RepeatBackward0"; }
};

// tril/triu: the gradient keeps the same triangle.
struct TriangleBackward final : Node {
  int64_t diagonal;
  bool upper;
  TriangleBackward(int64_t k, bool u) : diagonal(k), upper(u) {}
  TensorList apply(TensorList&& grads) override {
    return {upper ? triu(grads[0], diagonal) : tril(grads[0], diagonal)};
  }
  std::string name() const override { return upper ? "TriuBackward0" : "TrilBackward0"; }
};

// A diagonal of a matrix: its length and where it starts, in a contiguous (rows, columns) matrix.
struct DiagonalPlace {
  int64_t length, offset;
};
DiagonalPlace diagonal_place(int64_t rows, int64_t columns, int64_t diagonal) {
  const int64_t length = diagonal >= 0 ? std::max<int64_t>(std::min(rows, columns - diagonal), 0)
                                       : std::max<int64_t>(std::min(rows + diagonal, columns), 0);
  return {length, length == 0 ? 0 : (diagonal >= 0 ? diagonal : -diagonal * columns)};
}

// diag of a vector: the gradient is the matrix gradient's diagonal.
struct DiagEmbedBackward0 final : Node {
  int64_t diagonal;
  explicit DiagEmbedBackward0(int64_t k) : diagonal(k) {}
  TensorList apply(TensorList&& grads) override {
    const Tensor grad = contiguous(grads[0]);
    const int64_t side = grad.sizes()[0];
    const DiagonalPlace place = diagonal_place(side, side, diagonal);
    return {as_strided(grad, {place.length}, {side + 1}, grad.storage_offset() + place.offset)};
  }
  std::string name() const override { return "DiagEmbedBackward0"; }
};

// diag of a matrix (a copy, as PyTorch's): the gradient goes back onto that diagonal.
struct DiagonalBackward0Copy final : Node {
  DimVector input_sizes;
  int64_t offset;
  DiagonalBackward0Copy(DimVector sizes, int64_t o) : input_sizes(std::move(sizes)), offset(o) {}
  TensorList apply(TensorList&& grads) override {
    return {view_scatter(grads[0], input_sizes, grads[0].sizes(), {input_sizes[1] + 1}, offset)};
  }
  std::string name() const override { return "DiagonalBackward0_copy"; }
};

Tensor triangle(const Tensor& self, int64_t diagonal, bool upper) {
  const char* op = upper ? "triu" : "tril";
  TG_CHECK(self.dim() >= 2, op, "input tensor must have at least 2 dimensions, got shape ", self.sizes());
  Tensor out = Tensor::empty(self.sizes(), self.dtype(), self.device(), op);
  kernels::backend(op, out, self)->triangle(out, self, diagonal, upper);
  if (needs_grad(self)) make_node<TriangleBackward>(diagonal, upper)->connect({&self}, {&out});
  return out;
}

// The positions 0 .. count - 1 with each i repeated counts[i] times.
std::vector<int64_t> repeated_positions(const std::vector<int64_t>& counts) {
  std::vector<int64_t> positions;
  for (size_t i = 0; i < counts.size(); ++i) positions.insert(positions.end(), static_cast<size_t>(counts[i]), i);
  return positions;
}

// The counts of repeat_interleave's tensor form, checked: a 0-dim or 1-D integer tensor of
// non-negative counts (one per slice, or one for all).
std::vector<int64_t> repeat_counts(const Tensor& repeats, int64_t slices) {
  const char* op = "repeat_interleave";
  TG_CHECK(repeats.dtype() == DType::Int64 || repeats.dtype() == DType::Int32, op,
           "repeats must be an int64 or int32 tensor, got ", dtype_name(repeats.dtype()));
  TG_CHECK(repeats.dim() <= 1, op, "repeats must be 0-dim or 1-dimensional, got shape ", repeats.sizes());
  const Tensor values = contiguous(to_dtype(reshape(repeats, {-1}), DType::Int64));
  const int64_t* data = values.data_ptr<int64_t>();
  std::vector<int64_t> counts(data, data + values.numel());
  if (counts.size() == 1 && slices != 1) counts.assign(static_cast<size_t>(slices), counts[0]);
  TG_CHECK(static_cast<int64_t>(counts.size()) == slices, op, "repeats must have the same size as input along dim, "
           "got repeats of shape ", repeats.sizes(), " for ", slices, " slices");
  for (int64_t count : counts) TG_CHECK(count >= 0, op, "repeats can not be negative, got ", count);
  return counts;
}

// ---- the *stack family ------------------------------------------------------------------------

Tensor at_least(const Tensor& tensor, int64_t dims) {
  if (tensor.dim() >= dims) return tensor;
  if (tensor.dim() == 0) return reshape(tensor, DimVector(static_cast<size_t>(dims), 1));
  if (dims == 2) return unsqueeze(tensor, 0);
  return tensor.dim() == 1 ? reshape(tensor, {1, tensor.sizes()[0], 1}) : unsqueeze(tensor, 2);
}

std::vector<Tensor> all_at_least(const std::vector<Tensor>& tensors, int64_t dims, const char* op) {
  TG_CHECK(!tensors.empty(), op, "expects a non-empty TensorList");
  std::vector<Tensor> result;
  for (const Tensor& tensor : tensors) result.push_back(at_least(tensor, dims));
  return result;
}

}  // namespace

Tensor flip(const Tensor& self, const DimVector& dims) {
  const std::vector<bool> flipped = dims_to_mask(dims.empty() ? DimVector{} : dims, self.dim(), "flip");
  std::vector<std::vector<int64_t>> positions = identity_positions(self.sizes());
  DimVector wrapped;
  for (int64_t d = 0; d < self.dim(); ++d) {
    if (dims.empty() || !flipped[d]) continue;
    std::reverse(positions[d].begin(), positions[d].end());
    wrapped.push_back(d);
  }
  Tensor out = gather_positions(self, positions, "flip");
  if (needs_grad(self)) make_node<FlipBackward0>(wrapped)->connect({&self}, {&out});
  return out;
}

Tensor roll(const Tensor& self, const DimVector& shifts, const DimVector& dims) {
  TG_CHECK(!shifts.empty(), "roll", "`shifts` required");
  if (dims.empty()) {
    TG_CHECK(shifts.size() == 1, "roll", "shifts ", shifts, " and dimensions () should have the same length");
    Tensor out;
    {
      NoGradGuard no_grad;  // one RollBackward0 node, as PyTorch records
      out = reshape(roll(flatten(self), shifts, {0}), self.sizes());
    }
    if (needs_grad(self)) make_node<RollBackward0>(shifts, DimVector{})->connect({&self}, {&out});
    return out;
  }
  TG_CHECK(shifts.size() == dims.size(), "roll", "shifts ", shifts, " and dimensions ", dims,
           " should have the same length");
  std::vector<std::vector<int64_t>> positions = identity_positions(self.sizes());
  DimVector wrapped;
  for (size_t i = 0; i < dims.size(); ++i) {
    const int64_t d = wrap_dim(dims[i], self.dim(), "roll");
    wrapped.push_back(d);
    const int64_t size = self.dim() == 0 ? 1 : self.sizes()[d];
    if (self.dim() == 0 || size == 0) continue;
    // Element i comes from i - shift, wrapping round; shifts on one dim compose.
    std::vector<int64_t> moved(positions[d].size());
    for (int64_t j = 0; j < size; ++j) moved[j] = positions[d][((j - shifts[i]) % size + size) % size];
    positions[d] = std::move(moved);
  }
  Tensor out = gather_positions(self, positions, "roll");
  if (needs_grad(self)) make_node<RollBackward0>(shifts, wrapped)->connect({&self}, {&out});
  return out;
}

Tensor repeat(const Tensor& self, const DimVector& repeats) {
  TG_CHECK(static_cast<int64_t>(repeats.size()) >= self.dim(), "repeat", "number of dimensions of repeat dims (",
           repeats, ") can not be smaller than number of dimensions of tensor (", self.sizes(), ")");
  for (int64_t count : repeats)
    TG_CHECK(count >= 0, "repeat", "repeats can not be negative, got ", repeats);
  DimVector padded(repeats.size() - static_cast<size_t>(self.dim()), 1);
  for (int64_t size : self.sizes()) padded.push_back(size);
  std::vector<std::vector<int64_t>> positions;
  for (size_t d = 0; d < repeats.size(); ++d) {
    std::vector<int64_t> along;
    checked_numel({repeats[d], padded[d]}, "repeat");
    for (int64_t r = 0; r < repeats[d]; ++r)
      for (int64_t i = 0; i < padded[d]; ++i) along.push_back(i);
    positions.push_back(std::move(along));
  }
  Tensor source;
  {
    NoGradGuard no_grad;
    source = reshape(self, padded);
  }
  Tensor out = gather_positions(source, positions, "repeat");
  if (needs_grad(self)) make_node<RepeatBackward0>(repeats, padded, self.sizes())->connect({&self}, {&out});
  return out;
}

Tensor tile(const Tensor& self, const DimVector& repeats) {
  DimVector padded(static_cast<size_t>(std::max<int64_t>(self.dim() - static_cast<int64_t>(repeats.size()), 0)), 1);
  for (int64_t count : repeats) padded.push_back(count);
  return repeat(self, padded);
}

Tensor repeat_interleave(const Tensor& self, int64_t repeats, std::optional<int64_t> dim) {
  TG_CHECK(repeats >= 0, "repeat_interleave", "repeats can not be negative, got ", repeats);
  if (!dim) return repeat_interleave(flatten(self), repeats, 0);
  const int64_t axis = wrap_dim(*dim, self.dim(), "repeat_interleave");
  if (self.dim() == 0) return repeat_interleave(reshape(self, {1}), repeats, 0);
  // As PyTorch: each slice expanded along a new dim next to it, copied, and the two dims merged.
  DimVector expanded = self.sizes();
  expanded.insert(static_cast<size_t>(axis) + 1, repeats);
  return flatten(clone(expand(unsqueeze(self, axis + 1), expanded)), axis, axis + 1);
}

Tensor repeat_interleave(const Tensor& self, const Tensor& repeats, std::optional<int64_t> dim) {
  if (!dim) return repeat_interleave(flatten(self), repeats, 0);
  const int64_t axis = wrap_dim(*dim, self.dim(), "repeat_interleave");
  const Tensor source = self.dim() == 0 ? reshape(self, {1}) : self;
  const std::vector<int64_t> positions = repeated_positions(repeat_counts(repeats, source.sizes()[axis]));
  return index_select(source, axis, from_positions(positions));
}

Tensor repeat_interleave(const Tensor& repeats) {
  TG_CHECK(repeats.dim() == 1, "repeat_interleave", "repeats must be 1-dimensional, got shape ", repeats.sizes());
  return from_positions(repeated_positions(repeat_counts(repeats, repeats.numel())));
}

Tensor tril(const Tensor& self, int64_t diagonal) { return triangle(self, diagonal, false); }
Tensor triu(const Tensor& self, int64_t diagonal) { return triangle(self, diagonal, true); }

Tensor diag(const Tensor& self, int64_t diagonal) {
  TG_CHECK(self.dim() == 1 || self.dim() == 2, "diag", "supports 1-D or 2-D tensors, got shape ", self.sizes());
  if (self.dim() == 1) {
    const int64_t length = self.sizes()[0];
    const int64_t side = length + (diagonal >= 0 ? diagonal : -diagonal);
    Tensor out = zeros({side, side}, self.dtype(), self.device());
    const DiagonalPlace place = diagonal_place(side, side, diagonal);
    {
      NoGradGuard no_grad;
      Tensor window = make_view(out, {place.length}, {side + 1}, place.offset);
      copy_(window, self);
    }
    if (needs_grad(self)) make_node<DiagEmbedBackward0>(diagonal)->connect({&self}, {&out});
    return out;
  }
  const DiagonalPlace place = diagonal_place(self.sizes()[0], self.sizes()[1], diagonal);
  Tensor out;
  {
    NoGradGuard no_grad;
    const int64_t offset = self.storage_offset() + (diagonal >= 0 ? diagonal * self.strides()[1]
                                                                  : -diagonal * self.strides()[0]);
    out = clone(make_view(self, {place.length}, {self.strides()[0] + self.strides()[1]},
                          place.length == 0 ? self.storage_offset() : offset));
  }
  if (needs_grad(self)) make_node<DiagonalBackward0Copy>(self.sizes(), place.offset)->connect({&self}, {&out});
  return out;
}

std::vector<Tensor> unbind(const Tensor& self, int64_t dim) {
  TG_CHECK_INDEX(self.dim() > 0, "unbind", "dimension specified as 0 but tensor has no dimensions");
  dim = wrap_dim(dim, self.dim(), "unbind");
  const DimVector relative_all = contiguous_strides(self.sizes());
  std::vector<Tensor> pieces;
  for (int64_t i = 0; i < self.sizes()[dim]; ++i) {
    DimVector sizes = self.sizes(), strides = self.strides(), relative = relative_all;
    sizes.erase(dim);
    strides.erase(dim);
    relative.erase(dim);
    pieces.push_back(strided_view(self, std::move(sizes), std::move(strides),
                                  self.storage_offset() + i * self.strides()[dim], std::move(relative),
                                  i * relative_all[dim], "UnbindBackward0"));
  }
  return pieces;
}

Tensor unflatten(const Tensor& self, int64_t dim, const DimVector& sizes) {
  TG_CHECK(!sizes.empty(), "unflatten", "sizes must be non-empty");
  dim = wrap_dim(dim, self.dim(), "unflatten");
  const int64_t size = self.dim() == 0 ? 1 : self.sizes()[dim];
  const DimVector resolved = infer_shape(sizes, size, "unflatten");
  TG_CHECK(checked_numel(resolved, "unflatten") == size, "unflatten", "provided sizes ", sizes,
           " don't multiply up to the size of dim ", dim, " (", size, ") in the input tensor");
  DimVector shape;
  for (int64_t d = 0; d < dim; ++d) shape.push_back(self.sizes()[d]);
  for (int64_t s : resolved) shape.push_back(s);
  for (int64_t d = dim + 1; d < self.dim(); ++d) shape.push_back(self.sizes()[d]);
  return reshape(self, shape);
}

Tensor movedim(const Tensor& self, const DimVector& source, const DimVector& destination) {
  TG_CHECK(source.size() == destination.size(), "movedim", "Invalid source or destination dims: source (", source,
           " dims) should contain the same number of dims as destination (", destination, " dims)");
  if (source.empty()) return permute(self, identity_order(self.dim()));
  const int64_t ndim = self.dim();
  const std::vector<bool> moved = dims_to_mask(source, ndim, "movedim");
  dims_to_mask(destination, ndim, "movedim");  // refuses repeated destinations
  DimVector order(static_cast<size_t>(ndim), -1);
  for (size_t i = 0; i < source.size(); ++i)
    order[wrap_dim(destination[i], ndim, "movedim")] = wrap_dim(source[i], ndim, "movedim");
  // The dims not moved keep their order, in the places left free.
  int64_t next = 0;
  for (int64_t d = 0; d < ndim; ++d) {
    if (order[d] != -1) continue;
    while (moved[next]) ++next;
    order[d] = next++;
  }
  return permute(self, order);
}

Tensor hstack(const std::vector<Tensor>& tensors) {
  const std::vector<Tensor> pieces = all_at_least(tensors, 1, "hstack");
  return cat(pieces, pieces[0].dim() == 1 ? 0 : 1);
}

Tensor vstack(const std::vector<Tensor>& tensors) { return cat(all_at_least(tensors, 2, "vstack"), 0); }

Tensor dstack(const std::vector<Tensor>& tensors) { return cat(all_at_least(tensors, 3, "dstack"), 2); }

Tensor column_stack(const std::vector<Tensor>& tensors) {
  TG_CHECK(!tensors.empty(), "column_stack", "expects a non-empty TensorList");
  std::vector<Tensor> columns;
  for (const Tensor& tensor : tensors) columns.push_back(tensor.dim() <= 1 ? reshape(tensor, {tensor.numel(), 1}) : tensor);
  return cat(columns, 1);
}

std::vector<Tensor> meshgrid(const std::vector<Tensor>& tensors, std::string_view indexing) {
  TG_CHECK(!tensors.empty(), "meshgrid", "expects a non-empty TensorList");
  TG_CHECK_VALUE(indexing == "ij" || indexing == "xy", "meshgrid", "indexing must be one of \"xy\" or \"ij\", got \"",
                 std::string(indexing), "\"");
  DimVector shape;
  for (const Tensor& tensor : tensors) {
    TG_CHECK(tensor.dim() <= 1, "meshgrid", "expects 0-D or 1-D tensors, got shape ", tensor.sizes());
    TG_CHECK(tensor.dtype() == tensors[0].dtype(), "meshgrid", "expects all tensors to have the same dtype, got ",
             dtype_name(tensors[0].dtype()), " and ", dtype_name(tensor.dtype()));
    shape.push_back(tensor.numel());
  }
  // Cartesian indexing: the first two inputs' dims swap places in the output.
  const bool swap = indexing == "xy" && tensors.size() >= 2;
  if (swap) std::swap(shape[0], shape[1]);
  std::vector<Tensor> grids;
  for (size_t i = 0; i < tensors.size(); ++i) {
    size_t place = i;
    if (swap && i < 2) place = 1 - i;
    DimVector view_shape(tensors.size(), 1);
    view_shape[place] = -1;
    grids.push_back(expand(reshape(tensors[i], view_shape), shape));
  }
  return grids;
}

}  // namespace tg
