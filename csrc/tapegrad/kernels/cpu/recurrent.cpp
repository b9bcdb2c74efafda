// CPU kernels of the recurrent layers' fused time step (the pointwise part: the GEMMs run through
// matmul) and of the embedding's backward.
#include <algorithm>
#include <type_traits>
#include <vector>

#include "tapegrad/kernels/cpu/backend.h"
#include "tapegrad/kernels/cpu/isa.h"
#include "tapegrad/kernels/cpu/loops.h"
#include "tapegrad/kernels/cpu/recurrent_kernels.h"

namespace tg::cpu {

namespace {

template <typename T>
T* rows_of(const Tensor& tensor) {
  return tensor.defined() ? tensor.data_ptr<T>() : nullptr;
}

// The float32 loops for the widest vector code this CPU runs, by the same ISA choice as GEMM (so
// TAPEGRAD_CPU=generic forces the baseline here too).
FloatRecurrentKernels float_kernels() {
  return active_isa() == Isa::Avx512 ? float_recurrent_kernels_avx512()
         : active_isa() == Isa::Avx2 ? float_recurrent_kernels_avx2()
                                     : float_recurrent_kernels_baseline();
}

// About the work of one row, in elementwise operations (the transcendentals count several): what
// decides whether a step's rows are worth splitting over threads.
int64_t row_work(RnnMode mode, int64_t hidden_size) { return 10 * gate_count(mode) * hidden_size; }

// target rows [first, last) (width columns) += the transpose of product (width x rows). A column
// of target is `width` elements apart, a multiple of 4 KiB for the usual sizes, so walking one
// thrashes a handful of L1 sets: the loop takes a cache line's worth of columns at a time instead,
// each row of the block a contiguous run of target.
template <typename T>
void add_transposed(T* target, const T* product, int64_t rows, int64_t width, int64_t first, int64_t last) {
  constexpr int64_t kBlock = 64 / sizeof(T);
  for (int64_t j0 = 0; j0 < width; j0 += kBlock) {
    const int64_t columns = std::min(kBlock, width - j0);
    for (int64_t r = first; r < last; ++r) {
      T* row = target + r * width + j0;
      const T* column = product + j0 * rows + r;
      for (int64_t j = 0; j < columns; ++j) row[j] += column[j * rows];
    }
  }
}

}  // namespace

FloatRecurrentKernels float_recurrent_kernels_baseline() { return make_float_recurrent_kernels(); }

void CpuBackend::recurrent_step(RnnMode mode, const kernels::RecurrentStep& step) {
  const int64_t rows = step.hidden.size(0), H = step.hidden.size(1);
  dispatch_floating(step.hidden.dtype(), "recurrent_step", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const RecurrentRows<T> pointers{H, step.gates.data_ptr<T>(), rows_of<T>(step.hidden_gates),
                                    rows_of<T>(step.prev_hidden), rows_of<T>(step.prev_cell), rows_of<T>(step.cell),
                                    step.hidden.data_ptr<T>()};
    const auto forward = [&] {
      if constexpr (std::is_same_v<T, float>) return float_kernels().forward;
      else return &recurrent_forward_rows<T>;
    }();
    const T* product = step.hidden_product.data_ptr<T>();
    T* sum_into = mode == RnnMode::Gru ? step.hidden_gates.data_ptr<T>() : pointers.gates;
    parallel_ranges(rows, rows * row_work(mode, H), [&](int64_t first, int64_t last) {
      add_transposed(sum_into, product, rows, gate_count(mode) * H, first, last);
      forward(mode, pointers, first, last);
    });
  });
}

void CpuBackend::recurrent_step_backward(RnnMode mode, const kernels::RecurrentStepGrad& step) {
  const int64_t rows = step.grad_hidden.size(0), H = step.grad_hidden.size(1);
  dispatch_floating(step.grad_hidden.dtype(), "recurrent_step_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const RecurrentGradRows<T> pointers{H, step.grad_gates.data_ptr<T>(), rows_of<T>(step.grad_hidden_gates),
                                        step.grad_hidden.data_ptr<T>(), rows_of<T>(step.grad_output),
                                        rows_of<T>(step.grad_cell), step.gates.data_ptr<T>(),
                                        rows_of<T>(step.hidden_gates), rows_of<T>(step.prev_hidden),
                                        rows_of<T>(step.prev_cell), rows_of<T>(step.cell)};
    const auto backward = [&] {
      if constexpr (std::is_same_v<T, float>) return float_kernels().backward;
      else return &recurrent_backward_rows<T>;
    }();
    parallel_ranges(rows, rows * row_work(mode, H),
                    [&](int64_t first, int64_t last) { backward(mode, pointers, first, last); });
  });
}

void CpuBackend::embedding_backward(const Tensor& grad_weight, const Tensor& grad, const Tensor& indices,
                                    int64_t padding_idx, bool scale_grad_by_freq) {
  const int64_t n = indices.numel(), dim = grad_weight.size(1);
  const int64_t* index = indices.data_ptr<int64_t>();
  std::vector<int64_t> counts;
  if (scale_grad_by_freq) {
    counts.assign(static_cast<size_t>(grad_weight.size(0)), 0);
    for (int64_t k = 0; k < n; ++k) ++counts[static_cast<size_t>(index[k])];
  }
  dispatch_floating(grad_weight.dtype(), "embedding_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* source = grad.data_ptr<T>();
    T* target = grad_weight.data_ptr<T>();
    // Each thread owns a range of columns, so rows repeating an index never race.
    parallel_ranges(dim, n * dim, [&](int64_t first, int64_t last) {
      for (int64_t k = 0; k < n; ++k) {
        const int64_t row = index[k];
        if (row == padding_idx) continue;
        const T scale = scale_grad_by_freq ? T(1) / static_cast<T>(counts[static_cast<size_t>(row)]) : T(1);
        const T* from = source + k * dim;
        T* to = target + row * dim;
        for (int64_t j = first; j < last; ++j) to[j] += from[j] * scale;
      }
    });
  });
}

}  // namespace tg::cpu
