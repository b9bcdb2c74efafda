// The inner loops of the reductions and softmax, as templates. kernels/cpu/reduce.cpp instantiates
// them for every dtype; reduce_avx2.cpp and reduce_avx512.cpp compile the float32 ones again for
// those instruction sets (see vector_math.h for why everything here has internal linkage).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "tapegrad/kernels/cpu/vector_math.h"
#include "tapegrad/kernels/kernels.h"

namespace tg::cpu {

using kernels::ReduceOp;

namespace {

// ---- the reduction operators --------------------------------------------------------------------

// max/min propagate NaN: a NaN on either side wins.
template <typename T> T nan_max(T a, T b) { return (a > b || a != a) ? a : b; }
template <typename T> T nan_min(T a, T b) { return (a < b || a != a) ? a : b; }

// The body of each loop is chosen once per call by switching on op outside it.
template <ReduceOp Op, typename T>
inline T combine(T a, T b) {
  if constexpr (Op == ReduceOp::Sum) return static_cast<T>(a + b);
  else if constexpr (Op == ReduceOp::Prod) return static_cast<T>(a * b);
  else if constexpr (Op == ReduceOp::Max) return nan_max(a, b);
  else return nan_min(a, b);
}

constexpr int kLanes = 64;           // independent accumulators: several vector registers' worth
constexpr int64_t kSumChunk = 4096;  // float sums: each lane adds at most kSumChunk / kLanes values
// How far ahead of the lanes a run is prefetched. The hardware prefetcher stops at every 4 KiB page
// and takes a while to pick the stream up again; without this, summing the rows of a 4096x4096
// tensor on two threads ran 8% slower than summing its columns and no faster than PyTorch.
constexpr int64_t kPrefetchBytes = 8192;

template <ReduceOp Op, typename T>
T reduce_lanes(const T* __restrict data, int64_t n, T identity) {
  if (n < kLanes) {  // short rows (a (128, 10) batch): setting up the lanes would cost more
    T result = identity;
    for (int64_t i = 0; i < n; ++i) result = combine<Op>(result, data[i]);
    return result;
  }
  T lanes[kLanes];
  for (int k = 0; k < kLanes; ++k) lanes[k] = identity;
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const char* ahead = reinterpret_cast<const char*>(data + i) + kPrefetchBytes;
    for (size_t line = 0; line < kLanes * sizeof(T); line += 64) __builtin_prefetch(ahead + line);
    for (int k = 0; k < kLanes; ++k) lanes[k] = combine<Op>(lanes[k], data[i + k]);
  }
  T result = identity;
  for (; i < n; ++i) result = combine<Op>(result, data[i]);
  // Fold the lanes in halves (vector operations) rather than one dependent add per lane.
  for (int width = kLanes / 2; width > 0; width /= 2)
    for (int k = 0; k < width; ++k) lanes[k] = combine<Op>(lanes[k], lanes[k + width]);
  return combine<Op>(result, lanes[0]);
}

// Reduces a contiguous run with kLanes accumulators. Floating sums cascade: chunks are summed in
// lanes and the chunk sums added in double, so 16M float32 values keep about 1e-7 relative error
// rather than the 1e-3 a single float accumulator reaches.
template <ReduceOp Op, typename T>
T reduce_run(const T* __restrict data, int64_t n, T identity) {
  if constexpr (Op == ReduceOp::Sum && std::is_floating_point_v<T>) {
    if (n <= kSumChunk) return reduce_lanes<Op>(data, n, identity);
    double total = 0;
    for (int64_t start = 0; start < n; start += kSumChunk)
      total += reduce_lanes<Op>(data + start, std::min(kSumChunk, n - start), identity);
    return static_cast<T>(total);
  } else {
    return reduce_lanes<Op>(data, n, identity);
  }
}

// exp without a call per element for float32, so the loops around it vectorise.
inline float vector_exp(float x) { return vector_math::exp(x); }
inline double vector_exp(double x) { return std::exp(x); }

}  // namespace

// Where the softmax kernels read an operand: `blocks` blocks of `size` rows; row d of block b holds
// its `inner` elements, contiguous, at data + b * block_stride + d * row_stride. Outputs are
// contiguous (size, inner) blocks one after another. One call covers a thread's share of blocks,
// so a (128, 10) softmax pays one call, not 128. Outside the anonymous namespace: the entry
// points' table below, shared by every ISA's file, names it.
template <typename T>
struct Blocks {
  const T* data;
  int64_t block_stride, row_stride;
};

