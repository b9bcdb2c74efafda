// Pooling (torch.nn.functional's max_pool1d/2d, avg_pool1d/2d, adaptive_avg_pool1d/2d,
// adaptive_max_pool2d) as fused kernels with fused backward. The op computes every window once
// (first index, length, divisor) and the kernel makes one pass over them; inputs may have any strides.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "tapegrad/core/tensor.h"
#include "tapegrad/kernels/pool.h"

namespace tg {

using kernels::PoolKind;

struct PoolOptions {
  std::vector<int64_t> kernel_size, stride, padding, dilation;  // one value per spatial dim
  bool ceil_mode = false;
  bool count_include_pad = true;  // averages
  int64_t divisor_override = 0;   // averages; 0: none
};

// input (N, C, L) / (C, L) with one value per option for 1-D, (N, C, H, W) / (C, H, W) with two for
// 2-D. Returns the output and, for max, the int64 indices of each maximum in its input plane
// (undefined for averages).
std::pair<Tensor, Tensor> pool(PoolKind kind, const Tensor& input, const PoolOptions& options, const char* op);
// Adaptive pooling to output_size (one value per spatial dim): window o of a dim of size n spans
// [floor(o * n / out), ceil((o + 1) * n / out)).
std::pair<Tensor, Tensor> adaptive_pool(PoolKind kind, const Tensor& input, const std::vector<int64_t>& output_size,
                                        const char* op);

}  // namespace tg
