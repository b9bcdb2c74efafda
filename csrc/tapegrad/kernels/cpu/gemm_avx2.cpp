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
#include "tapegrad/kernels/cpu/gemm_microkernel.h"
#include "tapegrad/kernels/cpu/gemm_row_kernel.h"

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

}  // namespace

// Block sizes after BLIS's Haswell configuration (L1d 32 KiB, L2 256 KiB): the KC×16 float B
// micro-panel (16 KiB) stays in L1 and the MC×KC A block (168×256 floats: 168 KiB) in L2.
const KernelConfig<float> kAvx2Float{&micro_kernel<FloatVectors, kRows, kVectors>,
                                     &row_times_matrix<float>, &outer_product<float>,
                                     &transpose_into_panel_baseline, kRows,
                                     kVectors * FloatVectors::kLanes, 168, 256, 4096};
const KernelConfig<double> kAvx2Double{&micro_kernel<DoubleVectors, kRows, kVectors>,
                                       &row_times_matrix<double>, &outer_product<double>,
                                       &transpose_into_panel_baseline, kRows,
                                       kVectors * DoubleVectors::kLanes, 72, 256, 4096};

}  // namespace tg::cpu::detail
