// The CPU normalisation kernels. Batch norm: each channel is one task, its statistics gathered in
// one pass over the input's strides and then applied in a second; backward reduces the gradient
// against the saved statistics in one pass and writes the input's gradient in another. Layer and
// group norm do the same per row of a contiguous input.
//
// Sums run in T over chunks of kChunk elements (the loops vectorise) and add up across chunks in
// double, so float32 statistics stay accurate over long channels. The moments are taken about the
// channel's (row's) first element, which keeps the one-pass variance free of cancellation.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "tapegrad/kernels/cpu/backend.h"
#include "tapegrad/kernels/cpu/loops.h"

namespace tg::cpu {

namespace {

using kernels::RowNormGeometry;

constexpr int64_t kChunk = 1024;

// sum += Σ (x[i] - shift), sum_squares += Σ (x[i] - shift)², over count elements `step` apart.
template <typename T>
void add_shifted_moments(const T* x, int64_t count, int64_t step, T shift, double& sum, double& sum_squares) {
  for (int64_t start = 0; start < count; start += kChunk) {
    const int64_t end = std::min(count, start + kChunk);
    T s = 0, ss = 0;
#pragma omp simd reduction(+ : s, ss)
    for (int64_t i = start; i < end; ++i) {
      const T d = x[i * step] - shift;
      s += d;
      ss += d * d;
    }
    sum += s;
    sum_squares += ss;
  }
}

// sum_grad += Σ g[i], dot += Σ (x[i * step] - mean) g[i]: what every norm's backward reduces.
template <typename T>
void add_grad_moments(const T* x, int64_t step, const T* g, int64_t count, T mean, double& sum_grad, double& dot) {
  for (int64_t start = 0; start < count; start += kChunk) {
    const int64_t end = std::min(count, start + kChunk);
    T s = 0, d = 0;
#pragma omp simd reduction(+ : s, d)
    for (int64_t i = start; i < end; ++i) {
      s += g[i];
      d += (x[i * step] - mean) * g[i];
    }
    sum_grad += s;
    dot += d;
  }
}

// The mean and 1 / sqrt(biased variance + eps) from moments about `shift` over count elements;
// also the biased variance.
struct Moments {
  double mean, variance, invstd;
};
Moments moments_of(double shift, double sum, double sum_squares, int64_t count, double eps) {
  if (count == 0) return {0.0, 0.0, 1.0 / std::sqrt(eps)};
  const double shifted_mean = sum / static_cast<double>(count);
  const double variance = std::max(0.0, sum_squares / static_cast<double>(count) - shifted_mean * shifted_mean);
  return {shift + shifted_mean, variance, 1.0 / std::sqrt(variance + eps)};
}

// How batch norm walks one channel of its 4-D input: `batch` planes, each `runs` runs of `run`
// elements `step` apart. A plane whose rows are laid out back to back is one run; the output and
// the gradients (contiguous) hold each channel's plane as runs * run consecutive elements.
struct ChannelWalk {
  int64_t batch, runs, run, step;
  int64_t batch_stride, channel_stride, run_stride;
  int64_t channels, plane;

  explicit ChannelWalk(const Tensor& input)
      : batch(input.size(0)), step(input.stride(3)), batch_stride(input.stride(0)), channel_stride(input.stride(1)),
        channels(input.size(1)), plane(input.size(2) * input.size(3)) {
    const bool one_run = input.size(2) == 1 || input.stride(2) == input.size(3) * input.stride(3);
    runs = one_run ? 1 : input.size(2);
    run = one_run ? plane : input.size(3);
    run_stride = one_run ? 0 : input.stride(2);
  }
  int64_t count() const { return batch * plane; }
  // Calls body(input_offset, dense_offset) for each run of channel c.
  template <typename Body>
  void for_each_run(int64_t c, Body body) const {
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t r = 0; r < runs; ++r)
        body(n * batch_stride + c * channel_stride + r * run_stride, (n * channels + c) * plane + r * run);
  }
};

template <typename T>
T value_or(const T* values, int64_t i, T otherwise) {
  return values != nullptr ? values[i] : otherwise;
}

template <typename T>
const T* data_or_null(const Tensor& tensor) {
  return tensor.defined() ? tensor.data_ptr<T>() : nullptr;
}

template <typename T>
T* mutable_data_or_null(const Tensor& tensor) {
  return tensor.defined() ? tensor.data_ptr<T>() : nullptr;
}

}  // namespace

