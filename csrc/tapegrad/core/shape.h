// Shape arithmetic shared by every op: element counts, strides, dim wrapping, broadcasting and the
// stride rule that decides when a reshape can be a view.
#pragma once

#include <optional>
#include <vector>

#include "tapegrad/core/dim_vector.h"

namespace tg {

// Product of sizes; a RuntimeError naming `op` if it overflows int64 or a size is negative.
int64_t checked_numel(const DimVector& sizes, const char* op);
DimVector contiguous_strides(const DimVector& sizes);
// Row-major contiguity as PyTorch defines it: dims of size 1 may have any stride.
bool is_contiguous_layout(const DimVector& sizes, const DimVector& strides);

// Maps a possibly negative dim into [0, ndim); IndexError naming op otherwise. A 0-dim tensor
// accepts dims -1 and 0, as in PyTorch.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);
// Marks each listed dim (wrapped); duplicates are a RuntimeError. An empty list means all dims.
std::vector<bool> dims_to_mask(const DimVector& dims, int64_t ndim, const char* op);

// The NumPy/PyTorch broadcast of two shapes; RuntimeError naming op and both shapes otherwise.
DimVector broadcast_shapes(const DimVector& a, const DimVector& b, const char* op);
// True when a tensor of shape `from` can be expanded to `to` (broadcasting never grows `to`).
bool broadcasts_to(const DimVector& from, const DimVector& to);

// Resolves one -1 in a requested shape against numel; RuntimeError if impossible.
DimVector infer_shape(const DimVector& requested, int64_t numel, const char* op);

// Strides for viewing (sizes, strides) as new_sizes without copying, or nullopt when no such
// strides exist (the same rule as PyTorch's, so view() fails exactly where PyTorch's does).
std::optional<DimVector> view_strides(const DimVector& sizes, const DimVector& strides,
                                      const DimVector& new_sizes);

}  // namespace tg
