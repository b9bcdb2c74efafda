// The CPU pooling kernels: each (image, channel) plane is one task, its windows read through the
// input's strides in one pass; backward routes each output's gradient back in one pass too.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include <emmintrin.h>  // SSE2 only: this file is built for baseline x86-64

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

// An axis whose windows are all whole and evenly spaced, window o = [o * stride, o * stride +
// kernel): no padding, dilation or ceil_mode overhang cuts any of them (true of nearly every CNN's
// pooling, LeNet's 2x2 included).
struct EvenWindows {
  int64_t kernel, stride;
};

bool even_windows(const PoolAxis& axis, EvenWindows& even) {
  if (axis.step != 1 || axis.size() == 0) return false;
  even.kernel = axis.count[0];
  even.stride = axis.size() > 1 ? axis.first[1] - axis.first[0] : 1;
  for (int64_t o = 0; o < axis.size(); ++o)
    if (axis.count[o] != even.kernel || axis.first[o] != o * even.stride) return false;
  return even.kernel > 0;
}

// One plane's input as the max-pooling kernels read it.
template <typename T>
struct Plane {
  const T* data;
  int64_t row_stride, column_stride, width;
};

// The maximum of the kernel_h x kernel_w window at (h0, w0) and its index in the plane: the
// first maximum, or the first NaN, as the generic loop in pool2d finds it. Selects, not branches:
// on real data each comparison is a coin toss that a branch mispredicts.
template <typename T>
inline void window_max(Plane<T> plane, int64_t h0, int64_t w0, int64_t kernel_h, int64_t kernel_w, T& max,
                       int64_t& index) {
  T best = plane.data[h0 * plane.row_stride + w0 * plane.column_stride];
  int64_t best_index = h0 * plane.width + w0;
  for (int64_t i = 0; i < kernel_h; ++i)
    for (int64_t j = 0; j < kernel_w; ++j) {
      const T value = plane.data[(h0 + i) * plane.row_stride + (w0 + j) * plane.column_stride];
      // A NaN replaces a number but not an earlier NaN (x != x only for NaN).
      const bool take = (value > best) | ((value != value) & (best == best));
      best = take ? value : best;
      best_index = take ? (h0 + i) * plane.width + w0 + j : best_index;
    }
  max = best;
  index = best_index;
}

// Max pooling of one plane over even windows. The generic loop in pool2d looks each window up in
// the axis tables and branches on every element: LeNet's first 2x2 pooling (64x6x28x28) took
// 1.8 ms on one thread that way (PyTorch: 1.6 ms).
template <typename T>
void max_pool_even_plane(Plane<T> plane, EvenWindows rows, EvenWindows columns, int64_t out_h, int64_t out_w,
                         T* target, int64_t* indices) {
  for (int64_t oh = 0; oh < out_h; ++oh)
    for (int64_t ow = 0; ow < out_w; ++ow)
      window_max(plane, oh * rows.stride, ow * columns.stride, rows.kernel, columns.kernel, target[oh * out_w + ow],
                 indices[oh * out_w + ow]);
}

// The 2x2, stride 2 case on contiguous float rows, four windows at a time in SSE2 (the baseline
// this file is built for): GCC kept branches in window_max's selects, and this took LeNet's first
// pooling from 0.8 ms to 0.29 ms on one thread (fastest of 20). Same result as window_max, NaN
// included.
void max_pool_2x2_stride_2_plane(Plane<float> plane, int64_t out_h, int64_t out_w, float* target, int64_t* indices) {
  const int64_t vector_end = out_w / 4 * 4;
  for (int64_t oh = 0; oh < out_h; ++oh) {
    const float* top = plane.data + 2 * oh * plane.row_stride;
    const float* bottom = top + plane.row_stride;
    float* row_target = target + oh * out_w;
    int64_t* row_indices = indices + oh * out_w;
    for (int64_t ow = 0; ow < vector_end; ow += 4) {
      const __m128 top_low = _mm_loadu_ps(top + 2 * ow), top_high = _mm_loadu_ps(top + 2 * ow + 4);
      const __m128 bottom_low = _mm_loadu_ps(bottom + 2 * ow), bottom_high = _mm_loadu_ps(bottom + 2 * ow + 4);
      // The four elements of four windows, in window_max's order.
      const __m128 candidates[4] = {_mm_shuffle_ps(top_low, top_high, _MM_SHUFFLE(2, 0, 2, 0)),
                                    _mm_shuffle_ps(top_low, top_high, _MM_SHUFFLE(3, 1, 3, 1)),
                                    _mm_shuffle_ps(bottom_low, bottom_high, _MM_SHUFFLE(2, 0, 2, 0)),
                                    _mm_shuffle_ps(bottom_low, bottom_high, _MM_SHUFFLE(3, 1, 3, 1))};
      __m128 best = candidates[0];
      __m128i chosen = _mm_setzero_si128();
      for (int candidate = 1; candidate < 4; ++candidate) {
        const __m128 value = candidates[candidate];
        const __m128 take = _mm_or_ps(_mm_cmpgt_ps(value, best),
                                      _mm_and_ps(_mm_cmpunord_ps(value, value), _mm_cmpord_ps(best, best)));
        best = _mm_or_ps(_mm_and_ps(take, value), _mm_andnot_ps(take, best));
        const __m128i take_bits = _mm_castps_si128(take);
        chosen = _mm_or_si128(_mm_and_si128(take_bits, _mm_set1_epi32(candidate)), _mm_andnot_si128(take_bits, chosen));
      }
      _mm_storeu_ps(row_target + ow, best);
      alignas(16) int32_t lanes[4];
      _mm_store_si128(reinterpret_cast<__m128i*>(lanes), chosen);
      for (int lane = 0; lane < 4; ++lane)
        row_indices[ow + lane] = (2 * oh + lanes[lane] / 2) * plane.width + 2 * (ow + lane) + lanes[lane] % 2;
    }
    for (int64_t ow = vector_end; ow < out_w; ++ow)
      window_max(plane, 2 * oh, 2 * ow, 2, 2, row_target[ow], row_indices[ow]);
  }
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
    EvenWindows even_rows, even_columns;
    const bool even = kind == PoolKind::Max && even_windows(rows, even_rows) && even_windows(columns, even_columns);
    const bool two_by_two = even && even_rows.kernel == 2 && even_columns.kernel == 2;
    over_planes(input.size(0) * channels, input.numel() + out.numel(), [&](int64_t plane) {
      const T* source = input_data + (plane / channels) * input.stride(0) + (plane % channels) * input.stride(1);
      T* target = out_data + plane * plane_size;
      if (even) {
        const Plane<T> input_plane{source, row_stride, column_stride, in_w};
        int64_t* plane_indices = index_data + plane * plane_size;
        if constexpr (std::is_same_v<T, float>) {
          if (two_by_two && even_rows.stride == 2 && even_columns.stride == 2 && column_stride == 1) {
            max_pool_2x2_stride_2_plane(input_plane, rows.size(), columns.size(), target, plane_indices);
            return;
          }
        }
        max_pool_even_plane(input_plane, even_rows, even_columns, rows.size(), columns.size(), target, plane_indices);
        return;
      }
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
