// Reductions and the softmax family on the CPU.
//
// A reduction sees the input as kept dims (one output element per index) times reduced dims, and
// takes one of three paths:
//   inner:   the reduced dims form one contiguous run -> each output reduces a run with several
//            accumulators (float sums pairwise, as NumPy, so 16M floats stay accurate);
//   outer:   a kept dim is contiguous in input and output -> whole rows are accumulated into the
//            output vector, vectorised over that dim (blocked so float sums stay accurate);
//   strided: anything else, one output at a time with a double/int64 accumulator.
// Threads only above kGrainSize input elements.
#include <omp.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>
#include <type_traits>
#include <vector>

#include "tapegrad/kernels/cpu/loops.h"
#include "tapegrad/kernels/kernels.h"

namespace tg::kernels {

namespace {

// ---- the reduction operators --------------------------------------------------------------------

// max/min propagate NaN: a NaN on either side wins.
template <typename T> T nan_max(T a, T b) { return (a > b || a != a) ? a : b; }
template <typename T> T nan_min(T a, T b) { return (a < b || a != a) ? a : b; }

template <typename T>
struct Combine {
  ReduceOp op;
  T identity() const {
    switch (op) {
      case ReduceOp::Sum: return T(0);
      case ReduceOp::Prod: return T(1);
      case ReduceOp::Max: return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::lowest();
      case ReduceOp::Min: return std::numeric_limits<T>::has_infinity ? std::numeric_limits<T>::infinity() : std::numeric_limits<T>::max();
    }
    return T(0);
  }
};

// The body of each loop is chosen once per call by switching on op outside it.
template <ReduceOp Op, typename T>
inline T combine(T a, T b) {
  if constexpr (Op == ReduceOp::Sum) return static_cast<T>(a + b);
  else if constexpr (Op == ReduceOp::Prod) return static_cast<T>(a * b);
  else if constexpr (Op == ReduceOp::Max) return nan_max(a, b);
  else return nan_min(a, b);
}

constexpr int kLanes = 16;         // independent accumulators: enough to fill the vector units
constexpr int64_t kPairwiseBlock = 128;  // below this a run is summed directly (NumPy uses 128)

// Reduces a contiguous run with kLanes accumulators; sums recurse pairwise so the rounding error
// grows with log(n), not n.
template <ReduceOp Op, typename T>
T reduce_run(const T* __restrict data, int64_t n, T identity) {
  if (Op == ReduceOp::Sum && n > kPairwiseBlock && std::is_floating_point_v<T>) {
    const int64_t half = (n / 2) / kLanes * kLanes;
    return reduce_run<Op>(data, half, identity) + reduce_run<Op>(data + half, n - half, identity);
  }
  T lanes[kLanes];
  for (int k = 0; k < kLanes; ++k) lanes[k] = identity;
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) lanes[k] = combine<Op>(lanes[k], data[i + k]);
  T result = identity;
  for (; i < n; ++i) result = combine<Op>(result, data[i]);
  for (int k = 0; k < kLanes; ++k) result = combine<Op>(result, lanes[k]);
  return result;
}

// ---- the geometry of a reduction --------------------------------------------------------------

struct Dims {
  DimVector sizes, strides, out_strides;
};

// Sorts dims by input stride (largest first) and merges neighbours that form one run in both the
// input and the output, so that most layouts end up with one dim per group.
Dims coalesce(Dims dims) {
  std::vector<size_t> order(dims.sizes.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return dims.strides[a] > dims.strides[b]; });
  Dims merged;
  for (size_t index : order) {
    const int64_t size = dims.sizes[index], stride = dims.strides[index], out_stride = dims.out_strides[index];
    if (size == 1) continue;
    const size_t last = merged.sizes.size();
    if (last > 0 && merged.strides[last - 1] == stride * size && merged.out_strides[last - 1] == out_stride * size) {
      merged.sizes[last - 1] *= size;
      merged.strides[last - 1] = stride;
      merged.out_strides[last - 1] = out_stride;
    } else {
      merged.sizes.push_back(size);
      merged.strides.push_back(stride);
      merged.out_strides.push_back(out_stride);
    }
  }
  return merged;
}

