// Kernels that work along one dim, a run at a time: sort, topk, the cumulative sum and product
// (and cumprod's backward), and the triangles triu/tril. Each run is one slice of the input along
// the dim, read through the input's strides; runs are independent, so threads split them.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <type_traits>
#include <vector>

#include "tapegrad/kernels/cpu/backend.h"
#include "tapegrad/kernels/cpu/loops.h"

namespace tg::cpu {

namespace {

// Where each run along `dim` of a (sizes, strides) layout starts, in the row-major order of the
// other dims: the runs of a contiguous tensor of that shape start at (r / inner) * n * inner + r %
// inner, where inner is the product of the sizes after dim.
std::vector<int64_t> run_starts(const DimVector& sizes, const DimVector& strides, int64_t dim) {
  std::vector<int64_t> starts{0};
  for (int64_t d = 0; d < static_cast<int64_t>(sizes.size()); ++d) {
    if (d == dim) continue;
    std::vector<int64_t> next;
    next.reserve(starts.size() * static_cast<size_t>(sizes[d]));
    for (int64_t base : starts)
      for (int64_t i = 0; i < sizes[d]; ++i) next.push_back(base + i * strides[d]);
    starts = std::move(next);
  }
  return starts;
}

// The runs of a tensor along dim, and where the matching run of a contiguous tensor of the same
// shape (the outputs) starts.
struct Runs {
  std::vector<int64_t> input_starts;
  int64_t length, input_stride, inner;
  Runs(const Tensor& input, int64_t dim)
      : input_starts(run_starts(input.sizes(), input.strides(), dim)),
        length(input.sizes()[dim]),
        input_stride(input.strides()[dim]),
        inner(1) {
    for (int64_t d = dim + 1; d < input.dim(); ++d) inner *= input.sizes()[d];
  }
  int64_t count() const { return static_cast<int64_t>(input_starts.size()); }
  // The start of run r in a contiguous tensor whose dim has `size` elements.
  int64_t output_start(int64_t r, int64_t size) const { return (r / inner) * size * inner + r % inner; }
};

// PyTorch's order for sorting: NaN above every number (so last ascending, first descending).
template <typename T>
bool less_with_nan(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a)) return false;
    if (std::isnan(b)) return true;
  }
  return a < b;
}

// Calls body(run) for every run, split between threads by the elements they touch.
template <typename Body>
void for_each_run(const Runs& runs, Body&& body) {
  parallel_ranges(runs.count(), runs.count() * runs.length, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) body(r);
  });
}

// Sorts each run's positions by value (stable, NaN largest) and writes the first `keep` of them.
void sort_runs(const Tensor& values, const Tensor& indices, const Tensor& input, int64_t dim, int64_t keep,
               bool descending, bool partial) {
  const Runs runs(input, dim);
  dispatch_all(input.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* source = static_cast<const T*>(input.raw_data());
    T* value_out = static_cast<T*>(values.raw_data());
    int64_t* index_out = indices.data_ptr<int64_t>();
    for_each_run(runs, [&](int64_t r) {
      const T* run = source + runs.input_starts[r];
      auto at = [&](int64_t i) { return run[i * runs.input_stride]; };
      std::vector<int64_t> order(static_cast<size_t>(runs.length));
      std::iota(order.begin(), order.end(), int64_t{0});
      // Ties go to the lower position either way, as stable sorting gives.
      auto before = [&](int64_t a, int64_t b) {
        const T x = at(a), y = at(b);
        if (descending ? less_with_nan(y, x) : less_with_nan(x, y)) return true;
        if (descending ? less_with_nan(x, y) : less_with_nan(y, x)) return false;
        return a < b;
      };
      if (partial) std::partial_sort(order.begin(), order.begin() + keep, order.end(), before);
      else std::stable_sort(order.begin(), order.end(), before);
      const int64_t start = runs.output_start(r, keep);
      for (int64_t i = 0; i < keep; ++i) {
        value_out[start + i * runs.inner] = at(order[i]);
        index_out[start + i * runs.inner] = order[i];
      }
    });
  });
}

}  // namespace

