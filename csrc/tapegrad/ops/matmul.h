// Matrix products on our own GEMM: matmul with torch.matmul's rules (1-D, 2-D, batched with
// broadcast batch dims), mm, bmm, dot, linear (one GEMM with the bias folded in) and einsum for
// the contractions that reduce to batched matmul. Transposed and sliced operands reach the GEMM
// through their strides, broadcast batch dims through stride 0: nothing is copied on their account.
#pragma once

#include <string>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tg {

// torch.matmul: 1-D·1-D is a dot product (0-dim result); a 1-D operand otherwise gets a dim
// prepended (left) or appended (right) for the product and removed from the result; dims before
// the last two broadcast. Both operands must have the same dtype; integer dtypes are supported.
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor mm(const Tensor& a, const Tensor& b);   // 2-D only
Tensor bmm(const Tensor& a, const Tensor& b);  // 3-D, equal batch sizes (no broadcasting)
Tensor dot(const Tensor& a, const Tensor& b);  // 1-D, equal lengths

// input @ weight^T + bias, with the bias written into the output first and the product added by
// the GEMM (beta = 1). `bias` may be undefined. input is (..., in_features), weight
// (out_features, in_features), bias broadcastable to (..., out_features).
Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias);

// torch.einsum for any equation whose contractions are sums of products over shared subscripts:
// operands are combined left to right, each pair as one batched matmul after permute/reshape
// (repeated subscripts in one operand take its diagonal). Explicit ("ij,jk->ik") and implicit
// ("ij,jk") output, "..." for broadcast dims.
Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands);
// About the multiply-adds of that einsum: the product of the sizes of its distinct subscripts (the
// naive loop's length), for callers judging whether it is worth releasing the Python GIL for. A
// malformed equation, or one naming more or fewer operands than given, raises as einsum does.
int64_t einsum_work(const std::string& equation, const std::vector<Tensor>& operands);

// m*n*k multiply-adds of matmul(a, b) (batches included), so callers can judge whether a product
// is worth releasing the Python GIL for. Shapes need not be valid.
int64_t matmul_work(const Tensor& a, const Tensor& b);

}  // namespace tg
