// The CPU convolution: each image's column matrix (im2col) is built in a per-thread workspace and
// multiplied by the weight on the GEMM (gemm.h); backward multiplies through the same GEMM with
// transposed operands addressed by their strides, and scatters the input's columns back (col2im).
// The workspace holds one image's columns of one group, so it is bounded by the largest image
// seen, not the batch, and is reused across calls. A 1x1 kernel with stride 1 and no padding
// needs no columns at all: the input itself is the matrix.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "tapegrad/core/threads.h"
#include "tapegrad/kernels/cpu/backend.h"
#include "tapegrad/kernels/cpu/gemm.h"

namespace tg::cpu {

namespace {

using kernels::ConvGeometry;

// One image's input as the kernels read it: its first element and the strides of its channel,
// row and column dims (any layout, a channels-last view included).
template <typename T>
struct Image {
  T* data;
  int64_t channel_stride, row_stride, column_stride;
};

// A column matrix the GEMM reads: its first element and how its rows and columns are addressed.
template <typename T>
struct Columns {
  const T* data;
  int64_t row_stride, column_stride;
};

// This thread's workspace, grown to the largest request and kept for the next call; one far
// larger than the request (a big image once, small ones since) is given back.
template <typename T>
T* workspace(int64_t elements) {
  thread_local std::vector<T> buffer;
  const auto needed = static_cast<size_t>(elements);
  constexpr size_t kKeepBytes = size_t{64} << 20;
  if (buffer.capacity() * sizeof(T) > kKeepBytes && buffer.capacity() > 4 * needed) std::vector<T>().swap(buffer);
  if (buffer.size() < needed) buffer.resize(needed);
  return buffer.data();
}

// The output columns [first, last) whose input column first + kernel offset lands inside the
// image: input column = out * stride + offset, with offset = kernel column * dilation - padding.
inline void valid_range(int64_t offset, int64_t stride, int64_t size, int64_t out_size, int64_t& first,
                        int64_t& last) {
  first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  last = offset > size - 1 ? 0 : std::min(out_size, (size - 1 - offset) / stride + 1);
  first = std::min(first, out_size);
  last = std::max(last, first);
}

// Walks one group's column matrix: visit(column row pointer, input row pointer or null for a
// padding row, first, last, input column offset) for each (channel, kernel row, kernel column,
// output row). im2col and col2im differ only in what they do with each such segment.
template <typename T, typename Visit>
void for_each_segment(const ConvGeometry& g, Image<T> image, T* columns, Visit visit) {
  const int64_t channels = g.group_in_channels(), positions = g.output_positions();
  int64_t row = 0;
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t ki = 0; ki < g.kernel_h; ++ki)
      for (int64_t kj = 0; kj < g.kernel_w; ++kj, ++row) {
        const int64_t column_offset = kj * g.dilation_w - g.pad_w;
        int64_t first, last;
        valid_range(column_offset, g.stride_w, g.in_w, g.out_w, first, last);
        T* out_row = columns + row * positions;
        for (int64_t oh = 0; oh < g.out_h; ++oh) {
          const int64_t ih = oh * g.stride_h + ki * g.dilation_h - g.pad_h;
          T* segment = out_row + oh * g.out_w;
          if (ih < 0 || ih >= g.in_h) {
            visit(segment, static_cast<T*>(nullptr), first, last, column_offset);
          } else {
            visit(segment, image.data + c * image.channel_stride + ih * image.row_stride, first, last, column_offset);
          }
        }
      }
}

// target[q - begin] for the output columns begin <= q < end of one column-matrix row segment:
// input_row[(q * stride_w + offset) * column_stride] for q in [first, last) (see valid_range), zero
// outside it or where the whole input row is padding (input_row null). step = stride_w *
// column_stride, and input_row already points at the offset column.
template <typename T>
inline void copy_segment(T* __restrict target, const T* input_row, int64_t step, int64_t first, int64_t last,
                         int64_t begin, int64_t end) {
  if (input_row == nullptr) first = last = end;
  first = std::clamp(first, begin, end);
  last = std::clamp(last, first, end);
  target -= begin;
  // Plain loops rather than std::fill / std::copy: a segment is one output row, 10 to 32 elements
  // in LeNet and a ResNet block, too short for a library call to pay.
  for (int64_t q = begin; q < first; ++q) target[q] = T(0);
  if (step == 1) {
    // The common case (stride 1, contiguous rows) as its own loop, which the compiler vectorises:
    // with the step a variable it copied element by element (LeNet's convolutions at batch 64,
    // forward on one thread: 0.70 -> 0.53 ms and 0.96 -> 0.90 ms).
    for (int64_t q = first; q < last; ++q) target[q] = input_row[q];
  } else {
    for (int64_t q = first; q < last; ++q) target[q] = input_row[q * step];
  }
  for (int64_t q = last; q < end; ++q) target[q] = T(0);
}

template <typename T>
void im2col(const ConvGeometry& g, Image<const T> image, T* columns) {
  const int64_t column_stride = image.column_stride, step = g.stride_w * column_stride, out_w = g.out_w;
  Image<T> readable{const_cast<T*>(image.data), image.channel_stride, image.row_stride, column_stride};
  for_each_segment<T>(g, readable, columns, [&](T* segment, const T* input_row, int64_t first, int64_t last,
                                                int64_t offset) {
    copy_segment(segment, input_row == nullptr ? input_row : input_row + offset * column_stride, step, first, last,
                 int64_t{0}, out_w);
  });
}

// image (contiguous, zeroed by the caller) += the columns scattered back to the input positions
// they were read from.
template <typename T>
void col2im(const ConvGeometry& g, const T* columns, Image<T> image) {
  const int64_t step = g.stride_w * image.column_stride;
  for_each_segment<T>(g, image, const_cast<T*>(columns), [&](T* segment, T* input_row, int64_t first, int64_t last,
                                                             int64_t offset) {
    if (input_row == nullptr) return;
    T* target = input_row + offset * image.column_stride;
    for (int64_t ow = first; ow < last; ++ow) target[ow * step] += segment[ow];
  });
}

// The 1x1, stride 1, unpadded case whose rows and columns fold into one stride: the image is the
// column matrix (channels x positions) as it lies.
template <typename T>
bool image_is_columns(const ConvGeometry& g, Image<const T> image) {
  return g.kernel_h == 1 && g.kernel_w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 0 && g.pad_w == 0 &&
         (g.out_h == 1 || image.row_stride == g.in_w * image.column_stride);
}

// One group's column matrix of one image: the image itself when it already is one, else im2col
// into this thread's workspace.
template <typename T>
Columns<T> columns_of(const ConvGeometry& g, Image<const T> image) {
  if (image_is_columns(g, image)) return {image.data, image.channel_stride, image.column_stride};
  T* columns = workspace<T>(g.column_rows() * g.output_positions());
  im2col<T>(g, image, columns);
  return {columns, g.output_positions(), 1};
}

// One group's column matrix of one image (rows: input channel, kernel row, kernel column; columns:
// output positions), packed from the image straight into the GEMM's panels (implicit GEMM), so the
// matrix is never written out and read back to be packed (see packs_implicitly).
template <typename T>
class ImageColumns final : public BPacker<T> {
 public:
  ImageColumns(const ConvGeometry& g, Image<const T> image) : g_(g), image_(image) {
    for (int64_t kj = 0; kj < g.kernel_w && kj < kMaxKernelWidth; ++kj)
      valid_range(kj * g.dilation_w - g.pad_w, g.stride_w, g.in_w, g.out_w, first_[kj], last_[kj]);
  }