// Offset (in elements) of the flat index `index` in row-major order over `sizes`.
inline int64_t offset_of(int64_t index, const DimVector& sizes, const DimVector& strides) {
  int64_t offset = 0;
  for (size_t d = sizes.size(); d-- > 0;) {
    offset += (index % sizes[d]) * strides[d];
    index /= sizes[d];
  }
  return offset;
}

inline int64_t product(const DimVector& sizes) {
  int64_t count = 1;
  for (int64_t size : sizes) count *= size;
  return count;
}

inline int64_t thread_count(int64_t work) {
  if (omp_in_parallel()) return 1;
  return std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), work / cpu::kGrainSize));
}

// Calls body(begin, end) over [0, count) split among `threads` threads.
template <typename Body>
void parallel_range(int64_t count, int64_t threads, Body&& body) {
  threads = std::min(threads, count);
  if (threads <= 1) {
    body(int64_t(0), count);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int64_t team = omp_get_num_threads(), chunk = (count + team - 1) / team;
    const int64_t begin = std::min(count, omp_get_thread_num() * chunk), end = std::min(count, begin + chunk);
    if (begin < end) body(begin, end);
  }
}

template <ReduceOp Op, typename T>
void reduce_typed(const Tensor& out, const Tensor& input, const std::vector<bool>& reduced) {
  const T identity = Combine<T>{Op}.identity();
  T* out_data = out.data_ptr<T>();
  const T* in_data = input.data_ptr<T>();
  // `out` has the shape with or without keepdim; either way its dims are the kept dims in order.
  const bool keepdim = out.dim() == input.dim();
  Dims kept_dims, reduced_dims;
  for (int64_t d = 0, out_dim = 0; d < input.dim(); ++d) {
    Dims& target = reduced[d] ? reduced_dims : kept_dims;
    target.sizes.push_back(input.sizes()[d]);
    target.strides.push_back(input.strides()[d]);
    target.out_strides.push_back(reduced[d] ? 0 : out.strides()[keepdim ? d : out_dim]);
    if (!reduced[d]) ++out_dim;
  }
  const Dims kept = coalesce(kept_dims);
  Dims red = coalesce(reduced_dims);
  if (red.sizes.empty()) {  // nothing (or only size-1 dims) reduced: one element per output
    red.sizes.push_back(1);
    red.strides.push_back(0);
    red.out_strides.push_back(0);
  }
  const int64_t outputs = product(kept.sizes), count = product(red.sizes);
  if (outputs == 0) return;
  if (count == 0) {
    for (int64_t o = 0; o < outputs; ++o) out_data[offset_of(o, kept.sizes, kept.out_strides)] = identity;
    return;
  }
  const int64_t threads = thread_count(outputs * count);
  const size_t kept_ndim = kept.sizes.size(), red_ndim = red.sizes.size();

  // inner: the reduced elements are one contiguous run per output.
  if (red_ndim == 1 && red.strides[0] == 1) {
    if (outputs == 1 && threads > 1) {
      // One long run: each thread reduces a slice, then the partial results are combined.
      std::vector<T> partial(threads, identity);
      const int64_t chunk = (count + threads - 1) / threads;
      parallel_range(threads, threads, [&](int64_t begin, int64_t end) {
        for (int64_t t = begin; t < end; ++t) {
          const int64_t start = std::min(count, t * chunk);
          partial[t] = reduce_run<Op>(in_data + start, std::min(count, start + chunk) - start, identity);
        }
      });
      T result = identity;
      for (T value : partial) result = combine<Op>(result, value);
      out_data[0] = result;
      return;
    }
    parallel_range(outputs, threads, [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o)
        out_data[offset_of(o, kept.sizes, kept.out_strides)] =
            reduce_run<Op>(in_data + offset_of(o, kept.sizes, kept.strides), count, identity);
    });
    return;
  }

  // outer: accumulate whole rows of the innermost kept dim into the output, vectorised over it.
  if (kept_ndim >= 1 && kept.strides[kept_ndim - 1] == 1 && kept.out_strides[kept_ndim - 1] == 1) {
    const int64_t width = kept.sizes[kept_ndim - 1], rows = outputs / width;
    DimVector row_sizes(kept.sizes.begin(), kept.sizes.end() - 1);
    DimVector row_strides(kept.strides.begin(), kept.strides.end() - 1);
    DimVector row_out_strides(kept.out_strides.begin(), kept.out_strides.end() - 1);
    // Tiles of (row, column block); a column block fits in L1 with its block accumulator.
    constexpr int64_t kColumns = 512, kBlockRows = 64;
    const int64_t column_blocks = (width + kColumns - 1) / kColumns;
    // Float sums add kBlockRows rows into a fresh block, then the block into a double total.
    using Total = std::conditional_t<std::is_same_v<T, float>, double, T>;
    parallel_range(rows * column_blocks, threads, [&](int64_t begin, int64_t end) {
      Total total[kColumns];
      T block[kColumns];
      for (int64_t tile = begin; tile < end; ++tile) {
        const int64_t row = tile / column_blocks, column = (tile % column_blocks) * kColumns;
        const int64_t columns = std::min(kColumns, width - column);
        const T* base = in_data + offset_of(row, row_sizes, row_strides) + column;
        std::fill(total, total + columns, identity);
        for (int64_t r0 = 0; r0 < count; r0 += kBlockRows) {
          std::fill(block, block + columns, identity);
          const int64_t r1 = std::min(count, r0 + kBlockRows);
          for (int64_t r = r0; r < r1; ++r) {
            const T* __restrict source = base + offset_of(r, red.sizes, red.strides);
            for (int64_t j = 0; j < columns; ++j) block[j] = combine<Op>(block[j], source[j]);
          }
          for (int64_t j = 0; j < columns; ++j) total[j] = combine<Op, Total>(total[j], block[j]);
        }
        T* destination = out_data + offset_of(row, row_sizes, row_out_strides) + column;
        for (int64_t j = 0; j < columns; ++j) destination[j] = static_cast<T>(total[j]);
      }
    });
    return;
  }

  // strided: any layout; the wider accumulator keeps long float sums accurate.
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, std::conditional_t<std::is_same_v<T, bool>, bool, int64_t>>;
  const int64_t inner = red.sizes[red_ndim - 1], inner_stride = red.strides[red_ndim - 1];
  DimVector outer_sizes(red.sizes.begin(), red.sizes.end() - 1), outer_strides(red.strides.begin(), red.strides.end() - 1);
  parallel_range(outputs, threads, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      const T* base = in_data + offset_of(o, kept.sizes, kept.strides);
      Acc acc = static_cast<Acc>(identity);
      for (int64_t r = 0; r < count / inner; ++r) {
        const T* source = base + offset_of(r, outer_sizes, outer_strides);
        for (int64_t i = 0; i < inner; ++i) acc = combine<Op, Acc>(acc, static_cast<Acc>(source[i * inner_stride]));
      }
      out_data[offset_of(o, kept.sizes, kept.out_strides)] = static_cast<T>(acc);
    }
  });
}