void CpuBackend::batch_norm(const Tensor& out, const Tensor& mean, const Tensor& invstd, const Tensor& variance,
                            const Tensor& input, const Tensor& weight, const Tensor& bias, bool training,
                            double eps) {
  dispatch_floating(input.dtype(), "batch_norm", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const ChannelWalk walk(input);
    const T* x = input.data_ptr<T>();
    T* y = out.data_ptr<T>();
    T* mean_data = mean.data_ptr<T>();
    T* invstd_data = invstd.data_ptr<T>();
    T* variance_data = mutable_data_or_null<T>(variance);
    const T* w = data_or_null<T>(weight);
    const T* b = data_or_null<T>(bias);
    parallel_ranges(walk.channels, 2 * input.numel(), [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        if (training) {
          const T shift = walk.count() > 0 ? x[c * walk.channel_stride] : T(0);
          double sum = 0, sum_squares = 0;
          walk.for_each_run(c, [&](int64_t offset, int64_t) {
            add_shifted_moments(x + offset, walk.run, walk.step, shift, sum, sum_squares);
          });
          const Moments m = moments_of(shift, sum, sum_squares, walk.count(), eps);
          mean_data[c] = static_cast<T>(m.mean);
          invstd_data[c] = static_cast<T>(m.invstd);
          if (variance_data != nullptr) variance_data[c] = static_cast<T>(m.variance);
        }
        const T scale = invstd_data[c] * value_or(w, c, T(1));
        const T offset = value_or(b, c, T(0)) - mean_data[c] * scale;
        walk.for_each_run(c, [&](int64_t input_offset, int64_t dense_offset) {
          const T* source = x + input_offset;
          T* target = y + dense_offset;
#pragma omp simd
          for (int64_t i = 0; i < walk.run; ++i) target[i] = source[i * walk.step] * scale + offset;
        });
      }
    });
  });
}

void CpuBackend::batch_norm_backward(const Tensor& grad_input, const Tensor& grad_weight, const Tensor& grad_bias,
                                     const Tensor& grad, const Tensor& input, const Tensor& weight,
                                     const Tensor& mean, const Tensor& invstd, bool training) {
  dispatch_floating(input.dtype(), "batch_norm_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const ChannelWalk walk(input);
    const T* x = input.data_ptr<T>();
    const T* g = grad.data_ptr<T>();
    const T* w = data_or_null<T>(weight);
    const T* mean_data = mean.data_ptr<T>();
    const T* invstd_data = invstd.data_ptr<T>();
    T* gi = mutable_data_or_null<T>(grad_input);
    T* gw = mutable_data_or_null<T>(grad_weight);
    T* gb = mutable_data_or_null<T>(grad_bias);
    // Eval mode's input gradient is a plain scale: no statistics of the gradient enter it.
    const bool reduce = gw != nullptr || gb != nullptr || (gi != nullptr && training);
    parallel_ranges(walk.channels, 2 * input.numel(), [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        const T channel_mean = mean_data[c], channel_invstd = invstd_data[c];
        double sum_grad = 0, dot = 0;
        if (reduce)
          walk.for_each_run(c, [&](int64_t input_offset, int64_t dense_offset) {
            add_grad_moments(x + input_offset, walk.step, g + dense_offset, walk.run, channel_mean, sum_grad, dot);
          });
        if (gw != nullptr) gw[c] = static_cast<T>(dot * channel_invstd);
        if (gb != nullptr) gb[c] = static_cast<T>(sum_grad);
        if (gi == nullptr) continue;
        const T scale = channel_invstd * value_or(w, c, T(1));
        // training: (g - mean(g) - (x - mean) * invstd² * mean((x - mean) g)) * invstd * weight
        const double count = static_cast<double>(std::max<int64_t>(walk.count(), 1));
        const T grad_mean = training ? static_cast<T>(sum_grad / count) : T(0);
        const T projection = training ? static_cast<T>(dot / count * channel_invstd * channel_invstd) : T(0);
        walk.for_each_run(c, [&](int64_t input_offset, int64_t dense_offset) {
          const T* source = x + input_offset;
          const T* upstream = g + dense_offset;
          T* target = gi + dense_offset;
#pragma omp simd
          for (int64_t i = 0; i < walk.run; ++i)
            target[i] = (upstream[i] - grad_mean - (source[i * walk.step] - channel_mean) * projection) * scale;
        });
      }
    });
  });
}