  void pack(int64_t depth_begin, int64_t depth, int64_t column_begin, int64_t columns, int width,
            T* panel) const override {
    const ConvGeometry& g = g_;
    const int64_t step = g.stride_w * image_.column_stride, kernel_area = g.kernel_h * g.kernel_w;
    int64_t c = depth_begin / kernel_area, ki = depth_begin / g.kernel_w % g.kernel_h, kj = depth_begin % g.kernel_w;
    const int64_t first_oh = column_begin / g.out_w, first_ow = column_begin % g.out_w;
    for (int64_t p = 0; p < depth; ++p) {
      T* row = panel + p * width;
      const int64_t offset = kj * g.dilation_w - g.pad_w;
      int64_t first = 0, last = 0;
      if (kj < kMaxKernelWidth) {
        first = first_[kj];
        last = last_[kj];
      } else {
        valid_range(offset, g.stride_w, g.in_w, g.out_w, first, last);
      }
      // The panel's columns run across output rows: one segment per output row they touch.
      int64_t oh = first_oh, ow = first_ow;
      for (int64_t r = 0; r < columns; ++oh, ow = 0) {
        const int64_t end = std::min(g.out_w, ow + columns - r);
        const int64_t ih = oh * g.stride_h + ki * g.dilation_h - g.pad_h;
        const T* input_row = ih < 0 || ih >= g.in_h ? nullptr
                                                    : image_.data + c * image_.channel_stride + ih * image_.row_stride +
                                                          offset * image_.column_stride;
        copy_segment(row + r, input_row, step, first, last, ow, end);
        r += end - ow;
      }
      for (int64_t r = columns; r < width; ++r) row[r] = T(0);
      if (++kj == g.kernel_w) {
        kj = 0;
        if (++ki == g.kernel_h) ki = 0, ++c;
      }
    }
  }

