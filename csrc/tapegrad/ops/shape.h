// Rearranging ops: copies that move elements to new places (flip, roll, repeat, tile,
// repeat_interleave, the triangles and diagonals) and the compositions of views and concatenation
// that PyTorch offers beside them (unbind, unflatten, movedim, the *stack family, meshgrid).
// PyTorch's semantics and node names throughout.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tg {

Tensor flip(const Tensor& self, const DimVector& dims);
// Elements shifted along each dim (wrapping round); no dims: over the flattened tensor.
Tensor roll(const Tensor& self, const DimVector& shifts, const DimVector& dims);
// self tiled `repeats[d]` times along each dim; more repeats than dims add leading dims.
Tensor repeat(const Tensor& self, const DimVector& repeats);
// repeat with fewer repeats than dims allowed (they count from the last dim).
Tensor tile(const Tensor& self, const DimVector& repeats);
// Each element (or slice along dim) repeated; no dim: over the flattened tensor.
Tensor repeat_interleave(const Tensor& self, int64_t repeats, std::optional<int64_t> dim = std::nullopt);
Tensor repeat_interleave(const Tensor& self, const Tensor& repeats, std::optional<int64_t> dim = std::nullopt);
// repeat_interleave(repeats) alone: each position i repeated repeats[i] times.
Tensor repeat_interleave(const Tensor& repeats);

// The lower (tril) or upper (triu) triangle of the last two dims, from `diagonal` on.
Tensor tril(const Tensor& self, int64_t diagonal = 0);
Tensor triu(const Tensor& self, int64_t diagonal = 0);
// 1-D: a square matrix with self on the diagonal; 2-D: that diagonal of self, as a copy.
Tensor diag(const Tensor& self, int64_t diagonal = 0);

// Views of self's slices along dim.
std::vector<Tensor> unbind(const Tensor& self, int64_t dim = 0);
// dim split into `sizes` (one may be -1), a view where reshape gives one.
Tensor unflatten(const Tensor& self, int64_t dim, const DimVector& sizes);
Tensor movedim(const Tensor& self, const DimVector& source, const DimVector& destination);

Tensor hstack(const std::vector<Tensor>& tensors);
Tensor vstack(const std::vector<Tensor>& tensors);
Tensor dstack(const std::vector<Tensor>& tensors);
Tensor column_stack(const std::vector<Tensor>& tensors);
// indexing "ij" (matrix) or "xy" (Cartesian: the first two output dims swapped).
std::vector<Tensor> meshgrid(const std::vector<Tensor>& tensors, std::string_view indexing = "ij");

}  // namespace tg