// ---- softmax ------------------------------------------------------------------------------------

// exp for float without a call per element, so the loops around it vectorise: Cephes' expf
// (range reduction by ln 2, degree-6 polynomial, about 1 ulp). NaN stays NaN; below the smallest
// normal float the result is 0, so exp(-inf) = 0 as softmax over masked entries needs.
inline float vector_exp(float x) {
  constexpr float kLog2e = 1.44269504088896341f, kLn2High = 0.693359375f, kLn2Low = -2.12194440e-4f;
  const float clamped = x > 88.3762626647949f ? 88.3762626647949f : (x < -87.3365478515625f ? -87.3365478515625f : x);
  // Rounds to nearest by adding and removing 1.5 * 2^23: unlike nearbyint, this vectorises on SSE2.
  constexpr float kRound = 12582912.0f;
  const float n = (clamped * kLog2e + kRound) - kRound;
  const float r = clamped - n * kLn2High - n * kLn2Low;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  const float scale = std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);
  return x < -87.3365478515625f ? 0.0f : y * scale;
}
inline double vector_exp(double x) { return std::exp(x); }

// One softmax "column" layout: `outer` blocks of `size` x `inner`, contiguous, reduced over size.
template <typename T>
void softmax_block(T* __restrict out, const T* __restrict in, int64_t size, int64_t inner, bool log, T* __restrict scratch) {
  if (inner == 1) {
    // As PyTorch, a row whose maximum is infinite comes out NaN (inf - inf).
    const T shift = reduce_run<ReduceOp::Max>(in, size, -std::numeric_limits<T>::infinity());
    for (int64_t i = 0; i < size; ++i) out[i] = vector_exp(in[i] - shift);
    const T sum = reduce_run<ReduceOp::Sum>(out, size, T(0));
    if (log) {
      const T offset = shift + std::log(sum);
      for (int64_t i = 0; i < size; ++i) out[i] = in[i] - offset;
    } else {
      const T inverse = T(1) / sum;
      for (int64_t i = 0; i < size; ++i) out[i] *= inverse;
    }
    return;
  }
  // Vectorised over inner: scratch holds the running max, then the running sum.
  T* max = scratch;
  T* sum = scratch + inner;
  std::fill(max, max + inner, -std::numeric_limits<T>::infinity());
  std::fill(sum, sum + inner, T(0));
  for (int64_t d = 0; d < size; ++d)
    for (int64_t j = 0; j < inner; ++j) max[j] = nan_max(max[j], in[d * inner + j]);
  for (int64_t d = 0; d < size; ++d)
    for (int64_t j = 0; j < inner; ++j) {
      const T e = vector_exp(in[d * inner + j] - max[j]);
      out[d * inner + j] = e;
      sum[j] += e;
    }
  if (log) {
    for (int64_t j = 0; j < inner; ++j) sum[j] = max[j] + std::log(sum[j]);
    for (int64_t d = 0; d < size; ++d)
      for (int64_t j = 0; j < inner; ++j) out[d * inner + j] = in[d * inner + j] - sum[j];
  } else {
    for (int64_t j = 0; j < inner; ++j) sum[j] = T(1) / sum[j];
    for (int64_t d = 0; d < size; ++d)
      for (int64_t j = 0; j < inner; ++j) out[d * inner + j] *= sum[j];
  }
}

