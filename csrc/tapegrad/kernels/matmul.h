// The kernel entry point of every matrix product (matmul, mm, bmm, dot, linear, einsum): see
// kernels.h for how the backend is chosen.
#pragma once

#include "tapegrad/core/tensor.h"

namespace tg::kernels {

// out (contiguous, batch + (m, n)) = a (batch_a + (m, k)) · b (batch_b + (k, n)), or += with
// `accumulate`; batch is the broadcast of batch_a and batch_b. Operands have out's dtype (numeric,
// not bool) and any strides: transposed and sliced ones are read in place, broadcast batch dims
// through stride 0.
void matmul(const Tensor& out, const Tensor& a, const Tensor& b, bool accumulate);

}  // namespace tg::kernels