 private:
  // Each kernel column's valid output columns, computed once per image rather than per panel row
  // (kernels wider than this compute theirs as they go).
  static constexpr int64_t kMaxKernelWidth = 16;
  const ConvGeometry& g_;
  Image<const T> image_;
  int64_t first_[kMaxKernelWidth] = {}, last_[kMaxKernelWidth] = {};
};

// Whether the forward packs the GEMM's panels from the image (ImageColumns) rather than writing
// the column matrix out first. Written out, a matrix that fits in L2 is packed (or read in place)
// from there, and that measured faster for LeNet's small ones, whose panels each cross several
// short output rows: 0.53 vs 0.72 ms (64x1x28x28, 6@5x5 pad 2; 78 KB of columns per image) and
// 0.90 vs 1.01 ms (64x6x14x14, 16@5x5; 60 KB), one thread. A larger matrix goes out to memory and
// back: for a ResNet block's 3x3 convolution (32x64x32x32, 64@3x3 pad 1; 2.3 MB per image)
// packing from the image took the forward from 34 ms to 28-30 ms. The weight's gradient keeps its
// (transposed) matrix written out even there: packed from the image, each panel row took
// elements a panel width apart, and its product took 50 ms instead of 34.
template <typename T>
bool packs_implicitly(const ConvGeometry& g, Image<const T> image) {
  constexpr double kColumnsInCacheBytes = 1 << 20;  // half this machine's 2 MB L2
  return !image_is_columns(g, image) &&
         static_cast<double>(g.column_rows()) * static_cast<double>(g.output_positions()) * sizeof(T) >
             kColumnsInCacheBytes;
}

// How many threads split the batch: one when each image's products are big enough for the GEMM's
// own threads (or the batch is too small to share), else all of them.
int batch_threads(const ConvGeometry& g) {
  const double image_work = static_cast<double>(g.out_channels) * static_cast<double>(g.column_rows()) *
                            static_cast<double>(g.output_positions());
  const int threads = get_num_threads();
  const bool split = g.batch > 1 && threads > 1 && !omp_in_parallel() && image_work < 2 * kMinWorkPerThread &&
                     image_work * static_cast<double>(g.batch) >= 2 * kMinWorkPerThread;
  return split ? threads : 1;
}

// Runs body(begin, end, thread) over the batch on `threads` threads, each with its own workspace.
template <typename Body>
void over_batch(const ConvGeometry& g, int threads, Body body) {
  if (threads == 1) {
    body(0, g.batch, 0);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int64_t team = omp_get_num_threads(), thread = omp_get_thread_num();
    body(g.batch * thread / team, g.batch * (thread + 1) / team, thread);
  }
}

template <typename T>
Image<const T> image_of(const Tensor& input, int64_t n, int64_t group, const ConvGeometry& g) {
  return {input.data_ptr<T>() + n * input.stride(0) + group * g.group_in_channels() * input.stride(1),
          input.stride(1), input.stride(2), input.stride(3)};
}

}  // namespace

void CpuBackend::conv2d(const Tensor& out, const Tensor& input, const Tensor& weight, const Tensor& bias,
                        const ConvGeometry& g) {
  if (out.numel() == 0) return;
  dispatch_floating(out.dtype(), "conv2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t group_out = g.group_out_channels(), k = g.column_rows(), positions = g.output_positions();
    const T* weight_data = weight.data_ptr<T>();
    const T* bias_data = bias.defined() ? bias.data_ptr<T>() : nullptr;
    T* out_data = out.data_ptr<T>();
    over_batch(g, batch_threads(g), [&](int64_t begin, int64_t end, int64_t) {
      for (int64_t n = begin; n < end; ++n) {
        T* image_out = out_data + n * g.out_channels * positions;
        // The bias is written first and the product added onto it (beta = 1): no second pass.
        if (bias_data != nullptr)
          for (int64_t oc = 0; oc < g.out_channels; ++oc)
            std::fill(image_out + oc * positions, image_out + (oc + 1) * positions, bias_data[oc]);
        for (int64_t group = 0; group < g.groups; ++group) {
          const Image<const T> image = image_of<T>(input, n, group, g);
          const T* group_weight = weight_data + group * group_out * k;
          const T beta = bias_data != nullptr ? T(1) : T(0);
          T* group_out_data = image_out + group * group_out * positions;
          if (packs_implicitly<T>(g, image)) {
            gemm_packing_b<T>(group_out, positions, k, T(1), group_weight, k, 1, ImageColumns<T>(g, image), beta,
                              group_out_data, positions, 1);
          } else {
            const Columns<T> columns = columns_of<T>(g, image);
            gemm<T>(group_out, positions, k, T(1), group_weight, k, 1, columns.data, columns.row_stride,
                    columns.column_stride, beta, group_out_data, positions, 1);
          }
        }
      }
    });
  });
}

