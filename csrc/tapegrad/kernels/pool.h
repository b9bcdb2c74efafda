// The parameter types of the pooling kernels (kernels/backend.h declares them).
#pragma once

#include <cstdint>
#include <vector>

namespace tg::kernels {

enum class PoolKind { Max, Average };

// The windows of one spatial dim, one per output index o: the input indices first[o] +
// j * step for j < count[o] (inside the input: padding already clipped off), and, for averages,
// divisor_extent[o], the window's length counting padding (count_include_pad).
struct PoolAxis {
  std::vector<int64_t> first, count, divisor_extent;
  int64_t step = 1;
  int64_t size() const { return static_cast<int64_t>(first.size()); }
};

// The windows of a 2-D pooling over (batch, channels, in_h, in_w) into (batch, channels,
// rows.size(), columns.size()); 1-D pooling has in_h = 1 and one row window. An average divides by
// divisor_override when it is non-zero, else by the padded window (count_include_pad) or the
// in-input count.
struct PoolWindows {
  PoolAxis rows, columns;
  bool count_include_pad = true;
  int64_t divisor_override = 0;
};

}  // namespace tg::kernels
