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

// GCC 12's unmasked unpack and shuffle intrinsics pass an undefined vector as the (ignored) merge
// source and warn about it (GCC bug 105593, fixed in GCC 13); the masked forms with every lane set
// are the same instructions without the warning.
constexpr __mmask16 kAllFloats = 0xFFFF;
constexpr __mmask8 kAllDoubles = 0xFF;

// Lanes 0-1 of the result are lanes of a, lanes 2-3 lanes of b, as kSelect picks them (vshuff32x4).
template <int kSelect>
__m512 shuffle_lanes(__m512 a, __m512 b) {
  return _mm512_mask_shuffle_f32x4(a, kAllFloats, a, b, kSelect);
}

// Transposes the 16×16 block at source (rows source_stride apart) into panel (rows width apart).
// Four rounds of 16 shuffles: after interleaving 32-bit and then 64-bit elements of neighbouring
// rows, each 128-bit lane holds a transposed 4×4 block, and two rounds of lane shuffles put the
// lanes in place. The baseline SSE2 pack spends twice the shuffles per element (4×4 blocks), and
// shuffles bound it: it was 21% of X·W1^T (128×784 by 784×128) on one thread.
void transpose_16x16(const float* source, int64_t source_stride, float* panel, int width) {
  __m512 rows[16], mixed[16];
  for (int i = 0; i < 16; ++i) rows[i] = _mm512_loadu_ps(source + i * source_stride);
  for (int i = 0; i < 16; i += 2) {
    mixed[i] = _mm512_mask_unpacklo_ps(rows[i], kAllFloats, rows[i], rows[i + 1]);
    mixed[i + 1] = _mm512_mask_unpackhi_ps(rows[i], kAllFloats, rows[i], rows[i + 1]);
  }
  // Interleaves 64-bit pairs of two vectors of floats.
  const auto pairs_low = [](__m512 a, __m512 b) {
    const __m512d a_pairs = _mm512_castps_pd(a);
    return _mm512_castpd_ps(_mm512_mask_unpacklo_pd(a_pairs, kAllDoubles, a_pairs, _mm512_castps_pd(b)));
  };
  const auto pairs_high = [](__m512 a, __m512 b) {
    const __m512d a_pairs = _mm512_castps_pd(a);
    return _mm512_castpd_ps(_mm512_mask_unpackhi_pd(a_pairs, kAllDoubles, a_pairs, _mm512_castps_pd(b)));
  };
  for (int i = 0; i < 16; i += 4) {
    // Lane l of rows[i + c] is column 4l + c of rows i..i+3.
    rows[i] = pairs_low(mixed[i], mixed[i + 2]);
    rows[i + 1] = pairs_high(mixed[i], mixed[i + 2]);
    rows[i + 2] = pairs_low(mixed[i + 1], mixed[i + 3]);
    rows[i + 3] = pairs_high(mixed[i + 1], mixed[i + 3]);
  }
  for (int c = 0; c < 4; ++c) {
    // Column 4l + c is lane l of rows[c], rows[4 + c], rows[8 + c], rows[12 + c], in that order.
    const __m512 low_ab = shuffle_lanes<0x44>(rows[c], rows[4 + c]);    // a0 a1 b0 b1
    const __m512 high_ab = shuffle_lanes<0xEE>(rows[c], rows[4 + c]);   // a2 a3 b2 b3
    const __m512 low_cd = shuffle_lanes<0x44>(rows[8 + c], rows[12 + c]);
    const __m512 high_cd = shuffle_lanes<0xEE>(rows[8 + c], rows[12 + c]);
    _mm512_storeu_ps(panel + (c + 0) * width, shuffle_lanes<0x88>(low_ab, low_cd));   // a0 b0 c0 d0
    _mm512_storeu_ps(panel + (c + 4) * width, shuffle_lanes<0xDD>(low_ab, low_cd));   // a1 b1 c1 d1
    _mm512_storeu_ps(panel + (c + 8) * width, shuffle_lanes<0x88>(high_ab, high_cd));
    _mm512_storeu_ps(panel + (c + 12) * width, shuffle_lanes<0xDD>(high_ab, high_cd));
  }
}

// The transposing pack (TransposeIntoPanel) in 16×16 blocks; the baseline takes the edges.
void transpose_into_panel_avx512(const float* source, int64_t source_stride, int64_t rows, int64_t depth,
                                 int width, float* panel) {
  const int64_t full_rows = rows / 16 * 16;
  const int64_t full_depth = depth / 16 * 16;
  for (int64_t r = 0; r < full_rows; r += 16) {
    for (int64_t p = 0; p < full_depth; p += 16)
      transpose_16x16(source + r * source_stride + p, source_stride, panel + p * width + r, width);
    if (full_depth < depth)
      transpose_into_panel_baseline(source + r * source_stride + full_depth, source_stride, 16,
                                    depth - full_depth, width, panel + full_depth * width + r);
  }
  if (full_rows < rows)
    transpose_into_panel_baseline(source + full_rows * source_stride, source_stride, rows - full_rows, depth, width,
                                  panel + full_rows);
}

}  // namespace

// Block sizes, measured on Zen 5 (L1d 48 KiB, L2 1 MiB): KC = 512 beat 256 by 5-15% at n = 2048,
// since every KC slice re-reads and re-writes all of C, which there no longer fits in cache. The
// KC×32 B micro-panel (64 KiB) then streams from L2 rather than sitting in L1, which the two
// vector loads per 24 FMAs tolerate; the MC×KC A block (144×512 floats: 288 KiB) stays in L2.
// Double uses the same byte budget.
const KernelConfig<float> kAvx512Float{&micro_kernel<FloatVectors, kRows, kVectors>,
                                       &row_times_matrix<float>, &outer_product<float>,
                                       &transpose_into_panel_avx512, kRows,
                                       kVectors * FloatVectors::kLanes, 144, 512, 4096};
const KernelConfig<double> kAvx512Double{&micro_kernel<DoubleVectors, kRows, kVectors>,
                                         &row_times_matrix<double>, &outer_product<double>,
                                         &transpose_into_panel_baseline, kRows,
                                         kVectors * DoubleVectors::kLanes, 72, 512, 4096};

}  // namespace tg::cpu::detail