void CpuBackend::row_norm(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& input,
                          const Tensor& weight, const Tensor& bias, const RowNormGeometry& geometry, double eps) {
  dispatch_floating(input.dtype(), "row_norm", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t row_size = geometry.row_size(), inner = geometry.inner;
    const T* x = input.data_ptr<T>();
    T* y = out.data_ptr<T>();
    T* mean_data = mean.data_ptr<T>();
    T* rstd_data = rstd.data_ptr<T>();
    const T* w = data_or_null<T>(weight);
    const T* b = data_or_null<T>(bias);
    parallel_ranges(geometry.rows, 2 * input.numel(), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const T* source = x + r * row_size;
        T* target = y + r * row_size;
        const T shift = row_size > 0 ? source[0] : T(0);
        double sum = 0, sum_squares = 0;
        add_shifted_moments(source, row_size, 1, shift, sum, sum_squares);
        const Moments m = moments_of(shift, sum, sum_squares, row_size, eps);
        const T row_mean = static_cast<T>(m.mean), row_rstd = static_cast<T>(m.invstd);
        mean_data[r] = row_mean;
        rstd_data[r] = row_rstd;
        const int64_t first_channel = (r % geometry.groups) * geometry.channels_per_row;
        if (inner == 1) {  // layer norm: a scale and shift per element
#pragma omp simd
          for (int64_t j = 0; j < row_size; ++j)
            target[j] = (source[j] - row_mean) * row_rstd * value_or(w, first_channel + j, T(1)) +
                        value_or(b, first_channel + j, T(0));
          continue;
        }
        for (int64_t k = 0; k < geometry.channels_per_row; ++k) {
          const T scale = row_rstd * value_or(w, first_channel + k, T(1));
          const T offset = value_or(b, first_channel + k, T(0)) - row_mean * scale;
          const T* channel_source = source + k * inner;
          T* channel_target = target + k * inner;
#pragma omp simd
          for (int64_t i = 0; i < inner; ++i) channel_target[i] = channel_source[i] * scale + offset;
        }
      }
    });
  });
}

