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
template <typename V, int kRows, int kVectors, int Rows, bool kPackedA>
void tile_kernel(int64_t k, const typename V::Scalar* __restrict a, int64_t a_row_stride,
                 int64_t a_depth_stride, const typename V::Scalar* __restrict b_panel, int64_t b_row_stride,
                 typename V::Scalar* __restrict c, int64_t c_row_stride, typename V::Scalar alpha,
                 typename V::Scalar beta) {
  // Keep this function free of anything that needs extra registers (C prefetches, more live
  // pointers): with GCC 12 they made the 12x32 AVX-512 kernel spill a B vector to the stack,
  // costing 30%. (The unroll counts are upper bounds: every loop here unrolls fully.)
  // A packed panel's strides are constants, so its element addresses fold into the instructions.
  if constexpr (kPackedA) {
    a_row_stride = 1;
    a_depth_stride = kRows;
  }
  typename V::Vector acc[Rows][kVectors];
#pragma GCC unroll 16
  for (int i = 0; i < Rows; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < kVectors; ++v) acc[i][v] = V::zero();

  // Rows of A are addressed in groups of four from one pointer each, at 0, 1, 2 and 3 row strides:
  // x86 addressing reaches those from two stride registers, where twelve separate row offsets
  // did not fit the integer registers and were reloaded from the stack on every k step.
  constexpr int kGroups = (Rows + 3) / 4;
  const typename V::Scalar* a_group[kGroups];
#pragma GCC unroll 4
  for (int g = 0; g < kGroups; ++g) a_group[g] = a + 4 * g * a_row_stride;

#pragma GCC unroll 4
  for (int64_t p = 0; p < k; ++p) {
    typename V::Vector b[kVectors];
#pragma GCC unroll 2
    for (int v = 0; v < kVectors; ++v) b[v] = V::loadu(b_panel + v * V::kLanes);
#pragma GCC unroll 16
    for (int i = 0; i < Rows; ++i) {
      const typename V::Vector a_value = V::broadcast(a_group[i / 4][(i % 4) * a_row_stride]);
#pragma GCC unroll 2
      for (int v = 0; v < kVectors; ++v) acc[i][v] = V::fmadd(a_value, b[v], acc[i][v]);
    }
#pragma GCC unroll 4
    for (int g = 0; g < kGroups; ++g) a_group[g] += a_depth_stride;
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

template <typename V, int kRows, int kVectors, bool kPackedA, std::size_t... RowsMinusOne>
constexpr auto make_tile_kernels(std::index_sequence<RowsMinusOne...>) {
  return std::array{&tile_kernel<V, kRows, kVectors, static_cast<int>(RowsMinusOne) + 1, kPackedA>...};
}

// The micro-kernel of a kRows x (kVectors vectors) tile: dispatches to the tile kernel of the exact
// row count (a partial row panel has fewer), compiled for a packed A panel or for A read in place.
template <typename V, int kRows, int kVectors>
void micro_kernel(int64_t k, int rows, const typename V::Scalar* a, int64_t a_row_stride,
                  int64_t a_depth_stride, const typename V::Scalar* b_panel, int64_t b_row_stride,
                  typename V::Scalar* c, int64_t c_row_stride, typename V::Scalar alpha,
                  typename V::Scalar beta) {
  static constexpr auto packed = make_tile_kernels<V, kRows, kVectors, true>(std::make_index_sequence<kRows>{});
  static constexpr auto in_place = make_tile_kernels<V, kRows, kVectors, false>(std::make_index_sequence<kRows>{});
  const bool is_packed = a_row_stride == 1 && a_depth_stride == kRows;
  (is_packed ? packed : in_place)[rows - 1](k, a, a_row_stride, a_depth_stride, b_panel, b_row_stride, c,
                                            c_row_stride, alpha, beta);
}

}  // namespace
}  // namespace tg::cpu::detail
