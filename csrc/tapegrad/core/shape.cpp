#include "tapegrad/core/shape.h"

#include <algorithm>
#include <vector>

#include "tapegrad/core/error.h"

namespace tg {

void check_dims(int64_t ndim, const char* op) {
  TG_CHECK(ndim <= kMaxDims, op, "tensors can have at most ", kMaxDims, " dims, got ", ndim);
}

int64_t checked_numel(const DimVector& sizes, const char* op) {
  check_dims(static_cast<int64_t>(sizes.size()), op);
  int64_t numel = 1;
  for (int64_t size : sizes) {
    TG_CHECK(size >= 0, op, "negative dimension ", size, " in shape ", sizes);
    if (__builtin_mul_overflow(numel, size, &numel))
      fail<Error>(op, "shape ", sizes, " has more elements than int64 can count");
  }
  return numel;
}

DimVector contiguous_strides(const DimVector& sizes, const char* op) {
  DimVector strides(sizes.size());
  int64_t stride = 1;
  for (size_t i = sizes.size(); i-- > 0;) {
    strides[i] = stride;
    // The first stride is never multiplied, so only an overflow that a stride would hold counts.
    if (__builtin_mul_overflow(stride, std::max<int64_t>(sizes[i], 1), &stride) && i > 0)
      fail<Error>(op, "the strides of shape ", sizes, " overflow int64");
  }
  return strides;
}

bool is_contiguous_layout(const DimVector& sizes, const DimVector& strides) {
  for (int64_t size : sizes)
    if (size == 0) return true;
  int64_t expected = 1;
  for (size_t i = sizes.size(); i-- > 0;) {
    if (sizes[i] == 1) continue;
    if (strides[i] != expected) return false;
    expected *= sizes[i];
  }
  return true;
}

// As PyTorch's infer_dense_strides orders them: a stable insertion sort where a dim with stride 0
// never moves past another (its place is ambiguous) and equal strides put the smaller size inside.
DimVector memory_order(const DimVector& sizes, const DimVector& strides) {
  const int64_t ndim = static_cast<int64_t>(sizes.size());
  DimVector order(sizes.size());
  for (int64_t i = 0; i < ndim; ++i) order[i] = ndim - 1 - i;
  auto should_swap = [&](int64_t inner, int64_t outer) {
    if (strides[inner] == 0 || strides[outer] == 0) return 0;
    if (strides[inner] != strides[outer]) return strides[inner] < strides[outer] ? -1 : 1;
    return sizes[inner] > sizes[outer] ? 1 : 0;
  };
  for (int64_t i = 1; i < ndim; ++i) {
    int64_t moving = i;
    for (int64_t j = i - 1; j >= 0; --j) {
      const int comparison = should_swap(order[j], order[moving]);
      if (comparison > 0) {
        std::swap(order[j], order[moving]);
        moving = j;
      } else if (comparison < 0) {
        break;
      }
    }
  }
  return order;
}

bool is_non_overlapping_and_dense(const DimVector& sizes, const DimVector& strides) {
  // Dims of size 0 or 1 say nothing about the layout; the rest, from the smallest stride up, must
  // each step over exactly the block the previous ones fill.
  DimVector order;
  for (size_t d = 0; d < sizes.size(); ++d)
    if (sizes[d] >= 2) order.push_back(static_cast<int64_t>(d));
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return strides[a] < strides[b]; });
  int64_t expected = 1;
  for (int64_t d : order) {
    if (strides[d] != expected) return false;
    expected *= sizes[d];
  }
  return true;
}

DimVector preserved_strides(const DimVector& sizes, const DimVector& strides) {
  if (is_non_overlapping_and_dense(sizes, strides)) return strides;
  DimVector dense(sizes.size());
  int64_t stride = 1;
  for (int64_t d : memory_order(sizes, strides)) {
    dense[d] = stride;
    // Only a tensor with no elements can overflow here; contiguous_strides says so.
    if (sizes[d] > 1 && __builtin_mul_overflow(stride, sizes[d], &stride)) return contiguous_strides(sizes);
  }
  return dense;
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  const int64_t range = std::max<int64_t>(ndim, 1);
  TG_CHECK_INDEX(dim >= -range && dim < range, op, "dimension out of range (expected to be in range of [",
                 -range, ", ", range - 1, "], but got ", dim, ")");
  return dim < 0 ? dim + range : dim;
}

