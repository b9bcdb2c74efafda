// The GEMM's two degenerate shapes, which need no packing: the vector-matrix product
// y = alpha·x·B + beta·y (a C with a single row) and the outer product C = alpha·a·b + beta·C (depth
// one). Written once as plain loops and included by each ISA's file (gemm.cpp, gemm_avx2.cpp,
// gemm_avx512.cpp), whose -m flags decide how wide the compiler vectorises them.
#pragma once

#include <algorithm>
#include <cstdint>

namespace tg::cpu::detail {
// Internal linkage: each ISA-specific file gets its own copy (see vector_math.h).
namespace {

// Columns of C per pass of row_times_matrix: B's rows are then read in pieces of this many,
// summed in registers.
constexpr int64_t kRowPassColumns = 32;

// A C with a single row is a vector-matrix product, x·B: each element of B is used once, so
// packing B (a full copy) would cost more than the multiply, and MR-row tiles would be 1/MR full.
// Instead B is streamed once. Plain loops that the compiler vectorises (omp simd: the sums may be
// reassociated) are enough, since the time goes into reading B.
template <typename T>
void row_times_matrix(int64_t k, int64_t n, T alpha, const T* x, int64_t x_stride, const T* b, int64_t b_row_stride,
                      int64_t b_col_stride, T beta, T* y, int64_t y_stride) {
  for (int64_t j0 = 0; j0 < n; j0 += kRowPassColumns) {
    const int64_t columns = std::min(kRowPassColumns, n - j0);
    T sums[kRowPassColumns] = {};
    if (b_col_stride == 1 && columns == kRowPassColumns) {
      // Rows of B are contiguous: axpy over each row piece.
      for (int64_t p = 0; p < k; ++p) {
        const T scale = x[p * x_stride];
        const T* row = b + p * b_row_stride + j0;
#pragma omp simd
        for (int64_t j = 0; j < kRowPassColumns; ++j) sums[j] += scale * row[j];
      }
    } else if (b_row_stride == 1 && x_stride == 1) {
      // Columns of B are contiguous (x·W^T with W row-major): dot products, four at a time so
      // that independent sums hide the add latency.
      int64_t j = 0;
      for (; j + 4 <= columns; j += 4) {
        const T* column0 = b + (j0 + j) * b_col_stride;
        const T* column1 = column0 + b_col_stride;
        const T* column2 = column1 + b_col_stride;
        const T* column3 = column2 + b_col_stride;
        T sum0 = 0, sum1 = 0, sum2 = 0, sum3 = 0;
#pragma omp simd reduction(+ : sum0, sum1, sum2, sum3)
        for (int64_t p = 0; p < k; ++p) {
          sum0 += x[p] * column0[p];
          sum1 += x[p] * column1[p];
          sum2 += x[p] * column2[p];
          sum3 += x[p] * column3[p];
        }
        sums[j] = sum0;
        sums[j + 1] = sum1;
        sums[j + 2] = sum2;
        sums[j + 3] = sum3;
      }
      for (; j < columns; ++j) {
        const T* column = b + (j0 + j) * b_col_stride;
        T sum = 0;
#pragma omp simd reduction(+ : sum)
        for (int64_t p = 0; p < k; ++p) sum += x[p] * column[p];
        sums[j] = sum;
      }
    } else {
      for (int64_t p = 0; p < k; ++p) {
        const T scale = x[p * x_stride];
        const T* row = b + p * b_row_stride + j0 * b_col_stride;
        for (int64_t j = 0; j < columns; ++j) sums[j] += scale * row[j * b_col_stride];
      }
    }
    T* out = y + j0 * y_stride;
    for (int64_t j = 0; j < columns; ++j) {
      T& value = out[j * y_stride];
      value = beta == T(0) ? alpha * sums[j] : alpha * sums[j] + beta * value;
    }
  }
}

// A product of depth one is an outer product, C = alpha·a·b + beta·C with a a column and b a row
// (at batch 1, a weight's gradient): each row of C is a multiple of b. There is nothing to sum, so
// the time is all in writing C, which a tiled kernel would spend on packing and on tile set-up
// instead. beta == 0 writes C without reading it, so that NaN in C does not survive.
template <typename T>
void outer_product(int64_t m, int64_t n, T alpha, const T* a, int64_t a_stride, const T* b, int64_t b_stride, T beta,
                   T* c, int64_t c_row_stride, int64_t c_col_stride) {
  for (int64_t i = 0; i < m; ++i) {
    const T scale = alpha * a[i * a_stride];
    T* row = c + i * c_row_stride;
    if (b_stride == 1 && c_col_stride == 1 && beta == T(0)) {
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) row[j] = scale * b[j];
    } else if (b_stride == 1 && c_col_stride == 1) {
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) row[j] = scale * b[j] + beta * row[j];
    } else {
      for (int64_t j = 0; j < n; ++j) {
        T& value = row[j * c_col_stride];
        const T product = scale * b[j * b_stride];
        value = beta == T(0) ? product : product + beta * value;
      }
    }
  }
}

}  // namespace
}  // namespace tg::cpu::detail