// softmax: grad_input = y * (g - sum(g * y));  log_softmax: grad_input = g - exp(y) * sum(g).
template <typename T>
void softmax_backward_block(T* __restrict grad_input, const T* __restrict grad, const T* __restrict output,
                            int64_t size, int64_t inner, bool log, T* __restrict sum) {
  std::fill(sum, sum + inner, T(0));
  for (int64_t d = 0; d < size; ++d)
    for (int64_t j = 0; j < inner; ++j) sum[j] += log ? grad[d * inner + j] : grad[d * inner + j] * output[d * inner + j];
  for (int64_t d = 0; d < size; ++d)
    for (int64_t j = 0; j < inner; ++j) {
      const int64_t i = d * inner + j;
      grad_input[i] = log ? grad[i] - vector_exp(output[i]) * sum[j] : output[i] * (grad[i] - sum[j]);
    }
}

// Splits a contiguous (outer, size, inner) tensor into blocks and runs body(block, scratch) on
// each, in parallel above the grain size.
template <typename T, typename Body>
void for_each_block(int64_t outer, int64_t size, int64_t inner, Body&& body) {
  parallel_range(outer, thread_count(outer * size * inner), [&](int64_t begin, int64_t end) {
    std::vector<T> scratch(2 * inner);
    for (int64_t o = begin; o < end; ++o) body(o * size * inner, scratch.data());
  });
}

