// The register-blocked micro-kernel, written once over a vector-traits type V (zero, loadu,
// storeu, broadcast, fmadd, mul, kLanes) and included by each ISA's file (gemm_avx2.cpp,
// gemm_avx512.cpp), which instantiates it with its own intrinsics and tile shape.
#pragma once

#include <array>
#include <cstdint>
#include <utility>

namespace tg::cpu::detail {
// Internal linkage: each ISA-specific file gets its own copy (see vector_math.h).
namespace {

// One tile of Rows rows; Rows < kRows serves the last, partial row panel of A, so an m that is
// not a multiple of kRows (10 classes, batch 1) costs no padded FMAs and no temporary tile.
template <typename V, int kRows, int kVectors, int Rows>
void tile_kernel(int64_t k, const typename V::Scalar* __restrict a_panel,
                 const typename V::Scalar* __restrict b_panel, int64_t b_row_stride,
                 typename V::Scalar* __restrict c, int64_t c_row_stride, typename V::Scalar alpha,
                 typename V::Scalar beta) {
  // Keep this function free of anything that needs extra registers (C prefetches, more live
  // pointers): with GCC 12 they made the 12x32 AVX-512 kernel spill a B vector to the stack,
  // costing 30%. (The unroll counts are upper bounds: every loop here unrolls fully.)
  typename V::Vector acc[Rows][kVectors];
#pragma GCC unroll 16
  for (int i = 0; i < Rows; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < kVectors; ++v) acc[i][v] = V::zero();

#pragma GCC unroll 4
  for (int64_t p = 0; p < k; ++p) {
    typename V::Vector b[kVectors];
#pragma GCC unroll 2
    for (int v = 0; v < kVectors; ++v) b[v] = V::loadu(b_panel + v * V::kLanes);
#pragma GCC unroll 16
    for (int i = 0; i < Rows; ++i) {
      const typename V::Vector a = V::broadcast(a_panel[i]);
#pragma GCC unroll 2
      for (int v = 0; v < kVectors; ++v) acc[i][v] = V::fmadd(a, b[v], acc[i][v]);
    }
    a_panel += kRows;
    b_panel += b_row_stride;
  }

  // alpha = 1, beta = 0 is every product autograd makes: store the sums as they are. (With a
  // shallow k, scaling them by one was a tenth of the tile's floating-point work.)
  if (alpha == typename V::Scalar(1) && beta == typename V::Scalar(0)) {
#pragma GCC unroll 16
    for (int i = 0; i < Rows; ++i)
#pragma GCC unroll 2
      for (int v = 0; v < kVectors; ++v) V::storeu(c + i * c_row_stride + v * V::kLanes, acc[i][v]);
    return;
  }
  const typename V::Vector alpha_vector = V::broadcast(alpha);
  if (beta == typename V::Scalar(0)) {
#pragma GCC unroll 16
    for (int i = 0; i < Rows; ++i)
#pragma GCC unroll 2
      for (int v = 0; v < kVectors; ++v)
        V::storeu(c + i * c_row_stride + v * V::kLanes, V::mul(alpha_vector, acc[i][v]));
  } else {
    const typename V::Vector beta_vector = V::broadcast(beta);
#pragma GCC unroll 16
    for (int i = 0; i < Rows; ++i)
#pragma GCC unroll 2
      for (int v = 0; v < kVectors; ++v) {
        typename V::Scalar* out = c + i * c_row_stride + v * V::kLanes;
        V::storeu(out, V::fmadd(alpha_vector, acc[i][v], V::mul(beta_vector, V::loadu(out))));
      }
  }
}

template <typename V, int kRows, int kVectors, std::size_t... RowsMinusOne>
constexpr auto make_tile_kernels(std::index_sequence<RowsMinusOne...>) {
  return std::array{&tile_kernel<V, kRows, kVectors, static_cast<int>(RowsMinusOne) + 1>...};
}

// The micro-kernel of a kRows x (kVectors vectors) tile: dispatches a partial row panel to the
// tile kernel of its exact row count.
template <typename V, int kRows, int kVectors>
void micro_kernel(int64_t k, int rows, const typename V::Scalar* a_panel,
                  const typename V::Scalar* b_panel, int64_t b_row_stride, typename V::Scalar* c,
                  int64_t c_row_stride, typename V::Scalar alpha, typename V::Scalar beta) {
  static constexpr auto kernels = make_tile_kernels<V, kRows, kVectors>(std::make_index_sequence<kRows>{});
  kernels[rows - 1](k, a_panel, b_panel, b_row_stride, c, c_row_stride, alpha, beta);
}

}  // namespace
}  // namespace tg::cpu::detail
