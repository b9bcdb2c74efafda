// Ops that copy data: clone, contiguous, dtype conversion, copy_ and fill_. (The protocol every
// in-place op follows is autograd/inplace.h.)
#pragma once

#include "tapegrad/core/scalar.h"
#include "tapegrad/core/tensor.h"

namespace tg {

// How a new copy lays out its memory: row-major, or like its source (PyTorch's preserve_format, the
// default of clone() and to() in Python: a transposed tensor's copy stays transposed).
enum class MemoryFormat : uint8_t { Contiguous, Preserve };

Tensor clone(const Tensor& self, MemoryFormat format = MemoryFormat::Contiguous);
// self when already contiguous, else a contiguous copy.
Tensor contiguous(const Tensor& self);
// self when it already has `dtype` (unless copy), else a converted copy. Differentiable between
// floating dtypes.
Tensor to_dtype(const Tensor& self, DType dtype, bool copy = false, MemoryFormat format = MemoryFormat::Contiguous);
// Writes src (broadcast, converted) into self. Differentiable with respect to src.
Tensor& copy_(Tensor& self, const Tensor& src);
// Writing one value everywhere is idempotent, so self may be an expanded tensor, as in PyTorch.
Tensor& fill_(Tensor& self, Scalar value);
Tensor& zero_(Tensor& self);

}  // namespace tg
