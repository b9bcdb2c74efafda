// Ordering and scans along one dim: sort, argsort, topk, cumsum, cumprod (PyTorch's semantics,
// NaN sorting above every number).
#pragma once

#include <optional>

#include "tapegrad/core/tensor.h"
#include "tapegrad/ops/reduce.h"

namespace tg {

// Sorting is always stable here (PyTorch's stable=True), which its unstable sort may also give.
ValuesIndices sort(const Tensor& self, int64_t dim = -1, bool descending = false);
Tensor argsort(const Tensor& self, int64_t dim = -1, bool descending = false);
// The k largest (or smallest) along dim, in sorted order; ties to the lower index.
ValuesIndices topk(const Tensor& self, int64_t k, int64_t dim = -1, bool largest = true);
// Integer and bool inputs accumulate in int64 unless `dtype` says otherwise, as in PyTorch.
Tensor cumsum(const Tensor& self, int64_t dim, std::optional<DType> dtype = std::nullopt);
Tensor cumprod(const Tensor& self, int64_t dim, std::optional<DType> dtype = std::nullopt);

}  // namespace tg
