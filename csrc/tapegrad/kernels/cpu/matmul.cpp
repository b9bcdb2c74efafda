// The CPU matrix product: batches of products on the GEMM (gemm.cpp), with integer dtypes on a
// plain loop. A batch that is one tall matrix becomes one GEMM; otherwise each batch element is a
// GEMM of its own, and small ones are spread over threads.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <type_traits>

#include "tapegrad/core/threads.h"
#include "tapegrad/kernels/cpu/backend.h"
#include "tapegrad/kernels/cpu/gemm.h"

namespace tg::cpu {

namespace {

// One matrix of a batch: its first element and how rows and columns are addressed.
template <typename T>
struct Matrix {
  T* data;
  int64_t row_stride, col_stride;
};

// PyTorch multiplies integer matrices too; they take this plain loop, since the GEMM's
// micro-kernels are floating point. Unsigned arithmetic so overflow wraps as it does in PyTorch
// instead of being undefined.
template <typename T>
void integer_gemm(int64_t m, int64_t n, int64_t k, Matrix<const T> a, Matrix<const T> b, bool accumulate,
                  Matrix<T> c) {
  using U = std::make_unsigned_t<T>;
  for (int64_t i = 0; i < m; ++i) {
    T* row = c.data + i * c.row_stride;
    if (!accumulate)
      for (int64_t j = 0; j < n; ++j) row[j * c.col_stride] = 0;
    for (int64_t p = 0; p < k; ++p) {
      const U factor = static_cast<U>(a.data[i * a.row_stride + p * a.col_stride]);
      const T* b_row = b.data + p * b.row_stride;
      for (int64_t j = 0; j < n; ++j)
        row[j * c.col_stride] = static_cast<T>(static_cast<U>(row[j * c.col_stride]) +
                                               factor * static_cast<U>(b_row[j * b.col_stride]));
    }
  }
}

template <typename T>
void gemm_2d(int64_t m, int64_t n, int64_t k, Matrix<const T> a, Matrix<const T> b, bool accumulate, Matrix<T> c) {
  if constexpr (std::is_floating_point_v<T>) {
    gemm<T>(m, n, k, T(1), a.data, a.row_stride, a.col_stride, b.data, b.row_stride, b.col_stride,
            accumulate ? T(1) : T(0), c.data, c.row_stride, c.col_stride);
  } else {
    integer_gemm<T>(m, n, k, a, b, accumulate, c);
  }
}

// The GEMM reads any strides, but an operand addressable neither by rows nor by columns (both inner
// strides > 1, e.g. x[::2, ::2]) is packed element by element from scattered cache lines: one
// contiguous copy first is cheaper.
Tensor addressable(const Tensor& operand) {
  const int64_t rows = operand.size(-2), cols = operand.size(-1);
  const bool by_rows = cols <= 1 || operand.stride(-1) == 1;
  const bool by_cols = rows <= 1 || operand.stride(-2) == 1;
  if (by_rows || by_cols) return operand;
  const Tensor packed = Tensor::empty(operand.sizes(), operand.dtype(), operand.device(), "matmul");
  cpu_backend.copy(packed, operand);
  return packed;
}

// Sizes and strides of `tensor`'s batch dims (all but the last two) aligned to `batch`: a dim it
// lacks or broadcasts gets stride 0.
DimVector batch_strides(const Tensor& tensor, const DimVector& batch) {
  const int64_t leading = static_cast<int64_t>(batch.size()) - (tensor.dim() - 2);
  DimVector strides(batch.size(), 0);
  for (int64_t d = std::max<int64_t>(leading, 0); d < static_cast<int64_t>(batch.size()); ++d)
    if (tensor.sizes()[d - leading] != 1) strides[d] = tensor.strides()[d - leading];
  return strides;
}

// When the batch dims and the row dim of `tensor` walk memory with one stride (a contiguous batch
// of matrices), returns that stride: the whole batch is then one tall matrix.
std::optional<int64_t> folded_row_stride(const DimVector& batch, const DimVector& strides, int64_t rows,
                                         int64_t row_stride) {
  int64_t expected = row_stride * rows;
  if (rows == 1) expected = -1;  // a single row: any stride will do for it, the next dim decides
  for (int64_t d = static_cast<int64_t>(batch.size()) - 1; d >= 0; --d) {
    if (batch[d] == 1) continue;
    if (expected == -1) {
      row_stride = strides[d];
      expected = strides[d] * batch[d];
    } else if (strides[d] != expected) {
      return std::nullopt;
    } else {
      expected *= batch[d];
    }
  }
  return row_stride;
}

}  // namespace

void CpuBackend::matmul(const Tensor& out, const Tensor& a_in, const Tensor& b_in, bool accumulate) {
  const Tensor a = addressable(a_in), b = addressable(b_in);
  const int64_t m = out.size(-2), n = out.size(-1), k = a.size(-1);
  const DimVector batch(out.sizes().begin(), out.sizes().end() - 2);
  const DimVector a_batch = batch_strides(a, batch), b_batch = batch_strides(b, batch);
  if (out.numel() == 0) return;
  const int64_t batch_count = out.numel() / (m * n);

  dispatch_numeric(out.dtype(), "matmul", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* a_data = a.data_ptr<T>();
    const T* b_data = b.data_ptr<T>();
    T* c_data = out.data_ptr<T>();
    const Matrix<const T> a_matrix{a_data, a.stride(-2), a.stride(-1)};
    const Matrix<const T> b_matrix{b_data, b.stride(-2), b.stride(-1)};

    // B shared by the whole batch (a weight) and A's batch one tall matrix: one GEMM, whose
    // blocks and thread split then span the whole batch instead of each small item.
    const bool b_shared = std::all_of(b_batch.begin(), b_batch.end(), [](int64_t s) { return s == 0; });
    if (b_shared) {
      if (auto row_stride = folded_row_stride(batch, a_batch, m, a.stride(-2))) {
        gemm_2d<T>(batch_count * m, n, k, {a_data, *row_stride, a.stride(-1)}, b_matrix, accumulate, {c_data, n, 1});
        return;
      }
    }

    // Otherwise one GEMM per batch element.
    const auto run_items = [&](int64_t begin, int64_t end) {
      for (int64_t item = begin; item < end; ++item) {
        int64_t a_offset = 0, b_offset = 0, rest = item;
        for (int64_t d = static_cast<int64_t>(batch.size()) - 1; d >= 0; --d) {
          const int64_t index = rest % batch[d];
          rest /= batch[d];
          a_offset += index * a_batch[d];
          b_offset += index * b_batch[d];
        }
        gemm_2d<T>(m, n, k, {a_data + a_offset, a_matrix.row_stride, a_matrix.col_stride},
                   {b_data + b_offset, b_matrix.row_stride, b_matrix.col_stride}, accumulate,
                   {c_data + item * m * n, n, 1});
      }
    };
    // When each product is too small for the GEMM to use threads, the batch is split across
    // threads instead.
    const double item_work = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
    const int threads = get_num_threads();
    const bool split_batch = batch_count > 1 && threads > 1 && !omp_in_parallel() &&
                             item_work < 2 * kMinWorkPerThread &&
                             item_work * static_cast<double>(batch_count) >= 2 * kMinWorkPerThread;
    if (!split_batch) {
      run_items(0, batch_count);
      return;
    }
#pragma omp parallel num_threads(threads)
    {
      const int64_t team = omp_get_num_threads(), thread = omp_get_thread_num();
      const int64_t begin = batch_count * thread / team, end = batch_count * (thread + 1) / team;
      run_items(begin, end);
    }
  });
}

}  // namespace tg::cpu
