// Ops that copy data: clone, contiguous, dtype conversion, copy_ and fill_; and the protocol every
// in-place op follows (check_inplace, rebase_history).
#pragma once

#include <memory>

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

// ---- the in-place protocol ------------------------------------------------------------------
// An in-place op on self calls check_inplace before writing anything. When it returns true (autograd
// records the op), the op builds its node before the write, with self's old value as input 0 and
// self as its one output, and passes it to rebase_history after the write and the version bump.

// Refuses writes that cannot be done or followed: into a tensor where several elements share one
// memory location (unless `idempotent`: a fill may), and, when recorded, into a leaf that requires
// grad, into a view of one, or through a view made in no_grad mode. Returns whether to record.
bool check_inplace(const Tensor& self, const char* op, bool other_requires_grad = false, bool idempotent = false);

// Makes `node` self's history. When self is a view, the history rewritten is its base's: a
// CopySlices node replaces the view's elements in the base's old history by node's result, and
// the view's own grad_fn is derived again from the base (see view.h).
void rebase_history(Tensor& self, std::shared_ptr<Node> node);

}  // namespace tg
