// The parameter type of the convolution kernels (kernels/backend.h declares them).
#pragma once

#include <cstdint>

namespace tg::kernels {

// A 2-D convolution of an (batch, in_channels, in_h, in_w) input with an (out_channels,
// in_channels / groups, kernel_h, kernel_w) weight into (batch, out_channels, out_h, out_w); a 1-D
// one is the same with in_h = kernel_h = out_h = 1. pad_h/pad_w are the zeros before the first
// row/column; the output size (computed by the op) accounts for any extra padding after the last,
// as padding="same" with an even kernel has.
struct ConvGeometry {
  int64_t batch, in_channels, out_channels, groups;
  int64_t in_h, in_w, kernel_h, kernel_w, out_h, out_w;
  int64_t stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;

  int64_t group_in_channels() const { return in_channels / groups; }
  int64_t group_out_channels() const { return out_channels / groups; }
  // The rows of one group's column matrix (one per weight element) and its columns (one per output
  // position): the GEMM's k and n.
  int64_t column_rows() const { return group_in_channels() * kernel_h * kernel_w; }
  int64_t output_positions() const { return out_h * out_w; }
};

}  // namespace tg::kernels
