// AVX2 + FMA micro-kernels. Compiled with -mavx2 -mfma; gemm.cpp calls them only after a CPUID check.
//
// Shape: MR = 6 rows × NR = 2 ymm vectors of columns (6×16 float, 6×8 double), the row-major mirror
// of BLIS's Haswell kernels: 12 accumulators, two B vectors and one broadcast use 15 of the 16 ymm
// registers, and the 12 independent FMAs per k step cover the FMA latency of two pipes.
#include <immintrin.h>

#include <array>
#include <cstddef>
#include <utility>

#include "tapegrad/kernels/cpu/gemm_kernels.h"

namespace tg::cpu::detail {
namespace {

struct FloatVectors {
  using Scalar = float;
  using Vector = __m256;
  static constexpr int kLanes = 8;
  static Vector zero() { return _mm256_setzero_ps(); }
  static Vector loadu(const float* p) { return _mm256_loadu_ps(p); }
  static void storeu(float* p, Vector v) { _mm256_storeu_ps(p, v); }
  static Vector broadcast(float x) { return _mm256_set1_ps(x); }
  static Vector fmadd(Vector a, Vector b, Vector c) { return _mm256_fmadd_ps(a, b, c); }
  static Vector mul(Vector a, Vector b) { return _mm256_mul_ps(a, b); }
};

struct DoubleVectors {
  using Scalar = double;
  using Vector = __m256d;
  static constexpr int kLanes = 4;
  static Vector zero() { return _mm256_setzero_pd(); }
  static Vector loadu(const double* p) { return _mm256_loadu_pd(p); }
  static void storeu(double* p, Vector v) { _mm256_storeu_pd(p, v); }
  static Vector broadcast(double x) { return _mm256_set1_pd(x); }
  static Vector fmadd(Vector a, Vector b, Vector c) { return _mm256_fmadd_pd(a, b, c); }
  static Vector mul(Vector a, Vector b) { return _mm256_mul_pd(a, b); }
};

constexpr int kRows = 6;
constexpr int kVectors = 2;

// One tile of Rows rows; Rows < kRows serves the last, partial row panel of A, so an m that is
// not a multiple of kRows (10 classes, batch 1) costs no padded FMAs and no temporary tile.
template <typename V, int Rows>
void tile_kernel(int64_t k, const typename V::Scalar* __restrict a_panel,
                 const typename V::Scalar* __restrict b_panel, int64_t b_row_stride,
                 typename V::Scalar* __restrict c, int64_t c_row_stride, typename V::Scalar alpha,
                 typename V::Scalar beta) {
  // Keep this function free of anything that needs extra registers (C prefetches, more live
  // pointers): with GCC 12 they made the AVX-512 twin of this kernel spill a B vector to the
  // stack, costing 30%.
  typename V::Vector acc[Rows][kVectors];
#pragma GCC unroll 6
  for (int i = 0; i < Rows; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < kVectors; ++v) acc[i][v] = V::zero();

#pragma GCC unroll 4
  for (int64_t p = 0; p < k; ++p) {
    typename V::Vector b[kVectors];
#pragma GCC unroll 2
    for (int v = 0; v < kVectors; ++v) b[v] = V::loadu(b_panel + v * V::kLanes);
#pragma GCC unroll 6
    for (int i = 0; i < Rows; ++i) {
      const typename V::Vector a = V::broadcast(a_panel[i]);
#pragma GCC unroll 2
      for (int v = 0; v < kVectors; ++v) acc[i][v] = V::fmadd(a, b[v], acc[i][v]);
    }
    a_panel += kRows;
    b_panel += b_row_stride;
  }

  const typename V::Vector alpha_vector = V::broadcast(alpha);
  if (beta == typename V::Scalar(0)) {
#pragma GCC unroll 6
    for (int i = 0; i < Rows; ++i)
#pragma GCC unroll 2
      for (int v = 0; v < kVectors; ++v)
        V::storeu(c + i * c_row_stride + v * V::kLanes, V::mul(alpha_vector, acc[i][v]));
  } else {
    const typename V::Vector beta_vector = V::broadcast(beta);
#pragma GCC unroll 6
    for (int i = 0; i < Rows; ++i)
#pragma GCC unroll 2
      for (int v = 0; v < kVectors; ++v) {
        typename V::Scalar* out = c + i * c_row_stride + v * V::kLanes;
        V::storeu(out, V::fmadd(alpha_vector, acc[i][v], V::mul(beta_vector, V::loadu(out))));
      }
  }
}

template <typename V, std::size_t... RowsMinusOne>
constexpr auto make_tile_kernels(std::index_sequence<RowsMinusOne...>) {
  return std::array{&tile_kernel<V, static_cast<int>(RowsMinusOne) + 1>...};
}

template <typename V>
void micro_kernel(int64_t k, int rows, const typename V::Scalar* a_panel,
                  const typename V::Scalar* b_panel, int64_t b_row_stride, typename V::Scalar* c,
                  int64_t c_row_stride, typename V::Scalar alpha, typename V::Scalar beta) {
  static constexpr auto kernels = make_tile_kernels<V>(std::make_index_sequence<kRows>{});
  kernels[rows - 1](k, a_panel, b_panel, b_row_stride, c, c_row_stride, alpha, beta);
}

}  // namespace

// Block sizes after BLIS's Haswell configuration (L1d 32 KiB, L2 256 KiB): the KC×16 float B
// micro-panel (16 KiB) stays in L1 and the MC×KC A block (168×256 floats: 168 KiB) in L2.
const KernelConfig<float> kAvx2Float{&micro_kernel<FloatVectors>, kRows, kVectors * 8,
                                     168, 256, 4096};
const KernelConfig<double> kAvx2Double{&micro_kernel<DoubleVectors>, kRows, kVectors * 4,
                                       72, 256, 4096};

}  // namespace tg::cpu::detail
