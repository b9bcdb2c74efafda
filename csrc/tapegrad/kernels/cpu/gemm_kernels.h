// Private to the GEMM: the contract between the blocked driver (gemm.cpp) and the register-blocked
// micro-kernels, one set per instruction-set level (gemm.cpp, gemm_avx2.cpp, gemm_avx512.cpp).
// The ISA files are compiled with extra -m flags, so nothing here may be an inline function whose
// code depends on those flags: only plain declarations and constants cross the boundary.
#pragma once

#include <cstdint>

namespace tg::cpu::detail {

// Computes the first `rows` rows (1 <= rows <= MR) of an MR×NR tile of C from A and a panel of B:
//   C[i, j] = alpha * sum_p a[i * a_row_stride + p * a_depth_stride] * b_panel[p * b_row_stride + j]
//             + beta * C[i, j]
// for 0 <= i < rows, 0 <= j < NR and 0 <= p < k; rows of A past `rows` are never read. A is either
// a panel packed by the driver (strides 1 and MR) or read in place through its own strides (when
// its rows are contiguous, or the product is shallow). The B panel is either packed (b_row_stride
// == NR, zero-padded) or, when packing would not pay, NR full columns read in place from a B with
// unit column stride. C is row-major
// with unit column stride: the driver routes other layouts and partial column panels through a
// temporary tile. beta == 0 means C is not read. k may be 0 (then C = beta * C, or 0).
template <typename T>
using MicroKernel = void (*)(int64_t k, int rows, const T* a, int64_t a_row_stride, int64_t a_depth_stride,
                             const T* b_panel, int64_t b_row_stride, T* c, int64_t c_row_stride, T alpha,
                             T beta);

// y = alpha·x·B + beta·y for a row vector x of length k (element p at x[p * x_stride]), a k×n B
// with any strides, and y of length n (element j at y[j * y_stride]); beta == 0 means y is not read.
template <typename T>
using RowTimesMatrix = void (*)(int64_t k, int64_t n, T alpha, const T* x, int64_t x_stride, const T* b,
                                int64_t b_row_stride, int64_t b_col_stride, T beta, T* y, int64_t y_stride);

// C = alpha·a·b + beta·C for k == 1: a column a of length m (element i at a[i * a_stride]), a row
// b of length n (element j at b[j * b_stride]), an m×n C with any strides; beta == 0: C is not read.
template <typename T>
using OuterProduct = void (*)(int64_t m, int64_t n, T alpha, const T* a, int64_t a_stride, const T* b,
                              int64_t b_stride, T beta, T* c, int64_t c_row_stride, int64_t c_col_stride);

// Writes the transpose of a rows×depth block whose rows are contiguous (source[r * source_stride +
// p]) into a k-major panel (panel[p * width + r]): packing a B whose columns are contiguous (B^T
// of a row-major matrix, as X·W^T has), the costly packing case.
template <typename T>
using TransposeIntoPanel = void (*)(const T* source, int64_t source_stride, int64_t rows, int64_t depth, int width,
                                    T* panel);

// The baseline (SSE2) transposing pack, defined in gemm.cpp; configurations without one of their
// own use it, and the wider ones hand it the edges of their blocks.
void transpose_into_panel_baseline(const float* source, int64_t source_stride, int64_t rows, int64_t depth,
                                   int width, float* panel);
void transpose_into_panel_baseline(const double* source, int64_t source_stride, int64_t rows, int64_t depth,
                                   int width, double* panel);

// A micro-kernel together with the blocking that suits it, and the same level's vector-matrix and
// outer products (a single-row C and a depth-one product, which neither pack nor tile). The driver
// works on an MC×KC block of A (kept in L2) and packs a KC×NC block of B (kept in L3); each KC×NR
// micro-panel of B is reused, from L1 or L2, by every MR-row panel of the A block.
template <typename T>
struct KernelConfig {
  MicroKernel<T> kernel;
  RowTimesMatrix<T> row_times_matrix;
  OuterProduct<T> outer_product;
  TransposeIntoPanel<T> transpose_into_panel;
  int mr;  // rows of C per tile: elements of A broadcast per k step
  int nr;  // columns of C per tile: a whole number of SIMD vectors of B
  int mc;  // rows of A per packed block, a multiple of mr
  int kc;  // depth of one packed block
  int nc;  // columns of B per packed block, a multiple of nr
};

// Upper bounds over every configuration below, so the driver can keep a temporary edge tile on the
// stack.
inline constexpr int kMaxMr = 12;
inline constexpr int kMaxNr = 32;

extern const KernelConfig<float> kGenericFloat;
extern const KernelConfig<double> kGenericDouble;
extern const KernelConfig<float> kAvx2Float;
extern const KernelConfig<double> kAvx2Double;
extern const KernelConfig<float> kAvx512Float;
extern const KernelConfig<double> kAvx512Double;

}  // namespace tg::cpu::detail