void CpuBackend::row_norm_backward(const Tensor& grad_input, const Tensor& grad_weight, const Tensor& grad_bias,
                                   const Tensor& grad, const Tensor& input, const Tensor& weight, const Tensor& mean,
                                   const Tensor& rstd, const RowNormGeometry& geometry) {
  dispatch_floating(input.dtype(), "row_norm_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t row_size = geometry.row_size(), inner = geometry.inner;
    const int64_t channels = geometry.affine_channels();
    const T* x = input.data_ptr<T>();
    const T* g = grad.data_ptr<T>();
    const T* w = data_or_null<T>(weight);
    const T* mean_data = mean.data_ptr<T>();
    const T* rstd_data = rstd.data_ptr<T>();
    T* gi = mutable_data_or_null<T>(grad_input);
    const bool affine_grads = grad_weight.defined() || grad_bias.defined();
    // The weight and bias gradients sum over rows: each block of rows sums into its own partials,
    // added up in block order afterwards, so the result does not depend on the thread count.
    const int64_t blocks = affine_grads ? std::min<int64_t>(geometry.rows, 16) : geometry.rows;
    const int64_t rows_per_block = blocks > 0 ? (geometry.rows + blocks - 1) / blocks : 0;
    std::vector<double> partial_weight(affine_grads ? blocks * channels : 0);
    std::vector<double> partial_bias(affine_grads ? blocks * channels : 0);
    const double count = static_cast<double>(std::max<int64_t>(row_size, 1));
    parallel_ranges(blocks, 2 * input.numel(), [&](int64_t first_block, int64_t last_block) {
      for (int64_t block = first_block; block < last_block; ++block) {
        double* block_weight = affine_grads ? partial_weight.data() + block * channels : nullptr;
        double* block_bias = affine_grads ? partial_bias.data() + block * channels : nullptr;
        const int64_t row_end = std::min(geometry.rows, (block + 1) * rows_per_block);
        for (int64_t r = block * rows_per_block; r < row_end; ++r) {
          const T* source = x + r * row_size;
          const T* upstream = g + r * row_size;
          const T row_mean = mean_data[r], row_rstd = rstd_data[r];
          const int64_t first_channel = (r % geometry.groups) * geometry.channels_per_row;
          // weighted_sum = Σ g w, weighted_dot = Σ g w (x - mean), over the row.
          double weighted_sum = 0, weighted_dot = 0;
          if (inner == 1) {
            for (int64_t start = 0; start < row_size; start += kChunk) {
              const int64_t end = std::min(row_size, start + kChunk);
              T s = 0, d = 0;
#pragma omp simd reduction(+ : s, d)
              for (int64_t j = start; j < end; ++j) {
                const T scaled = upstream[j] * value_or(w, first_channel + j, T(1));
                s += scaled;
                d += scaled * (source[j] - row_mean);
              }
              weighted_sum += s;
              weighted_dot += d;
            }
            if (affine_grads)
              for (int64_t j = 0; j < row_size; ++j) {
                block_weight[first_channel + j] += static_cast<double>(upstream[j] * (source[j] - row_mean) * row_rstd);
                block_bias[first_channel + j] += static_cast<double>(upstream[j]);
              }
          } else {
            for (int64_t k = 0; k < geometry.channels_per_row; ++k) {
              double sum_grad = 0, dot = 0;
              add_grad_moments(source + k * inner, 1, upstream + k * inner, inner, row_mean, sum_grad, dot);
              const double channel_weight = value_or(w, first_channel + k, T(1));
              weighted_sum += sum_grad * channel_weight;
              weighted_dot += dot * channel_weight;
              if (affine_grads) {
                block_weight[first_channel + k] += dot * row_rstd;
                block_bias[first_channel + k] += sum_grad;
              }
            }
          }
          if (gi == nullptr) continue;
          // grad_input = rstd g w - rstd mean(g w) - (x - mean) rstd³ mean(g w (x - mean))
          const T centre = static_cast<T>(weighted_sum / count * row_rstd);
          const T projection = static_cast<T>(weighted_dot / count * row_rstd * row_rstd * row_rstd);
          T* target = gi + r * row_size;
          if (inner == 1) {
#pragma omp simd
            for (int64_t j = 0; j < row_size; ++j)
              target[j] = upstream[j] * value_or(w, first_channel + j, T(1)) * row_rstd - centre -
                          (source[j] - row_mean) * projection;
            continue;
          }
          for (int64_t k = 0; k < geometry.channels_per_row; ++k) {
            const T scale = row_rstd * value_or(w, first_channel + k, T(1));
            const T* channel_source = source + k * inner;
            const T* channel_upstream = upstream + k * inner;
            T* channel_target = target + k * inner;
#pragma omp simd
            for (int64_t i = 0; i < inner; ++i)
              channel_target[i] = channel_upstream[i] * scale - centre - (channel_source[i] - row_mean) * projection;
          }
        }
      }
    });
    T* gw = mutable_data_or_null<T>(grad_weight);
    T* gb = mutable_data_or_null<T>(grad_bias);
    for (int64_t c = 0; c < channels && affine_grads; ++c) {
      double weight_total = 0, bias_total = 0;
      for (int64_t block = 0; block < blocks; ++block) {
        weight_total += partial_weight[block * channels + c];
        bias_total += partial_bias[block * channels + c];
      }
      if (gw != nullptr) gw[c] = static_cast<T>(weight_total);
      if (gb != nullptr) gb[c] = static_cast<T>(bias_total);
    }
  });
}

}  // namespace tg::cpu
