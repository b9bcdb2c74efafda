// The CPU pooling kernels: each (image, channel) plane is one task, its windows read through the
// input's strides in one pass; backward routes each output's gradient back in one pass too.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "tapegrad/core/threads.h"
#include "tapegrad/kernels/cpu/backend.h"

namespace tg::cpu {

namespace {

using kernels::PoolAxis;
using kernels::PoolKind;
using kernels::PoolWindows;

// Elements per thread below which a thread team costs more than it saves.
constexpr int64_t kMinPoolWorkPerThread = int64_t{1} << 15;

// body(plane) for each plane of `planes`, threaded when `work` (elements touched) is large.
template <typename Body>
void over_planes(int64_t planes, int64_t work, Body body) {
  const int threads = get_num_threads();
  if (threads > 1 && planes > 1 && !omp_in_parallel() && work >= 2 * kMinPoolWorkPerThread) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t plane = 0; plane < planes; ++plane) body(plane);
    return;
  }
  for (int64_t plane = 0; plane < planes; ++plane) body(plane);
}

double average_divisor(const PoolWindows& w, int64_t oh, int64_t ow) {
  if (w.divisor_override != 0) return static_cast<double>(w.divisor_override);
  if (w.count_include_pad) return static_cast<double>(w.rows.divisor_extent[oh] * w.columns.divisor_extent[ow]);
  return static_cast<double>(w.rows.count[oh] * w.columns.count[ow]);
}

}  // namespace

void CpuBackend::pool2d(PoolKind kind, const Tensor& out, const Tensor& indices, const Tensor& input,
                        const PoolWindows& w) {
  if (out.numel() == 0) return;
  dispatch_floating(out.dtype(), "pool2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const PoolAxis &rows = w.rows, &columns = w.columns;
    const int64_t channels = input.size(1), in_w = input.size(3);
    const int64_t row_stride = input.stride(2), column_stride = input.stride(3);
    const int64_t plane_size = rows.size() * columns.size();
    const T* input_data = input.data_ptr<T>();
    T* out_data = out.data_ptr<T>();
    int64_t* index_data = indices.defined() ? indices.data_ptr<int64_t>() : nullptr;
    over_planes(input.size(0) * channels, input.numel() + out.numel(), [&](int64_t plane) {
      const T* source = input_data + (plane / channels) * input.stride(0) + (plane % channels) * input.stride(1);
      T* target = out_data + plane * plane_size;
      for (int64_t oh = 0; oh < rows.size(); ++oh)
        for (int64_t ow = 0; ow < columns.size(); ++ow) {
          const int64_t h0 = rows.first[oh], w0 = columns.first[ow];
          if (kind == PoolKind::Max) {
            T best = -INFINITY;
            int64_t best_index = h0 * in_w + w0;
            for (int64_t i = 0; i < rows.count[oh]; ++i) {
              const int64_t h = h0 + i * rows.step;
              for (int64_t j = 0; j < columns.count[ow]; ++j) {
                const int64_t col = w0 + j * columns.step;
                const T value = source[h * row_stride + col * column_stride];
                if (value > best || std::isnan(value)) {
                  best = value;
                  best_index = h * in_w + col;
                  if (std::isnan(value)) i = rows.count[oh], j = columns.count[ow];  // NaN wins: stop
                }
              }
            }
            target[oh * columns.size() + ow] = best;
            index_data[plane * plane_size + oh * columns.size() + ow] = best_index;
          } else {
            T total = 0;
            for (int64_t i = 0; i < rows.count[oh]; ++i) {
              const T* line = source + (h0 + i) * row_stride + w0 * column_stride;
              for (int64_t j = 0; j < columns.count[ow]; ++j) total += line[j * column_stride];
            }
            target[oh * columns.size() + ow] = static_cast<T>(total / average_divisor(w, oh, ow));
          }
        }
    });
  });
}

void CpuBackend::pool2d_backward(PoolKind kind, const Tensor& grad_input, const Tensor& grad, const Tensor& indices,
                                 const PoolWindows& w) {
  dispatch_floating(grad_input.dtype(), "pool2d_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const PoolAxis &rows = w.rows, &columns = w.columns;
    const int64_t in_plane = grad_input.size(2) * grad_input.size(3), in_w = grad_input.size(3);
    const int64_t plane_size = rows.size() * columns.size();
    T* input_data = grad_input.data_ptr<T>();
    const T* grad_data = grad.data_ptr<T>();
    const int64_t* index_data = indices.defined() ? indices.data_ptr<int64_t>() : nullptr;
    over_planes(grad_input.size(0) * grad_input.size(1), grad_input.numel() + grad.numel(), [&](int64_t plane) {
      T* target = input_data + plane * in_plane;
      std::fill(target, target + in_plane, T(0));
      const T* source = grad_data + plane * plane_size;
      for (int64_t oh = 0; oh < rows.size(); ++oh)
        for (int64_t ow = 0; ow < columns.size(); ++ow) {
          const int64_t o = oh * columns.size() + ow;
          if (kind == PoolKind::Max) {
            target[index_data[plane * plane_size + o]] += source[o];
            continue;
          }
          const T share = static_cast<T>(source[o] / average_divisor(w, oh, ow));
          for (int64_t i = 0; i < rows.count[oh]; ++i) {
            T* line = target + (rows.first[oh] + i) * in_w + columns.first[ow];
            for (int64_t j = 0; j < columns.count[ow]; ++j) line[j] += share;
          }
        }
    });
  });
}

}  // namespace tg::cpu