void CpuBackend::sort(const Tensor& values, const Tensor& indices, const Tensor& input, int64_t dim, bool descending) {
  if (input.numel() == 0) return;
  sort_runs(values, indices, input, dim, input.sizes()[dim], descending, false);
}

void CpuBackend::topk(const Tensor& values, const Tensor& indices, const Tensor& input, int64_t k, int64_t dim,
                      bool largest) {
  if (values.numel() == 0) return;
  sort_runs(values, indices, input, dim, k, largest, true);
}

void CpuBackend::cumulative(ReduceOp op, const Tensor& out, const Tensor& input, int64_t dim) {
  if (out.numel() == 0) return;
  const Runs runs(input, dim);
  dispatch_all(out.dtype(), [&](auto out_tag) {
    using R = typename decltype(out_tag)::type;
    dispatch_all(input.dtype(), [&](auto in_tag) {
      using T = typename decltype(in_tag)::type;
      const T* source = static_cast<const T*>(input.raw_data());
      R* destination = static_cast<R*>(out.raw_data());
      for_each_run(runs, [&](int64_t r) {
        const T* run = source + runs.input_starts[r];
        R* to = destination + runs.output_start(r, runs.length);
        R total = op == ReduceOp::Prod ? R(1) : R(0);
        for (int64_t i = 0; i < runs.length; ++i) {
          const R value = static_cast<R>(run[i * runs.input_stride]);
          total = op == ReduceOp::Prod ? static_cast<R>(total * value) : static_cast<R>(total + value);
          to[i * runs.inner] = total;
        }
      });
    });
  });
}

void CpuBackend::cumprod_backward(const Tensor& grad_input, const Tensor& grad, const Tensor& input, int64_t dim) {
  if (grad_input.numel() == 0) return;
  const Runs input_runs(input, dim), grad_runs(grad, dim);
  dispatch_floating(input.dtype(), "cumprod_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = static_cast<const T*>(input.raw_data());
    const T* g = static_cast<const T*>(grad.raw_data());
    T* out = static_cast<T*>(grad_input.raw_data());
    const int64_t n = input_runs.length;
    for_each_run(input_runs, [&](int64_t r) {
      const T* run = x + input_runs.input_starts[r];
      const T* grad_run = g + grad_runs.input_starts[r];
      T* to = out + input_runs.output_start(r, n);
      auto at = [&](int64_t i) { return run[i * input_runs.input_stride]; };
      // Backwards: s[k] = grad[k] + x[k + 1] * s[k + 1], kept in `to`; then forwards times the
      // exclusive prefix product.
      T suffix = 0;
      for (int64_t k = n - 1; k >= 0; --k) {
        suffix = grad_run[k * grad_runs.input_stride] + (k + 1 < n ? at(k + 1) * suffix : T(0));
        to[k * input_runs.inner] = suffix;
      }
      T prefix = 1;
      for (int64_t k = 0; k < n; ++k) {
        to[k * input_runs.inner] *= prefix;
        prefix *= at(k);
      }
    });
  });
}

void CpuBackend::triangle(const Tensor& out, const Tensor& input, int64_t diagonal, bool upper) {
  if (out.numel() == 0) return;
  const int64_t ndim = input.dim();
  const int64_t rows = input.sizes()[ndim - 2], columns = input.sizes()[ndim - 1];
  const int64_t column_stride = input.strides()[ndim - 1];
  // One run per row of every matrix: the runs along the last dim.
  const Runs runs(input, ndim - 1);
  dispatch_all(input.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* source = static_cast<const T*>(input.raw_data());
    T* destination = static_cast<T*>(out.raw_data());
    for_each_run(runs, [&](int64_t r) {
      const int64_t row = r % rows;
      const T* from = source + runs.input_starts[r];
      T* to = destination + r * columns;
      for (int64_t c = 0; c < columns; ++c) {
        const bool keep = upper ? c - row >= diagonal : c - row <= diagonal;
        to[c] = keep ? from[c * column_stride] : T(0);
      }
    });
  });
}

}  // namespace tg::cpu