std::vector<bool> dims_to_mask(const DimVector& dims, int64_t ndim, const char* op) {
  std::vector<bool> mask(static_cast<size_t>(ndim), dims.empty());
  for (int64_t dim : dims) {
    const int64_t wrapped = wrap_dim(dim, ndim, op);
    if (ndim == 0) continue;
    TG_CHECK(!mask[wrapped], op, "dim ", wrapped, " appears multiple times in the list of dims");
    mask[wrapped] = true;
  }
  return mask;
}

DimVector broadcast_shapes(const DimVector& a, const DimVector& b, const char* op) {
  const size_t ndim = std::max(a.size(), b.size());
  DimVector out(ndim);
  for (size_t i = 0; i < ndim; ++i) {
    const int64_t size_a = i < ndim - a.size() ? 1 : a[i - (ndim - a.size())];
    const int64_t size_b = i < ndim - b.size() ? 1 : b[i - (ndim - b.size())];
    TG_CHECK(size_a == size_b || size_a == 1 || size_b == 1, op, "shapes ", a, " and ", b,
             " cannot be broadcast (", size_a, " vs ", size_b, " at dim ", i, ")");
    out[i] = size_a == 1 ? size_b : size_a;
  }
  return out;
}

SliceBounds slice_bounds(int64_t size, int64_t start, int64_t stop, int64_t step) {
  auto clamp_bound = [size](int64_t bound) { return std::clamp<int64_t>(bound < 0 ? bound + size : bound, 0, size); };
  start = clamp_bound(start);
  stop = std::max(clamp_bound(stop), start);
  return {start, stop == start ? 0 : (stop - start - 1) / step + 1};  // no overflow for any step
}

int64_t stepped_stride(int64_t stride, int64_t step) {
  int64_t stepped = 0;
  return __builtin_mul_overflow(stride, step, &stepped) ? stride : stepped;
}

bool broadcasts_to(const DimVector& from, const DimVector& to) {
  if (from.size() > to.size()) return false;
  const size_t lead = to.size() - from.size();
  for (size_t d = 0; d < from.size(); ++d)
    if (from[d] != 1 && from[d] != to[lead + d]) return false;
  return true;
}

DimVector infer_shape(const DimVector& requested, int64_t numel, const char* op) {
  check_dims(static_cast<int64_t>(requested.size()), op);
  DimVector shape = requested;
  int64_t known = 1;
  int64_t infer_at = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      TG_CHECK(infer_at < 0, op, "only one dimension can be inferred, got shape ", requested);
      infer_at = static_cast<int64_t>(i);
    } else {
      TG_CHECK(shape[i] >= 0, op, "invalid shape dimension ", shape[i], " in ", requested);
      TG_CHECK(!__builtin_mul_overflow(known, shape[i], &known), op, "shape ", requested,
               " is invalid for input of size ", numel);
    }
  }
  if (infer_at >= 0) {
    TG_CHECK(known != 0 && numel % known == 0, op, "shape ", requested, " is invalid for input of size ", numel);
    shape[infer_at] = numel / known;
  } else {
    TG_CHECK(known == numel, op, "shape ", requested, " is invalid for input of size ", numel);
  }
  return shape;
}

std::optional<DimVector> view_strides(const DimVector& sizes, const DimVector& strides,
                                      const DimVector& new_sizes) {
  DimVector new_strides(new_sizes.size());
  if (sizes.empty()) {  // a scalar views as any all-ones shape
    for (auto& stride : new_strides) stride = 1;
    return new_strides;
  }
  int64_t numel = 1;
  for (int64_t size : sizes) numel *= size;
  if (numel == 0) {
    if (sizes == new_sizes) return strides;
    return contiguous_strides(new_sizes);
  }
  // Walk the old dims from the back in chunks whose elements are laid out as one contiguous run
  // (each dim's stride equals the next one's stride times size); every new dim must fit inside one
  // chunk.
  int64_t view_dim = static_cast<int64_t>(new_sizes.size()) - 1;
  int64_t chunk_base_stride = strides.back();
  int64_t tensor_numel = 1;
  int64_t view_numel = 1;
  for (int64_t dim = static_cast<int64_t>(sizes.size()) - 1; dim >= 0; --dim) {
    tensor_numel *= sizes[dim];
    const bool chunk_ends = dim == 0 || (sizes[dim - 1] != 1 && strides[dim - 1] != tensor_numel * chunk_base_stride);
    if (chunk_ends) {
      while (view_dim >= 0 && (view_numel < tensor_numel || new_sizes[view_dim] == 1)) {
        new_strides[view_dim] = view_numel * chunk_base_stride;
        view_numel *= new_sizes[view_dim];
        --view_dim;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (dim > 0) {
        chunk_base_stride = strides[dim - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_dim != -1) return std::nullopt;
  return new_strides;
}

}  // namespace tg
