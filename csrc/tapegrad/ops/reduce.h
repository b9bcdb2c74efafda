// Reductions over all elements or any set of dims, with keepdim, and the softmax family.
#pragma once

#include <optional>
#include <utility>

#include "tapegrad/core/tensor.h"

namespace tg {

// An empty `dims` reduces over every dim. Integer and bool inputs sum to int64, as in PyTorch.
Tensor sum(const Tensor& self, const DimVector& dims = {}, bool keepdim = false,
           std::optional<DType> dtype = std::nullopt);
Tensor mean(const Tensor& self, const DimVector& dims = {}, bool keepdim = false);

// Sums a broadcast gradient back to `shape` (which grad's shape was broadcast from). Used by the
// engine for every broadcast input, and by expand's backward.
Tensor sum_to(const Tensor& grad, const DimVector& shape);

}  // namespace tg
