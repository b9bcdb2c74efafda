#include <cstring>

#include "tapegrad/kernels/cpu/backend.h"
#include "tapegrad/kernels/cpu/loops.h"

namespace tg::cpu {

namespace {

// dst (rows x cols, row stride dst_row_stride, contiguous rows) = a matrix that src holds
// column-major (element (r, c) at src[r + c * src_column_stride]): the copy of a transposed view.
// Walking 32x32 tiles keeps both sides' cache lines in L1 instead of reading src a column apart
// per element.
template <typename T>
void transpose_into(T* dst, int64_t dst_row_stride, const T* src, int64_t src_column_stride, int64_t rows,
                    int64_t cols) {
  constexpr int64_t kTile = 32;
  const int64_t row_tiles = (rows + kTile - 1) / kTile;
#pragma omp parallel for num_threads(cpu::threads_for(rows * cols)) schedule(static)
  for (int64_t tile = 0; tile < row_tiles; ++tile) {
    const int64_t row_end = std::min(rows, (tile + 1) * kTile);
    for (int64_t col_begin = 0; col_begin < cols; col_begin += kTile) {
      const int64_t col_end = std::min(cols, col_begin + kTile);
      for (int64_t r = tile * kTile; r < row_end; ++r)
        for (int64_t c = col_begin; c < col_end; ++c) dst[r * dst_row_stride + c] = src[r + c * src_column_stride];
    }
  }
}

// The transposed-view copy, when the merged loop is one: two dims, dst walking its rows in
// order, src walking the same rows down its columns.
bool try_transpose_copy(const Loop<2>& loop, DType dtype) {
  if (loop.sizes.size() != 2) return false;
  const DimVector& dst_strides = loop.strides[0];
  const DimVector& src_strides = loop.strides[1];
  if (dst_strides[1] != 1 || src_strides[0] != 1 || src_strides[1] <= 1) return false;
  if (itemsize(dtype) == 4) {
    transpose_into(reinterpret_cast<int32_t*>(loop.data[0]), dst_strides[0],
                   reinterpret_cast<const int32_t*>(loop.data[1]), src_strides[1], loop.sizes[0], loop.sizes[1]);
    return true;
  }
  if (itemsize(dtype) == 8) {
    transpose_into(reinterpret_cast<int64_t*>(loop.data[0]), dst_strides[0],
                   reinterpret_cast<const int64_t*>(loop.data[1]), src_strides[1], loop.sizes[0], loop.sizes[1]);
    return true;
  }
  return false;
}

}  // namespace

void CpuBackend::copy(const Tensor& dst, const Tensor& src) {
  if (dst.dtype() == src.dtype() && dst.is_contiguous() && src.is_contiguous() && dst.sizes() == src.sizes()) {
    const int64_t size = itemsize(dst.dtype());
    char* to = static_cast<char*>(dst.raw_data());
    const char* from = static_cast<const char*>(src.raw_data());
    const int64_t nbytes = dst.numel() * size;
    if (nbytes == 0 || to == from) return;
    // Overlapping ranges (a shifted in-place copy) need one memmove's ordering; disjoint ones are
    // split across threads like any elementwise op.
    if (to < from + nbytes && from < to + nbytes) {
      std::memmove(to, from, static_cast<size_t>(nbytes));
      return;
    }
    parallel_ranges(dst.numel(), [&](int64_t begin, int64_t end) {
      std::memcpy(to + begin * size, from + begin * size, static_cast<size_t>((end - begin) * size));
    });
    return;
  }
  const auto loop = tensor_loop(dst, src);
  if (dst.dtype() == src.dtype() && try_transpose_copy(loop, dst.dtype())) return;
  dispatch_all(dst.dtype(), [&](auto out_tag) {
    using Out = typename decltype(out_tag)::type;
    dispatch_all(src.dtype(), [&](auto in_tag) {
      using In = typename decltype(in_tag)::type;
      map_unary<Out, In>(loop, [](In value) { return static_cast<Out>(value); });
    });
  });
}

void CpuBackend::fill(const Tensor& dst, Scalar value) {
  dispatch_all(dst.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T typed = value.to<T>();
    if (dst.is_contiguous()) {
      T* data = static_cast<T*>(dst.raw_data());
      parallel_ranges(dst.numel(), [&](int64_t begin, int64_t end) { std::fill(data + begin, data + end, typed); });
      return;
    }
    // A broadcast scalar operand: stride 0 everywhere.
    const auto loop = make_loop<2>(dst.sizes(),
                                        {Operand{static_cast<char*>(dst.raw_data()), dst.strides()},
                                         Operand{reinterpret_cast<char*>(const_cast<T*>(&typed)),
                                                      DimVector(dst.sizes().size(), 0)}},
                                        {sizeof(T), sizeof(T)});
    map_unary<T, T>(loop, [](T v) { return v; });
  });
}

}  // namespace tg::cpu
