// Shape arithmetic shared by every op: element counts, strides, dim wrapping, broadcasting and the
// stride rule that decides when a reshape can be a view.
#pragma once

#include <optional>
#include <vector>

#include "tapegrad/core/dim_vector.h"

namespace tg {

// The most dims a tapegrad tensor may have: NumPy's limit, so that every tensor converts to an
// array. (PyTorch has no general limit, and tensor() of nested lists stops at 128 there.) Every
// TensorImpl is checked, and the ops that add dims say so in their own name.
constexpr int64_t kMaxDims = 64;
// A RuntimeError naming `op` when `ndim` exceeds kMaxDims.
void check_dims(int64_t ndim, const char* op);

// Product of sizes; a RuntimeError naming `op` if it overflows int64, a size is negative or there
// are more than kMaxDims sizes.
int64_t checked_numel(const DimVector& sizes, const char* op);
// Row-major strides; a RuntimeError naming `op` if one overflows int64 (possible only when another
// dim is 0, as in zeros(0, 2**62, 2**62)).
DimVector contiguous_strides(const DimVector& sizes, const char* op = "tensor");
// Row-major contiguity as PyTorch defines it: dims of size 1 may have any stride, and a tensor
// with no elements is contiguous whatever its strides.
bool is_contiguous_layout(const DimVector& sizes, const DimVector& strides);
// Every element at its own offset and the offsets filling one block: contiguous up to a
// permutation of the dims (a transposed or permuted contiguous tensor). PyTorch's
// is_non_overlapping_and_dense.
bool is_non_overlapping_and_dense(const DimVector& sizes, const DimVector& strides);
// Strides for a new tensor laid out like (sizes, strides), PyTorch's preserve_format: the same
// strides when they are non-overlapping and dense, otherwise dense strides that keep the order of
// the dims in memory (PyTorch's infer_dense_strides; dims with stride 0 keep row-major order).
DimVector preserved_strides(const DimVector& sizes, const DimVector& strides);
// The dims from the innermost in memory (smallest stride) out, with PyTorch's tie rules.
DimVector memory_order(const DimVector& sizes, const DimVector& strides);

// Maps a possibly negative dim into [0, ndim); IndexError naming op otherwise. A 0-dim tensor
// accepts dims -1 and 0, as in PyTorch.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);
// Marks each listed dim (wrapped); duplicates are a RuntimeError. An empty list means all dims.
std::vector<bool> dims_to_mask(const DimVector& dims, int64_t ndim, const char* op);

// The NumPy/PyTorch broadcast of two shapes; RuntimeError naming op and both shapes otherwise.
DimVector broadcast_shapes(const DimVector& a, const DimVector& b, const char* op);
// True when a tensor of shape `from` can be expanded to `to` (broadcasting never grows `to`).
bool broadcasts_to(const DimVector& from, const DimVector& to);

// start:stop:step (step > 0) over a dim of `size`, bounds clamped as Python's slices clamp them:
// the first index taken and how many are taken.
struct SliceBounds {
  int64_t start;
  int64_t size;
};
SliceBounds slice_bounds(int64_t size, int64_t start, int64_t stop, int64_t step);
// A dim's stride after slicing with `step`. Only a step past the dim's end can overflow it, and
// that leaves at most one element, whose stride does not matter: it then keeps `stride`.
int64_t stepped_stride(int64_t stride, int64_t step);

// Resolves one -1 in a requested shape against numel; RuntimeError if impossible.
DimVector infer_shape(const DimVector& requested, int64_t numel, const char* op);

// Strides for viewing (sizes, strides) as new_sizes without copying, or nullopt when no such
// strides exist (the same rule as PyTorch's, so view() fails exactly where PyTorch's does).
std::optional<DimVector> view_strides(const DimVector& sizes, const DimVector& strides,
                                      const DimVector& new_sizes);

}  // namespace tg
