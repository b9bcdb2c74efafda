// The parameter type of the layer and group norm kernels (kernels/backend.h declares them).
#pragma once

#include <cstdint>

namespace tg::kernels {

// Layer norm and group norm both normalise rows of a contiguous (rows, row_size) input, each row
// with its own mean and 1/std, and then scale and shift it per affine channel. A row is
// channels_per_row channels of `inner` elements each; row r's channels are (r % groups) *
// channels_per_row onwards. Layer norm over the last dims: rows = the leading elements, groups = 1,
// channels_per_row = row_size, inner = 1. Group norm of (batch, channels, *spatial): rows = batch *
// groups, channels_per_row = channels / groups, inner = the spatial size.
struct RowNormGeometry {
  int64_t rows, groups, channels_per_row, inner;

  int64_t row_size() const { return channels_per_row * inner; }
  int64_t affine_channels() const { return groups * channels_per_row; }
};

}  // namespace tg::kernels
