// The elementwise loop machinery every CPU kernel shares. An op describes its operands (output
// first) as raw pointers with strides already broadcast to the output's shape (0 where an operand
// is broadcast); make_loop merges dims that are laid out as one run, and the map_* functions walk
// the result with a contiguous fast path the compiler vectorises, a path for broadcast scalars, and
// a strided path for anything else. Threads only above kGrainSize elements.
#pragma once

#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "tapegrad/core/dim_vector.h"
#include "tapegrad/core/threads.h"

namespace tg::cpu {

// Below this many elements a loop runs on the calling thread: starting a team costs microseconds.
constexpr int64_t kGrainSize = 32768;

// The team size for a parallel loop over `work` elements: one thread per kGrainSize elements, at
// most tg::get_num_threads(), and 1 inside a parallel region (a nested team only oversubscribes).
// Every parallel region sizes its team through this, as OpenMP's default is per calling thread.
inline int threads_for(int64_t work) {
  if (work < 2 * kGrainSize || omp_in_parallel()) return 1;
  return static_cast<int>(std::min<int64_t>(get_num_threads(), work / kGrainSize));
}

struct Operand {
  char* data;
  DimVector strides;  // in elements, already broadcast to the loop's shape
};

template <size_t N>
struct Loop {
  DimVector sizes;                     // innermost last; at least one dim
  std::array<DimVector, N> strides;    // in elements
  std::array<char*, N> data;
  std::array<int64_t, N> itemsizes;
  int64_t numel = 1;
};

template <size_t N>
Loop<N> make_loop(const DimVector& shape, const std::array<Operand, N>& operands, const std::array<int64_t, N>& itemsizes) {
  Loop<N> loop;
  loop.itemsizes = itemsizes;
  for (size_t k = 0; k < N; ++k) loop.data[k] = operands[k].data;
  // Drop size-1 dims, then merge neighbours that every operand walks as one run.
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    loop.numel *= shape[d];
    const size_t last = loop.sizes.size();
    bool mergeable = last > 0;
    for (size_t k = 0; k < N && mergeable; ++k)
      mergeable = loop.strides[k][last - 1] == operands[k].strides[d] * shape[d];
    if (mergeable) {
      loop.sizes[last - 1] *= shape[d];
      for (size_t k = 0; k < N; ++k) loop.strides[k][last - 1] = operands[k].strides[d];
    } else {
      loop.sizes.push_back(shape[d]);
      for (size_t k = 0; k < N; ++k) loop.strides[k].push_back(operands[k].strides[d]);
    }
  }
  for (int64_t size : shape) if (size == 0) loop.numel = 0;
  if (loop.sizes.empty()) {
    loop.sizes.push_back(1);
    for (size_t k = 0; k < N; ++k) loop.strides[k].push_back(0);
  }
  return loop;
}

// Calls row(count, pointers, inner_strides) for consecutive runs along the innermost dim covering
// elements [begin, end) of the loop in row-major order.
template <size_t N, typename Row>
void for_each_run(const Loop<N>& loop, int64_t begin, int64_t end, Row&& row) {
  const size_t ndim = loop.sizes.size();
  const int64_t inner = loop.sizes[ndim - 1];
  DimVector index(ndim);
  int64_t remainder = begin;
  for (size_t d = ndim; d-- > 0;) {
    index[d] = remainder % loop.sizes[d];
    remainder /= loop.sizes[d];
  }
  std::array<char*, N> pointers;
  std::array<int64_t, N> inner_strides;
  for (size_t k = 0; k < N; ++k) inner_strides[k] = loop.strides[k][ndim - 1];
  int64_t position = begin;
  while (position < end) {
    for (size_t k = 0; k < N; ++k) {
      int64_t offset = 0;
      for (size_t d = 0; d < ndim; ++d) offset += index[d] * loop.strides[k][d];
      pointers[k] = loop.data[k] + offset * loop.itemsizes[k];
    }
    const int64_t count = std::min(inner - index[ndim - 1], end - position);
    row(count, pointers, inner_strides);
    position += count;
    index[ndim - 1] += count;
    for (size_t d = ndim - 1; d > 0 && index[d] == loop.sizes[d]; --d) {
      index[d] = 0;
      ++index[d - 1];
    }
  }
}

// Runs body(begin, end) over [0, count), one contiguous range per thread when `work` (in elements
// touched) is large enough to pay for them (threads_for), at most one thread per item.
template <typename Body>
void parallel_ranges(int64_t count, int64_t work, Body&& body) {
  if (count <= 0) return;
  const int threads = static_cast<int>(std::min<int64_t>(threads_for(work), count));
  if (threads <= 1) {
    body(int64_t{0}, count);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int64_t thread = omp_get_thread_num();
    const int64_t team = omp_get_num_threads();
    const int64_t chunk = (count + team - 1) / team;
    const int64_t begin = std::min(count, thread * chunk);
    const int64_t end = std::min(count, begin + chunk);
    if (begin < end) body(begin, end);
  }
}

