// AVX-512 micro-kernels. Compiled with -mavx512f/vl/dq/bw -mfma; gemm.cpp calls them only after a
// CPUID check.
//
// Shape: MR = 12 rows × NR = 2 zmm vectors of columns (12×32 float, 12×16 double). The 24
// accumulators plus two B vectors and one broadcast fill 27 of the 32 zmm registers, and each k
// step issues 24 FMAs against 2 vector loads and 12 broadcasts: enough independent FMAs to cover
// the 4-cycle latency of two FMA pipes. It is the row-major mirror of BLIS's 32×12 SKX kernel:
// vectors run along the columns of C, so a row-major C is stored with plain vector stores. In L1,
// 8×48 and 6×64 ran within 2% of it (about 245 GFLOP/s on one Zen 5 core); 12×32 was kept since
// 128-wide layers and power-of-two sizes are whole multiples of 32 columns.
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

}  // namespace

// Block sizes, measured on Zen 5 (L1d 48 KiB, L2 1 MiB): KC = 512 beat 256 by 5-15% at n = 2048,
// since every KC slice re-reads and re-writes all of C, which there no longer fits in cache. The
// KC×32 B micro-panel (64 KiB) then streams from L2 rather than sitting in L1, which the two
// vector loads per 24 FMAs tolerate; the MC×KC A block (144×512 floats: 288 KiB) stays in L2.
// Double uses the same byte budget.
const KernelConfig<float> kAvx512Float{&micro_kernel<FloatVectors, kRows, kVectors>,
                                       &row_times_matrix<float>, &outer_product<float>, kRows,
                                       kVectors * FloatVectors::kLanes, 144, 512, 4096};
const KernelConfig<double> kAvx512Double{&micro_kernel<DoubleVectors, kRows, kVectors>,
                                         &row_times_matrix<double>, &outer_product<double>, kRows,
                                         kVectors * DoubleVectors::kLanes, 72, 512, 4096};

}  // namespace tg::cpu::detail
