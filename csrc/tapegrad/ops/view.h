// Views: new sizes, strides and offset over the same storage, no data moved. Each is
// differentiable; gradients of strided views scatter back into the input's shape.
#pragma once

#include "tapegrad/core/tensor.h"

namespace tg {

// The general view: any geometry over self's storage. `storage_offset` is absolute. Its gradient
// reaches self's elements through their places in storage, whatever self's layout.
Tensor as_strided(const Tensor& self, const DimVector& sizes, const DimVector& strides, int64_t storage_offset);

// Legal exactly where PyTorch's view is; a RuntimeError suggesting reshape() otherwise. One -1 allowed.
Tensor view(const Tensor& self, const DimVector& shape);
// A view when possible, else a contiguous copy.
Tensor reshape(const Tensor& self, const DimVector& shape);
Tensor transpose(const Tensor& self, int64_t dim0, int64_t dim1);
Tensor t(const Tensor& self);  // 2-D transpose; 0-D and 1-D come back as they are
Tensor permute(const Tensor& self, const DimVector& dims);
Tensor squeeze(const Tensor& self);                         // every size-1 dim
Tensor squeeze(const Tensor& self, const DimVector& dims);  // the listed size-1 dims
Tensor unsqueeze(const Tensor& self, int64_t dim);
// Sizes of -1 keep the dim; new leading dims may be added. Broadcast dims get stride 0.
Tensor expand(const Tensor& self, const DimVector& sizes);
Tensor flatten(const Tensor& self, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor narrow(const Tensor& self, int64_t dim, int64_t start, int64_t length);
Tensor select(const Tensor& self, int64_t dim, int64_t index);
// Python slice semantics on one dim: bounds clamp, negative bounds count from the end, step > 0.
Tensor slice(const Tensor& self, int64_t dim, int64_t start, int64_t end, int64_t step = 1);

// A view with the given geometry over self's storage, recording nothing (for ops that record
// their own node). It remembers its base (self's, when self is a view) for in-place updates.
Tensor make_view(const Tensor& self, DimVector sizes, DimVector strides, int64_t storage_offset);
// A strided sub-view recorded as one node named `node_name` whose backward scatters into the
// input's shape; `relative_strides`/`relative_offset` give the view over a contiguous input.
Tensor strided_view(const Tensor& self, DimVector sizes, DimVector strides, int64_t storage_offset,
                    DimVector relative_strides, int64_t relative_offset, const char* node_name);

// The inverse of a strided view for gradients: zeros of `input_sizes` with `grad` written into
// the elements the view (sizes, strides, offset, relative to a contiguous input) covered, summed
// where the view sees an element more than once. Differentiable: its own gradient is that view of
// the incoming gradient.
Tensor view_scatter(const Tensor& grad, const DimVector& input_sizes, const DimVector& sizes,
                    const DimVector& strides, int64_t offset);

// Where a tensor's elements lie in its storage (offset absolute).
struct StridedGeometry {
  DimVector sizes, strides;
  int64_t offset = 0;
  explicit StridedGeometry(const Tensor& tensor)
      : sizes(tensor.sizes()), strides(tensor.strides()), offset(tensor.storage_offset()) {}
  StridedGeometry(DimVector s, DimVector st, int64_t o) : sizes(std::move(s)), strides(std::move(st)), offset(o) {}
  int64_t numel() const;
  // One past the last storage element it reaches (its offset when it is empty).
  int64_t end() const;
};

}  // namespace tg
