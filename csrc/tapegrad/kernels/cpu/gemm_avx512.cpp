// AVX-512 micro-kernels. Compiled with -mavx512f/vl/dq/bw -mfma; gemm.cpp calls them only after a
// CPUID check.
//
// Shape: MR = 12 rows × NR = 2 zmm vectors of columns (12×32 float, 12×16 double). The 24 accumulators
// plus two B vectors and one broadcast fill 27 of the 32 zmm registers, and each k step issues 24
// FMAs against 2 vector loads and 12 broadcasts, enough independent FMAs to cover the 4-cycle latency
// of two FMA pipes. It is the row-major mirror of BLIS's 32×12 SKX kernel: vectors run along the
// columns of C, so a row-major C is stored with plain vector stores. In L1, 8×48 and 6×64 ran
// within 2% of it (about 245 GFLOP/s on one Zen 5 core); 12×32 wastes less padding when n is
// 10 or 128, as in an MLP, and m and n are often multiples of 32.
#include <immintrin.h>

#include <array>
#include <cstddef>
#include <utility>

#include "tapegrad/kernels/cpu/gemm_kernels.h"

namespace tg::cpu::detail {
namespace {

struct FloatVectors {
  using Scalar = float;
  using Vector = __m512;
  static constexpr int kLanes = 16;
  static Vector zero() { return _mm512_setzero_ps(); }
  static Vector loadu(const float* p) { return _mm512_loadu_ps(p); }
  static void storeu(float* p, Vector v) { _mm512_storeu_ps(p, v); }
  static Vector broadcast(float x) { return _mm512_set1_ps(x); }
  static Vector fmadd(Vector a, Vector b, Vector c) { return _mm512_fmadd_ps(a, b, c); }
  static Vector mul(Vector a, Vector b) { return _mm512_mul_ps(a, b); }
};

struct DoubleVectors {
  using Scalar = double;
  using Vector = __m512d;
  static constexpr int kLanes = 8;
  static Vector zero() { return _mm512_setzero_pd(); }
  static Vector loadu(const double* p) { return _mm512_loadu_pd(p); }
  static void storeu(double* p, Vector v) { _mm512_storeu_pd(p, v); }
  static Vector broadcast(double x) { return _mm512_set1_pd(x); }
  static Vector fmadd(Vector a, Vector b, Vector c) { return _mm512_fmadd_pd(a, b, c); }
  static Vector mul(Vector a, Vector b) { return _mm512_mul_pd(a, b); }
};

constexpr int kRows = 12;
constexpr int kVectors = 2;

// One tile of Rows rows; Rows < kRows serves the last, partial row panel of A, so an m that is
// not a multiple of kRows (10 classes, batch 1) costs no padded FMAs and no temporary tile.
template <typename V, int Rows>
void tile_kernel(int64_t k, const typename V::Scalar* __restrict a_panel,
                 const typename V::Scalar* __restrict b_panel, int64_t b_row_stride,
                 typename V::Scalar* __restrict c, int64_t c_row_stride, typename V::Scalar alpha,
                 typename V::Scalar beta) {
  // Keep this function free of anything that needs extra registers (C prefetches, more live
  // pointers): with GCC 12 they made the 12×32 kernel spill a B vector to the stack, costing 30%.
  typename V::Vector acc[Rows][kVectors];
#pragma GCC unroll 12
  for (int i = 0; i < Rows; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < kVectors; ++v) acc[i][v] = V::zero();

#pragma GCC unroll 4
  for (int64_t p = 0; p < k; ++p) {
    typename V::Vector b[kVectors];
#pragma GCC unroll 2
    for (int v = 0; v < kVectors; ++v) b[v] = V::loadu(b_panel + v * V::kLanes);
#pragma GCC unroll 12
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
#pragma GCC unroll 12
    for (int i = 0; i < Rows; ++i)
#pragma GCC unroll 2
      for (int v = 0; v < kVectors; ++v)
        V::storeu(c + i * c_row_stride + v * V::kLanes, V::mul(alpha_vector, acc[i][v]));
  } else {
    const typename V::Vector beta_vector = V::broadcast(beta);
#pragma GCC unroll 12
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

// Block sizes, measured on Zen 5 (L1d 48 KiB, L2 1 MiB): KC = 512 beat 256 by 5-15% at n = 2048,
// since every KC slice re-reads and re-writes all of C, which there no longer fits in cache. The
// KC×32 B micro-panel (64 KiB) then streams from L2 rather than sitting in L1, which the two
// vector loads per 24 FMAs tolerate; the MC×KC A block (144×512 floats: 288 KiB) stays in L2.
// Double uses the same byte budget.
const KernelConfig<float> kAvx512Float{&micro_kernel<FloatVectors>, kRows, kVectors * 16,
                                       144, 512, 4096};
const KernelConfig<double> kAvx512Double{&micro_kernel<DoubleVectors>, kRows, kVectors * 8,
                                         72, 512, 4096};

}  // namespace tg::cpu::detail