namespace {

// Softmax over the `size` rows of one block: row d of the input holds its `inner` elements at
// in + d * in_stride (in_stride is 1 when inner is 1: the row is then one run); the output block is
// contiguous. Scratch holds 2 * inner values.
template <typename T>
void softmax_block(T* __restrict out, const T* __restrict in, int64_t in_stride, int64_t size, int64_t inner, bool log,
                   T* __restrict scratch) {
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
    for (int64_t j = 0; j < inner; ++j) max[j] = nan_max(max[j], in[d * in_stride + j]);
  for (int64_t d = 0; d < size; ++d)
    for (int64_t j = 0; j < inner; ++j) {
      const T e = vector_exp(in[d * in_stride + j] - max[j]);
      out[d * inner + j] = e;
      sum[j] += e;
    }
  if (log) {
    for (int64_t j = 0; j < inner; ++j) sum[j] = max[j] + std::log(sum[j]);
    for (int64_t d = 0; d < size; ++d)
      for (int64_t j = 0; j < inner; ++j) out[d * inner + j] = in[d * in_stride + j] - sum[j];
  } else {
    for (int64_t j = 0; j < inner; ++j) sum[j] = T(1) / sum[j];
    for (int64_t d = 0; d < size; ++d)
      for (int64_t j = 0; j < inner; ++j) out[d * inner + j] *= sum[j];
  }
}

// softmax: grad_input = y * (g - sum(g * y));  log_softmax: grad_input = g - exp(y) * sum(g).
// Row d of grad and output starts at d * grad_stride and d * output_stride (any strides); their
// inner elements are contiguous, as grad_input's whole block is. Scratch holds inner values.
template <typename T>
void softmax_backward_block(T* __restrict grad_input, const T* __restrict grad, int64_t grad_stride,
                            const T* __restrict output, int64_t output_stride, int64_t size, int64_t inner, bool log,
                            T* __restrict sum) {
  std::fill(sum, sum + inner, T(0));
  for (int64_t d = 0; d < size; ++d) {
    const T* g = grad + d * grad_stride;
    const T* y = output + d * output_stride;
    for (int64_t j = 0; j < inner; ++j) sum[j] += log ? g[j] : g[j] * y[j];
  }
  for (int64_t d = 0; d < size; ++d) {
    const T* g = grad + d * grad_stride;
    const T* y = output + d * output_stride;
    T* result = grad_input + d * inner;
    for (int64_t j = 0; j < inner; ++j) result[j] = log ? g[j] - vector_exp(y[j]) * sum[j] : y[j] * (g[j] - sum[j]);
  }
}

template <typename T>
void softmax_blocks(T* out, Blocks<T> in, int64_t blocks, int64_t size, int64_t inner, bool log, T* scratch) {
  for (int64_t b = 0; b < blocks; ++b)
    softmax_block(out + b * size * inner, in.data + b * in.block_stride, in.row_stride, size, inner, log, scratch);
}

template <typename T>
void softmax_backward_blocks(T* grad_input, Blocks<T> grad, Blocks<T> output, int64_t blocks, int64_t size,
                             int64_t inner, bool log, T* scratch) {
  for (int64_t b = 0; b < blocks; ++b)
    softmax_backward_block(grad_input + b * size * inner, grad.data + b * grad.block_stride, grad.row_stride,
                           output.data + b * output.block_stride, output.row_stride, size, inner, log, scratch);
}

// block[j] += sum over `rows` rows (row r at base + r * stride) of row[j]. Four rows per pass over
// the block: a quarter of the loads and stores of the block that one row per pass costs.
inline void add_rows(float* __restrict block, const float* __restrict base, int64_t stride, int64_t rows,
                     int64_t columns) {
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* a = base + r * stride;
    const float* b = a + stride;
    const float* c = b + stride;
    const float* d = c + stride;
    for (int64_t j = 0; j < columns; ++j) block[j] += (a[j] + b[j]) + (c[j] + d[j]);
  }
  for (; r < rows; ++r) {
    const float* a = base + r * stride;
    for (int64_t j = 0; j < columns; ++j) block[j] += a[j];
  }
}

}  // namespace

// float32 entry points, one set per instruction set, chosen at run time by reduce.cpp.
struct FloatReduceKernels {
  float (*sum)(const float* data, int64_t n);
  void (*add_rows)(float* block, const float* base, int64_t stride, int64_t rows, int64_t columns);
  void (*softmax)(float* out, Blocks<float> in, int64_t blocks, int64_t size, int64_t inner, bool log, float* scratch);
  void (*softmax_backward)(float* grad_input, Blocks<float> grad, Blocks<float> output, int64_t blocks, int64_t size,
                           int64_t inner, bool log, float* scratch);
};
FloatReduceKernels float_reduce_kernels_baseline();
FloatReduceKernels float_reduce_kernels_avx2();
FloatReduceKernels float_reduce_kernels_avx512();

namespace {
inline FloatReduceKernels make_float_reduce_kernels() {
  return {[](const float* data, int64_t n) { return reduce_run<ReduceOp::Sum>(data, n, 0.0f); }, add_rows,
          softmax_blocks<float>, softmax_backward_blocks<float>};
}
}  // namespace

}  // namespace tg::cpu
