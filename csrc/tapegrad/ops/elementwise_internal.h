// What elementwise.cpp and compare.cpp share: running a binary kernel, numbers as 0-dim tensors,
// recording a two-input node, and the in-place protocol. Internal to ops/, not part of the API.
#pragma once

#include <memory>

#include "tapegrad/autograd/grad_mode.h"
#include "tapegrad/autograd/inplace.h"
#include "tapegrad/core/scalar.h"
#include "tapegrad/core/tensor.h"
#include "tapegrad/kernels/backend.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/creation.h"

namespace tg::detail {

// Runs a binary kernel on a and b converted to `compute` into a fresh tensor of `out_dtype`.
Tensor binary_kernel(kernels::BinaryOp op, const Tensor& a, const Tensor& b, DType compute, DType out_dtype);

// A number as a 0-dim tensor of `dtype`, so scalar and tensor operands share one kernel path.
inline Tensor wrap(Scalar value, DType dtype, const Tensor& like) { return scalar_tensor(value, dtype, like.device()); }

// Records a node with both operands as inputs (a wrapped number never requires grad).
template <typename N>
void record_binary(const std::shared_ptr<N>& node, const Tensor& a, const Tensor& b, Tensor& out) {
  node->connect({&a, &b}, {&out});
}

// ---- in place ----------------------------------------------------------------------------------
// With autograd recording, an in-place op computes out of place from a copy of self's old value
// (so no saved tensor is the one being overwritten), writes the result into self and makes the
// result's node self's history (rebase_history: for a view, its base's). Without autograd it
// writes straight into self.

bool can_cast(DType from, DType to);

// Without recording, an arithmetic update whose operand broadcasts to self and does not alias it
// runs as one kernel writing into self (optimizer steps and gradient accumulation live here).
bool write_directly(Tensor& self, kernels::BinaryOp op, const Tensor* other, bool record);

template <typename OutOfPlace>
Tensor& inplace(Tensor& self, const char* op, DType result, bool other_requires_grad, OutOfPlace compute,
                kernels::BinaryOp direct_op = kernels::BinaryOp::Add, const Tensor* direct_other = nullptr) {
  TG_CHECK(can_cast(result, self.dtype()), op, "result type ", dtype_name(result),
           " can't be cast to the desired output type ", dtype_name(self.dtype()));
  const bool record = check_inplace(self, op, other_requires_grad);
  if (write_directly(self, direct_op, direct_other, record)) {
    self.impl()->bump_version();
    return self;
  }
  Tensor value = compute(record ? clone(self) : self);
  TG_CHECK(value.sizes() == self.sizes(), op, "output with shape ", self.sizes(),
           " doesn't match the broadcast shape ", value.sizes());
  {
    NoGradGuard no_grad;
    kernels::backend("copy", self, value)->copy(self, value);
  }
  self.impl()->bump_version();
  if (record) rebase_history(self, value.grad_fn());
  return self;
}

}  // namespace tg::detail
