#include "tapegrad/core/shape.h"

#include <vector>

#include "tapegrad/core/error.h"

namespace tg {

int64_t checked_numel(const DimVector& sizes, const char* op) {
  int64_t numel = 1;
  for (int64_t size : sizes) {
    TG_CHECK(size >= 0, "[", op, "] negative dimension ", size, " in shape ", sizes);
    if (__builtin_mul_overflow(numel, size, &numel))
      fail<Error>("[", op, "] shape ", sizes, " has more elements than int64 can count");
  }
  return numel;
}

DimVector contiguous_strides(const DimVector& sizes) {
  DimVector strides(sizes.size());
  int64_t stride = 1;
  for (size_t i = sizes.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= std::max<int64_t>(sizes[i], 1);
  }
  return strides;
}

bool is_contiguous_layout(const DimVector& sizes, const DimVector& strides) {
  int64_t expected = 1;
  for (size_t i = sizes.size(); i-- > 0;) {
    if (sizes[i] == 0) return true;
    if (sizes[i] == 1) continue;
    if (strides[i] != expected) return false;
    expected *= sizes[i];
  }
  return true;
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  const int64_t range = std::max<int64_t>(ndim, 1);
  TG_CHECK_INDEX(dim >= -range && dim < range, "[", op, "] dimension out of range (expected to be in range of [",
                 -range, ", ", range - 1, "], but got ", dim, ")");
  return dim < 0 ? dim + range : dim;
}

std::vector<bool> dims_to_mask(const DimVector& dims, int64_t ndim, const char* op) {
  std::vector<bool> mask(static_cast<size_t>(ndim), dims.empty());
  for (int64_t dim : dims) {
    const int64_t wrapped = wrap_dim(dim, ndim, op);
    if (ndim == 0) continue;
    TG_CHECK(!mask[wrapped], "[", op, "] dim ", wrapped, " appears multiple times in the list of dims");
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
    TG_CHECK(size_a == size_b || size_a == 1 || size_b == 1, "[", op, "] shapes ", a, " and ", b,
             " cannot be broadcast (", size_a, " vs ", size_b, " at dim ", i, ")");
    out[i] = size_a == 1 ? size_b : size_a;
  }
  return out;
}

bool broadcasts_to(const DimVector& from, const DimVector& to) {
  if (from.size() > to.size()) return false;
  const size_t lead = to.size() - from.size();
  for (size_t d = 0; d < from.size(); ++d)
    if (from[d] != 1 && from[d] != to[lead + d]) return false;
  return true;
}

DimVector infer_shape(const DimVector& requested, int64_t numel, const char* op) {
  DimVector shape = requested;
  int64_t known = 1;
  int64_t infer_at = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      TG_CHECK(infer_at < 0, "[", op, "] only one dimension can be inferred, got shape ", requested);
      infer_at = static_cast<int64_t>(i);
    } else {
      TG_CHECK(shape[i] >= 0, "[", op, "] invalid shape dimension ", shape[i], " in ", requested);
      known *= shape[i];
    }
  }
  if (infer_at >= 0) {
    TG_CHECK(known != 0 && numel % known == 0, "[", op, "] shape ", requested, " is invalid for input of size ", numel);
    shape[infer_at] = numel / known;
  } else {
    TG_CHECK(known == numel, "[", op, "] shape ", requested, " is invalid for input of size ", numel);
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
