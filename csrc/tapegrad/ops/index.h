// Indexing: x[key] (basic keys give one view, advanced keys a copy), assignment by index,
// index_select/gather/masked_fill/nonzero, and cat/stack/split. PyTorch's semantics throughout,
// including where advanced-index dims land in the result.
#pragma once

#include <optional>
#include <vector>

#include "tapegrad/core/scalar.h"
#include "tapegrad/core/tensor.h"

namespace tg {

// One entry of a Python indexing key, already parsed by the binding.
struct TensorIndex {
  enum class Kind : uint8_t { Integer, Slice, None, Ellipsis, Boolean, Tensor };
  Kind kind = Kind::None;
  int64_t start = 0;  // the integer, or the slice's start (Python's defaults already applied)
  int64_t stop = 0;
  int64_t step = 1;
  Tensor tensor;      // integer or bool tensor (Kind::Tensor)

  static TensorIndex integer(int64_t value) { return make(Kind::Integer, value); }
  static TensorIndex slice(int64_t start, int64_t stop, int64_t step) { return make(Kind::Slice, start, stop, step); }
  static TensorIndex none() { return make(Kind::None); }
  static TensorIndex ellipsis() { return make(Kind::Ellipsis); }
  static TensorIndex boolean(bool value) { return make(Kind::Boolean, value); }
  static TensorIndex of(Tensor tensor) {
    TensorIndex entry = make(Kind::Tensor);
    entry.tensor = std::move(tensor);
    return entry;
  }

 private:
  static TensorIndex make(Kind kind, int64_t start = 0, int64_t stop = 0, int64_t step = 1) {
    TensorIndex entry;
    entry.kind = kind;
    entry.start = start;
    entry.stop = stop;
    entry.step = step;
    return entry;
  }
};

// self[key]: a view when the key holds only ints, slices, None and Ellipsis; otherwise a copy.
Tensor index(const Tensor& self, const std::vector<TensorIndex>& key);
// self[key] = value (broadcast and converted to self's dtype), in place.
void index_assign_(Tensor& self, const std::vector<TensorIndex>& key, const Tensor& value);
void index_assign_(Tensor& self, const std::vector<TensorIndex>& key, Scalar value);

// PyTorch's aten::index / index_put_: indices[d] indexes dim d (undefined: the whole dim); bool
// tensors stand for their nonzero positions.
Tensor index(const Tensor& self, const std::vector<Tensor>& indices);
Tensor& index_put_(Tensor& self, const std::vector<Tensor>& indices, const Tensor& values, bool accumulate = false);
Tensor index_put(const Tensor& self, const std::vector<Tensor>& indices, const Tensor& values, bool accumulate = false);

Tensor index_select(const Tensor& self, int64_t dim, const Tensor& index);
Tensor gather(const Tensor& self, int64_t dim, const Tensor& index);
// PyTorch's dim-wise scatter: self[... index[i][j] (at dim) ...] = src[i][j] (or a value); src's
// leading block of index's shape is read. Repeated places: the last write wins; scatter_add sums.
Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, Scalar value);
Tensor& scatter_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
Tensor& scatter_(Tensor& self, int64_t dim, const Tensor& index, Scalar value);
Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
Tensor& scatter_add_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
// gather with the other dims broadcast; no dim: over the flattened input.
Tensor take_along_dim(const Tensor& self, const Tensor& indices, std::optional<int64_t> dim = std::nullopt);
// self's slices along dim at index (1-D) += alpha * source's, repeats summed.
Tensor index_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source, Scalar alpha = Scalar(1));
Tensor& index_add_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& source, Scalar alpha = Scalar(1));
// The elements of self (broadcast with mask) where mask is true, as a 1-D tensor.
Tensor masked_select(const Tensor& self, const Tensor& mask);
Tensor masked_fill(const Tensor& self, const Tensor& mask, Scalar value);
Tensor& masked_fill_(Tensor& self, const Tensor& mask, Scalar value);
// (number of nonzeros, self.dim()) int64 coordinates, in row-major order.
Tensor nonzero(const Tensor& self);

// Type-promoted concatenation; 1-D empty tensors are skipped, as in PyTorch.
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
// Views of consecutive pieces along dim: of split_size each (the last may be shorter), or of the
// listed sizes.
std::vector<Tensor> split(const Tensor& self, int64_t split_size, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& self, const DimVector& sizes, int64_t dim = 0);
std::vector<Tensor> chunk(const Tensor& self, int64_t chunks, int64_t dim = 0);

}  // namespace tg