// The same where each item is one element: a flat loop over contiguous memory.
template <typename Body>
void parallel_ranges(int64_t count, Body&& body) {
  parallel_ranges(count, count, std::forward<Body>(body));
}

// Splits the loop over threads when it is large enough to pay for them.
template <size_t N, typename Row>
void parallel_for_each_run(const Loop<N>& loop, Row&& row) {
  parallel_ranges(loop.numel, [&](int64_t begin, int64_t end) { for_each_run(loop, begin, end, row); });
}

// out[i] = f(a[i])
template <typename Out, typename A, typename F>
void map_unary(const Loop<2>& loop, F f) {
  parallel_for_each_run(loop, [&](int64_t n, const std::array<char*, 2>& p, const std::array<int64_t, 2>& s) {
    Out* __restrict out = reinterpret_cast<Out*>(p[0]);
    const A* __restrict a = reinterpret_cast<const A*>(p[1]);
    if (s[0] == 1 && s[1] == 1) {
      for (int64_t i = 0; i < n; ++i) out[i] = f(a[i]);
    } else if (s[0] == 1 && s[1] == 0) {
      const Out value = f(a[0]);
      for (int64_t i = 0; i < n; ++i) out[i] = value;
    } else {
      for (int64_t i = 0; i < n; ++i) out[i * s[0]] = f(a[i * s[1]]);
    }
  });
}

// out[i] = f(a[i], b[i])
template <typename Out, typename A, typename B, typename F>
void map_binary(const Loop<3>& loop, F f) {
  parallel_for_each_run(loop, [&](int64_t n, const std::array<char*, 3>& p, const std::array<int64_t, 3>& s) {
    Out* __restrict out = reinterpret_cast<Out*>(p[0]);
    const A* __restrict a = reinterpret_cast<const A*>(p[1]);
    const B* __restrict b = reinterpret_cast<const B*>(p[2]);
    if (s[0] == 1 && s[1] == 1 && s[2] == 1) {
      for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
    } else if (s[0] == 1 && s[1] == 1 && s[2] == 0) {
      const B scalar = b[0];
      for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], scalar);
    } else if (s[0] == 1 && s[1] == 0 && s[2] == 1) {
      const A scalar = a[0];
      for (int64_t i = 0; i < n; ++i) out[i] = f(scalar, b[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) out[i * s[0]] = f(a[i * s[1]], b[i * s[2]]);
    }
  });
}

// out[i] = f(a[i], b[i], c[i])
template <typename Out, typename A, typename B, typename C, typename F>
void map_ternary(const Loop<4>& loop, F f) {
  parallel_for_each_run(loop, [&](int64_t n, const std::array<char*, 4>& p, const std::array<int64_t, 4>& s) {
    Out* __restrict out = reinterpret_cast<Out*>(p[0]);
    const A* __restrict a = reinterpret_cast<const A*>(p[1]);
    const B* __restrict b = reinterpret_cast<const B*>(p[2]);
    const C* __restrict c = reinterpret_cast<const C*>(p[3]);
    if (s[0] == 1 && s[1] == 1 && s[2] == 1 && s[3] == 1) {
      for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i], c[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) out[i * s[0]] = f(a[i * s[1]], b[i * s[2]], c[i * s[3]]);
    }
  });
}

}  // namespace tg::cpu

#include "tapegrad/core/tensor.h"

namespace tg::cpu {

// A tensor as an operand of a loop over `shape` (which it must broadcast to).
inline Operand broadcast_operand(const Tensor& tensor, const DimVector& shape) {
  Operand operand{static_cast<char*>(tensor.raw_data()), DimVector(shape.size(), 0)};
  const size_t offset = shape.size() - static_cast<size_t>(tensor.dim());
  for (size_t d = 0; d < static_cast<size_t>(tensor.dim()); ++d)
    if (tensor.sizes()[d] != 1) operand.strides[offset + d] = tensor.strides()[d];
  return operand;
}

// A loop whose operands are tensors: out (with out's shape) then inputs broadcast to it.
template <typename... Inputs>
Loop<1 + sizeof...(Inputs)> tensor_loop(const Tensor& out, const Inputs&... inputs) {
  const DimVector& shape = out.sizes();
  return make_loop<1 + sizeof...(Inputs)>(
      shape, {Operand{static_cast<char*>(out.raw_data()), out.strides()}, broadcast_operand(inputs, shape)...},
      {static_cast<int64_t>(itemsize(out.dtype())), static_cast<int64_t>(itemsize(inputs.dtype()))...});
}

}  // namespace tg::cpu