void CpuBackend::conv2d_backward(const Tensor& grad_input, const Tensor& grad_weight, const Tensor& grad_bias,
                                 const Tensor& grad, const Tensor& input, const Tensor& weight,
                                 const ConvGeometry& g) {
  dispatch_floating(grad.dtype(), "conv2d_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t group_out = g.group_out_channels(), k = g.column_rows(), positions = g.output_positions();
    const int64_t weight_elements = g.out_channels * k;
    const T* grad_data = grad.data_ptr<T>();
    const T* weight_data = weight.data_ptr<T>();

    if (grad_bias.defined()) {
      // Eight running sums, not one: a single one is a chain of dependent adds that the compiler
      // may not reorder, and it took a fifth of LeNet's first convolution's backward (64 images
      // of 6x28x28); eight independent ones vectorise: its weight and bias gradients 0.93 ->
      // 0.78 ms on one thread.
      constexpr int64_t kSums = 8;
      T* bias_out = grad_bias.data_ptr<T>();
      for (int64_t oc = 0; oc < g.out_channels; ++oc) {
        T sums[kSums] = {};
        T total = 0;
        for (int64_t n = 0; n < g.batch; ++n) {
          const T* row = grad_data + (n * g.out_channels + oc) * positions;
          const int64_t whole = positions / kSums * kSums;
          for (int64_t p = 0; p < whole; p += kSums)
            for (int64_t lane = 0; lane < kSums; ++lane) sums[lane] += row[p + lane];
          for (int64_t p = whole; p < positions; ++p) total += row[p];
        }
        for (int64_t lane = 0; lane < kSums; ++lane) total += sums[lane];
        bias_out[oc] = total;
      }
    }

    if (grad_input.defined()) {
      T* input_out = grad_input.data_ptr<T>();
      std::fill(input_out, input_out + grad_input.numel(), T(0));
      if (positions > 0)
        over_batch(g, batch_threads(g), [&](int64_t begin, int64_t end, int64_t) {
          T* columns = workspace<T>(k * positions);
          for (int64_t n = begin; n < end; ++n)
            for (int64_t group = 0; group < g.groups; ++group) {
              // columns (k x positions) = weight_g^T · grad_g, the transpose read through strides.
              gemm<T>(k, positions, group_out, T(1), weight_data + group * group_out * k, 1, k,
                      grad_data + (n * g.out_channels + group * group_out) * positions, positions, 1, T(0), columns,
                      positions, 1);
              col2im<T>(g, columns,
                        {input_out + (n * g.in_channels + group * g.group_in_channels()) * g.in_h * g.in_w,
                         g.in_h * g.in_w, g.in_w, 1});
            }
        });
    }

    if (grad_weight.defined()) {
      T* weight_out = grad_weight.data_ptr<T>();
      std::fill(weight_out, weight_out + weight_elements, T(0));
      if (g.batch == 0 || positions == 0) return;
      // Threads splitting the batch each sum their images into a partial of their own (the first
      // into grad_weight itself), added together at the end.
      const int threads = batch_threads(g);
      std::vector<T> partials(static_cast<size_t>(threads - 1) * weight_elements, T(0));
      over_batch(g, threads, [&](int64_t begin, int64_t end, int64_t thread) {
        T* target = thread == 0 ? weight_out : partials.data() + (thread - 1) * weight_elements;
        for (int64_t n = begin; n < end; ++n)
          for (int64_t group = 0; group < g.groups; ++group) {
            const Columns<T> columns = columns_of<T>(g, image_of<T>(input, n, group, g));
            // grad_weight_g (group_out x k) += grad_g · columns^T.
            gemm<T>(group_out, k, positions, T(1), grad_data + (n * g.out_channels + group * group_out) * positions,
                    positions, 1, columns.data, columns.column_stride, columns.row_stride, T(1),
                    target + group * group_out * k, k, 1);
          }
      });
      for (int thread = 1; thread < threads; ++thread) {
        const T* partial = partials.data() + (thread - 1) * weight_elements;
        for (int64_t i = 0; i < weight_elements; ++i) weight_out[i] += partial[i];
      }
    }
  });
}

}  // namespace tg::cpu