void check_contiguous(const char* op, std::initializer_list<const Tensor*> tensors) {
  for (const Tensor* tensor : tensors)
    TG_CHECK(tensor->is_contiguous(), "[", op, "] kernel expects contiguous tensors");
}

}  // namespace

void reduce(ReduceOp op, const Tensor& out, const Tensor& input, const std::vector<bool>& reduced) {
  require_cpu("reduce", input);
  dispatch_all(input.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    switch (op) {
      case ReduceOp::Sum: return reduce_typed<ReduceOp::Sum, T>(out, input, reduced);
      case ReduceOp::Prod: return reduce_typed<ReduceOp::Prod, T>(out, input, reduced);
      case ReduceOp::Max: return reduce_typed<ReduceOp::Max, T>(out, input, reduced);
      case ReduceOp::Min: return reduce_typed<ReduceOp::Min, T>(out, input, reduced);
    }
  });
}

void arg_reduce(bool is_max, const Tensor& values, const Tensor& indices, const Tensor& input, int64_t outer,
                int64_t size, int64_t inner) {
  require_cpu(is_max ? "max" : "min", input);
  check_contiguous(is_max ? "max" : "min", {&values, &indices, &input});
  dispatch_all(input.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = input.data_ptr<T>();
    T* value_data = values.data_ptr<T>();
    int64_t* index_data = indices.data_ptr<int64_t>();
    // The first extreme wins ties; a NaN beats any number, and the first NaN beats later ones.
    auto better = [is_max](T candidate, T best) {
      if (candidate != candidate) return best == best;
      return is_max ? candidate > best : candidate < best;
    };
    parallel_range(outer, thread_count(outer * size * inner), [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) {
        const T* block = in + o * size * inner;
        T* best = value_data + o * inner;
        int64_t* where = index_data + o * inner;
        for (int64_t j = 0; j < inner; ++j) { best[j] = block[j]; where[j] = 0; }
        for (int64_t d = 1; d < size; ++d)
          for (int64_t j = 0; j < inner; ++j)
            if (better(block[d * inner + j], best[j])) { best[j] = block[d * inner + j]; where[j] = d; }
      }
    });
  });
}

void softmax(const Tensor& out, const Tensor& input, int64_t outer, int64_t size, int64_t inner, bool log) {
  const char* op = log ? "log_softmax" : "softmax";
  require_cpu(op, input);
  check_contiguous(op, {&out, &input});
  dispatch_floating(input.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* out_data = out.data_ptr<T>();
    const T* in_data = input.data_ptr<T>();
    for_each_block<T>(outer, size, inner, [&](int64_t offset, T* scratch) {
      softmax_block(out_data + offset, in_data + offset, size, inner, log, scratch);
    });
  });
}

void softmax_backward(const Tensor& grad_input, const Tensor& grad, const Tensor& output, int64_t outer, int64_t size,
                      int64_t inner, bool log) {
  const char* op = log ? "log_softmax_backward" : "softmax_backward";
  require_cpu(op, grad);
  check_contiguous(op, {&grad_input, &grad, &output});
  dispatch_floating(grad.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* grad_input_data = grad_input.data_ptr<T>();
    const T* grad_data = grad.data_ptr<T>();
    const T* output_data = output.data_ptr<T>();
    for_each_block<T>(outer, size, inner, [&](int64_t offset, T* scratch) {
      softmax_backward_block(grad_input_data + offset, grad_data + offset, output_data + offset, size, inner, log, scratch);
    });
  });
}

}  // namespace tg::kernels
