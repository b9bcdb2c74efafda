// Reductions over all elements or any set of dims, with keepdim (PyTorch's semantics). An empty
// `dims` reduces over every dim. The softmax family lives in activation.h.
#pragma once

#include <optional>
#include <utility>

#include "tapegrad/core/tensor.h"

namespace tg {

// Integer and bool inputs sum (and multiply) to int64, as in PyTorch.
Tensor sum(const Tensor& self, const DimVector& dims = {}, bool keepdim = false,
           std::optional<DType> dtype = std::nullopt);
// Floating inputs only, unless `dtype` (floating) is given: the input is converted to it first.
Tensor mean(const Tensor& self, const DimVector& dims = {}, bool keepdim = false,
            std::optional<DType> dtype = std::nullopt);
// The gradient of an element is the product of the others, so zeros are handled exactly.
Tensor prod(const Tensor& self, const DimVector& dims = {}, bool keepdim = false,
            std::optional<DType> dtype = std::nullopt);

// Values only; the gradient is split evenly between tied extremes. Empty reductions are an error.
Tensor amax(const Tensor& self, const DimVector& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& self, const DimVector& dims = {}, bool keepdim = false);

// Over all elements, as amax/amin.
Tensor max(const Tensor& self);
Tensor min(const Tensor& self);
// max(dim)/min(dim): values and int64 indices (the first extreme on ties); the gradient goes to
// the returned index.
struct ValuesIndices {
  Tensor values, indices;
};
ValuesIndices max(const Tensor& self, int64_t dim, bool keepdim = false);
ValuesIndices min(const Tensor& self, int64_t dim, bool keepdim = false);
// No dim: the flattened input's index.
Tensor argmax(const Tensor& self, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& self, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);

// Divides by count - correction (Bessel's correction by default).
Tensor var(const Tensor& self, const DimVector& dims = {}, double correction = 1.0, bool keepdim = false);
Tensor std(const Tensor& self, const DimVector& dims = {}, double correction = 1.0, bool keepdim = false);
// log(sum(exp(x))) shifted by the maximum, so it neither overflows nor underflows.
Tensor logsumexp(const Tensor& self, const DimVector& dims, bool keepdim = false);

// The vector p-norm over dims (every dim when empty): p = 2, 1, +-inf, 0 or any other number, as
// PyTorch's linalg.vector_norm (which torch.norm computes for vectors and "fro"). Floating only.
Tensor norm(const Tensor& self, double p = 2.0, const DimVector& dims = {}, bool keepdim = false);

// Bool results, not differentiable.
Tensor all(const Tensor& self, const DimVector& dims = {}, bool keepdim = false);
Tensor any(const Tensor& self, const DimVector& dims = {}, bool keepdim = false);

// Sums a broadcast gradient back to `shape` (which grad's shape was broadcast from). Used by the
// engine for every broadcast input, and by expand's backward.
Tensor sum_to(const Tensor& grad, const DimVector& shape);

}  // namespace tg
